"""The load generator: phones and dashboards speaking the kleur protocol over real websockets.

A lean client, not ``client.kleur_client``: thousands of them share one CPU,
so a rating frame is packed directly (``Wire.rate``, byte-for-byte what
``protocol.codec`` makes, which the tests check) and replies are read as
plain maps; the join and everything else goes through ``protocol.codec``.
Like the phone page, a ``Phone`` keeps every command in an outbox until it
is acknowledged; after a reconnect, and 1-2 s after an error that says "retry"
(``store_unavailable``, ``rate_limited``), it resends what is left, in order.
Such errors are still counted: a correct run has none.

A ``Dashboard`` is a facilitator connection: it opens the rating round and
records when each ``dashboard`` snapshot arrives and what it holds (the
``received`` count of every norm).

The same ``Phone`` with ``echo=True`` drives the echo server (the ceiling):
no join, and the echoed rating frame counts as its acknowledgement.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter as now
from typing import Any

import msgpack
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.typing import Subprotocol

from agenda.templates import Template
from loadtests.scenarios import Pace, Scenario
from protocol.codec import Codec
from protocol.errors import RETRYABLE_ERRORS
from protocol.messages import Error, Join, Message, PutNote, SetOrgType, SetPhase, Welcome
from protocol.phases import Phase, Role

#: Seconds to open a websocket and get ``welcome``.
CONNECT_TIMEOUT = 30.0
#: Times a phone tries to get back after its connection closed unexpectedly.
RECONNECT_ATTEMPTS = 3
#: The phone page resends its outbox this long after a retryable error (seconds).
RETRY_DELAY = (1.0, 2.0)
#: Retries of one outbox before the phone gives up (bounded, like every loop here).
MAX_RETRIES = 20
_RETRYABLE = frozenset(code.value for code in RETRYABLE_ERRORS)

NOTE_TEXTS = (
    "Werkgevers weten niet waar ze terecht kunnen.",
    "Goede samenwerking met het ROC, maar te weinig stageplekken.",
    "Na de zomer raken we jongeren uit beeld.",
    "De jobcoach maakt echt verschil.",
    "Te veel loketten, niemand houdt regie.",
    "We delen gegevens pas als het al mis is gegaan.",
)


class JoinFailed(Exception):
    pass


# ------------------------------------------------------------------- frames


class Wire:
    """Frames of one codec; ratings packed without the dataclass round trip."""

    def __init__(self, codec: Codec) -> None:
        self.codec = codec

    def rate(self, seq: int, norm_id: str, value: int | None, round_: int = 1) -> bytes | str:
        payload = {
            "type": "rate",
            "seq": seq,
            "norm_id": norm_id,
            "value": value,
            "round": round_,
            "question": "current",
            "reassert": False,
        }
        if self.codec.binary:
            packed: bytes = msgpack.packb(payload, use_bin_type=True)
            return packed
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    def encode(self, message: Message) -> bytes | str:
        return self.codec.encode(message)

    def peek(self, frame: bytes | str) -> dict[str, Any]:
        """A server frame as a plain map (no validation: the server is trusted here)."""
        data = msgpack.unpackb(frame, raw=False) if isinstance(frame, bytes) else json.loads(frame)
        if not isinstance(data, dict):
            raise ValueError("a frame must be a map")
        return data


# ------------------------------------------------------------------ records


@dataclass(slots=True)
class RatingRecord:
    phone: int
    room: int
    norm: str
    value: int | None
    seq: int
    #: The phone's first rating of this norm (re-rates do not move ``received``).
    first: bool
    #: ``now()`` when the frame was handed to the socket the first time.
    sent: float = 0.0
    #: ``now()`` when the ack arrived; None: never acknowledged.
    acked: float | None = None
    duplicate: bool = False
    #: Resent after a reconnect (its latency includes the reconnect).
    resent: bool = False
    #: Resent after a retryable error (its latency includes the retry delay).
    retried: bool = False
    #: Seconds the generator sent it later than planned (open-loop pacing).
    lag: float = 0.0


@dataclass(frozen=True, slots=True)
class Snapshot:
    at: float
    version: int
    participants: int
    received: dict[str, int]


@dataclass(slots=True)
class Stats:
    """Counters shared by all clients of a run: progress line and error tally."""

    connected: int = 0
    sent: int = 0
    acked: int = 0
    commands: int = 0
    reconnects: int = 0
    retries: int = 0
    #: Acks for a command acknowledged before (a resend crossed the first ack).
    extra_acks: int = 0
    snapshots: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    def error(self, kind: str, detail: str = "") -> None:
        self.errors[kind] += 1
        if len(self.samples) < 20:
            self.samples.append(f"{kind}: {detail}"[:200])


@dataclass(frozen=True, slots=True)
class RoomTarget:
    index: int
    code: str
    facilitator_token: str
    join_token: str | None


@dataclass(slots=True)
class _Pending:
    frame: bytes | str
    kind: str
    record: RatingRecord | None = None
    org: str | None = None


async def _open(url: str, codec: Codec) -> ClientConnection:
    return await connect(
        url,
        subprotocols=[Subprotocol(codec.subprotocol)],
        compression=None,
        max_size=None,
        ping_interval=None,
        open_timeout=CONNECT_TIMEOUT,
        close_timeout=2,
    )


# -------------------------------------------------------------------- phone


class Phone:
    """One participant's phone: outbox, pipelined commands, reconnects."""

    def __init__(
        self,
        index: int,
        room: RoomTarget,
        url: str,
        wire: Wire,
        stats: Stats,
        *,
        echo: bool = False,
    ) -> None:
        self.index = index
        self.room = room
        self.url = url
        self.wire = wire
        self.stats = stats
        self.echo = echo
        self.token: str | None = None
        self.seq = 0
        self.outbox: dict[int, _Pending] = {}
        self.records: list[RatingRecord] = []
        self.org_type: str | None = None
        self.notes = 0
        #: The round the phone rates in (from ``welcome``).
        self.round = 1
        self._rated: set[str] = set()
        self._done: set[int] = set()
        self._retry: asyncio.Task[None] | None = None
        self._retries = 0
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._drained = asyncio.Event()
        self._drained.set()
        self._dropping = False
        self._healing: asyncio.Task[None] | None = None

    # -- connection --------------------------------------------------------
    async def connect(self) -> None:
        ws = await _open(self.url, self.wire.codec)
        if not self.echo:
            try:
                join = Join(self.room.code, Role.PARTICIPANT, self.token, self.room.join_token)
                await ws.send(self.wire.encode(join))
                welcome = self.wire.codec.decode_server(
                    await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT)
                )
            except BaseException:
                await ws.close()
                raise
            if not isinstance(welcome, Welcome):
                await ws.close()
                detail = welcome.detail if isinstance(welcome, Error) else type(welcome).__name__
                raise JoinFailed(detail)
            self.token = welcome.participant_token
            self.seq = max(self.seq, welcome.max_seq)
            self.round = welcome.state.round
        self._ws = ws
        self.stats.connected += 1
        self._reader = asyncio.create_task(self._read(ws))

    async def join(self, attempts: int = RECONNECT_ATTEMPTS) -> None:
        """Connect and join; a refused join is counted and tried again, like the phone page."""
        for attempt in range(attempts):
            try:
                await self.connect()
                return
            except (OSError, WebSocketException, JoinFailed, TimeoutError) as exc:
                self.stats.error("join_failed", repr(exc))
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(random.uniform(*RETRY_DELAY))

    async def _read(self, ws: ClientConnection) -> None:
        cancelled = False
        try:
            async for frame in ws:
                self._on_frame(frame)
        except ConnectionClosed:
            pass
        except asyncio.CancelledError:
            cancelled = True  # the run is being stopped: no reconnecting
            raise
        finally:
            self.stats.connected -= 1
            if not (cancelled or self._dropping) and ws is self._ws and ws.close_code != 1000:
                # Closed by the server or the network: come back, like the phone page.
                self.stats.error("unexpected_close", f"close code {ws.close_code}")
                self._healing = asyncio.create_task(self._heal())

    async def _heal(self) -> None:
        for attempt in range(RECONNECT_ATTEMPTS):
            await asyncio.sleep(0.2 * (attempt + 1))
            try:
                await self.connect()
            except (OSError, WebSocketException, JoinFailed, TimeoutError) as exc:
                self.stats.error("reconnect_failed", repr(exc))
                continue
            await self._resend()
            return

    def _on_frame(self, frame: bytes | str) -> None:
        try:
            data = self.wire.peek(frame)
        except ValueError as exc:
            self.stats.error("bad_frame", repr(exc))
            return
        kind = data.get("type")
        if kind == "ack" or (self.echo and kind == "rate"):
            self._acked(data.get("seq"), bool(data.get("duplicate", False)))
        elif kind == "error":
            self._refused(data)

    def _acked(self, seq: object, duplicate: bool) -> None:
        pending = self.outbox.pop(seq, None) if isinstance(seq, int) else None
        if pending is None:
            if seq in self._done:
                self.stats.extra_acks += 1
            else:
                self.stats.error("unexpected_ack", f"seq {seq!r}")
            return
        assert isinstance(seq, int)
        self._done.add(seq)
        if pending.record is not None:
            pending.record.acked = now()
            pending.record.duplicate = duplicate
            self.stats.acked += 1
        else:
            self.stats.commands += 1
            if pending.kind == "set_org_type":
                self.org_type = pending.org
            elif pending.kind == "put_note":
                self.notes += 1
        if not self.outbox:
            self._drained.set()

    def _refused(self, data: dict[str, Any]) -> None:
        seq, code = data.get("seq"), data.get("code")
        self.stats.error(f"error:{code}", str(data.get("detail")))
        if code in _RETRYABLE and self._retries < MAX_RETRIES:
            # Kept in the outbox; the whole outbox goes again in a moment.
            if self._retry is None or self._retry.done():
                self._retry = asyncio.create_task(self._retry_later())
            return
        if isinstance(seq, int) and self.outbox.pop(seq, None) is not None and not self.outbox:
            self._drained.set()

    async def _retry_later(self) -> None:
        await asyncio.sleep(random.uniform(*RETRY_DELAY))
        self._retries += 1
        self.stats.retries += 1
        for seq in sorted(self.outbox):
            pending = self.outbox[seq]
            if pending.record is not None:
                pending.record.retried = True
            if self._ws is not None:
                await self._write(pending.frame)

    async def drop_and_reconnect(self, pause: float) -> None:
        """Lose the connection without a goodbye, come back, resend the outbox."""
        if self._ws is not None:
            self._dropping = True
            self._ws.transport.abort()
            if self._reader is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._reader
            self._dropping = False
        await asyncio.sleep(pause)
        try:
            await self.join()
        except (OSError, WebSocketException, JoinFailed, TimeoutError):
            return  # counted by join(); what is left in the outbox stays unacknowledged
        self.stats.reconnects += 1
        await self._resend()

    async def _resend(self) -> None:
        for seq in sorted(self.outbox):
            pending = self.outbox[seq]
            if pending.record is not None:
                pending.record.resent = True
            await self._write(pending.frame)

    async def close(self) -> None:
        for task in (self._healing, self._retry):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._ws is not None:
            self._dropping = True
            with contextlib.suppress(OSError, WebSocketException):
                await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    # -- commands ----------------------------------------------------------
    async def _write(self, frame: bytes | str) -> None:
        assert self._ws is not None
        # A closed socket keeps the command in the outbox; it goes again after a reconnect.
        with contextlib.suppress(ConnectionClosed):
            await self._ws.send(frame)

    async def _submit(self, seq: int, pending: _Pending) -> None:
        self.outbox[seq] = pending
        self._drained.clear()
        if pending.record is not None:
            pending.record.sent = now()
        await self._write(pending.frame)

    async def rate(self, norm: str, value: int | None, planned: float | None = None) -> None:
        self.seq += 1
        record = RatingRecord(
            self.index, self.room.index, norm, value, self.seq, first=norm not in self._rated
        )
        self._rated.add(norm)
        self.records.append(record)
        self.stats.sent += 1
        frame = self.wire.rate(self.seq, norm, value, self.round)
        await self._submit(self.seq, _Pending(frame, "rate", record))
        if planned is not None:
            record.lag = max(0.0, record.sent - planned)

    async def set_org_type(self, org: str) -> None:
        self.seq += 1
        frame = self.wire.encode(SetOrgType(self.seq, org))
        await self._submit(self.seq, _Pending(frame, "set_org_type", org=org))

    async def put_note(self, text: str, norm: str | None) -> None:
        self.seq += 1
        note_id = f"n{self.index:07d}{self.seq:04d}"
        frame = self.wire.encode(PutNote(self.seq, note_id, text, norm))
        await self._submit(self.seq, _Pending(frame, "put_note"))

    async def drained(self, timeout: float) -> bool:
        """Wait until every command is acknowledged (or refused); False on timeout."""
        try:
            await asyncio.wait_for(self._drained.wait(), timeout)
        except TimeoutError:
            return False
        return True


# ---------------------------------------------------------------- dashboard


class Dashboard:
    """The facilitator's big screen: opens the round, records every snapshot."""

    def __init__(self, room: RoomTarget, url: str, wire: Wire, stats: Stats) -> None:
        self.room = room
        self.url = url
        self.wire = wire
        self.stats = stats
        self.snapshots: list[Snapshot] = []
        self.seq = 0
        self._acks: dict[int, asyncio.Future[None]] = {}
        self._changed = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None

    async def join(self, attempts: int = RECONNECT_ATTEMPTS) -> None:
        """Connect and join; a refused join is counted and tried again, like the page does."""
        for attempt in range(attempts):
            try:
                await self.connect()
                return
            except (OSError, WebSocketException, JoinFailed, TimeoutError) as exc:
                self.stats.error("dashboard_join_failed", repr(exc))
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(random.uniform(*RETRY_DELAY))

    async def connect(self) -> None:
        ws = await _open(self.url, self.wire.codec)
        join = Join(self.room.code, Role.FACILITATOR, self.room.facilitator_token, None)
        await ws.send(self.wire.encode(join))
        welcome = self.wire.codec.decode_server(await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT))
        if not isinstance(welcome, Welcome):
            await ws.close()
            raise JoinFailed(welcome.detail if isinstance(welcome, Error) else "no welcome")
        self.seq = welcome.max_seq
        self._ws = ws
        self._reader = asyncio.create_task(self._read(ws))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for frame in ws:
                self._on_frame(frame)
        except ConnectionClosed:
            pass
        finally:
            if ws.close_code != 1000:
                self.stats.error("dashboard_closed", f"close code {ws.close_code}")
            for future in self._acks.values():
                if not future.done():
                    future.set_exception(ConnectionError("dashboard closed"))

    def _on_frame(self, frame: bytes | str) -> None:
        at = now()
        data = self.wire.peek(frame)
        kind = data.get("type")
        if kind == "dashboard":
            received = {norm["norm_id"]: norm["received"] for norm in data["norms"]}
            self.snapshots.append(Snapshot(at, data["version"], data["participants"], received))
            self.stats.snapshots += 1
            self._changed.set()
        elif kind in ("ack", "error"):
            future = self._acks.pop(data.get("seq", -1), None)
            if kind == "error":
                self.stats.error(f"dashboard_error:{data.get('code')}", str(data.get("detail")))
            if future is not None and not future.done():
                if kind == "ack":
                    future.set_result(None)
                else:
                    future.set_exception(RuntimeError(str(data.get("detail"))))

    @property
    def connected(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def open_round(self, attempts: int = RECONNECT_ATTEMPTS) -> None:
        """Start the rating phase, joining first if the dashboard is not connected."""
        for attempt in range(attempts):
            try:
                if not self.connected:
                    await self.connect()
                await self.set_phase(Phase.RATING)
                return
            except (OSError, WebSocketException, JoinFailed, TimeoutError, RuntimeError) as exc:
                self.stats.error("open_round_failed", repr(exc))
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(random.uniform(*RETRY_DELAY))

    async def set_phase(self, phase: Phase, timeout: float = CONNECT_TIMEOUT) -> None:
        assert self._ws is not None
        self.seq += 1
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acks[self.seq] = future
        await self._ws.send(self.wire.encode(SetPhase(self.seq, phase)))
        await asyncio.wait_for(future, timeout)

    async def wait_until(self, predicate: Callable[[Snapshot], bool], timeout: float) -> bool:
        """Wait for a snapshot that satisfies ``predicate``; False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (self.snapshots and predicate(self.snapshots[-1])):
            left = deadline - loop.time()
            if left <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        return True

    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(OSError, WebSocketException):
                await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


# --------------------------------------------------------------- behaviour


@dataclass(frozen=True, slots=True)
class Action:
    #: Seconds after the start of the round.
    at: float
    kind: str  # "rate", "note"
    norm: str | None
    value: int | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class PhonePlan:
    org_type: str
    actions: tuple[Action, ...]
    #: Lose the connection right after this action (its ack still in flight).
    drop_after: int | None
    reconnect_pause: float


def _value(rng: random.Random, bias: float, dont_know: float) -> int | None:
    if rng.random() < dont_know:
        return None
    return max(0, min(10, round(rng.gauss(bias, 2.0))))


def make_plan(
    scenario: Scenario, template: Template, phone: int, phones: int, rng: random.Random
) -> PhonePlan:
    """What one phone does in the round, and when (seconds after it opened)."""
    norms = [norm.id for norm in template.norms]
    org = rng.choice(template.org_types).id
    bias = rng.uniform(3, 8)
    actions: list[Action] = []
    window = scenario.window_seconds
    if scenario.pace is Pace.BURST:
        times = [0.0] * len(norms)
    elif scenario.pace is Pace.PACED:
        # Rating j of the whole run goes out at j / rate: phone by phone, norm by norm.
        rate = scenario.offered_per_second
        times = [(k * phones + phone) / rate for k in range(len(norms))]
    else:
        # Human: start within the first quarter, think between norms (long-tailed
        # pauses), finish within 85 % of the window; re-rates and notes after that.
        start = rng.uniform(0, 0.25 * window)
        gaps = [rng.lognormvariate(0, 0.6) for _ in norms]
        span = rng.uniform(0.5, 1.0) * (0.85 * window - start)
        scale = span / sum(gaps)
        times, t = [], start
        for gap in gaps:
            t += gap * scale
            times.append(t)
    order = norms[:]
    if scenario.pace is Pace.HUMAN:
        rng.shuffle(order)
    for at, norm in zip(times, order, strict=True):
        actions.append(Action(at, "rate", norm, _value(rng, bias, scenario.dont_know_share)))
    end = times[-1]
    if rng.random() < scenario.rerate_share:
        for norm in rng.sample(norms, rng.randint(1, 3)):
            at = rng.uniform(end, max(end, 0.95 * window))
            actions.append(Action(at, "rate", norm, _value(rng, bias, scenario.dont_know_share)))
    if rng.random() < scenario.note_share:
        at = rng.uniform(times[0], max(times[0], 0.95 * window))
        norm_for_note = rng.choice([None, *norms])
        actions.append(Action(at, "note", norm_for_note, text=rng.choice(NOTE_TEXTS)))
    actions.sort(key=lambda a: a.at)
    drop_after = None
    if rng.random() < scenario.reconnect_share:
        drop_after = rng.randrange(len(actions))
    pause = rng.uniform(0.2, 1.0) * min(1.0, window / 60)
    return PhonePlan(org, tuple(actions), drop_after, pause)


async def play(phone: Phone, plan: PhonePlan, start: float) -> None:
    """Carry out a plan; ``start`` is the ``now()`` the round opened."""
    loop_sleep = asyncio.sleep
    for i, action in enumerate(plan.actions):
        planned = start + action.at
        delay = planned - now()
        if delay > 0:
            await loop_sleep(delay)
        if action.kind == "rate":
            await phone.rate(action.norm or "", action.value, planned)
        else:
            await phone.put_note(action.text, action.norm)
        if delay <= 0:
            # Let the readers run between sends, so acks are timed when they arrive.
            await asyncio.sleep(0)
        if plan.drop_after == i:
            await phone.drop_and_reconnect(plan.reconnect_pause)
