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
import logging
from collections.abc import Callable
from typing import Any, Final

import redis.asyncio as aioredis

from server.keys import RoomKeys

log = logging.getLogger("kleur.stream")

#: Heartbeats without any reply after which the connection counts as deaf.
DEAF_AFTER_HEARTBEATS: Final = 3


def room_of(channel: str) -> str | None:
    """``kleur:{CODE}:stream`` -> ``CODE``."""
    head, _, rest = channel.partition("{")
    code, _, tail = rest.partition("}")
    return code if head == "kleur:" and tail == ":stream" and code else None


class RoomStream:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        sharded: bool,
        heartbeat_seconds: float,
        on_message: Callable[[str, str], None],
        on_subscribed: Callable[[str], None],
    ) -> None:
        self.redis = redis
        self.sharded = sharded
        self.heartbeat = heartbeat_seconds
        self._on_message = on_message
        self._on_subscribed = on_subscribed
        self._watched: set[str] = set()
        #: Rooms to (un)subscribe on the current connection.
        self._changes: dict[str, bool] = {}
        self._changed = asyncio.Event()
        #: Set while a connection is subscribed and hearing replies.
        self.listening = asyncio.Event()
        #: Connections given up as broken or deaf (a metric and a test hook).
        self.reconnects = 0

    # -- membership ----------------------------------------------------------
    def watch(self, code: str) -> None:
        if code not in self._watched:
            self._watched.add(code)
            self._changes[code] = True
            self._changed.set()

    def unwatch(self, code: str) -> None:
        if code in self._watched:
            self._watched.discard(code)
            self._changes[code] = False
            self._changed.set()

    # -- the connection ------------------------------------------------------
    async def run(self) -> None:
        """Listen for ever; a broken or deaf connection is replaced, never fatal."""
        backoff = 0.1
        while True:
            pubsub = self.redis.pubsub()
            try:
                await self._listen(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("room stream lost; resubscribing in %.1fs", backoff, exc_info=True)
            finally:
                self.listening.clear()
                self.reconnects += 1
                await _close_quietly(pubsub)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _listen(self, pubsub: Any) -> None:
        loop = asyncio.get_running_loop()
        # A fresh connection: everything watched is to be subscribed.
        self._changes = dict.fromkeys(self._watched, True)
        # Subscribing needs a channel; the heartbeat channel is never published on.
        await self._subscribe(pubsub, [RoomKeys("-").stream], True)
        last_heard = loop.time()
        next_ping = last_heard + self.heartbeat
        writer = asyncio.create_task(self._apply_changes(pubsub))
        try:
            while True:
                if writer.done():
                    writer.result()  # re-raises what broke it
                timeout = max(0.0, min(next_ping, last_heard + self._deaf_after) - loop.time())
                message = await pubsub.get_message(timeout=timeout)
                now = loop.time()
                if message is not None:
                    last_heard = now
                    self.listening.set()
                    self._dispatch(message)
                elif now - last_heard >= self._deaf_after:
                    raise ConnectionError(
                        f"room stream deaf: nothing heard for {now - last_heard:.1f}s"
                    )
                if now >= next_ping:
                    await pubsub.ping()
                    next_ping = now + self.heartbeat
        finally:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    @property
    def _deaf_after(self) -> float:
        return self.heartbeat * DEAF_AFTER_HEARTBEATS

    async def _apply_changes(self, pubsub: Any) -> None:
        """Send (un)subscriptions as rooms come and go (replies arrive in ``_listen``)."""
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
        if self.sharded:
            await (pubsub.ssubscribe if on else pubsub.sunsubscribe)(*channels)
        else:
            await (pubsub.subscribe if on else pubsub.unsubscribe)(*channels)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        channel = message.get("channel")
        code = room_of(channel) if isinstance(channel, str) else None
        if code is None or code not in self._watched:
            return
        if kind in ("message", "smessage"):
            data = message.get("data")
            if isinstance(data, str):
                self._on_message(code, data)
        elif kind in ("subscribe", "ssubscribe"):
            self._on_subscribed(code)


async def _close_quietly(pubsub: Any) -> None:
    try:
        await pubsub.aclose()
    except Exception:  # the connection is already broken: nothing to close cleanly
        log.debug("closing a broken pub/sub connection failed", exc_info=True)
