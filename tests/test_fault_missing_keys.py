"""Fault: Redis loses the room's tally or ballots hash (an evicted key) mid-burst.

100 phones rate 20 norms each and make 1,000 changes, spread over two real
``kleur serve`` processes; while the ratings stream in, the tally (or the
ballots) hash is deleted in Redis.  The next rating finds its marker missing,
is refused with ``room_lost`` and the server rebuilds the room (a recount, or
without ballots an empty room the phones fill again) with a new epoch; both
processes close their phones' connections with 4503, the phones join again
and re-send what the room lost.  After converging, every acknowledged rating
must count exactly once (``tests/faults.py``: the final tallies read from
Redis against the last acknowledged rating per phone, round, norm and question).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from agenda.templates import load_builtin_templates
from client.kleur_client import KleurClient
from protocol.close_codes import CloseCode
from protocol.phases import Phase, Role
from server.keys import RoomKeys
from tests.faults import Fleet, Verdict, verdict
from tests.support import ServerProcess

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

NORMS = [norm.id for norm in load_builtin_templates()["participatiescan"].norms]
PHONES = 100
CHANGES = 1_000
#: Share of the burst's ratings acknowledged before the hash is deleted.
FAULT_AT = 0.4


class Session:
    """A facilitator and a fleet of phones (reconnecting by themselves) in one room."""

    def __init__(self, servers: tuple[ServerProcess, ...]) -> None:
        self.servers = servers
        self.redis_url = servers[0].redis_url
        room = servers[0].create_room()
        self.code = room["code"]
        self.facilitator = KleurClient(
            servers[0].ws_url, self.code, Role.FACILITATOR, token=room["facilitator_token"]
        )
        self.fleet = Fleet([s.ws_url for s in servers], self.code)

    async def start(self) -> None:
        await self.facilitator.connect()
        await self.facilitator.set_phase(Phase.RATING)
        await self.fleet.join(PHONES, auto_reconnect=True)

    def acked(self) -> int:
        return sum(len(c.acked) for c in self.fleet.clients)

    async def burst_with(self, fault: Callable[[], Awaitable[None]], seed: int) -> None:
        """The burst, with ``fault`` once ``FAULT_AT`` of its ratings were acknowledged."""
        planned = PHONES * len(NORMS) + CHANGES
        burst = asyncio.create_task(
            self.fleet.burst(NORMS, CHANGES, rng=random.Random(seed), scale=(0, 10))
        )
        # A count over 100 clients, not one event: polled.
        while not burst.done() and self.acked() < FAULT_AT * planned:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        assert not burst.done(), "the burst ended before the fault"
        await fault()
        await asyncio.wait_for(burst, 120)

    async def heal(self, since: float, timeout: float = 40.0) -> Verdict:
        """Until every phone is back, its outbox empty and the tallies right (or the timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            await self.fleet.flush()
            result = await verdict(self.redis_url, self.code, self.fleet.clients, since)
            settled = all(c.connected and not c.outbox for c in self.fleet.clients)
            if (result.ok and settled) or time.monotonic() > deadline:
                return result
            await asyncio.sleep(0.2)

    async def close(self) -> None:
        await self.fleet.close()
        await self.facilitator.close()


@contextlib.asynccontextmanager
async def session(servers: tuple[ServerProcess, ...]) -> AsyncIterator[Session]:
    running = Session(servers)
    try:
        await running.start()
        yield running
    finally:
        await running.close()


async def delete(redis_url: str, *keys: str) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        await client.delete(*keys)
    finally:
        await client.aclose()


async def epoch(redis_url: str, code: str) -> str:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return str(await client.hget(RoomKeys(code).meta, "epoch"))
    finally:
        await client.aclose()


@pytest.mark.parametrize("lost", ["tally", "ballots"])
async def test_a_hash_lost_mid_burst_is_rebuilt_and_every_acked_rating_counts_once(
    kleur_pair: tuple[ServerProcess, ServerProcess], lost: str
) -> None:
    async with session(kleur_pair) as room:
        before = await epoch(room.redis_url, room.code)
        fault_at = 0.0

        async def lose() -> None:
            nonlocal fault_at
            fault_at = time.monotonic()
            await delete(room.redis_url, getattr(RoomKeys(room.code), lost))

        await room.burst_with(lose, seed=12)
        result = await room.heal(fault_at)
        reasserted = sum(c.reasserted for c in room.fleet.clients)
        print(f"Verdict ({lost} hash deleted mid-burst): {result.line()}, "
              f"re-asserted {reasserted}")  # fmt: skip
        assert result.ok, result.line()
        assert await epoch(room.redis_url, room.code) != before  # rebuilt: a new epoch
        if lost == "ballots":
            # Nothing could be recounted: the phones filled the room again.
            assert reasserted >= PHONES * len(NORMS) * FAULT_AT


async def test_a_tally_lost_while_nobody_rates_is_rebuilt_by_the_next_full_read(
    kleur_pair: tuple[ServerProcess, ServerProcess], tmp_path: Path
) -> None:
    """Evicted in the reveal, when no rating comes to find it missing: the next
    process that reads the room whole (a third one, where the projector or a
    facilitator opens it) rebuilds it instead of showing empty results."""
    async with session(kleur_pair) as room:
        await room.fleet.burst(NORMS, 0, rng=random.Random(5), scale=(0, 10))
        settled = await room.heal(time.monotonic())
        assert settled.ok, settled.line()
        await room.facilitator.set_phase(Phase.REVEAL)
        before = await epoch(room.redis_url, room.code)
        await delete(room.redis_url, RoomKeys(room.code).tally)
        third = ServerProcess(room.redis_url, tmp_path / "kleur-3.log")
        third.start()
        try:
            assert room.facilitator.token is not None
            late = KleurClient(
                third.ws_url, room.code, Role.FACILITATOR, token=room.facilitator.token
            )
            await late.connect()
            dashboard = await late.wait_dashboard(lambda d: d.revealed)
            # Its results are the counted ratings, not the empty tally it found.
            assert sum(n.received for n in dashboard.norms) == PHONES * len(NORMS)
            result = await room.heal(time.monotonic())
            await late.close()
        finally:
            third.stop()
        print(f"Verdict (tally deleted in the reveal, rebuilt on a full read): {result.line()}")
        assert result.ok, result.line()
        assert await epoch(room.redis_url, room.code) != before


async def test_ballots_lost_after_rating_are_reasserted_in_the_discussion(
    kleur_pair: tuple[ServerProcess, ServerProcess],
) -> None:
    """The room moved on to the discussion (brainstorm) when the ballots go:
    the facilitator's next move finds them lost, the room is rebuilt, and the
    phones' re-asserted ratings count although rating is over (heal window)."""
    async with session(kleur_pair) as room:
        await room.fleet.burst(NORMS, CHANGES, rng=random.Random(7), scale=(0, 10))
        settled = await room.heal(time.monotonic())
        assert settled.ok, settled.line()
        await room.facilitator.set_phase(Phase.REVEAL)
        await room.facilitator.set_phase(Phase.BRAINSTORM)
        fault_at = time.monotonic()
        await delete(room.redis_url, RoomKeys(room.code).ballots)
        # The move finds the ballots lost: rebuilt, and the move is made all the same.
        await room.facilitator.set_phase(Phase.AGENDA)
        result = await room.heal(fault_at)
        reasserted = sum(c.reasserted for c in room.fleet.clients)
        print(f"Verdict (ballots deleted in the discussion): {result.line()}, "
              f"re-asserted {reasserted}")  # fmt: skip
        assert result.ok, result.line()
        assert reasserted == PHONES * len(NORMS)  # every phone's last answer to every norm
        assert all(c.close_code != CloseCode.PROTOCOL_VIOLATION for c in room.fleet.clients)


async def test_ballots_lost_after_a_note_are_reasserted_too(
    kleur_pair: tuple[ServerProcess, ServerProcess],
) -> None:
    async with session(kleur_pair) as room:
        phones = room.fleet.clients[:10]
        for phone in phones:
            for norm in NORMS:
                await phone.rate(norm, 5)
            await phone.put_note("meer stageplekken")  # its highest seq now
        await delete(room.redis_url, RoomKeys(room.code).ballots)
        since = time.monotonic()
        for phone in phones:
            await room.fleet.rate_once(phone, NORMS[0], 6)  # finds the ballots lost
        result = await room.heal(since, timeout=10)
        print(f"Verdict (ballots deleted after each phone wrote a note): {result.line()}")
        assert result.ok, result.line()
