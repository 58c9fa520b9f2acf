"""Redis killed (SIGKILL) and restarted mid-burst: with ``appendfsync always`` nothing acknowledged is lost.

A real ``redis-server`` with an fsynced append-only file (the default of
``server.embedded_redis``) behind one real ``kleur serve``; 200 phones rate
20 norms each and make 2,000 changes.  Once a third of the burst is
acknowledged Redis is killed, and started again a second later on the same
port and data.
Meanwhile commands are refused with ``store_unavailable`` (kept in the
outbox); afterwards the phones holding such commands re-send them (by
joining again, as a phone does) and the checker compares the tallies in
Redis with the last acknowledged rating of every phone.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from client.kleur_client import KleurClient
from protocol.phases import Phase, Role
from server.embedded_redis import RedisServer
from tests.faults import Fleet, converge
from tests.support import ServerProcess
from tests.test_fault_servers import (
    CHANGES,
    NORMS,
    PHONES,
    PLANNED,
    TEMPLATE,
    until_acknowledged,
)

OUTAGE_SECONDS = 1.0


@pytest.mark.slow
@pytest.mark.parametrize("seed", (1, 2, 3))
async def test_redis_sigkill_and_restart_mid_burst_loses_nothing(
    redis_server: RedisServer, kleur: ServerProcess, seed: int
) -> None:
    room = kleur.create_room(TEMPLATE)
    code = room["code"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    await facilitator.set_phase(Phase.RATING)
    fleet = Fleet([kleur.ws_url], code)
    try:
        await fleet.join(PHONES)
        burst = asyncio.create_task(
            fleet.burst(NORMS, CHANGES, rng=random.Random(seed), concurrency=PHONES)
        )
        await until_acknowledged(fleet, PLANNED // 3)
        assert not burst.done(), "the burst ended before the fault: make it longer"
        before = await _acknowledged(fleet)
        redis_server.kill()
        fault_at = time.monotonic()
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(redis_server.start)
        await asyncio.wait_for(burst, 60)
        # Phones that lost their connection (none should) or hold refused commands.
        await fleet.reconnect_until_back(timeout=30)
        resent = 0
        deadline = time.monotonic() + 30
        while any(c.outbox for c in fleet.clients) and time.monotonic() < deadline:
            resent += await fleet.resend_outboxes()
            await asyncio.sleep(0.5)
        result = await converge(kleur.redis_url, code, fleet.clients, since=fault_at)
        print(
            f"Redis SIGKILL (seed {seed}): {result.line()}; {before} acknowledged before the"
            f" kill; {resent} phones re-sent refused commands"
        )
        assert before > 0
        assert all(not c.outbox for c in fleet.clients), "commands still waiting in outboxes"
        assert result.ok, result.line()
    finally:
        await fleet.close()
        await facilitator.close()


async def _acknowledged(fleet: Fleet) -> int:
    return sum(len(c.acked) for c in fleet.clients)
