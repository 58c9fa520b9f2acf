"""Two facilitator windows on two server processes race phase changes: none is lost.

``set_phase.lua`` is a compare-and-set; on ``conflict`` the server reads the phase anew and
tries again (``server/commands.py::_set_phase``).  The script must not use up the device's
``seq`` before it knows the change applies, or the retry is acknowledged as a duplicate
without having changed anything (as it did before commit 81a36aa).

Real Redis, two real ``kleur serve`` processes, real websocket clients.
"""

from __future__ import annotations

import asyncio

import redis

from client.kleur_client import CommandRefused, KleurClient
from protocol.errors import ErrorCode
from protocol.messages import Ack
from protocol.phases import Phase, Role
from server.keys import RoomKeys
from tests.support import ServerProcess

#: Fewer than MAX_ERRORS_PER_WINDOW (30): a window that loses every race
#: must not be closed for its refusals (4008), which is not what this tests.
RACES = 25


async def race(one: ServerProcess, two: ServerProcess, room: dict[str, str]) -> int:
    """Race from brainstorm: window A asks for the agenda, window B (on the other process)
    for the reveal; each move rules out the other.  The number of races B won."""
    code, token = room["code"], room["facilitator_token"]
    a = KleurClient(one.ws_url, code, Role.FACILITATOR, token=token)
    b = KleurClient(two.ws_url, code, Role.FACILITATOR, token=token)
    await a.connect()
    await b.connect()
    b_won = 0
    try:
        for phase in (Phase.RATING, Phase.REVEAL, Phase.BRAINSTORM):
            await a.set_phase(phase)
        with redis.Redis.from_url(one.redis_url, decode_responses=True) as plain:
            for _ in range(RACES):
                results = await asyncio.gather(
                    a.set_phase(Phase.AGENDA), b.set_phase(Phase.REVEAL), return_exceptions=True
                )
                acks = [r for r in results if isinstance(r, Ack)]
                refusals = [r for r in results if isinstance(r, CommandRefused)]
                # One move applies; the other is refused out loud, never acknowledged unapplied.
                assert [ack.duplicate for ack in acks] == [False], results
                assert [r.error.code for r in refusals] == [ErrorCode.BAD_TRANSITION], results
                winner = a if isinstance(results[0], Ack) else b
                b_won += winner is b
                stored = plain.hget(RoomKeys(code).meta, "phase")
                assert stored == (Phase.AGENDA if winner is a else Phase.REVEAL).value
                back = await winner.set_phase(Phase.BRAINSTORM)
                assert not back.duplicate
                await asyncio.sleep(0.1)  # within the per-connection rate limit
    finally:
        await b.close()
        await a.close()
    return b_won


def test_two_processes_racing_phase_changes_never_lose_one(
    kleur_pair: tuple[ServerProcess, ServerProcess],
) -> None:
    one, two = kleur_pair
    b_won = asyncio.run(race(one, two, one.create_room()))
    # Both windows won some races: the processes really raced.
    assert 0 < b_won < RACES
