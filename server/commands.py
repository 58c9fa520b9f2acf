"""Carry out one command of a joined connection: check it, store it, acknowledge it.

The pure checks come from ``agenda.rules``; the phase is checked again inside
each Lua script, atomically with the write.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable

from agenda import insights, views
from agenda.insights import Vote
from agenda.phases import is_revealed, next_phase
from agenda.rules import check_command
from agenda.templates import Template
from protocol.errors import ErrorCode, ProtocolError
from protocol.messages import (
    Ack,
    Admit,
    AgendaItem,
    ClientMessage,
    Command,
    DotVote,
    HideNote,
    NormResult,
    NoteGroup,
    PutAgendaItem,
    PutNote,
    PutNoteGroup,
    Rate,
    RemoveAgendaItem,
    RemoveNoteGroup,
    SetAdmission,
    SetDotVoting,
    SetExpectedPeople,
    SetFollowUpStatus,
    SetLock,
    SetModeration,
    SetOrgType,
    SetPhase,
    SetTimer,
    WithdrawNote,
)
from protocol.wire import to_wire
from server.connection import Identity
from server.scripts import Outcome, PhaseConflict, RoomLost, Stored
from server.services import Services
from server.snapshots import now_ms

#: Attempts at a phase change when another process changes the phase meanwhile.
PHASE_CAS_ATTEMPTS = 3


async def execute(services: Services, who: Identity, message: ClientMessage) -> Ack:
    check_command(message, who.role, who.template)
    assert isinstance(message, Command)
    try:
        stored = await _store(services, who, message)
    except ProtocolError as error:
        if error.code is ErrorCode.ROOM_NOT_FOUND:
            raise _room_lost(services, who) from error
        raise
    if stored.change is not None:
        # This process's screens at once; the others hear it on the room's stream.
        services.hub.apply(who.room, stored.change)
    return Ack(message.seq, duplicate=stored.outcome is Outcome.DUPLICATE)


def _room_lost(services: Services, who: Identity) -> ProtocolError:
    """A joined connection's room is gone from Redis: it is lost, not a guess.
    The hub marks it and closes its connections with 4504; the command is kept
    by its client (``room_lost`` is retryable) and sent again once restored."""
    services.hub.notice_lost(who.room, services.settings.lost_room_seconds)
    return ProtocolError(
        ErrorCode.ROOM_LOST, "the room was lost from storage; it is being restored"
    )


async def _store(services: Services, who: Identity, message: Command) -> Stored:
    store, code, pid = services.store, who.room, who.pid
    match message:
        case Rate(seq=seq, norm_id=norm_id, value=value, round=round_):
            assert pid is not None
            try:
                return await store.rate(
                    code,
                    pid,
                    norm_id,
                    value,
                    seq,
                    round_,
                    message.question,
                    reassert=message.reassert,
                    epoch=who.epoch,
                    seen_version=services.hub.version_seen(code, who.epoch),
                )
            except ProtocolError as error:
                if error.code is ErrorCode.ROOM_LOST:
                    # The room has (or is getting) a new epoch: read it now rather
                    # than when the stream says so (it may be resubscribing after
                    # a Redis restart), so that this process's phones are closed
                    # with 4503 and re-send, instead of meeting refusals meanwhile.
                    services.hub.epoch_may_have_changed(code)
                raise
        case SetOrgType(seq=seq, org_type=org_type):
            assert pid is not None
            return await store.set_org_type(code, pid, org_type, seq)
        case PutNote(seq=seq, note_id=note_id, text=text, norm_id=norm_id):
            assert pid is not None
            return await store.put_note(code, pid, note_id, text, norm_id, seq)
        case WithdrawNote(seq=seq, note_id=note_id):
            assert pid is not None
            return await store.withdraw_note(code, pid, note_id, seq)
        case SetPhase():
            return await _set_phase(services, who, message)
        case SetLock(seq=seq, locked=locked):
            return await store.set_lock(code, locked, seq, who.device)
        case HideNote(seq=seq, note_id=note_id, hidden=hidden):
            return await store.hide_note(code, note_id, hidden, seq, who.device)
        case SetModeration(seq=seq, enabled=enabled):
            return await store.set_moderation(code, enabled, seq, who.device)
        case PutAgendaItem():
            item = AgendaItem(
                message.item_id,
                message.action,
                message.owner,
                message.deadline,
                message.norm_id,
                message.note_id,
                message.position,
                message.group_id,
                message.follow_up,
                await _snapshot(services, who, message.norm_id),
            )
            return await store.put_agenda_item(code, item, message.seq, who.device)
        case SetFollowUpStatus(seq=seq, index=index, status=status):
            return await store.set_follow_up_status(code, index, status, seq, who.device)
        case RemoveAgendaItem(seq=seq, item_id=item_id):
            return await store.remove_agenda_item(code, item_id, seq, who.device)
        case DotVote(seq=seq, note_id=note_id, dots=dots):
            assert pid is not None
            return await store.dot_vote(code, pid, note_id, dots, seq)
        case SetDotVoting(seq=seq, state=state):
            return await store.set_dot_voting(
                code, state, message.dots_per_participant, message.max_per_note, seq, who.device
            )
        case PutNoteGroup(seq=seq, group_id=group_id, title=title, note_ids=note_ids):
            return await store.put_note_group(
                code, NoteGroup(group_id, title, note_ids), seq, who.device
            )
        case RemoveNoteGroup(seq=seq, group_id=group_id):
            return await store.remove_note_group(code, group_id, seq, who.device)
        case SetExpectedPeople(seq=seq, expected=expected):
            return await store.set_expected_people(code, expected, seq, who.device)
        case SetAdmission(seq=seq, enabled=enabled):
            return await store.set_admission(code, enabled, seq, who.device)
        case Admit(seq=seq, code=device_code):
            return await store.admit(code, device_code, seq, who.device)
        case SetTimer(seq=seq, seconds=seconds):
            ends_at = None if seconds is None else now_ms() + seconds * 1000
            return await store.set_timer(code, ends_at, seq, who.device)
    raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"{message.TYPE} is not a command")


async def _snapshot(services: Services, who: Identity, norm_id: str | None) -> NormResult | None:
    """The linked norm's distribution now (kept with the item when it is first promoted)."""
    if norm_id is None:
        return None
    data = services.hub.room_data(who.room) or await services.store.read_room(who.room)
    if data is None:
        return None
    results = views.norm_results(data, who.template, revealed=is_revealed(data.phase))
    return next((r for r in results if r.norm_id == norm_id), None)


async def _set_phase(services: Services, who: Identity, message: SetPhase) -> Stored:
    code = who.room
    for _ in range(PHASE_CAS_ATTEMPTS):
        meta = await services.store.room_meta(code)
        if meta is None:
            raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, "this room does not exist")
        if message.seq <= meta.facilitator_seqs.get(who.device, 0):
            return Stored(Outcome.DUPLICATE)
        if meta.phase is message.phase:
            return Stored(Outcome.DUPLICATE)
        change = next_phase(meta.phase, message.phase, meta.round)
        try:
            return await services.store.set_phase(
                code,
                meta.phase,
                change.phase,
                change.round,
                message.seq,
                who.device,
                functools.partial(_closing_analysis, services, who),
            )
        except PhaseConflict:
            continue
        except RoomLost:
            # The store rebuilt the room (its tally or ballots were lost): the
            # move is the facilitator's and needs no phone, so try it again.
            continue
    raise ProtocolError(ErrorCode.INTERNAL, "the phase kept changing; try again")


async def _closing_analysis(
    services: Services, who: Identity, votes_of: Callable[[Template], list[Vote]]
) -> str:
    """The analysis a room keeps when it closes, as JSON: the same function and
    minimum group size as the dashboard's, from the ballots that closing deletes."""
    data = await services.store.read_room(who.room)
    if data is None:
        raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, "this room does not exist")
    analysis = await asyncio.to_thread(
        insights.build,
        who.template,
        data.tallies,
        data.previous_tallies,
        votes_of(who.template),
        services.settings.min_group_size,
        data.second_tallies,
    )
    return json.dumps(to_wire(analysis))
