"""The Python client keeps its acknowledged answers and re-sends what a welcome shows lost.

A Redis that came back older than what it acknowledged (an ``appendfsync
everysec`` crash) is emulated by taking a participant's last answers out of
Redis by hand, exactly as the scripts stored them: ballot fields, tally
cells and the participant's highest seq.
"""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from agenda.templates import load_builtin_templates
from client.kleur_client import CommandRefused, KleurClient, answer_key
from protocol.errors import ErrorCode
from protocol.messages import Rate
from protocol.phases import Phase, Role
from server.keys import RoomKeys, participant_id
from tests.faults import expected_cells, stored_cells
from tests.support import ServerProcess

pytestmark = pytest.mark.asyncio

NORMS = [norm.id for norm in load_builtin_templates()["participatiescan"].norms]


async def test_answers_above_max_seq_are_sent_again_and_count_once(kleur: ServerProcess) -> None:
    room = kleur.create_room()
    code = room["code"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    phone = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    other = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    await facilitator.connect()
    await facilitator.set_phase(Phase.RATING)
    await phone.connect()
    await other.connect()
    for norm, value in zip(NORMS[:4], (1, 2, 3, 4), strict=True):
        await phone.rate(norm, value)
    await phone.rate(NORMS[0], 5)  # a change: only the last answer is kept
    await other.rate(NORMS[0], 5)
    assert len(phone.answers) == 4
    assert phone.answers[answer_key(Rate(1, NORMS[0], 5))].seq == 5

    # Redis "forgets" the phone's last three acknowledged answers (seqs 3-5).
    assert phone.token is not None
    pid = participant_id(code, phone.token)
    keys = RoomKeys(code)
    r = aioredis.Redis.from_url(kleur.redis_url, decode_responses=True)
    try:
        lost = {NORMS[0]: "1", NORMS[2]: "3", NORMS[3]: "4"}  # seq 5 was NORMS[0] := 5
        for norm in lost:
            field = f"1|{pid}|{norm}"
            value = (await r.hget(keys.ballots, field) or "").split("|")[1]
            await r.hdel(keys.ballots, field)
            await r.hincrby(keys.tally, f"1|{norm}|{value}", -1)
        await r.hset(keys.ballots, f"1|{pid}|{NORMS[0]}", "1|1")  # back to its first answer
        await r.hincrby(keys.tally, f"1|{NORMS[0]}|1", 1)
        await r.hset(keys.seqs, pid, "2")
    finally:
        await r.aclose()
    assert await stored_cells(kleur.redis_url, code) != expected_cells([phone, other])

    welcome = await phone.reconnect()
    assert welcome.max_seq == 2
    await phone.wait_for(lambda c: not c.outbox)
    assert phone.reasserted == 3  # NORMS[0] (seq 5), NORMS[2] (3), NORMS[3] (4); not seq 2
    assert await stored_cells(kleur.redis_url, code) == expected_cells([phone, other])

    # Nothing more to re-send: a second reconnect re-sends nothing.
    await phone.reconnect()
    assert phone.reasserted == 3
    for client in (facilitator, phone, other):
        await client.close()


async def test_a_reasserted_rating_counts_in_a_later_phase_only_while_the_room_heals(
    kleur: ServerProcess,
) -> None:
    """rate.lua's heal window, straight against the script (the model has its own
    unit tests): open, a re-asserted rating counts after the reveal; closed, it
    is refused like any late rating."""
    room = kleur.create_room()
    code = room["code"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    phone = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    await facilitator.connect()
    await facilitator.set_phase(Phase.RATING)
    await phone.connect()
    await facilitator.set_phase(Phase.REVEAL)
    r = aioredis.Redis.from_url(kleur.redis_url, decode_responses=True)
    meta = RoomKeys(code).meta
    try:
        now = int((await r.time())[0])
        await r.hset(meta, "heal_until", now + 600)
        ack = await phone.send_command(Rate(phone.next_seq(), NORMS[0], 4, 1, reassert=True))
        assert not ack.duplicate
        await r.hset(meta, "heal_until", now - 10)
        with pytest.raises(CommandRefused) as refused:
            await phone.send_command(Rate(phone.next_seq(), NORMS[1], 4, 1, reassert=True))
        assert refused.value.error.code is ErrorCode.WRONG_PHASE
        # Outside the window and without the flag: as ever.
        await r.hset(meta, "heal_until", now + 600)
        with pytest.raises(CommandRefused):
            await phone.send_command(Rate(phone.next_seq(), NORMS[2], 4, 1))
    finally:
        await r.aclose()
    for client in (facilitator, phone):
        await client.close()
