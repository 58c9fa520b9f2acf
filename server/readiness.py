"""``/readyz``: whether this process can serve its rooms, answered within a bound.

Ready means three things, each of which the issue found missing once:

- Redis answers (on a cluster, every primary) within
  ``redis_command_timeout_seconds``: a silent link makes the probe answer 503
  in that time instead of hanging with the commands;
- the room stream hears its connection (``RoomStream.listening``: its
  heartbeat got a reply lately), else changes made on other processes never
  reach this one's phones;
- Redis never evicts a key (``maxmemory-policy noeviction``): an evicted key
  is a lost part of a room (its tally, its ballots).  The policy is read with
  ``CONFIG GET`` at most once per ``redis_policy_check_seconds``; a Redis that
  refuses ``CONFIG`` (managed services do) is taken at its word.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.metrics import METRICS
from server.redis_client import RedisClient, bounded, ping_every_shard
from server.scripts import UNAVAILABLE
from server.stream import RoomStream

log = logging.getLogger("kleur.readiness")

#: The only ``maxmemory-policy`` under which Redis loses no key of a room.
NEEDED_POLICY: Final = "noeviction"


class Readiness:
    def __init__(
        self,
        redis: RedisClient,
        stream: RoomStream,
        *,
        timeout_seconds: float,
        policy_check_seconds: float,
    ) -> None:
        self.redis = redis
        self.stream = stream
        self.timeout = timeout_seconds
        self.policy_check_seconds = policy_check_seconds
        #: (when read, monotonic; the policies that are not noeviction, or
        #: None when CONFIG was refused).
        self._policy: tuple[float, str | None] | None = None

    async def problem(self) -> str | None:
        """Why this process is not ready, or None when it is."""
        try:
            async with bounded(self.timeout):
                await ping_every_shard(self.redis)
                policy = await self._wrong_policy()
        except RedisTimeoutError:  # a silent link: nothing came back in time
            METRICS.not_ready("redis_timeout")
            return f"redis unreachable: no answer within {self.timeout:g}s"
        except UNAVAILABLE:  # refused, reset, closed
            METRICS.not_ready("redis_unreachable")
            return "redis unreachable"
        if not self.stream.listening:
            METRICS.not_ready("stream_not_listening")
            return "room stream not listening"
        if policy is not None:
            METRICS.not_ready("eviction_policy")
            return f"redis maxmemory-policy is {policy}; kleur needs {NEEDED_POLICY}"
        return None

    async def _wrong_policy(self) -> str | None:
        """A policy other than noeviction (on a cluster the first such node's), or None."""
        now = time.monotonic()
        if self._policy is not None and now - self._policy[0] < self.policy_check_seconds:
            return self._policy[1]
        try:
            policies = await _policies(self.redis)
        except ResponseError as exc:  # CONFIG refused (renamed, ACL, managed Redis)
            if self._policy is None or self._policy[1] is not None:
                log.info("cannot read maxmemory-policy (%s); make sure it is noeviction", exc)
            wrong = None
        else:
            wrong = next((p for p in policies if p != NEEDED_POLICY), None)
        self._policy = (now, wrong)
        return wrong


async def _policies(redis: RedisClient) -> list[str]:
    """``maxmemory-policy`` of Redis, or of every primary of a cluster."""
    if isinstance(redis, RedisCluster):
        nodes = redis.get_primaries()
        replies = [await redis.config_get("maxmemory-policy", target_nodes=n) for n in nodes]
    else:
        replies = [await redis.config_get("maxmemory-policy")]
    return [str(reply.get("maxmemory-policy", NEEDED_POLICY)) for reply in replies]
