"""The subscriber of the room streams: the channels of the rooms this process serves.

Each stored change is published by the script that stored it on the room's
channel ``kleur:{CODE}:stream`` (sharded pub/sub where Redis has it, so in a
cluster a message never leaves the room's shard).  A process subscribes to a
room when its first local connection arrives and unsubscribes when the last
one leaves; messages go to the hub's mirrors.

Pub/sub loses what is published while nobody listens, and a TCP connection
can stay up while nothing flows through it any more (a proxy or endpoint
whose upstream is gone).  Hence two rules:

- every (re)subscription is confirmed by Redis, and only after the
  confirmation does the hub read the room whole (``on_subscribed``); a
  message that skips a version makes the mirror read the room again;
- the subscriber PINGs on its own connection every ``heartbeat`` seconds; when
  nothing at all (no message, no PONG) arrived for ``3 × heartbeat`` the
  connection is deaf: it is dropped and every room subscribed anew (and read
  anew, by the first rule).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from collections.abc import Callable
from typing import Any, Final

from server.keys import RoomKeys
from server.logs import detached_task
from server.metrics import METRICS

log = logging.getLogger("kleur.stream")

#: Heartbeats without any reply after which the connection counts as deaf.
DEAF_AFTER_HEARTBEATS: Final = 3
#: Longest pause between two attempts at a new connection, seconds: a link
#: that comes back is used within about a second (the issue asks that phase
#: changes reach a process's phones within 2 s of its link coming back), and
#: one attempt a second per process costs Redis nothing.
RETRY_MAX_SECONDS: Final = 1.0


def room_of(channel: str) -> str | None:
    """``kleur:{CODE}:stream`` -> ``CODE``."""
    head, _, rest = channel.partition("{")
    code, _, tail = rest.partition("}")
    return code if head == "kleur:" and tail == ":stream" and code else None


class Lane:
    """One pub/sub connection (to one Redis node) and the rooms subscribed on it."""

    def __init__(self, stream: RoomStream, redis: Any, name: str, heartbeat_channel: str) -> None:
        self.stream = stream
        self.redis = redis
        self.name = name
        #: A channel of this node that nobody publishes on: a connection needs
        #: one subscription before it may PING.
        self.heartbeat_channel = heartbeat_channel
        self.watched: set[str] = set()
        #: Rooms to (un)subscribe on the current connection.
        self._changes: dict[str, bool] = {}
        self._changed = asyncio.Event()
        #: Set while the connection is subscribed and hearing replies.
        self.listening = asyncio.Event()
        #: When the connection last delivered anything (loop time).
        self._last_heard = 0.0
        #: Connections given up as broken or deaf (a metric and a test hook).
        self.reconnects = 0

    def watch(self, code: str) -> None:
        if code not in self.watched:
            self.watched.add(code)
            self._changes[code] = True
            self._changed.set()

    def unwatch(self, code: str) -> None:
        if code in self.watched:
            self.watched.discard(code)
            self._changes[code] = False
            self._changed.set()

    async def run(self) -> None:
        """Listen for ever; a broken or deaf connection is replaced, never fatal."""
        backoff = 0.1
        while True:
            pubsub = self.redis.pubsub()
            try:
                await self._listen(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                METRICS.redis_error(error)
                if self.listening.is_set():
                    backoff = 0.1  # it worked until now: try again at once
                log.warning(
                    "room stream lost (%s); resubscribing in %.1fs",
                    self.name,
                    backoff,
                    exc_info=True,
                )
            finally:
                self.listening.clear()
                self.reconnects += 1
                METRICS.redis_reconnect("stream")
                await _close_quietly(pubsub)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RETRY_MAX_SECONDS)

    async def _listen(self, pubsub: Any) -> None:
        loop = asyncio.get_running_loop()
        heartbeat = self.stream.heartbeat
        deaf_after = heartbeat * DEAF_AFTER_HEARTBEATS
        # A fresh connection: everything watched is to be subscribed.
        self._changes = dict.fromkeys(self.watched, True)
        self._changed.set()
        await self._subscribe(pubsub, [self.heartbeat_channel], True)
        self._last_heard = loop.time()
        reader = asyncio.create_task(self._read(pubsub.connection))
        writer = asyncio.create_task(self._apply_changes(pubsub))
        try:
            while True:
                await asyncio.wait(
                    (reader, writer), timeout=heartbeat, return_when=asyncio.FIRST_COMPLETED
                )
                for task in (reader, writer):
                    if task.done():
                        task.result()  # re-raises what broke it
                        raise ConnectionError("room stream connection closed")
                silent = loop.time() - self._last_heard
                if silent >= deaf_after:
                    raise ConnectionError(f"room stream deaf: nothing heard for {silent:.1f}s")
                await pubsub.ping()
        finally:
            for task in (reader, writer):
                task.cancel()
            await asyncio.gather(reader, writer, return_exceptions=True)

    async def _read(self, connection: Any) -> None:
        """Every reply on the connection, in order, straight from the reply parser.

        A busy room sends one message per stored change, and this process
        hears its own changes too: the pub/sub client's ``get_message`` (a
        timeout, a retry wrapper and a dict per message) took a fifth of the
        server's CPU in the burst benchmark.  Liveness is watched by
        ``_listen`` instead (heartbeat), and a broken connection is replaced
        whole by ``run``, so neither is needed here.
        """
        loop = asyncio.get_running_loop()
        read = connection.read_response
        while True:
            response = await read(timeout=math.inf, disconnect_on_error=False, push_request=True)
            self._last_heard = loop.time()
            self.listening.set()
            if isinstance(response, list) and len(response) >= 3:
                self._dispatch(response[0], response[1], response[2])

    async def _apply_changes(self, pubsub: Any) -> None:
        """Send (un)subscriptions as rooms come and go (replies arrive in ``_read``)."""
        while True:
            await self._changed.wait()
            self._changed.clear()
            changes, self._changes = self._changes, {}
            add = [RoomKeys(c).stream for c, on in changes.items() if on]
            drop = [RoomKeys(c).stream for c, on in changes.items() if not on]
            if add:
                await self._subscribe(pubsub, add, True)
            if drop:
                await self._subscribe(pubsub, drop, False)

    async def _subscribe(self, pubsub: Any, channels: list[str], on: bool) -> None:
        if self.stream.sharded:
            command = pubsub.ssubscribe if on else pubsub.sunsubscribe
        else:
            command = pubsub.subscribe if on else pubsub.unsubscribe
        # One channel per command: in a cluster, channels of one node may lie
        # in different slots, and one SSUBSCRIBE must not span slots.
        for channel in channels:
            await command(channel)

    def _dispatch(self, kind: object, channel: object, data: object) -> None:
        code = room_of(channel) if isinstance(channel, str) else None
        if code is None or code not in self.watched:
            return
        if kind in ("message", "smessage"):
            if isinstance(data, str):
                self.stream.on_message(code, data)
        elif kind in ("subscribe", "ssubscribe"):
            self.stream.on_subscribed(code)


class RoomStream:
    """Routes each room to the lane of the Redis node that holds it (one lane on one node)."""

    def __init__(
        self,
        redis: Any,
        *,
        sharded: bool,
        heartbeat_seconds: float,
        on_message: Callable[[str, str], None],
        on_subscribed: Callable[[str], None],
        node_client: Callable[[str, int], Any] | None = None,
    ) -> None:
        """``node_client(host, port)``: a client for one cluster node; None on a single node."""
        self.redis = redis
        self.sharded = sharded
        self.heartbeat = heartbeat_seconds
        self.on_message = on_message
        self.on_subscribed = on_subscribed
        self._node_client = node_client
        self.lanes: dict[str, Lane] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def _node_of(self, code: str) -> Any:
        return self.redis.get_node_from_key(RoomKeys(code).stream)

    def _lane_for(self, code: str) -> Lane:
        if self._node_client is None:
            name, client, heartbeat = "redis", self.redis, RoomKeys("-").stream
        else:
            node = self._node_of(code)
            name = node.name
            if name not in self.lanes:
                client = self._node_client(node.host, node.port)
                # "-" never occurs in a room code: no room's channel.
                tag = next(
                    f"-{i}" for i in itertools.count() if self._node_of(f"-{i}").name == name
                )
                heartbeat = RoomKeys(tag).stream
        lane = self.lanes.get(name)
        if lane is None:
            lane = self.lanes[name] = Lane(self, client, name, heartbeat)
            self._tasks[name] = detached_task(lane.run(), name=f"room-stream-{name}")
        return lane

    def watch(self, code: str) -> None:
        self._lane_for(code).watch(code)

    def unwatch(self, code: str) -> None:
        for lane in self.lanes.values():
            lane.unwatch(code)

    @property
    def listening(self) -> bool:
        """Every lane hears its connection (and there is at least one)."""
        return bool(self.lanes) and all(lane.listening.is_set() for lane in self.lanes.values())

    @property
    def reconnects(self) -> int:
        return sum(lane.reconnects for lane in self.lanes.values())

    async def run(self) -> None:
        """Start a lane at once (for /readyz), then keep the lanes running."""
        backoff = 0.1
        while True:
            try:
                if self._node_client is not None:
                    # Which node holds which channel: the cluster's slot map.
                    await self.redis.initialize()
                self._lane_for("-")
                break
            except Exception:  # Redis not reachable yet: /readyz says so meanwhile
                log.warning("room stream cannot start; retrying in %.1fs", backoff, exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RETRY_MAX_SECONDS)
        try:
            await asyncio.Event().wait()
        finally:
            for task in self._tasks.values():
                task.cancel()
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)


async def _close_quietly(pubsub: Any) -> None:
    try:
        await pubsub.aclose()
    except Exception:  # the connection is already broken: nothing to close cleanly
        log.debug("closing a broken pub/sub connection failed", exc_info=True)
