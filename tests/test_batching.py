"""``server.batching.ScriptBatcher`` against a real redis-server (and a real
Redis Cluster): many concurrent script calls in few pipelines, each caller
getting its own reply."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
import redis.asyncio as aioredis
from redis import Redis
from redis.crc import key_slot
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from loadtests.redis_cluster import LocalCluster
from server import batching
from server.batching import ScriptBatcher
from server.embedded_redis import RedisServer
from server.redis_client import make_redis_client
from server.settings import Settings

#: Increments a counter and answers with the caller's argument and the new count.
COUNT = "local n = redis.call('INCR', KEYS[1]) return {ARGV[1], n}"
#: Fails for the argument 'bad' only.
PICKY = "if ARGV[1] == 'bad' then return redis.error_reply('ERR bad') end return ARGV[1]"


def sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def client(server: RedisServer) -> aioredis.Redis:
    return aioredis.from_url(server.url, decode_responses=True)


async def test_concurrent_calls_are_batched_and_each_gets_its_own_reply(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis = client(redis_server)
    batcher = ScriptBatcher(redis, {sha(COUNT): COUNT})
    pipelines = 0
    send = batcher._pipeline

    async def counting(batch: list[batching._Call]) -> list[object]:
        nonlocal pipelines
        pipelines += 1
        return await send(batch)

    monkeypatch.setattr(batcher, "_pipeline", counting)
    # The script is not loaded yet: the first pipeline meets NOSCRIPT and recovers.
    replies = await asyncio.gather(
        *(batcher.call(sha(COUNT), ["{t}:n"], [f"caller-{i}"]) for i in range(1000))
    )
    assert [reply[0] for reply in replies] == [f"caller-{i}" for i in range(1000)]
    assert sorted(int(reply[1]) for reply in replies) == list(range(1, 1001))
    assert await redis.get("{t}:n") == "1000"  # every call ran exactly once
    # Far fewer pipelines than calls: at most one per batch of up to MAX_BATCH,
    # plus the first pipelines in flight (each sent again after NOSCRIPT).
    assert pipelines <= 2 * (1000 // batching.MAX_BATCH + 1 + batching.MAX_IN_FLIGHT)
    # Redis forgets its scripts (as after a restart): loaded again, nothing lost.
    await redis.script_flush()
    assert (await batcher.call(sha(COUNT), ["{t}:n"], ["again"]))[1] == 1001
    await redis.aclose()


async def test_an_error_reply_reaches_only_its_caller(redis_server: RedisServer) -> None:
    redis = client(redis_server)
    batcher = ScriptBatcher(redis, {sha(PICKY): PICKY})
    results = await asyncio.gather(
        *(batcher.call(sha(PICKY), ["{t}:x"], [arg]) for arg in ("a", "bad", "c")),
        return_exceptions=True,
    )
    assert results[0] == "a" and results[2] == "c"
    assert isinstance(results[1], ResponseError) and "bad" in str(results[1])
    await redis.aclose()


async def test_a_lost_redis_fails_every_waiting_call(redis_server: RedisServer) -> None:
    redis = aioredis.from_url(redis_server.url, decode_responses=True, socket_connect_timeout=1)
    batcher = ScriptBatcher(redis, {sha(COUNT): COUNT})
    assert (await batcher.call(sha(COUNT), ["{t}:n"], ["first"]))[1] == 1
    redis_server.kill()
    results = await asyncio.gather(
        *(batcher.call(sha(COUNT), ["{t}:n"], [str(i)]) for i in range(20)),
        return_exceptions=True,
    )
    assert all(isinstance(r, RedisConnectionError | OSError) for r in results), results
    await redis.aclose()


async def test_on_a_cluster_each_call_runs_on_its_shard(redis_cluster: LocalCluster) -> None:
    """One batch, split by hash slot over three shards; a shard that lost its
    scripts (NOSCRIPT) gets them again and its calls are resent."""
    redis = make_redis_client(Settings(redis_url=redis_cluster.url, redis_cluster=True))
    batcher = ScriptBatcher(redis, {sha(COUNT): COUNT})
    rooms = [f"{{room{i}}}:n" for i in range(300)]
    nodes = {redis_cluster.node_for_slot(key_slot(key.encode())).port for key in rooms}
    assert len(nodes) == 3  # the calls really go to every shard
    replies = await asyncio.gather(*(batcher.call(sha(COUNT), [key], [key]) for key in rooms))
    assert replies == [[key, 1] for key in rooms]
    for node in redis_cluster.nodes:  # loaded on every primary
        with Redis(port=node.port) as plain:
            assert plain.script_exists(sha(COUNT)) == [True]
    # One shard forgets (as after its restart); the others keep theirs.
    with Redis(port=redis_cluster.nodes[1].port) as plain:
        plain.script_flush()
    replies = await asyncio.gather(*(batcher.call(sha(COUNT), [key], [key]) for key in rooms))
    assert replies == [[key, 2] for key in rooms]
    await redis.aclose()
