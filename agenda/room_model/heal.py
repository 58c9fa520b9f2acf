"""Rooms that heal: a lost tally or ballots hash, the rebuild, a new epoch.

(``rebuild.lua``, ``new_epoch.lua``; docs/protocol.md section 14.)  A tally
alone is recounted from the ballots; without ballots nothing can be
recounted, so ballots, tally and the participants' highest seqs are emptied
and the phones re-send every answer above their welcome's ``max_seq``.  Either
way the room gets a new epoch and a heal window (``Meta.heal_until``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter

from agenda.room_model.commands import NewEpoch, Rebuild
from agenda.room_model.state import MARKED, OK, RoomState, bump, change_meta
from protocol.phases import Phase

Result = tuple[str, RoomState]


def lose(state: RoomState, name: str) -> RoomState:
    """The fault, not a command: Redis lost the ``tally`` or ``ballots`` hash
    (an evicted key), marker and all."""
    markers = state.markers - {name}
    if name == "tally":
        return dataclasses.replace(state, markers=markers, tally={})
    assert name == "ballots"
    return dataclasses.replace(state, markers=markers, ballots={})


def rebuild(state: RoomState, command: Rebuild) -> Result:
    if state.meta.phase is Phase.CLOSED or not state.lost:
        return OK, state  # nothing lost (rebuilt by another process already)
    if "ballots" in state.markers:
        counts = Counter((r, norm, b.value) for (r, _, norm), b in state.ballots.items())
        state = dataclasses.replace(state, tally=dict(counts))
    else:
        # Every participant's highest seq back to 0: its phone re-sends everything.
        seqs = dict.fromkeys(state.seqs, 0)
        state = dataclasses.replace(state, ballots={}, tally={}, seqs=seqs)
    return OK, _renewed(dataclasses.replace(state, markers=MARKED), command.epoch,
                        command.now + command.window)  # fmt: skip


def new_epoch(state: RoomState, command: NewEpoch) -> Result:
    if state.meta.epoch != command.seen:
        return OK, state  # another process gave it a new epoch already
    return OK, _renewed(state, command.epoch, command.now + command.window)


def _renewed(state: RoomState, epoch: str, heal_until: int) -> RoomState:
    return bump(change_meta(state, epoch=epoch, heal_until=heal_until))
