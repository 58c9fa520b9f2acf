"""The room itself: creating it, and the facilitator's phase, lock and timer;
closing anonymises it.  (Joining is ``admission``.)

(``create_room.lua``, ``set_phase.lua``, ``set_lock.lua``, ``set_timer.lua``.)
"""

from __future__ import annotations

import dataclasses

from agenda.room_model.commands import CreateRoom, SetLock, SetPhase, SetTimer
from agenda.room_model.state import (
    CONFLICT,
    DUP,
    EXISTS,
    OK,
    ROOM_LOST,
    Meta,
    RoomState,
    bump,
    change_meta,
    facilitator_seq,
    phase_refusal,
)
from protocol.phases import Phase

Result = tuple[str, RoomState]


def create_room(state: RoomState | None, command: CreateRoom) -> tuple[str, RoomState | None]:
    """A new room in the lobby, version 1; moderation of notes on, dot voting closed."""
    if state is not None:
        return EXISTS, state
    meta = Meta(
        template=command.template,
        fac=command.fac,
        join=command.join,
        disp=command.disp,
        epoch=command.epoch,
        dots=command.dots,
        maxnote=command.dots,
        session_name=command.session_name,
        session_region=command.session_region,
        session_date=command.session_date,
        expected=command.expected,
        admission=command.admission,
    )
    return OK, RoomState(meta, previous=command.previous)


def set_phase(state: RoomState, command: SetPhase) -> Result:
    """A compare-and-set: ``conflict`` (before the seq is used up, so the server can
    retry) when the phase is no longer the one the move was computed from."""
    if state.meta.phase is not command.expected:
        return CONFLICT, state
    if state.meta.phase is not Phase.CLOSED and state.lost:
        return ROOM_LOST, state
    noted = facilitator_seq(state, command.device, command.seq)
    if noted is None:
        return DUP, state
    changes: dict[str, object] = {"phase": command.phase, "round": command.round}
    if command.phase is Phase.CLOSED:
        # A closed room has no countdown.
        changes["timer"] = None
        noted = anonymised(noted, command.analysis)
    return OK, bump(change_meta(noted, **changes))


def anonymised(state: RoomState, analysis: str) -> RoomState:
    """The room as closing leaves it: only aggregates, nothing that links a
    participant to a rating, an organisation type, a note or a dot.

    The waiting list goes too (a device code is derived from a pseudonym).
    Kept: the tallies, organisation counts, dots per item, notes without their
    author (and without the author device's seq; a withdrawn note's tombstone
    goes), groups, the agenda, the number of participants and the analysis.
    """
    notes = {
        note_id: dataclasses.replace(note, seq=0)
        for note_id, note in state.notes.items()
        if not note.withdrawn
    }
    return dataclasses.replace(
        change_meta(state, participants=len(state.people)),
        people={},
        ballots={},
        owners={},
        mine={},
        dots={},
        seqs={},
        waiting={},
        notes=notes,
        analysis=analysis or None,
        markers=state.markers - {"ballots"},
    )


def set_lock(state: RoomState, command: SetLock) -> Result:
    refused = phase_refusal(state, "set_lock")
    if refused:
        return refused, state
    noted = facilitator_seq(state, command.device, command.seq)
    if noted is None:
        return DUP, state
    return OK, bump(change_meta(noted, locked=command.locked))


def set_timer(state: RoomState, command: SetTimer) -> Result:
    refused = phase_refusal(state, "set_timer")
    if refused:
        return refused, state
    noted = facilitator_seq(state, command.device, command.seq)
    if noted is None:
        return DUP, state
    return OK, bump(change_meta(noted, timer=command.ends_at))
