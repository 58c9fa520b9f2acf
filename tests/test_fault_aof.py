"""Fault: Redis with ``appendfsync everysec`` crashes and comes back without its last second.

Mid-burst (100 phones x 20 norms + 1,000 changes over two ``kleur serve``
processes), Redis is killed with SIGKILL and its append-only file cut back to
the size it had one second before: what a power loss does to writes Redis
acknowledged but had not fsynced yet.  Redis starts again from the cut file.
Acknowledged ratings are gone from it ("lost before heal"); the room's
version went back.  The server notices (a mirror reads the room at a lower
version than it saw, or a rating meets a room older than the mirror's:
``went_back``) and gives the room a new epoch; the phones are closed with
4503, join again and re-send every answer above their welcome's max_seq.
After converging, every acknowledged rating counts once ("lost after heal": 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from agenda.templates import load_builtin_templates
from client.kleur_client import KleurClient
from protocol.phases import Phase, Role
from server.embedded_redis import RedisServer
from tests.faults import Fleet, Verdict, verdict
from tests.support import ServerProcess

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

NORMS = [norm.id for norm in load_builtin_templates()["participatiescan"].norms]
PHONES = 100
#: More changes than the missing-keys test: the burst must last some seconds
#: for the crash to come in its middle with a full second of it to cut away.
CHANGES = 4_000
#: Seconds into the burst when Redis crashes (and a quarter of it acknowledged, at least).
CRASH_AFTER = 1.2
#: Seconds each phone waits after a rating.  With 20 phones at a time and 60
#: ratings each, the burst lasts at least 5 x 60 x 0.02 = 6 s however fast the
#: machine: without it a quick run finished all 6,000 in under CRASH_AFTER
#: (CI, 2026-12-04: "the burst ended before the crash (5878 acknowledged)").
TAP_PAUSE = 0.02
#: How far back the cut goes: the writes of the last second before the crash.
CUT_SECONDS = 1.0


@pytest.fixture
def everysec_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(data_dir=tmp_path / "redis", appendfsync="everysec")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def servers(
    everysec_redis: RedisServer, tmp_path: Path
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    pair = (
        ServerProcess(everysec_redis.url, tmp_path / "kleur-1.log"),
        ServerProcess(everysec_redis.url, tmp_path / "kleur-2.log"),
    )
    try:
        for server in pair:
            server.start()
        yield pair
    finally:
        for server in pair:
            server.stop()


def incr_aof(redis: RedisServer) -> Path:
    """The append-only file Redis appends to now (Redis 7: the newest incr file)."""
    files = sorted(
        (redis.data_dir / "appendonlydir").glob("*.incr.aof"),
        key=lambda p: int(p.name.split(".")[-3]),
    )
    assert files, "no incremental append-only file"
    return files[-1]


class AofSizes:
    """The append-only file's size, sampled every 20 ms (for the cut)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.samples: list[tuple[float, int]] = []

    async def run(self) -> None:
        while True:
            self.samples.append((time.monotonic(), self.path.stat().st_size))
            await asyncio.sleep(0.02)

    def size_before(self, seconds: float) -> int:
        cut = time.monotonic() - seconds
        earlier = [size for at, size in self.samples if at <= cut]
        assert earlier, "sampled for less than the cut"
        return earlier[-1]


async def heal(
    fleet: Fleet, redis_url: str, code: str, since: float, timeout: float = 45.0
) -> Verdict:
    """Until every phone is back, its outbox empty and the tallies right (or the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        await fleet.flush()
        result = await verdict(redis_url, code, fleet.clients, since)
        settled = all(c.connected and not c.outbox for c in fleet.clients)
        if (result.ok and settled) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def _room(servers: tuple[ServerProcess, ...]) -> AsyncIterator[tuple[KleurClient, Fleet]]:
    room = servers[0].create_room()
    facilitator = KleurClient(
        servers[0].ws_url, room["code"], Role.FACILITATOR, token=room["facilitator_token"]
    )
    fleet = Fleet([s.ws_url for s in servers], room["code"])
    try:
        await facilitator.connect()
        await facilitator.set_phase(Phase.RATING)
        await fleet.join(PHONES, auto_reconnect=True)
        yield facilitator, fleet
    finally:
        await fleet.close()
        await facilitator.close()


async def test_an_everysec_crash_cut_back_one_second_heals_from_the_phones(
    everysec_redis: RedisServer, servers: tuple[ServerProcess, ServerProcess]
) -> None:
    redis = everysec_redis
    async with _room(servers) as (facilitator, fleet):
        code = fleet.code
        sizes = AofSizes(incr_aof(redis))
        sampler = asyncio.create_task(sizes.run())
        burst = asyncio.create_task(
            # 20 phones at a time (a hall where not everyone taps at once).
            fleet.burst(
                NORMS,
                CHANGES,
                rng=random.Random(3),
                scale=(0, 10),
                concurrency=20,
                pause=TAP_PAUSE,
            )
        )

        def acked() -> int:
            return sum(len(c.acked) for c in fleet.clients)

        planned = PHONES * len(NORMS) + CHANGES
        start = time.monotonic()
        # A count over 100 clients, not one event: polled.
        while time.monotonic() - start < CRASH_AFTER or acked() < planned / 4:
            assert not burst.done(), f"the burst ended before the crash ({acked()} acknowledged)"
            await asyncio.sleep(0.01)
        keep = sizes.size_before(CUT_SECONDS)
        path = sizes.path
        redis.kill()
        sampler.cancel()
        acked_at_crash = acked()
        cut = path.stat().st_size - keep
        os.truncate(path, keep)
        redis.start()
        crashed_at = time.monotonic()
        # Straight after the restart, before the phones re-send: what the cut took.
        before = await verdict(redis.url, code, fleet.clients)
        await asyncio.wait_for(burst, 120)
        after = await heal(fleet, redis.url, code, crashed_at)
        reasserted = sum(c.reasserted for c in fleet.clients)
        print(
            f"Verdict (everysec crash, AOF cut back {CUT_SECONDS:.0f} s = {cut} bytes, "
            f"{acked_at_crash} ratings acknowledged at the crash): lost before heal "
            f"{before.lost}; after heal: {after.line()}, re-asserted {reasserted}"
        )
        assert cut > 0 and before.lost > 0, "the cut removed no acknowledged rating"
        assert after.ok, after.line()
        assert facilitator.connected  # the facilitator is not closed: it gets the new snapshot
