"""Dot voting: the facilitator opens it, participants spread a budget of dots over items.

(``set_dot_voting.lua``, ``dot_vote.lua``.)  An item is a note or a note group
(a group is one item, so near-duplicates do not split the votes).  Dots on a
note that was hidden or withdrawn, or on a group since removed, no longer count
against the participant's budget, and can always be taken back.
"""

from __future__ import annotations

import dataclasses

from agenda.room_model.commands import DotVote, SetDotVoting
from agenda.room_model.state import (
    DUP,
    IN_GROUP,
    OK,
    TOO_MANY,
    UNKNOWN_ITEM,
    WRONG_PHASE,
    RoomState,
    Stamped,
    add,
    admission_refusal,
    bump,
    change_meta,
    facilitator_seq,
    participant_seq,
    phase_refusal,
    put,
)
from protocol.phases import DotVoting

Result = tuple[str, RoomState]


def set_dot_voting(state: RoomState, command: SetDotVoting) -> Result:
    refused = phase_refusal(state, "set_dot_voting")
    if refused:
        return refused, state
    noted = facilitator_seq(state, command.device, command.seq)
    if noted is None:
        return DUP, state
    changed = change_meta(
        noted, voting=command.state, dots=command.dots, maxnote=command.max_per_note
    )
    return OK, bump(changed)


def counts(state: RoomState, item_id: str) -> bool:
    """Whether dots on an item count: a visible note on the wall, or an existing group."""
    note = state.notes.get(item_id)
    if note is not None:
        return note.counts_for_dots
    return item_id in state.groups


def group_of(state: RoomState, note_id: str) -> str | None:
    return next((g for g, group in state.groups.items() if note_id in group.notes), None)


def dot_vote(state: RoomState, command: DotVote) -> Result:
    """Set how many dots the participant puts on one item (not add: a replay is harmless).

    A pending note is on nobody's screen but the facilitator's: no dots on it,
    as on a hidden or withdrawn one (taking dots back is always possible).
    """
    refused = phase_refusal(state, "dot_vote") or admission_refusal(state, command.pid)
    if refused:
        return refused, state
    if state.meta.voting is not DotVoting.OPEN:
        return WRONG_PHASE, state
    item, dots = command.item_id, command.dots
    note = state.notes.get(item)
    if note is None and item not in state.groups:
        return UNKNOWN_ITEM, state
    if note is not None and (note.withdrawn or note.hidden or note.pending) and dots > 0:
        return UNKNOWN_ITEM, state
    if dots > state.meta.maxnote:
        return TOO_MANY, state
    mine = state.dots.get(command.pid, {})
    old = mine.get(item)
    if old is not None and old.seq >= command.seq:
        return DUP, state
    old_dots = 0 if old is None else int(old.value)
    # A note merged into a group since: its dots may be taken back, not added to.
    if note is not None and dots > old_dots and group_of(state, item) is not None:
        return IN_GROUP, state
    spent = sum(int(entry.value) for other, entry in mine.items() if counts(state, other))
    old_counted = old_dots if counts(state, item) else 0
    if spent - old_counted + dots > state.meta.dots:
        return TOO_MANY, state
    state = participant_seq(state, command.pid, command.seq)
    mine = put(mine, item, Stamped(command.seq, str(dots)))
    state = dataclasses.replace(state, dots=put(state.dots, command.pid, mine))
    if dots == old_dots:
        return OK, state
    state = dataclasses.replace(state, votes=add(state.votes, item, dots - old_dots))
    return OK, bump(change_meta(state, dots_cast=state.meta.dots_cast + dots - old_dots))
