"""The room stream between processes: a lost delta or a gap is repaired from Redis.

Two real server processes on one real redis-server.  Changes are stored by
the real Lua scripts; what one process's pub/sub connection misses must
still reach the dashboard connected to it, by a full read of the room.
"""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import redis

from client.kleur_client import KleurClient
from protocol.close_codes import CloseCode
from protocol.messages import Dashboard
from protocol.phases import DotVoting, Phase, Role
from server.keys import RoomKeys, participant_id
from server.scripts import allowed_phases, script_sources
from tests.support import ServerProcess

#: How soon a dashboard must show Redis's state after a lost delta.
CONVERGE_SECONDS = 2.0


def stream_connection_id(client: redis.Redis, server: ServerProcess) -> int:
    """The id of ``server``'s pub/sub connection, by the name every kleur connection carries."""
    assert server.process is not None
    name = f"kleur-{socket.gethostname()}-{server.process.pid}"
    found = [c for c in client.client_list(_type="pubsub") if c["name"] == name]
    assert len(found) == 1, found
    return int(found[0]["id"])


def stored_version(client: redis.Redis, code: str) -> int:
    return int(client.hget(RoomKeys(code).meta, "version"))  # type: ignore[arg-type]


def resyncs(server: ServerProcess) -> int:
    text = httpx.get(f"{server.http_url}/metrics").text
    line = next(x for x in text.splitlines() if x.startswith("kleur_mirror_resyncs_total"))
    return int(float(line.split()[-1]))


async def test_a_delta_lost_with_the_pubsub_connection_reaches_the_dashboard(
    kleur_pair: tuple[ServerProcess, ServerProcess],
) -> None:
    one, two = kleur_pair
    room = one.create_room()
    code = room["code"]
    # The facilitator watches on process two; the change is made in Redis directly.
    facilitator = KleurClient(two.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    await facilitator.wait_dashboard(lambda d: d.version >= 1)
    client = redis.Redis.from_url(two.redis_url, decode_responses=True)
    victim = stream_connection_id(client, two)

    # In one transaction: kill process two's pub/sub connection, then store a
    # change with the real script.  Its stream message is published while
    # process two has no subscription, so it is lost for two for good.
    keys = RoomKeys(code)
    with client.pipeline(transaction=True) as pipe:
        pipe.execute_command("CLIENT", "KILL", "ID", victim)
        pipe.eval(
            script_sources(sharded_pubsub=True)["set_lock"],
            1,
            keys.meta,
            "1",
            1,
            allowed_phases("set_lock"),
            "test-device",
        )
        killed, reply = pipe.execute()
    assert killed and reply[0] == "ok"
    version = stored_version(client, code)

    def converged(d: Dashboard) -> bool:
        return d.locked and d.version == version

    await facilitator.wait_dashboard(converged, timeout=CONVERGE_SECONDS)
    # A new connection took the old one's place.
    assert stream_connection_id(client, two) != victim
    await facilitator.close()


async def test_a_gap_in_the_stream_makes_the_mirror_read_the_room(
    kleur_pair: tuple[ServerProcess, ServerProcess],
) -> None:
    one, two = kleur_pair
    room = one.create_room()
    code = room["code"]
    facilitator = KleurClient(two.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    await facilitator.wait_dashboard(lambda d: d.version >= 1)
    client = redis.Redis.from_url(two.redis_url, decode_responses=True)
    before = resyncs(two)
    version = stored_version(client, code)
    epoch = client.hget(RoomKeys(code).meta, "epoch")

    # Redis moves two versions on, and the mirror hears only the second message:
    # the one in between never arrived.  That message says the room is locked;
    # Redis says it is not, and Redis is the truth.  (Redis must hold the version
    # heard: one it never stored would be a Redis that went back, and the room
    # would get a new epoch, tests/test_mirror.py.)
    client.hincrby(RoomKeys(code).meta, "version", 2)
    ahead = f"{version + 2}|{epoch}|" + json.dumps([["meta", "locked", "1"]])
    assert client.execute_command("SPUBLISH", RoomKeys(code).stream, ahead) >= 1
    for _ in range(int(CONVERGE_SECONDS / 0.05)):
        if resyncs(two) > before:
            break
        await asyncio.sleep(0.05)
    assert resyncs(two) == before + 1
    assert facilitator.dashboard is not None and not facilitator.dashboard.locked

    # After the read, the stream goes on from Redis's version (a mirror that
    # took the message would think version + 1 old and never show it).
    await facilitator.set_lock(True)
    await facilitator.wait_dashboard(
        lambda d: d.locked and d.version == version + 3, timeout=CONVERGE_SECONDS
    )
    await facilitator.close()


async def test_a_version_heard_that_redis_does_not_hold_gives_the_room_a_new_epoch(
    kleur_pair: tuple[ServerProcess, ServerProcess],
) -> None:
    """A script publishes only what it stored, so a version heard (even one held
    ahead of a gap, never applied) that a later read of Redis lacks means Redis
    lost acknowledged writes (an everysec crash, a failover): the room gets a new
    epoch and its phones are closed with 4503, to join again and re-send."""
    one, two = kleur_pair
    room = one.create_room()
    code = room["code"]
    facilitator = KleurClient(two.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    phone = KleurClient(
        two.ws_url, code, Role.PARTICIPANT, join_token=room["join_url"].split("t=")[1]
    )
    await facilitator.connect()
    await phone.connect()
    await facilitator.wait_dashboard(lambda d: d.participants == 1)
    client = redis.Redis.from_url(two.redis_url, decode_responses=True)
    version = stored_version(client, code)
    epoch = client.hget(RoomKeys(code).meta, "epoch")

    # Two versions ahead, never stored: held behind the gap, then the read finds less.
    ahead = f"{version + 2}|{epoch}|" + json.dumps([["meta", "locked", "1"]])
    assert client.execute_command("SPUBLISH", RoomKeys(code).stream, ahead) >= 1
    await phone.wait_for(lambda c: not c.connected, timeout=10)
    assert phone.close_code == CloseCode.ROOM_REBUILT
    assert client.hget(RoomKeys(code).meta, "epoch") != epoch
    assert facilitator.connected  # the facilitator gets the new snapshot instead
    await facilitator.close()


async def test_the_stream_is_gapless_and_carries_no_identity(kleur: ServerProcess) -> None:
    """Every change is one message, versions one apart; no token, pseudonym or author in any."""
    room = kleur.create_room()
    code = room["code"]
    client = redis.Redis.from_url(kleur.redis_url, decode_responses=True)
    listener = client.pubsub()
    listener.ssubscribe(RoomKeys(code).stream)
    start = stored_version(client, code)

    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    people = [KleurClient(kleur.ws_url, code, Role.PARTICIPANT) for _ in range(3)]
    for person in people:
        await person.connect()
        await person.set_org_type("gemeente")
    await facilitator.set_phase(Phase.RATING)
    for i, person in enumerate(people):
        await person.rate("duidelijke-regie", i + 5)
        await person.rate("duidelijke-regie", None)
    await facilitator.set_phase(Phase.REVEAL)
    await facilitator.set_phase(Phase.BRAINSTORM)
    note = await people[0].put_note("Eén loket voor jongeren")
    await facilitator.hide_note(note, hidden=False)
    await people[1].put_note("koffie")
    await facilitator.set_dot_voting(DotVoting.OPEN)
    await people[2].dot_vote(note, 2)
    end = stored_version(client, code)

    messages = []
    while (message := listener.get_message(timeout=1.0)) is not None or len(messages) < end - start:
        if message is not None and message["type"] == "smessage":
            messages.append(message["data"])
        if message is None:
            break
    versions = [int(m.split("|", 1)[0]) for m in messages]
    assert versions == list(range(start + 1, end + 1))

    join_token = room["join_url"].rsplit("?t=", 1)[1]
    display_token = room["display_url"].rsplit("#", 1)[1]
    secrets = {room["facilitator_token"], join_token, display_token}
    for person in people:
        assert person.token is not None
        secrets |= {person.token, participant_id(code, person.token)}
    meta = client.hgetall(RoomKeys(code).meta)
    secrets |= {meta["fac"]}
    for message in messages:
        assert not any(secret in message for secret in secrets), message
        assert "fseq:" not in message and '"ballots"' not in message
    listener.close()
    await asyncio.gather(*(c.close() for c in [facilitator, *people]))
