"""Admission: which devices count as the room's people, and the facilitator's say in it.

(``join.lua``, ``set_expected_people.lua``, ``set_admission.lua``, ``admit.lua``.)
Anyone with the QR link can start a new device.  Devices beyond the number of
people the facilitator expects, and any new device once the first rating round
opened, *wait*: they are not counted, and may not rate, write notes or put dots,
until the facilitator admits them one by one (by the code their phone shows) or
switches admission off.  Extra devices could otherwise make a lone person's
organisation type look like a group large enough to show, whose figures are
then that person's own.
"""

from __future__ import annotations

import dataclasses
import hashlib

from agenda.phases import rounds_started
from agenda.room_model.commands import Admit, Join, SetAdmission, SetExpectedPeople
from agenda.room_model.state import (
    DUP,
    OK,
    ROOM_FULL,
    ROOM_LOCKED,
    UNKNOWN_ITEM,
    Person,
    RoomState,
    bump,
    change_meta,
    facilitator_seq,
    phase_refusal,
    put,
)
from protocol import limits
from protocol.phases import Phase

Result = tuple[str, RoomState]

#: Candidate codes per device: a waiting device takes the first one no other
#: waiting device has, so two phones in the list never show the same code.
CODE_CANDIDATES = 8


def device_codes(pid: str) -> tuple[str, ...]:
    """A device's candidate codes, derived from its pseudonym (nothing else:
    the code says nothing about the person, and the same device gets the same one)."""
    alphabet, length = limits.DEVICE_CODE_ALPHABET, limits.DEVICE_CODE_LENGTH
    codes = []
    for attempt in range(CODE_CANDIDATES):
        digest = hashlib.sha256(f"{pid}:{attempt}".encode()).digest()
        codes.append("".join(alphabet[b % len(alphabet)] for b in digest[:length]))
    return tuple(codes)


def must_wait(state: RoomState) -> bool:
    """Whether a new device waits for the facilitator now."""
    meta = state.meta
    return meta.admission and (len(state.people) >= meta.expected or rounds_started(meta.phase))


def join(state: RoomState, command: Join) -> Result:
    """A known device only comes back (admitted or still waiting); a new one is
    admitted or put on the waiting list (a locked room wants its join token).
    Joining is possible in every phase; a closed room records no one (it keeps
    no participants) but still wants a locked room's join token."""
    if state.meta.phase is Phase.CLOSED:
        if state.meta.locked and command.join_token != state.meta.join:
            return ROOM_LOCKED, state
        return OK, state
    if command.pid in state.people or command.pid in state.waiting:
        return OK, state
    if state.meta.locked and command.join_token != state.meta.join:
        return ROOM_LOCKED, state
    if len(state.people) + len(state.waiting) >= command.max_participants:
        return ROOM_FULL, state
    if not must_wait(state):
        state = dataclasses.replace(state, people=put(state.people, command.pid, Person()))
        return OK, bump(state)
    if len(state.waiting) >= command.max_waiting:
        return ROOM_FULL, state
    taken = set(state.waiting.values())
    code = next((c for c in device_codes(command.pid) if c not in taken), None)
    if code is None:
        return ROOM_FULL, state
    return OK, bump(dataclasses.replace(state, waiting=put(state.waiting, command.pid, code)))


def _admitted(state: RoomState, pids: list[str]) -> RoomState:
    """``pids`` moved from the waiting list to the room's people."""
    people = dict(state.people)
    for pid in pids:
        people[pid] = Person()
    waiting = {pid: code for pid, code in state.waiting.items() if pid not in pids}
    return dataclasses.replace(state, people=people, waiting=waiting)


def set_expected_people(state: RoomState, command: SetExpectedPeople) -> Result:
    """The number only decides who waits from now on: nobody is admitted or sent
    back by it (admitting stays one click per device)."""
    refused = phase_refusal(state, "set_expected_people")
    if refused:
        return refused, state
    noted = facilitator_seq(state, command.device, command.seq)
    if noted is None:
        return DUP, state
    return OK, bump(change_meta(noted, expected=command.expected))


def set_admission(state: RoomState, command: SetAdmission) -> Result:
    refused = phase_refusal(state, "set_admission")
    if refused:
        return refused, state
    noted = facilitator_seq(state, command.device, command.seq)
    if noted is None:
        return DUP, state
    noted = change_meta(noted, admission=command.enabled)
    if not command.enabled:
        noted = _admitted(noted, sorted(noted.waiting))
    return OK, bump(noted)


def admit(state: RoomState, command: Admit) -> Result:
    refused = phase_refusal(state, "admit")
    if refused:
        return refused, state
    # The seq first: a resent admit of a device admitted since is a duplicate,
    # not an unknown code.
    noted = facilitator_seq(state, command.device, command.seq)
    if noted is None:
        return DUP, state
    pid = next((p for p, code in state.waiting.items() if code == command.code), None)
    if pid is None:
        return UNKNOWN_ITEM, state
    return OK, bump(_admitted(noted, [pid]))
