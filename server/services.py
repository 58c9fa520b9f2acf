"""The long-lived parts of one server process, shared by routes and the endpoint."""

from __future__ import annotations

from dataclasses import dataclass

from agenda.templates import Template
from server.hub import Hub
from server.ratelimit import CommandBuckets, ConnectionCaps, SlidingCounter
from server.readiness import Readiness
from server.redis_client import RedisClient
from server.settings import Settings
from server.store import RoomStore
from server.stream import RoomStream


@dataclass(slots=True)
class Services:
    settings: Settings
    redis: RedisClient
    store: RoomStore
    hub: Hub
    stream: RoomStream
    templates: dict[str, Template]
    failed_joins: SlidingCounter
    rooms_created: SlidingCounter
    connection_caps: ConnectionCaps
    command_buckets: CommandBuckets
    readiness: Readiness
