"""Limits that hit the attacker, not the room: connection caps per address, and
command limits per sender that survive reconnects.  Every client here shares
127.0.0.1, as phones behind one NAT would."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from client.kleur_client import KleurClient
from protocol import limits
from protocol.close_codes import CloseCode
from protocol.codec import MSGPACK
from protocol.messages import Ack, Error, Join, Rate
from protocol.phases import Phase, Role
from server.embedded_redis import RedisServer
from server.ratelimit import CommandBuckets, ConnectionCaps
from tests.support import ServerProcess

NORM = "reele-werkervaring"
#: Small caps, so the test reaches them with a few sockets.
MAX_UNJOINED = 4
MAX_OPEN = 10


@pytest.fixture
def capped(redis_server: RedisServer, tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(
        redis_server.url,
        tmp_path / "kleur-capped.log",
        max_connections_per_client=str(MAX_OPEN),
        max_unjoined_connections_per_client=str(MAX_UNJOINED),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _close_code(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    return ws.close_code


async def _bystander_rates(bystander: KleurClient, facilitator: KleurClient, value: int) -> None:
    before = await facilitator.wait_dashboard(lambda d: True)
    assert not (await bystander.rate(NORM, value)).duplicate
    await facilitator.wait_dashboard(lambda d: d.version > before.version)


async def test_connection_caps_per_address(capped: ServerProcess) -> None:
    room = capped.create_room()
    facilitator = KleurClient(capped.ws_url, room["code"], Role.FACILITATOR,
                              token=room["facilitator_token"])  # fmt: skip
    await facilitator.connect()
    await facilitator.set_phase(Phase.RATING)
    bystander = KleurClient(capped.ws_url, room["code"], Role.PARTICIPANT)
    await bystander.connect()
    url, protocols = capped.ws_url, [MSGPACK.subprotocol]

    # Sockets that never join: the cap on those is reached first.
    idle = [await connect(url, subprotocols=protocols) for _ in range(MAX_UNJOINED)]  # type: ignore[list-item]
    async with connect(url, subprotocols=protocols) as over:  # type: ignore[list-item]
        assert await _close_code(over) == CloseCode.TOO_MANY_CONNECTIONS
        assert "too many connections" in (over.close_reason or "")
    await _bystander_rates(bystander, facilitator, 3)
    for ws in idle:
        await ws.close()

    # Joined connections count towards the cap on all of them (2 are open already).
    phones = []
    for _ in range(MAX_OPEN - 2):
        phone = KleurClient(capped.ws_url, room["code"], Role.PARTICIPANT)
        await phone.connect()
        phones.append(phone)
    async with connect(url, subprotocols=protocols) as over:  # type: ignore[list-item]
        assert await _close_code(over) == CloseCode.TOO_MANY_CONNECTIONS
    await _bystander_rates(bystander, facilitator, 4)
    # A connection that ends frees its place.
    await phones.pop().close()
    await asyncio.sleep(0.2)
    again = KleurClient(capped.ws_url, room["code"], Role.PARTICIPANT)
    await again.connect()
    for client in (facilitator, bystander, again, *phones):
        await client.close()


async def _burst(url: str, room: str, token: str, first_seq: int, count: int) -> tuple[int, int]:
    """Join with ``token`` on a new connection and send ``count`` ratings at
    once; (applied, refused as rate_limited)."""
    async with connect(url, subprotocols=[MSGPACK.subprotocol], max_size=None) as ws:  # type: ignore[list-item]
        await ws.send(MSGPACK.encode(Join(room, Role.PARTICIPANT, token, None)))
        MSGPACK.decode_server(await ws.recv())  # welcome
        for seq in range(first_seq, first_seq + count):
            await ws.send(MSGPACK.encode(Rate(seq, NORM, seq % 11)))
        applied = limited = 0
        try:
            while applied + limited < count:
                message = MSGPACK.decode_server(await asyncio.wait_for(ws.recv(), 5))
                if isinstance(message, Ack):
                    applied += 1
                elif isinstance(message, Error) and message.seq is not None:
                    limited += 1
        except ConnectionClosed:
            pass
        return applied, limited


async def test_reconnecting_does_not_refill_the_command_bucket(kleur: ServerProcess) -> None:
    room = kleur.create_room()
    code = room["code"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    await facilitator.set_phase(Phase.RATING)
    bystander = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    await bystander.connect()
    flooder = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    await flooder.connect()
    assert flooder.token is not None
    await flooder.close()

    async def bystander_at_normal_speed() -> list[float]:
        """Two ratings a second, as a quick thumb: each acknowledged, none refused."""
        waits = []
        for value in range(8):
            started = time.monotonic()
            assert not (await bystander.rate(NORM, value)).duplicate
            waits.append(time.monotonic() - started)
            await asyncio.sleep(0.5)
        return waits

    async def flood() -> tuple[int, int, float]:
        started = time.monotonic()
        applied = limited = 0
        seq = 1
        for _ in range(12):  # 12 reconnects, each with a full burst
            a, r = await _burst(
                kleur.ws_url, code, flooder.token or "", seq, limits.RATE_LIMIT_BURST
            )
            applied, limited, seq = applied + a, limited + r, seq + limits.RATE_LIMIT_BURST
        return applied, limited, time.monotonic() - started

    waits, (applied, limited, elapsed) = await asyncio.gather(bystander_at_normal_speed(), flood())
    # One bucket over all reconnects: a burst plus what it refills in the time
    # taken (and a little slack), not a burst per connection.
    allowed = limits.RATE_LIMIT_BURST + limits.RATE_LIMIT_PER_SECOND * elapsed + 5
    assert applied <= allowed, (applied, elapsed)
    assert limited > 0  # refused as rate_limited (30 of those close a connection: 4529)
    assert max(waits) < 2.0, waits
    for client in (facilitator, bystander):
        await client.close()


def test_api_protocol_reports_the_settings_in_use(
    redis_server: RedisServer, tmp_path: Path, kleur: ServerProcess
) -> None:
    """min_group_size and the dashboard rate are server settings whose defaults
    live in protocol.limits: /api/protocol reports the values in use."""
    served = httpx.get(f"{kleur.http_url}/api/protocol").json()["limits"]
    assert served["min_group_size"] == limits.MIN_GROUP_SIZE
    assert served["dashboard_max_per_second"] == limits.DASHBOARD_MAX_PER_SECOND
    tuned = ServerProcess(redis_server.url, tmp_path / "kleur-tuned.log",
                          min_group_size="5", dashboard_interval_seconds="0.25")  # fmt: skip
    tuned.start()
    try:
        served = httpx.get(f"{tuned.http_url}/api/protocol").json()["limits"]
    finally:
        tuned.stop()
    assert served["min_group_size"] == 5
    assert served["dashboard_max_per_second"] == 4


def test_command_buckets_are_kept_per_sender_within_a_bound() -> None:
    now = [0.0]
    buckets = CommandBuckets(rate=1.0, burst=2, max_keys=2, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [True, True, False]
    assert buckets.take("b") and buckets.take("a") is False  # "a" is still empty
    assert buckets.take("c")  # a third sender: the least recently used ("b") goes
    assert len(buckets) == 2
    now[0] += 1.0
    assert buckets.take("a") and not buckets.take("a")  # refilled by its rate only


def test_connection_caps_count_open_and_unjoined_per_address() -> None:
    caps = ConnectionCaps(max_per_client=3, max_unjoined_per_client=2)
    assert caps.admit("x") and caps.admit("x") and not caps.admit("x")  # two not joined
    assert caps.admit("y")  # another address is not affected
    caps.joined("x")
    assert caps.admit("x") and caps.counts("x") == (3, 2)
    caps.joined("x")
    assert not caps.admit("x")  # three open
    caps.release("x", joined=True)
    caps.release("x", joined=True)
    caps.release("x", joined=False)
    assert caps.counts("x") == (0, 0)
