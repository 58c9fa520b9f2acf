"""Many concurrent Lua script calls, sent to Redis as a few pipelines.

In a burst, thousands of connections each wait for one script call (a rating
is one EVALSHA).  Sent one by one, every call costs a pool checkout, a write
and a read of its own, in Python and in Redis.  ``ScriptBatcher`` queues the
calls instead and sends everything queued as one non-transactional pipeline;
while pipelines are on their way (at most ``MAX_IN_FLIGHT``), the next calls
queue up behind them, so the batches grow with the load and a lone call still
goes out at once.  Several pipelines in flight let Redis work on one while
Python reads the replies of another.

Each EVALSHA stays atomic on its own and every script is idempotent by
sequence number, so a pipeline resent after a dropped connection (redis-py
retries it) changes nothing twice: the resent calls answer 'dup'.

On a Redis Cluster the same pipeline is split by redis-py: each call goes to
the shard that holds its keys' hash slot (all keys of a call are one room's,
so one slot), one pipeline per shard, sent side by side.  A shard that lost
its scripts answers NOSCRIPT for its calls only; ``SCRIPT LOAD`` on a cluster
client loads the script on every primary.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from redis.exceptions import NoScriptError

from server.logs import detached_task
from server.redis_client import RedisClient

#: Most calls in one pipeline: big enough to carry a burst, small enough that
#: one reply never holds up the event loop for long.
MAX_BATCH: Final = 256
#: Pipelines on their way at the same time.
MAX_IN_FLIGHT: Final = 4


@dataclass(slots=True)
class _Call:
    sha: str
    keys: Sequence[str]
    args: Sequence[Any]
    result: asyncio.Future[Any] = field(default_factory=lambda: _new_future())


def _new_future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


class ScriptBatcher:
    """Runs registered scripts (by SHA) for concurrent callers, batched."""

    def __init__(self, redis: RedisClient, sources: dict[str, str]) -> None:
        #: SHA -> script text, to load a script Redis forgot (e.g. after a restart).
        self._redis = redis
        self._sources = sources
        self._queue: list[_Call] = []
        self._workers: set[asyncio.Task[None]] = set()

    async def call(self, sha: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """The script's reply; raises what Redis or the connection raised."""
        call = _Call(sha, keys, args)
        self._queue.append(call)
        if len(self._workers) < MAX_IN_FLIGHT:
            worker = detached_task(self._drain(), name="script-batcher")
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        return await call.result

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                await self._send(batch)
            except Exception as exc:  # the connection failed: every caller gets it
                for call in batch:
                    if not call.result.done():
                        call.result.set_exception(exc)

    async def _send(self, batch: list[_Call]) -> None:
        replies = await self._pipeline(batch)
        missing = [c for c, r in zip(batch, replies, strict=True) if isinstance(r, NoScriptError)]
        if missing:
            # Redis lost its script cache; NOSCRIPT means the call did not run,
            # so loading the scripts and sending those calls again is safe.
            for sha in {call.sha for call in missing}:
                await self._redis.script_load(self._sources[sha])
            retried = dict(zip(map(id, missing), await self._pipeline(missing), strict=True))
            replies = [retried.get(id(c), r) for c, r in zip(batch, replies, strict=True)]
        for call, reply in zip(batch, replies, strict=True):
            if call.result.done():  # the caller went away (its connection closed)
                continue
            if isinstance(reply, Exception):
                call.result.set_exception(reply)
            else:
                call.result.set_result(reply)

    async def _pipeline(self, batch: list[_Call]) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for call in batch:
                # Not ``pipe.evalsha``: redis-py's cluster pipeline blocks that
                # method, while the command itself is routed by its keys (the
                # NOSCRIPT case it may have in mind is handled in ``_send``).
                pipe.execute_command("EVALSHA", call.sha, len(call.keys), *call.keys, *call.args)
            replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies
