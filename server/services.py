"""The long-lived parts of one server process, shared by routes and the endpoint."""

from __future__ import annotations

from dataclasses import dataclass

from agenda.templates import Template
from server.broker import Broker
from server.hub import Hub
from server.ratelimit import SlidingCounter
from server.redis_client import RedisClient
from server.settings import Settings
from server.store import RoomStore


@dataclass(slots=True)
class Services:
    settings: Settings
    redis: RedisClient
    store: RoomStore
    hub: Hub
    broker: Broker
    templates: dict[str, Template]
    failed_joins: SlidingCounter
    rooms_created: SlidingCounter
