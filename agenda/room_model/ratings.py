"""Ratings and organisation types: an upsert per participant that moves the counts with it.

(``rate.lua``, ``set_org.lua``.)  A vote is state, not an event: a re-vote
moves one count from the old value to the new, a replay (same or older seq)
changes nothing.
"""

from __future__ import annotations

import dataclasses

from agenda.phases import rounds_started
from agenda.room_model.commands import Rate, SetOrg
from agenda.room_model.state import (
    DONT_KNOW,
    DUP,
    NOT_ADMITTED,
    NOT_JOINED,
    OK,
    ORG_TYPE_FIXED,
    ROOM_LOST,
    STALE_EPOCH,
    WENT_BACK,
    WRONG_PHASE,
    Person,
    RoomState,
    Stamped,
    add,
    admission_refusal,
    bump,
    participant_seq,
    phase_refusal,
    put,
)
from protocol.phases import Phase

Result = tuple[str, RoomState]


def rate(state: RoomState, command: Rate) -> Result:
    """Only while rating, and only for the round the phone saw: a late resend from
    an earlier round is refused, never counted in the next."""
    if command.epoch and command.epoch != state.meta.epoch:
        return STALE_EPOCH, state
    if command.epoch and command.seen is not None and state.meta.version < command.seen:
        return WENT_BACK, state
    refused = phase_refusal(state, "rate")
    if refused and not healing(state, command):
        return refused, state
    round_ = state.meta.round
    if command.round != round_:
        return WRONG_PHASE, state
    refused = admission_refusal(state, command.pid)
    if refused:
        return refused, state
    if state.lost:
        return ROOM_LOST, state
    value = DONT_KNOW if command.value is None else str(command.value)
    key = (round_, command.pid, command.norm)
    old = state.ballots.get(key)
    if old is not None and old.seq >= command.seq:
        return DUP, state
    state = participant_seq(state, command.pid, command.seq)
    ballots = put(state.ballots, key, Stamped(command.seq, value))
    tally = state.tally
    if old is not None:
        if old.value == value:
            # The same answer again: its seq is noted, the room does not change.
            return OK, dataclasses.replace(state, ballots=ballots)
        tally = add(tally, (round_, command.norm, old.value), -1)
    tally = add(tally, (round_, command.norm, value), 1)
    return OK, bump(dataclasses.replace(state, ballots=ballots, tally=tally))


def healing(state: RoomState, command: Rate) -> bool:
    """A re-asserted rating while the heal window is open counts in any phase
    of its round but closed (a closed room's ballots are gone by design)."""
    until = state.meta.heal_until
    return (
        command.reassert
        and state.meta.phase is not Phase.CLOSED
        and until is not None
        and until > command.now
    )


def set_org(state: RoomState, command: SetOrg) -> Result:
    refused = phase_refusal(state, "set_org_type")
    if refused:
        return refused, state
    person = state.people.get(command.pid)
    if person is None:
        return (NOT_ADMITTED if command.pid in state.waiting else NOT_JOINED), state
    if person.seq >= command.seq:
        return DUP, state
    org = command.org or ""
    # Fixed once rating began: a change then would show, in the breakdown, which
    # norms a person rated.  A device without one (admitted late, by the
    # facilitator) may pick it once.
    if rounds_started(state.meta.phase) and org != person.org and (person.org or not org):
        return ORG_TYPE_FIXED, state
    state = participant_seq(state, command.pid, command.seq)
    state = dataclasses.replace(
        state, people=put(state.people, command.pid, Person(command.seq, org))
    )
    if person.org == org:
        return OK, state
    orgs = state.orgs
    if person.org:
        orgs = add(orgs, person.org, -1)
    if org:
        orgs = add(orgs, org, 1)
    return OK, bump(dataclasses.replace(state, orgs=orgs))
