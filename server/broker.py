"""Fan-out across server processes: "these rooms changed", over Redis pub/sub.

Each process collects the codes of rooms it changed and publishes them on
one channel, at most every ``interval`` seconds (the first change at once).
Every process marks the rooms it has local connections for as dirty; its hub
then reads the new state from Redis.  The message carries no state, so a
lost one only delays an update until the next change; a dashboard is a full
snapshot and is never wrong for having missed one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets

import redis.asyncio as aioredis

from server.hub import Hub

log = logging.getLogger("kleur.broker")

CHANNEL = "kleur:changed"


class Broker:
    def __init__(self, redis: aioredis.Redis, hub: Hub, *, interval: float) -> None:
        self.redis = redis
        self.hub = hub
        self.interval = interval
        self.process_id = secrets.token_hex(8)
        self._pending: set[str] = set()
        self._wakeup = asyncio.Event()
        self.subscribed = asyncio.Event()

    def changed(self, code: str) -> None:
        """A room changed here: update local connections now, tell the others soon."""
        self.hub.mark_dirty(code)
        self._pending.add(code)
        self._wakeup.set()

    async def run_publisher(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            rooms, self._pending = sorted(self._pending), set()
            payload = json.dumps({"from": self.process_id, "rooms": rooms})
            try:
                await self.redis.publish(CHANNEL, payload)
            except Exception:  # never let the publisher task die: retry later
                log.warning("publish failed; will retry", exc_info=True)
                self._pending.update(rooms)
                self._wakeup.set()
            await asyncio.sleep(self.interval)

    async def run_subscriber(self) -> None:
        """Listen for other processes' changes; resubscribe after Redis comes back."""
        backoff = 0.1
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                self.subscribed.set()
                backoff = 0.1
                # Changes made while we were not listening: refresh everything local.
                for code in list(self.hub.rooms):
                    self.hub.mark_dirty(code)
                async for message in pubsub.listen():
                    self._receive(message.get("data"))
            except Exception:  # Redis gone (or a bug): resubscribe, never die
                self.subscribed.clear()
                log.warning("subscription lost; retrying in %.1fs", backoff, exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _receive(self, data: object) -> None:
        try:
            message = json.loads(data) if isinstance(data, str | bytes) else None
            if not isinstance(message, dict) or message.get("from") == self.process_id:
                return
            for code in message.get("rooms", []):
                if isinstance(code, str):
                    self.hub.mark_dirty(code)
        except ValueError:
            log.warning("ignored a malformed fan-out message")
