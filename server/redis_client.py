"""The Redis client the server uses: one Redis, or a Redis Cluster.

``make_redis_client`` builds it from the settings.  Both kinds are bounded:
a burst of thousands of phones waits its turn for one of a few connections
instead of opening thousands (which ran into connect timeouts and Redis's
client limit), and a command that waits longer than
``redis_pool_timeout_seconds`` fails with ``ConnectionError`` (the store
turns that into ``store_unavailable``; the client resends).

redis-py's cluster client bounds the connections per node but does not wait
for one: the call that finds every connection busy raises
``MaxConnectionsError``.  ``WaitingRedisCluster`` therefore lets at most
``redis_max_connections`` commands and pipelines be on their way at once;
each uses at most one connection per node, so no node sees more than that,
plus the pub/sub connections (``PUBSUB_CONNECTIONS``) which redis-py takes
from the same per-node pool.  Its pub/sub also learns the cluster's slot map
before the first subscription (``_InitialisingPubSub``).

Every command is bounded too: a silent link (a proxy or endpoint that keeps
TCP up while nothing comes back) must give ``store_unavailable`` within
seconds, not stall every phone of the process.  ``redis_command_timeout_seconds``
is each socket read's timeout and one deadline over a call's attempts and the
back-off between them (``DeadlineRetry``; on a cluster ``bounded`` inside the
turn).  Waiting for a free connection is not part of it: that stays
``redis_pool_timeout_seconds``, so that a burst may queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator
from typing import Any, Final, TypeAlias

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, ClusterPubSub, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.metrics import METRICS
from server.settings import Settings

#: What the store, the batcher and the routes talk to.
RedisClient: TypeAlias = aioredis.Redis | RedisCluster

#: Connections per node kept free of the command limit for pub/sub: redis-py's
#: cluster pub/sub borrows them from the node's pool (one per node for sharded
#: subscriptions, one for a classic subscription, and one more while a lost
#: subscription is being replaced).
PUBSUB_CONNECTIONS: Final = 4

#: The task holding a turn, while it holds it: a pipeline that follows a
#: MOVED redirect sends single commands from inside its own turn, and must not
#: wait for a second one (with every turn taken by such pipelines, nobody would
#: ever get one).  A task it starts inherits the variable but is another task,
#: so it waits for a turn of its own.
_turn_holder: contextvars.ContextVar[asyncio.Task[Any] | None] = contextvars.ContextVar(
    "turn_holder", default=None
)


@contextlib.asynccontextmanager
async def bounded(seconds: float) -> AsyncIterator[None]:
    """At most ``seconds`` for the block; then it fails as redis-py's ``TimeoutError``
    (one of the errors the store answers ``store_unavailable`` to)."""
    scope = asyncio.timeout(seconds)
    try:
        async with scope:
            yield
    except TimeoutError as exc:
        if not scope.expired():  # a timeout of something inside, not ours
            raise
        raise RedisTimeoutError(f"no answer from Redis within {seconds:g}s") from exc


class DeadlineRetry(Retry):
    """redis-py's retry, with one deadline over all attempts and the back-off.

    A dropped connection (e.g. Redis restarted) is retried at once; safe
    because every script is idempotent by sequence number.  Without the
    deadline a silent link cost ``retries + 1`` socket timeouts (20 s with
    5 s and 3 retries), and the phone's websocket was not read meanwhile.
    redis-py runs every command, pipeline, connection handshake and health
    check through its connection's retry object, and cancelling one of them
    closes that connection (no half-read reply is left for the next user).
    """

    def __init__(self, deadline: float, retries: int = 3) -> None:
        super().__init__(ExponentialBackoff(cap=0.5, base=0.05), retries)
        self.deadline = deadline

    async def call_with_retry(self, do: Any, *args: Any, **kwargs: Any) -> Any:
        # Every failed attempt counts as a Redis error and every attempt after
        # one as a reconnect (redis-py retries on a new connection).  The
        # deadline cancels the attempt in flight, which then counts as a
        # timeout here (not when it struck during the back-off after a failure).
        attempts = 0
        failed = False

        async def counted() -> Any:
            nonlocal attempts, failed
            if attempts:
                METRICS.redis_reconnect("commands")
            attempts += 1
            failed = False
            try:
                return await do()
            except Exception as error:
                METRICS.redis_error(error)
                failed = True
                raise

        try:
            async with bounded(self.deadline):
                return await super().call_with_retry(counted, *args, **kwargs)
        except RedisTimeoutError as error:
            if not failed:
                METRICS.redis_error(error)
            raise


def make_redis_client(settings: Settings, *, client_name: str | None = None) -> RedisClient:
    """The client for ``settings.redis_url``: a cluster client when ``redis_cluster``."""
    timeout = settings.redis_command_timeout_seconds
    common: dict[str, Any] = {
        "client_name": client_name,
        "decode_responses": True,
        "socket_timeout": timeout,
        "socket_connect_timeout": min(2.0, timeout),
        "health_check_interval": 10,
        "retry": DeadlineRetry(timeout),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
    }
    if settings.redis_cluster:
        return WaitingRedisCluster.from_url(
            settings.redis_url,
            max_connections=settings.redis_max_connections + PUBSUB_CONNECTIONS,
            concurrency=settings.redis_max_connections,
            wait_seconds=settings.redis_pool_timeout_seconds,
            command_seconds=timeout,
            **common,
        )
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_pool_timeout_seconds,
        **common,
    )
    # from_pool: closing the client closes its connections too.
    return aioredis.Redis.from_pool(pool)


def make_node_client(
    settings: Settings, host: str, port: int, *, client_name: str | None = None
) -> aioredis.Redis:
    """A plain client for one cluster node, for its pub/sub connection only
    (the room stream keeps one per node; commands go through the cluster client)."""
    timeout = settings.redis_command_timeout_seconds
    return aioredis.Redis(
        host=host,
        port=port,
        client_name=client_name,
        decode_responses=True,
        socket_connect_timeout=min(2.0, timeout),
        # Bounds the handshake, the (un)subscriptions and the heartbeat PINGs;
        # the stream reads messages without a timeout (its heartbeat finds a
        # deaf connection).
        socket_timeout=timeout,
        retry=DeadlineRetry(timeout),
    )


class WaitingRedisCluster(RedisCluster):
    """redis-py's cluster client, where a command waits for a free connection."""

    def __init__(
        self,
        *args: Any,
        concurrency: int,
        wait_seconds: float,
        command_seconds: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._turns = asyncio.Semaphore(concurrency)
        self._wait_seconds = wait_seconds
        #: A command's (or pipeline's) deadline once it has its turn: the
        #: cluster client retries (redirects, a new slot map) on its own
        #: level, not through the connections' retry object.
        self.command_seconds = command_seconds

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold one of the ``concurrency`` turns (at once if this task holds one)."""
        task = asyncio.current_task()
        if task is not None and _turn_holder.get() is task:
            yield
            return
        try:
            async with asyncio.timeout(self._wait_seconds):
                await self._turns.acquire()
        except TimeoutError as exc:  # what BlockingConnectionPool raises, too
            raise RedisConnectionError("No connection available.") from exc
        marker = _turn_holder.set(task)
        try:
            yield
        finally:
            _turn_holder.reset(marker)
            self._turns.release()

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self.turn(), bounded(self.command_seconds):
            return await super().execute_command(*args, **kwargs)

    def pubsub(
        self,
        node: ClusterNode | None = None,
        host: str | None = None,
        port: int | None = None,
        **kwargs: Any,
    ) -> ClusterPubSub:
        return _InitialisingPubSub(self, node=node, host=host, port=port, **kwargs)

    def pipeline(
        self, transaction: Any | None = None, shard_hint: Any | None = None
    ) -> ClusterPipeline:
        if shard_hint:  # as RedisCluster.pipeline refuses it
            return super().pipeline(transaction, shard_hint)
        # redis-py's own ClusterPipeline is made the same way; mypy sees an
        # abstract attribute that its base classes never set.
        return _WaitingPipeline(self, transaction)  # type: ignore[abstract]


class _InitialisingPubSub(ClusterPubSub):
    """Cluster pub/sub that learns the slot map first, if the client has not yet.

    redis-py's ``ClusterPubSub`` picks a node from the slot map without
    fetching it: as the first thing a process does (the fan-out subscribes at
    start-up), ``subscribe`` raised ``KeyError`` and ``ssubscribe`` found no
    node, until some other command had happened to initialise the client.
    """

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        await self.cluster.initialize()
        return await super().execute_command(*args, **kwargs)

    async def ssubscribe(self, *args: Any, **kwargs: Any) -> None:
        await self.cluster.initialize()
        await super().ssubscribe(*args, **kwargs)


class _WaitingPipeline(ClusterPipeline):
    """A cluster pipeline (or single-slot transaction) sent in one turn."""

    async def execute(
        self, raise_on_error: bool = True, allow_redirections: bool = True
    ) -> list[Any]:
        client = self.cluster_client
        assert isinstance(client, WaitingRedisCluster)
        async with client.turn(), bounded(client.command_seconds):
            return await super().execute(raise_on_error, allow_redirections)


async def ping_every_shard(client: RedisClient) -> None:
    """PING Redis, on a cluster every primary (a plain PING asks one node only);
    raises what the connection raised when one does not answer."""
    if isinstance(client, RedisCluster):
        await client.ping(target_nodes=RedisCluster.PRIMARIES)
    else:
        await client.ping()
