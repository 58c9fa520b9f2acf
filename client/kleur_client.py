"""An async Python client of the kleur protocol, in either codec.

It keeps an outbox like the phone page does: every command stays in it until
acknowledged, and ``reconnect`` joins again with the same device token and
resends what is left, in order.  The server's ``seq`` deduplication makes the
resend harmless.

Like the phone, a participant client also keeps its acknowledged answers
(``answers``: the last acknowledged command per rating, organisation type,
note and dots) and, after every ``welcome``, re-sends those whose ``seq`` is
above the welcome's ``max_seq``: a room rebuilt in Redis, or a Redis that came
back older than what it acknowledged, heals from the clients
(docs/protocol.md, section 14).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import secrets
import ssl
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from protocol import limits
from protocol.close_codes import should_reconnect
from protocol.codec import MSGPACK, Codec
from protocol.errors import RETRYABLE_ERRORS, ErrorCode
from protocol.messages import (
    Ack,
    Admit,
    Command,
    Dashboard,
    DotVote,
    Error,
    HideNote,
    Join,
    Presenter,
    PutAgendaItem,
    PutNote,
    PutNoteGroup,
    Rate,
    RemoveAgendaItem,
    RemoveNoteGroup,
    RoomState,
    ServerMessage,
    SetAdmission,
    SetDotVoting,
    SetExpectedPeople,
    SetLock,
    SetModeration,
    SetOrgType,
    SetPhase,
    SetTimer,
    Welcome,
    WithdrawNote,
)
from protocol.phases import DotVoting, Phase, Question, Role


class JoinRefused(Exception):
    def __init__(self, code: ErrorCode | None, close_code: int | None, detail: str) -> None:
        super().__init__(f"join refused: {code} (close {close_code}): {detail}")
        self.code = code
        self.close_code = close_code


class CommandRefused(Exception):
    def __init__(self, error: Error) -> None:
        super().__init__(f"{error.code.value}: {error.detail}")
        self.error = error


def new_id() -> str:
    return secrets.token_urlsafe(12)


class KleurClient:
    def __init__(
        self,
        url: str,
        room: str,
        role: Role,
        *,
        token: str | None = None,
        join_token: str | None = None,
        codec: Codec = MSGPACK,
        auto_reconnect: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url
        #: For a ``wss://`` URL whose certificate the system does not trust
        #: (a test's self-signed one); None: websockets' default for the scheme.
        self.tls = tls
        self.room = room
        self.role = role
        self.token = token
        self.join_token = join_token
        self.codec = codec
        self.welcome: Welcome | None = None
        self.state: RoomState | None = None
        self.dashboard: Dashboard | None = None
        #: The presenter view's snapshot (role presenter).
        self.presenter: Presenter | None = None
        self.received: list[ServerMessage] = []
        self.outbox: dict[int, Command] = {}
        #: Every command sent and the seqs acknowledged (applied or duplicate):
        #: what a fault test's model of "acknowledged" is built from.
        self.sent: dict[int, Command] = {}
        self.acked: set[int] = set()
        self._seq = 0
        self._pending: dict[int, asyncio.Future[Ack]] = {}
        self._changed = asyncio.Condition()
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self.close_code: int | None = None
        #: A facilitator client's own sequence space (see Join.device).
        self.device = new_id() if role is Role.FACILITATOR else None
        #: Per answer (see ``answer_key``) the last acknowledged command: what
        #: is re-sent when a welcome's ``max_seq`` shows the server lost it.
        self.answers: dict[tuple[object, ...], Command] = {}
        #: Reconnect by itself after a close whose code says so (a phone does).
        self.auto_reconnect = auto_reconnect
        self._reconnecting: asyncio.Task[Welcome | None] | None = None
        #: Commands re-sent after welcomes because the server had lost them.
        self.reasserted = 0

    # -- connection --------------------------------------------------------
    async def connect(self) -> Welcome:
        # websockets' own default for the scheme unless a context was given.
        tls: dict[str, Any] = {} if self.tls is None else {"ssl": self.tls}
        self._ws = await connect(
            self.url,
            subprotocols=[self.codec.subprotocol],  # type: ignore[list-item]
            compression=None,
            max_size=None,
            open_timeout=10,
            **tls,
        )
        # Refused before it read our join? The close code below says why.
        with contextlib.suppress(ConnectionClosed):
            await self._ws.send(
                self.codec.encode(
                    Join(self.room, self.role, self.token, self.join_token, self.device)
                )
            )
        first = await self._next_raw()
        if not isinstance(first, Welcome):
            detail = first.detail if isinstance(first, Error) else "connection closed"
            code = first.code if isinstance(first, Error) else None
            with contextlib.suppress(ConnectionClosed, asyncio.TimeoutError):
                await asyncio.wait_for(self._ws.recv(), 5)
            raise JoinRefused(code, self._ws.close_code, detail)
        self.welcome = first
        self.state = first.state
        if first.participant_token is not None:
            self.token = first.participant_token
        self._seq = max(self._seq, first.max_seq)
        self._reader = asyncio.create_task(self._read())
        await self._reassert(first)
        return first

    async def _reassert(self, welcome: Welcome) -> None:
        """Re-send, with their own seqs, the acknowledged answers the server has
        not got (seq above ``max_seq``), then what is left in the outbox."""
        if welcome.role is Role.PARTICIPANT:
            round_ = welcome.state.round
            for key in [k for k, c in self.answers.items() if isinstance(c, Rate)]:
                rate = self.answers[key]
                assert isinstance(rate, Rate)
                if rate.round < round_:  # an earlier round's: never counts again
                    del self.answers[key]
            missing = [
                c
                for c in self.answers.values()
                if c.seq > welcome.max_seq or not welcome_holds(welcome, c)
            ]
            for command in sorted(missing, key=lambda c: c.seq):
                if command.seq in self.outbox:
                    continue
                if isinstance(command, Rate):
                    command = dataclasses.replace(command, reassert=True)
                self.outbox[command.seq] = command
                self.reasserted += 1
        for seq in sorted(self.outbox):
            await self._send(self.outbox[seq])

    async def _next_raw(self) -> ServerMessage | None:
        assert self._ws is not None
        try:
            frame = await asyncio.wait_for(self._ws.recv(), 10)
        except ConnectionClosed:
            self.close_code = self._ws.close_code
            return None
        return self.codec.decode_server(frame)

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for frame in self._ws:
                await self._dispatch(self.codec.decode_server(frame))
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self._ws.close_code
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("connection closed before the ack"))
                    future.exception()  # retrieved: a resend nobody awaits is not an error
            self._pending.clear()
            async with self._changed:
                self._changed.notify_all()
            code = self.close_code
            if self.auto_reconnect and code is not None and should_reconnect(code):
                self._reconnecting = asyncio.create_task(self._reconnect_quietly())

    async def _reconnect_quietly(self) -> Welcome | None:
        with contextlib.suppress(JoinRefused, OSError, TimeoutError):
            return await self.reconnect(_from_reader=True)
        return None

    async def _dispatch(self, message: ServerMessage) -> None:
        self.received.append(message)
        if isinstance(message, Ack):
            self.acked.add(message.seq)
            command = self.outbox.pop(message.seq, None) or self.sent.get(message.seq)
            if command is not None:
                self._keep_answer(command)
            future = self._pending.pop(message.seq, None)
            if future and not future.done():
                future.set_result(message)
        elif isinstance(message, Error) and message.seq is not None:
            future = self._pending.pop(message.seq, None)
            if message.code not in RETRYABLE_ERRORS:
                refused = self.outbox.pop(message.seq, None)
                key = None if refused is None else answer_key(refused)
                kept = None if key is None else self.answers.get(key)
                if key is not None and kept is not None and kept.seq == message.seq:
                    del self.answers[key]  # a re-assert that cannot count
            if future and not future.done():
                future.set_exception(CommandRefused(message))
        elif isinstance(message, Dashboard):
            self.dashboard = message
        elif isinstance(message, Presenter):
            self.presenter = message
        elif isinstance(message, RoomState):
            self.state = message
        async with self._changed:
            self._changed.notify_all()

    def _keep_answer(self, command: Command) -> None:
        key = answer_key(command)
        if key is None:
            return
        kept = self.answers.get(key)
        if kept is None or kept.seq < command.seq:
            self.answers[key] = (
                dataclasses.replace(command, reassert=False)
                if isinstance(command, Rate)
                else command
            )

    async def close(self) -> None:
        self.auto_reconnect = False
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def drop(self) -> None:
        """Lose the connection without a goodbye (like a phone losing Wi-Fi)."""
        if self._ws is not None:
            self._ws.transport.abort()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def reconnect(
        self,
        attempts: int | None = None,
        *,
        give_up_after: float = 120.0,
        _from_reader: bool = False,
    ) -> Welcome:
        """Join again with the same token and resend (``_reassert``), like a phone:
        retries with jittered back-off while the close code says "reconnect"
        (e.g. 4502 storage unreachable, 4504 room being restored), until a code
        says not to, ``attempts`` (None: no limit) or ``give_up_after`` seconds."""
        if not _from_reader:
            await self.drop()
        deadline = time.monotonic() + give_up_after
        delay = 0.2
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self.connect()
            except (JoinRefused, OSError, TimeoutError) as refused:
                code = getattr(refused, "close_code", None)
                retryable = code is None or should_reconnect(code)
                out_of_time = time.monotonic() + delay > deadline
                if not retryable or attempt == attempts or out_of_time:
                    raise
                # Jitter: a hall of phones that lost one server must not come
                # back in lock step.
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 5.0)

    @property
    def connected(self) -> bool:
        return self._reader is not None and not self._reader.done()

    # -- commands ----------------------------------------------------------
    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    async def _send(self, command: Command) -> asyncio.Future[Ack]:
        assert self._ws is not None
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._pending[command.seq] = future
        await self._ws.send(self.codec.encode(command))
        return future

    async def send_command(self, command: Command, *, timeout: float = 15) -> Ack:
        self.outbox[command.seq] = command
        self.sent[command.seq] = command
        future = await self._send(command)
        return await asyncio.wait_for(future, timeout)

    async def send_raw(self, frame: bytes | str) -> None:
        assert self._ws is not None
        await self._ws.send(frame)

    async def command(self, build: Callable[[int], Command]) -> Ack:
        return await self.send_command(build(self.next_seq()))

    @property
    def round(self) -> int:
        """The round the room is in, as last heard (ratings carry it)."""
        return self.state.round if self.state is not None else 1

    async def rate(
        self, norm_id: str, value: int | None, question: Question = Question.CURRENT
    ) -> Ack:
        round_ = self.round
        return await self.command(lambda seq: Rate(seq, norm_id, value, round_, question))

    async def set_org_type(self, org_type: str | None) -> Ack:
        return await self.command(lambda seq: SetOrgType(seq, org_type))

    async def put_note(
        self, text: str, norm_id: str | None = None, note_id: str | None = None
    ) -> str:
        note_id = note_id or new_id()
        await self.command(lambda seq: PutNote(seq, note_id, text, norm_id))
        return note_id

    async def withdraw_note(self, note_id: str) -> Ack:
        return await self.command(lambda seq: WithdrawNote(seq, note_id))

    async def set_phase(self, phase: Phase) -> Ack:
        return await self.command(lambda seq: SetPhase(seq, phase))

    async def set_lock(self, locked: bool) -> Ack:
        return await self.command(lambda seq: SetLock(seq, locked))

    async def set_expected_people(self, expected: int) -> Ack:
        return await self.command(lambda seq: SetExpectedPeople(seq, expected))

    async def set_admission(self, enabled: bool) -> Ack:
        return await self.command(lambda seq: SetAdmission(seq, enabled))

    async def admit(self, code: str) -> Ack:
        """Admit the waiting device whose phone shows ``code``."""
        return await self.command(lambda seq: Admit(seq, code))

    async def hide_note(self, note_id: str, hidden: bool = True) -> Ack:
        return await self.command(lambda seq: HideNote(seq, note_id, hidden))

    async def set_moderation(self, enabled: bool) -> Ack:
        return await self.command(lambda seq: SetModeration(seq, enabled))

    async def put_agenda_item(self, action: str, **fields: Any) -> str:
        item_id = fields.pop("item_id", None) or new_id()
        defaults: dict[str, Any] = {
            "group_id": None,
            "follow_up": None,
            "owner": "",
            "deadline": None,
            "norm_id": None,
            "note_id": None,
            "position": 0,
        }
        defaults.update(fields)
        await self.command(lambda seq: PutAgendaItem(seq, item_id, action, **defaults))
        return item_id

    async def remove_agenda_item(self, item_id: str) -> Ack:
        return await self.command(lambda seq: RemoveAgendaItem(seq, item_id))

    async def dot_vote(self, note_id: str, dots: int) -> Ack:
        return await self.command(lambda seq: DotVote(seq, note_id, dots))

    async def set_dot_voting(
        self, state: DotVoting, dots_per_participant: int = 3, max_per_note: int = 3
    ) -> Ack:
        return await self.command(
            lambda seq: SetDotVoting(seq, state, dots_per_participant, max_per_note)
        )

    async def put_note_group(
        self, title: str, note_ids: tuple[str, ...], group_id: str | None = None
    ) -> str:
        group_id = group_id or new_id()
        await self.command(lambda seq: PutNoteGroup(seq, group_id, title, note_ids))
        return group_id

    async def remove_note_group(self, group_id: str) -> Ack:
        return await self.command(lambda seq: RemoveNoteGroup(seq, group_id))

    async def set_timer(self, seconds: int | None) -> Ack:
        return await self.command(lambda seq: SetTimer(seq, seconds))

    # -- waiting -----------------------------------------------------------
    async def wait_for(self, predicate: Callable[[KleurClient], bool], timeout: float = 15) -> None:
        async def wait() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self) or not self.connected)
            if not predicate(self):
                raise ConnectionError(f"closed ({self.close_code}) before the condition held")

        await asyncio.wait_for(wait(), timeout)

    async def wait_dashboard(
        self, predicate: Callable[[Dashboard], bool], timeout: float = 15
    ) -> Dashboard:
        await self.wait_for(lambda c: c.dashboard is not None and predicate(c.dashboard), timeout)
        assert self.dashboard is not None
        return self.dashboard

    async def wait_presenter(
        self, predicate: Callable[[Presenter], bool], timeout: float = 15
    ) -> Presenter:
        await self.wait_for(lambda c: c.presenter is not None and predicate(c.presenter), timeout)
        assert self.presenter is not None
        return self.presenter

    async def wait_closed(self, timeout: float = 5) -> int | None:
        if self._reader is not None:
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.close_code


def welcome_holds(welcome: Welcome, command: Command) -> bool:
    """Whether ``welcome`` shows the server holding this kept answer (at its seq
    or a later one).  ``max_seq`` alone cannot tell: after a rebuild that lost
    the ballots the notes (and their seqs) are still there, so ratings older
    than the last note would not be above it.  As ``welcomeHolds`` in kleur.js."""
    if isinstance(command, Rate):
        if command.round != welcome.state.round:
            return True  # an earlier round's: never re-sent
        return any(
            r.norm_id == command.norm_id and r.question is command.question and r.seq >= command.seq
            for r in welcome.ratings
        )
    if isinstance(command, PutNote):
        return any(n.note_id == command.note_id and n.seq >= command.seq for n in welcome.notes)
    if isinstance(command, WithdrawNote):
        return not any(n.note_id == command.note_id for n in welcome.notes)
    if isinstance(command, DotVote):
        dots = next((d for d in welcome.dots if d.note_id == command.note_id), None)
        if command.dots == 0:
            return dots is None or dots.seq >= command.seq
        return dots is not None and dots.seq >= command.seq
    if isinstance(command, SetOrgType):
        return welcome.org_type == command.org_type
    return True


def answer_key(command: Command) -> tuple[object, ...] | None:
    """Which of a participant's answers a command sets (None: not an answer).
    A later acknowledged command with the same key replaces the earlier."""
    if isinstance(command, Rate):
        return ("rate", command.round, command.norm_id, command.question)
    if isinstance(command, SetOrgType):
        return ("org",)
    if isinstance(command, PutNote | WithdrawNote):
        return ("note", command.note_id)
    if isinstance(command, DotVote):
        return ("dots", command.note_id)
    return None


__all__ = ["CommandRefused", "JoinRefused", "KleurClient", "answer_key", "limits", "new_id"]
