"""Faults are noticed: a process whose Redis link goes silent without closing.

Real parts only: a real redis-server, process A (``kleur serve``) reaching it
through a TCP proxy the test controls (``tests/tcp_proxy.py``), process B
straight to Redis, real websockets.  The proxy either blackholes every byte
for a while (``silent``, the partition the issue measured for 30 s) or keeps
every connection open at that moment silent for good while new ones work
(``freeze_existing``: a sidecar whose upstream went away).

What must hold (issue 12, acceptance 2): within 10 s A's ``/readyz`` answers
503 and a rating sent to A gets ``store_unavailable``; ``/readyz`` never hangs;
no phone is closed with 1011, each keeps its commands and waits; when the
link is back every acknowledged rating counts once (the checker of
``tests/faults.py``) and a phase change made on B reaches A's phones within
2 s.  Each test prints its figures and the Verdict line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis

from agenda.templates import load_builtin_templates
from client.kleur_client import CommandRefused, KleurClient
from protocol.close_codes import CloseCode
from protocol.errors import ErrorCode
from protocol.phases import Phase, Role
from server.embedded_redis import RedisServer
from server.redis_client import make_redis_client
from server.scripts import UNAVAILABLE
from server.settings import Settings
from tests.faults import Fleet, Verdict, converge
from tests.support import ServerProcess
from tests.tcp_proxy import TcpProxy

#: How long the link stays silent: the issue's figure (settable for a quick look).
PARTITION_SECONDS = float(os.environ.get("KLEUR_TEST_PARTITION_SECONDS", "30"))
#: Acceptance 2: 503 and store_unavailable within this, after the link went silent.
NOTICE_SECONDS = 10.0
#: Acceptance 2: a phase change made elsewhere reaches this process's phones within this.
PHASE_SECONDS = 2.0
#: Longest a /readyz may take: it answers within the command timeout (plus the HTTP round trip).
READYZ_BOUND = Settings().redis_command_timeout_seconds + 1.0

NORMS = [norm.id for norm in load_builtin_templates()["participatiescan"].norms]
PHONES = 40
CHANGES = 400


@dataclass(slots=True)
class Samples:
    """What a watcher saw, with the seconds since the fault started."""

    start: float
    seen: list[tuple[float, str]] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.seen.append((time.monotonic() - self.start, what))

    def first(self, what: str, after: float = 0.0) -> float | None:
        return next((t for t, w in self.seen if w == what and t >= after), None)


async def eventually(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    """Whether ``predicate`` came true within ``timeout`` seconds (polled)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)


@pytest.fixture
def proxied(
    redis_server: RedisServer, tmp_path: Path
) -> Iterator[tuple[TcpProxy, ServerProcess, ServerProcess]]:
    """(proxy, A through the proxy, B straight to Redis)."""
    with TcpProxy(redis_server.port) as proxy:
        a = ServerProcess(proxy.url, tmp_path / "kleur-a.log")
        b = ServerProcess(redis_server.url, tmp_path / "kleur-b.log")
        try:
            a.start()
            b.start()
            yield proxy, a, b
        finally:
            a.stop()
            b.stop()


@dataclass(slots=True)
class Room:
    code: str
    facilitator: KleurClient
    fleet: Fleet
    #: A phone on A that the test rates with while the fault lasts.
    probe: KleurClient

    @property
    def clients(self) -> list[KleurClient]:
        return [*self.fleet.clients, self.probe]

    def on(self, server: ServerProcess) -> list[KleurClient]:
        return [c for c in self.clients if c.url == server.ws_url]


@contextlib.asynccontextmanager
async def open_room(
    a: ServerProcess, b: ServerProcess, *, phones: int = PHONES, rating: bool = True
) -> AsyncIterator[Room]:
    """A room with its facilitator on B: in its first rating round with phones
    on both processes, or (``rating=False``) in the lobby with phones on A only."""
    made = b.create_room()
    code = made["code"]
    facilitator = KleurClient(b.ws_url, code, Role.FACILITATOR, token=made["facilitator_token"])
    await facilitator.connect()
    fleet = Fleet([a.ws_url, b.ws_url] if rating else [a.ws_url], code)
    probe = KleurClient(a.ws_url, code, Role.PARTICIPANT)
    room = Room(code, facilitator, fleet, probe)
    phase = Phase.RATING if rating else Phase.LOBBY
    try:
        if rating:
            await facilitator.set_phase(phase)
        await fleet.join(phones)
        await probe.connect()
        await asyncio.gather(*(c.wait_for(lambda c: _phase(c) is phase) for c in room.clients))
        yield room
    finally:
        await fleet.close()
        await asyncio.gather(probe.close(), facilitator.close(), return_exceptions=True)


def _phase(client: KleurClient) -> Phase | None:
    return None if client.state is None else client.state.phase


async def watch_readyz(server: ServerProcess, samples: Samples, stop: asyncio.Event) -> None:
    """``/readyz`` every quarter second: records ``"200"``/``"503"`` (or ``"hang"``) at
    its answer, and fails the test if one answer took longer than the bound."""
    async with httpx.AsyncClient() as http:
        while not stop.is_set():
            asked = time.monotonic()
            try:
                response = await http.get(f"{server.http_url}/readyz", timeout=READYZ_BOUND * 3)
                samples.add(str(response.status_code))
            except httpx.TimeoutException:
                samples.add("hang")
            took = time.monotonic() - asked
            assert took < READYZ_BOUND, f"/readyz took {took:.1f}s"
            await asyncio.sleep(0.25)


async def probe_ratings(probe: KleurClient, samples: Samples, stop: asyncio.Event) -> None:
    """A rating every quarter second on the probe phone: records ``"ack"`` or the error code."""
    rng = random.Random(7)
    while not stop.is_set():
        try:
            await probe.rate(rng.choice(NORMS), rng.randint(1, 5))
            samples.add("ack")
        except CommandRefused as refused:
            samples.add(refused.error.code.value)
        except (TimeoutError, ConnectionError) as exc:
            samples.add(type(exc).__name__)
        await asyncio.sleep(0.25)


async def retry_outboxes(clients: Sequence[KleurClient], stop: asyncio.Event) -> None:
    """What a phone does after a retryable error (``kleur.js`` ``_retryLater``):
    send its outbox again, in order, about a second later, until it is empty."""
    while not stop.is_set():
        await asyncio.sleep(1.0)
        for client in clients:
            if not client.connected:
                continue
            for seq in sorted(client.outbox):
                command = client.outbox.get(seq)
                # Not one on its way: the client keeps one waiter per seq, and
                # a second send would leave the first waiting for its timeout.
                if command is None or seq in client._pending:
                    continue
                with contextlib.suppress(CommandRefused, TimeoutError, ConnectionError):
                    await client.send_command(command, timeout=10)


async def phase_change_reaches(room: Room, phones: Sequence[KleurClient], phase: Phase) -> float:
    """Seconds from the facilitator's ack of ``phase`` to every phone showing it."""
    await room.facilitator.set_phase(phase)
    acked = time.monotonic()
    await asyncio.gather(*(p.wait_for(lambda c: _phase(c) is phase, timeout=10) for p in phones))
    return time.monotonic() - acked


def stream_resubscribed(redis_url: str, server: ServerProcess, fault_age: float) -> bool:
    """Whether ``server`` has a pub/sub connection younger than the fault that
    carries the room's subscription (besides its heartbeat channel)."""
    assert server.process is not None
    name = f"kleur-{socket.gethostname()}-{server.process.pid}"
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        connections = client.client_list(_type="pubsub")
    finally:
        client.close()
    return any(
        c["name"] == name
        and int(c["age"]) + 1 < fault_age
        and int(c.get("ssub", 0)) + int(c.get("sub", 0)) >= 2
        for c in connections
    )


async def start_mid_burst(room: Room, rng: random.Random) -> asyncio.Task[None]:
    """The burst on every phone, returned once a third of it was acknowledged."""
    burst = asyncio.create_task(room.fleet.burst(NORMS, CHANGES, rng=rng))
    target = (PHONES * len(NORMS) + CHANGES) // 3
    await eventually(
        lambda: burst.done() or sum(len(c.acked) for c in room.fleet.clients) >= target, 60, 0.01
    )
    return burst


def report(name: str, figures: dict[str, float | None], verdict: Verdict) -> None:
    shown = ", ".join(f"{k} {'-' if v is None else f'{v:.1f} s'}" for k, v in figures.items())
    print(f"\n{name}: {shown}\n{name} Verdict: {verdict.line()}")


@pytest.mark.slow
async def test_a_silent_partition_fails_fast_and_heals(
    proxied: tuple[TcpProxy, ServerProcess, ServerProcess], redis_server: RedisServer
) -> None:
    proxy, a, b = proxied
    async with open_room(a, b) as room, open_room(a, b, phones=5, rating=False) as lobby:
        burst = await start_mid_burst(room, random.Random(12))
        proxy.set_mode("silent")
        fault = Samples(time.monotonic())
        ready, rated = Samples(fault.start), Samples(fault.start)
        stop = asyncio.Event()
        watchers = [
            asyncio.create_task(watch_readyz(a, ready, stop)),
            asyncio.create_task(probe_ratings(room.probe, rated, stop)),
        ]
        await asyncio.sleep(PARTITION_SECONDS)
        # Through the whole partition the phones on A waited: none was closed.
        assert all(c.connected for c in room.on(a)), [c.close_code for c in room.on(a)]
        proxy.set_mode("pass")
        healed = time.monotonic()
        healed_at = healed - fault.start
        # At once, in another room: B opens its rating; A's phones see it
        # when A's stream has subscribed anew and read the room.
        opened_seconds = await phase_change_reaches(lobby, lobby.on(a), Phase.RATING)
        opened_after_heal = time.monotonic() - healed

        retrying = asyncio.create_task(retry_outboxes(room.clients, stop))
        await asyncio.wait_for(burst, 60)
        burst_done = time.monotonic() - fault.start
        verdict = await converge(redis_server.url, room.code, room.clients, since=healed)
        await eventually(lambda: ready.first("200", after=healed_at) is not None, 10)
        stop.set()
        await asyncio.gather(*watchers, retrying)

        to_503 = ready.first("503")
        to_unavailable = rated.first(ErrorCode.STORE_UNAVAILABLE.value)
        ready_again = ready.first("200", after=healed_at)
        phase_seconds = await phase_change_reaches(room, room.on(a), Phase.REVEAL)
        report(
            "silent partition",
            {
                "partition": PARTITION_SECONDS,
                "burst done": burst_done,
                "to 503": to_503,
                "to store_unavailable": to_unavailable,
                "ready after the link came back": None
                if ready_again is None
                else ready_again - healed_at,
                "phase change on B just after the link came back, from its ack": opened_seconds,
                "the same, from the link coming back": opened_after_heal,
                "phase change on B after converging": phase_seconds,
            },
            verdict,
        )
        assert "hang" not in [w for _, w in ready.seen]
        assert opened_seconds < PHASE_SECONDS
        assert to_503 is not None and to_503 < NOTICE_SECONDS, ready.seen[:8]
        assert to_unavailable is not None and to_unavailable < NOTICE_SECONDS, rated.seen[:8]
        assert ready_again is not None, ready.seen[-8:]
        closes = [c.close_code for c in room.clients if c.close_code is not None]
        assert CloseCode.INTERNAL_ERROR not in closes and not closes, closes
        assert verdict.ok and verdict.acknowledged > 0, verdict.line()
        assert phase_seconds < PHASE_SECONDS


@pytest.mark.slow
async def test_connections_frozen_for_good_are_replaced(
    proxied: tuple[TcpProxy, ServerProcess, ServerProcess], redis_server: RedisServer
) -> None:
    proxy, a, b = proxied
    async with open_room(a, b) as room:
        burst = await start_mid_burst(room, random.Random(13))
        proxy.set_mode("freeze_existing")
        fault = Samples(time.monotonic())
        ready, rated = Samples(fault.start), Samples(fault.start)
        stop = asyncio.Event()
        watchers = [
            asyncio.create_task(watch_readyz(a, ready, stop)),
            asyncio.create_task(probe_ratings(room.probe, rated, stop)),
            asyncio.create_task(retry_outboxes(room.clients, stop)),
        ]
        # The stream hears nothing on its frozen connection, gives it up and
        # subscribes on a new one (which works).
        assert await eventually(
            lambda: stream_resubscribed(redis_server.url, a, time.monotonic() - fault.start), 20
        ), "A's room stream never subscribed anew"
        resubscribed = time.monotonic() - fault.start
        await asyncio.wait_for(burst, 60)
        burst_done = time.monotonic() - fault.start
        verdict = await converge(redis_server.url, room.code, room.clients, since=fault.start)
        # Commands recover by themselves (new connections work): acks again after the errors.
        unavailable = rated.first(ErrorCode.STORE_UNAVAILABLE.value)
        if unavailable is not None:
            await eventually(lambda: rated.first("ack", after=unavailable) is not None, 20)
        to_503 = ready.first("503")
        if to_503 is not None:
            await eventually(lambda: ready.first("200", after=to_503) is not None, 20)
        stop.set()
        await asyncio.gather(*watchers)

        phase_seconds = await phase_change_reaches(room, room.on(a), Phase.REVEAL)
        recovered = None if unavailable is None else rated.first("ack", after=unavailable)
        ready_again = None if to_503 is None else ready.first("200", after=to_503)
        report(
            "frozen connections",
            {
                "to 503": to_503,
                "to store_unavailable": unavailable,
                "burst done": burst_done,
                "commands acknowledged again": recovered,
                "ready again": ready_again,
                "stream subscribed anew": resubscribed,
                "phase change on B to every phone on A": phase_seconds,
            },
            verdict,
        )
        assert "hang" not in [w for _, w in ready.seen]
        noticed = [t for t in (to_503, unavailable) if t is not None]
        assert noticed and min(noticed) < NOTICE_SECONDS, (ready.seen[:8], rated.seen[:8])
        assert unavailable is None or recovered is not None, rated.seen[-8:]
        assert to_503 is None or ready_again is not None, ready.seen[-8:]
        closes = [c.close_code for c in room.clients if c.close_code is not None]
        assert not closes, closes
        assert verdict.ok and verdict.acknowledged > 0, verdict.line()
        assert phase_seconds < PHASE_SECONDS


async def test_a_call_on_a_silent_link_fails_within_the_command_timeout(
    redis_server: RedisServer,
) -> None:
    """The bound itself, on the server's own client: retries and a new connection's
    handshake included, a call gets the command timeout and no more."""
    timeout = 1.0
    with TcpProxy(redis_server.port) as proxy:
        client = make_redis_client(
            Settings(redis_url=proxy.url, redis_command_timeout_seconds=timeout)
        )
        try:
            assert await client.ping()
            proxy.set_mode("silent")
            # On the open connection, then on a new one (its handshake gets no answer).
            for _ in range(2):
                started = time.monotonic()
                with pytest.raises(UNAVAILABLE):
                    await client.set("kleur:test", "1")
                assert time.monotonic() - started < timeout * 1.5
            proxy.set_mode("pass")
            assert await client.ping()
            proxy.set_mode("freeze_existing")
            started = time.monotonic()
            with pytest.raises(UNAVAILABLE):  # the pooled connection is frozen ...
                await client.ping()
            assert time.monotonic() - started < timeout * 1.5
            assert await client.ping()  # ... and was replaced by one that works
        finally:
            await client.aclose()


async def _readyz(server: ServerProcess) -> tuple[int, str]:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{server.http_url}/readyz", timeout=READYZ_BOUND)
    return response.status_code, response.text


async def _until(server: ServerProcess, status: int, timeout: float = 10.0) -> tuple[int, str]:
    deadline = time.monotonic() + timeout
    while True:
        answer = await _readyz(server)
        if answer[0] == status or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.1)


async def test_readyz_wants_noeviction(redis_server: RedisServer, tmp_path: Path) -> None:
    """An evicted key is a lost part of a room: /readyz names a policy that allows it."""
    server = ServerProcess(
        redis_server.url, tmp_path / "kleur.log", redis_policy_check_seconds="0.2"
    )
    server.start()
    admin = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        assert await _readyz(server) == (200, "ready")
        admin.config_set("maxmemory-policy", "allkeys-lru")
        assert await _until(server, 503) == (
            503,
            "redis maxmemory-policy is allkeys-lru; kleur needs noeviction",
        )
        admin.config_set("maxmemory-policy", "noeviction")
        assert await _until(server, 200) == (200, "ready")
    finally:
        server.stop()
        admin.close()


async def test_readyz_when_config_is_refused(redis_server: RedisServer, tmp_path: Path) -> None:
    """A managed Redis that refuses CONFIG: the policy cannot be read, and that is no failure."""
    admin = redis.Redis.from_url(redis_server.url, decode_responses=True)
    admin.acl_setuser("kleur", enabled=True, passwords=["+secret"], keys=["*"],
                      channels=["*"], commands=["+@all", "-config"])  # fmt: skip
    admin.config_set("maxmemory-policy", "allkeys-lru")  # unseen by the refused CONFIG GET
    url = redis_server.url.replace("redis://", "redis://kleur:secret@")
    server = ServerProcess(url, tmp_path / "kleur.log", redis_policy_check_seconds="0.2")
    try:
        server.start()
        await asyncio.sleep(0.5)
        assert await _readyz(server) == (200, "ready")
    finally:
        server.stop()
        admin.close()
