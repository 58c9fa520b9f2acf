"""kleur on a real Redis Cluster: three masters (``loadtests.redis_cluster``),
two uvicorn processes in cluster mode, rooms on every shard."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from redis.cluster import RedisCluster as SyncRedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError

from agenda.templates import load_builtin_templates
from client.kleur_client import KleurClient
from loadtests.redis_cluster import LocalCluster
from protocol.phases import Phase, Role
from server import cli
from server.redis_client import WaitingRedisCluster, make_redis_client
from server.settings import Settings
from server.store import RoomKeys, RoomStore
from tests.support import ServerProcess

TEMPLATE = load_builtin_templates()["participatiescan"]
NORMS = [norm.id for norm in TEMPLATE.norms]
ORGS = [org.id for org in TEMPLATE.org_types[:2]]
PHONES_PER_PROCESS = 3


@pytest.fixture
def cluster_pair(
    redis_cluster: LocalCluster, tmp_path: Path
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two server processes in cluster mode, given the first node's URL only."""
    servers = tuple(
        ServerProcess(redis_cluster.url, tmp_path / f"kleur-{i}.log", redis_cluster="1")
        for i in (1, 2)
    )
    try:
        for server in servers:
            server.start()
        yield servers  # type: ignore[misc]
    finally:
        for server in servers:
            server.stop()


def shard_of(cluster: LocalCluster, code: str) -> int:
    """The port of the node that holds the room's meta key, checked on that node itself."""
    with SyncRedisCluster.from_url(cluster.url) as client:
        slot = client.keyslot(RoomKeys(code).meta)
    node = cluster.node_for_slot(slot)
    # A plain connection to that node: the key is really there (any other
    # node would answer MOVED).
    with redis.Redis(port=node.port) as plain:
        assert plain.exists(RoomKeys(code).meta) == 1
    return node.port


def received(client: KleurClient) -> dict[str, int]:
    assert client.dashboard is not None
    return {result.norm_id: result.received for result in client.dashboard.norms}


async def run_session(
    one: ServerProcess, two: ServerProcess, room: dict[str, str], seed: int
) -> None:
    """Facilitator on process one, phones on both: every phase of a scan."""
    code = room["code"]
    facilitator = KleurClient(one.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    phones = [
        KleurClient(server.ws_url, code, Role.PARTICIPANT)
        for server in (one, two)
        for _ in range(PHONES_PER_PROCESS)
    ]
    await asyncio.gather(*(phone.connect() for phone in phones))
    everyone = len(phones)
    # Lobby: organisation types, three of each kind (the smallest group shown).
    await asyncio.gather(*(phone.set_org_type(ORGS[i % 2]) for i, phone in enumerate(phones)))
    dashboard = await facilitator.wait_dashboard(
        lambda d: d.participants == everyone and sum(o.count for o in d.org_counts) == everyone
    )
    assert {o.org_type: o.count for o in dashboard.org_counts} == {org: 3 for org in ORGS}

    async def every_phone_sees(phase: Phase) -> None:
        await asyncio.gather(
            *(p.wait_for(lambda c: c.state is not None and c.state.phase is phase) for p in phones)
        )

    await facilitator.set_phase(Phase.RATING)
    await every_phone_sees(Phase.RATING)
    ballots = {
        i: {norm: (seed + i * 7 + j) % 12 for j, norm in enumerate(NORMS)} for i in range(everyone)
    }
    # 11 means "weet niet" here: the scale is 0-10.
    values = {i: {n: (None if v == 11 else v) for n, v in b.items()} for i, b in ballots.items()}

    async def rate(i: int) -> None:
        for norm, value in values[i].items():
            await phones[i].rate(norm, value)

    await asyncio.gather(*(rate(i) for i in range(everyone)))
    # The facilitator (process one) sees every rating, from both processes.
    await facilitator.wait_dashboard(lambda d: set(received(facilitator).values()) == {everyone})

    await facilitator.set_phase(Phase.REVEAL)
    dashboard = await facilitator.wait_dashboard(lambda d: d.revealed)
    await every_phone_sees(Phase.REVEAL)
    for result in dashboard.norms:
        truth = Counter(values[i][result.norm_id] for i in range(everyone))
        assert result.counts is not None
        shown = Counter({TEMPLATE.scale.min + k: n for k, n in enumerate(result.counts) if n})
        if result.dont_know:
            shown[None] = result.dont_know
        assert shown == truth, result.norm_id
    for phone in phones:
        await phone.wait_for(lambda c: c.state is not None and c.state.results is not None)

    await facilitator.set_phase(Phase.BRAINSTORM)
    await facilitator.set_moderation(False)
    await every_phone_sees(Phase.BRAINSTORM)
    notes = [await phone.put_note(f"idee {i} van kamer {code}") for i, phone in enumerate(phones)]
    await facilitator.wait_dashboard(lambda d: {n.note_id for n in d.notes} == set(notes))
    await facilitator.put_agenda_item("Samen een stagebank opzetten", note_id=notes[-1])

    await facilitator.set_phase(Phase.AGENDA)
    await every_phone_sees(Phase.AGENDA)
    for phone in phones:
        await phone.wait_for(
            lambda c: (
                c.state is not None
                and c.state.agenda is not None
                and [item.action for item in c.state.agenda] == ["Samen een stagebank opzetten"]
            )
        )
    await facilitator.set_phase(Phase.CLOSED)
    await every_phone_sees(Phase.CLOSED)
    for client in [facilitator, *phones]:
        await client.close()


async def test_a_whole_session_per_shard_over_two_processes(
    redis_cluster: LocalCluster, cluster_pair: tuple[ServerProcess, ServerProcess]
) -> None:
    one, two = cluster_pair
    # Room codes are random: make rooms until every shard holds one (60 misses
    # on one shard of three happen with a chance of about 1 in 10^10).
    rooms: dict[int, dict[str, str]] = {}
    for _ in range(60):
        room = one.create_room()
        rooms.setdefault(shard_of(redis_cluster, room["code"]), room)
        if len(rooms) == len(redis_cluster.nodes):
            break
    assert sorted(rooms) == sorted(node.port for node in redis_cluster.nodes)
    await asyncio.gather(
        *(run_session(one, two, room, seed) for seed, room in enumerate(rooms.values()))
    )


async def test_store_reads_and_recovers_lost_scripts_on_every_shard(
    redis_cluster: LocalCluster,
) -> None:
    """The store's plain reads, its read_votes transaction, and scripts a shard forgot."""
    client = make_redis_client(Settings(redis_url=redis_cluster.url, redis_cluster=True))
    store = RoomStore(client, room_ttl_seconds=600)
    created = [await store.create_room(TEMPLATE.id) for _ in range(12)]
    for room in created:
        meta = await store.room_meta(room.code)
        assert meta is not None and meta.phase is Phase.LOBBY
        await store.join_participant(room.code, "pid-1", room.join_token, TEMPLATE)
        assert await store.is_participant(room.code, "pid-1")
        await store.set_phase(room.code, Phase.LOBBY, Phase.RATING, 1, 1, "device")
        await store.set_org_type(room.code, "pid-1", ORGS[0], 1)
        await store.rate(room.code, "pid-1", NORMS[0], 7, 2, 1)
        # Two reads in one MULTI/EXEC: on a cluster, a transaction on one slot.
        [vote] = await store.read_votes(room.code, 1, TEMPLATE)
        assert (vote.org_type, vote.ratings[0], vote.ratings[1]) == (ORGS[0], 7, None)
    # Every shard forgets its scripts (as after a restart): reloaded, nothing lost.
    for node in redis_cluster.nodes:
        with redis.Redis(port=node.port) as plain:
            plain.script_flush()
    assert all([await store.room_meta(r.code) for r in created])
    views = await asyncio.gather(*(store.read_room(r.code) for r in created))
    assert [view.participants for view in views if view is not None] == [1] * len(created)
    await client.aclose()


async def test_cluster_commands_wait_for_a_free_connection(redis_cluster: LocalCluster) -> None:
    """redis-py raises MaxConnectionsError at its per-node limit; ours waits its turn."""
    limit = 3
    client = make_redis_client(
        Settings(redis_url=redis_cluster.url, redis_cluster=True, redis_max_connections=limit)
    )
    assert isinstance(client, WaitingRedisCluster)
    keys = [RoomKeys(f"R{i:03d}").meta for i in range(300)]
    await asyncio.gather(*(client.hset(key, "n", "1") for key in keys))
    async with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hget(key, "n")
        assert await pipe.execute() == ["1"] * len(keys)
    assert await asyncio.gather(*(client.hget(key, "n") for key in keys)) == ["1"] * len(keys)
    for node in client.get_nodes():
        assert len(node._connections) <= limit, node.name
    await client.aclose()

    # A command that cannot get a turn in time fails as "unavailable".
    slow = make_redis_client(
        Settings(
            redis_url=redis_cluster.url,
            redis_cluster=True,
            redis_max_connections=1,
            redis_pool_timeout_seconds=0.2,
        )
    )
    assert isinstance(slow, WaitingRedisCluster)
    async with slow.turn():
        with pytest.raises(RedisConnectionError, match="No connection available"):
            await asyncio.create_task(slow.ping())
    await slow.aclose()


def test_settings_read_yes_and_no_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw, value in [("1", True), ("true", True), ("YES", True), ("0", False), ("no", False)]:
        monkeypatch.setenv("KLEUR_REDIS_CLUSTER", raw)
        assert Settings.from_env().redis_cluster is value
    monkeypatch.setenv("KLEUR_REDIS_CLUSTER", "ja")
    with pytest.raises(ValueError, match="KLEUR_REDIS_CLUSTER='ja'"):
        Settings.from_env()
    monkeypatch.delenv("KLEUR_REDIS_CLUSTER")
    assert Settings.from_env().redis_cluster is False


def test_serve_refuses_a_cluster_without_a_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KLEUR_REDIS_URL", raising=False)
    monkeypatch.delenv("KLEUR_REDIS_CLUSTER", raising=False)
    assert cli.main(["serve", "--redis-cluster"]) == cli.EXIT_USAGE
    assert "--redis-cluster needs --redis-url" in capsys.readouterr().err
    monkeypatch.setenv("KLEUR_REDIS_CLUSTER", "1")
    assert cli.main(["serve"]) == cli.EXIT_USAGE
    assert "--redis-cluster needs --redis-url" in capsys.readouterr().err


def test_readyz_asks_every_shard(redis_cluster: LocalCluster, tmp_path: Path) -> None:
    """Ready only while every primary answers: a plain PING would ask just one node."""
    server = ServerProcess(redis_cluster.url, tmp_path / "kleur.log", redis_cluster="1")
    server.start()
    try:
        assert httpx.get(f"{server.http_url}/readyz").status_code == 200
        redis_cluster.nodes[-1].kill()  # not the node the URL names
        response = httpx.get(f"{server.http_url}/readyz", timeout=15)
        assert (response.status_code, response.text) == (503, "redis unreachable")
    finally:
        server.stop()


async def test_subscribing_is_the_first_thing_a_new_client_may_do(
    redis_cluster: LocalCluster,
) -> None:
    """As at start-up, where the fan-out subscribes before any other command."""
    for first in ("subscribe", "ssubscribe"):
        client = make_redis_client(Settings(redis_url=redis_cluster.url, redis_cluster=True))
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        await getattr(pubsub, first)("kleur:{R001}:stream")
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await client.aclose()


#: What the room stream does in each script: store, then SPUBLISH on the room's
#: channel (same hash tag as the keys, so the same shard; not among KEYS).
PUBLISHING_SCRIPT = """
redis.call('HSET', KEYS[1], 'v', ARGV[2])
return redis.call('SPUBLISH', 'kleur:{' .. ARGV[1] .. '}:stream', ARGV[2])
"""


async def test_sharded_pubsub_as_the_room_stream_needs_it(redis_cluster: LocalCluster) -> None:
    """The recipe for redis-py 8.1's cluster client, checked: ``pubsub()`` then
    ``ssubscribe`` per room; read with one task per primary calling
    ``get_sharded_message(target_node=...)``.  (Without ``target_node`` it waits
    out ``timeout`` on each node in turn: seconds of delay with three shards.)"""
    client = make_redis_client(Settings(redis_url=redis_cluster.url, redis_cluster=True))
    assert isinstance(client, WaitingRedisCluster)
    await client.initialize()
    codes = [f"S{i:03d}" for i in range(30)]
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    for code in codes:
        await pubsub.ssubscribe(f"kleur:{{{code}}}:stream")
    assert len(pubsub.node_pubsub_mapping) == 3  # one connection per shard
    heard: list[str] = []
    all_heard = asyncio.Event()

    async def listen(node: Any) -> None:
        while True:
            message = await pubsub.get_sharded_message(target_node=node, timeout=1.0)
            if message is not None:
                heard.append(message["data"])
                if len(heard) == len(codes):
                    all_heard.set()

    listeners = [asyncio.create_task(listen(node)) for node in client.get_primaries()]
    for code in codes:
        assert await client.eval(PUBLISHING_SCRIPT, 1, RoomKeys(code).meta, code, code) == 1
    async with asyncio.timeout(2):
        await all_heard.wait()
    assert sorted(heard) == codes
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    await pubsub.aclose()  # type: ignore[no-untyped-call]
    await client.aclose()
