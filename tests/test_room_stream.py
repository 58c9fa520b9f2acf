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
from protocol.messages import Dashboard
from protocol.phases import Role
from server.keys import RoomKeys
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
    return int(line.split()[-1])


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

    # A message two versions ahead: the one in between never arrived.  It says
    # the room is locked; Redis says it is not, and Redis is the truth.
    ahead = {"v": version + 2, "e": epoch, "d": [["meta", "locked", "1"]]}
    assert client.execute_command("SPUBLISH", RoomKeys(code).stream, json.dumps(ahead)) >= 1
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
        lambda d: d.locked and d.version == version + 1, timeout=CONVERGE_SECONDS
    )
    await facilitator.close()
