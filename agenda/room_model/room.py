"""The room itself: creating it, joining it, and the facilitator's phase, lock and timer.

(``create_room.lua``, ``join.lua``, ``set_phase.lua``, ``set_lock.lua``, ``set_timer.lua``.)
"""

from __future__ import annotations

import dataclasses

from agenda.room_model.commands import CreateRoom, Join, SetLock, SetPhase, SetTimer
from agenda.room_model.state import (
    CONFLICT,
    DUP,
    EXISTS,
    OK,
    ROOM_FULL,
    ROOM_LOCKED,
    Meta,
    Person,
    RoomState,
    bump,
    change_meta,
    facilitator_seq,
    phase_refusal,
    put,
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
    )
    return OK, RoomState(meta, previous=command.previous)


def join(state: RoomState, command: Join) -> Result:
    """A new participant is counted (a locked room wants its join token); a known one
    only comes back.  Joining is possible in every phase; a closed room records
    no one (it keeps no participants) but still wants a locked room's join token."""
    if state.meta.phase is Phase.CLOSED:
        if state.meta.locked and command.join_token != state.meta.join:
            return ROOM_LOCKED, state
        return OK, state
    if command.pid in state.people:
        return OK, state
    if state.meta.locked and command.join_token != state.meta.join:
        return ROOM_LOCKED, state
    if len(state.people) >= command.max_participants:
        return ROOM_FULL, state
    state = dataclasses.replace(state, people=put(state.people, command.pid, Person()))
    return OK, bump(state)


def set_phase(state: RoomState, command: SetPhase) -> Result:
    """A compare-and-set: ``conflict`` (before the seq is used up, so the server can
    retry) when the phase is no longer the one the move was computed from."""
    if state.meta.phase is not command.expected:
        return CONFLICT, state
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
        notes=notes,
        analysis=analysis or None,
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
