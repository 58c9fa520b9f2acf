"""Application wiring: routes, the websocket endpoint, and the background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp

from agenda.templates import Template, TemplateError, load_builtin_templates, load_template
from protocol import limits
from protocol.close_codes import CloseCode
from server import pages, routes
from server.endpoint import websocket_endpoint
from server.hub import Hub
from server.public_gzip import PublicJsonGzip
from server.ratelimit import CommandBuckets, ConnectionCaps, SlidingCounter
from server.readiness import Readiness
from server.redis_client import RedisClient, make_node_client, make_redis_client
from server.security import OriginCheck, SecurityHeaders
from server.services import Services
from server.settings import Settings
from server.static_assets import StaticAssets
from server.store import RoomStore
from server.stream import RoomStream

log = logging.getLogger("kleur")

#: How long a shutdown waits for its 4500 close frames to be written; a
#: connection whose frame is still stuck after that (a client that stopped
#: reading) is dropped, so that the shutdown never waits on a client.
SHUTDOWN_CLOSE_SECONDS = 3.0

#: How often each process checks that the rooms it serves still exist in Redis.
LOST_CHECK_SECONDS = 3.0


def load_templates(template_dir: str | Path | None) -> dict[str, Template]:
    """The shipped templates plus the operator's own ``*.toml`` in ``template_dir``, by id.

    Each extra file is checked like a shipped one (``load_template``; its id is
    its file name).  A file that is broken or unreadable, an id a shipped
    template already has, or a folder that is not there raises ``TemplateError``:
    the server does not start with some of its templates missing.
    """
    builtin = load_builtin_templates()
    templates = dict(builtin)  # a copy: the cached dict is shared
    if not template_dir:
        return templates
    folder = Path(template_dir)
    if not folder.is_dir():
        raise TemplateError(str(folder), "template_dir", "is not a folder")
    for path in sorted(folder.glob("*.toml")):
        try:
            template = load_template(path)
        except OSError as exc:
            raise TemplateError(path.name, "<file>", f"cannot be read: {exc}") from exc
        if template.id in templates:
            raise TemplateError(
                path.name, "id", f"{template.id!r} is a built-in template; choose another id"
            )
        templates[template.id] = template
    log.info(
        "templates: %d built in, %d from %s", len(builtin), len(templates) - len(builtin), folder
    )
    return templates


def tune_garbage_collector(young_threshold: int) -> None:
    """Fewer, later young collections, and nothing from start-up scanned again.

    With thousands of connections the heap holds about half a million objects.
    At Python's default (a young collection every 700 allocations) the objects
    of commands still in flight survive into the old generation and die there,
    which keeps triggering full collections: measured in scenario b at half
    scale, 74 pauses over 20 ms, full collections of up to 578 ms, 7.8 s in
    all.  With 50,000 the same run paused 14 times, 0.65 s in all
    (docs/benchmarks.md).  ``gc.freeze`` moves what start-up built (modules,
    templates) out of every later collection.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)


def redis_client_name() -> str:
    """``kleur-HOST-PID``: names this process's connections in Redis's CLIENT LIST."""
    return f"kleur-{socket.gethostname()}-{os.getpid()}"


async def has_sharded_pubsub(redis: RedisClient) -> bool:
    """Whether Redis has sharded pub/sub (SPUBLISH, Redis 7.0+).

    Unreachable at start: assume it does (every supported Redis does); a
    Redis 6 then refuses the first write loudly rather than losing updates.
    """
    try:
        info = await redis.info("server")
    except (RedisConnectionError, RedisTimeoutError, OSError):
        return True
    major = str(info.get("redis_version", "7")).split(".")[0]
    return not major.isdigit() or int(major) >= 7


async def close_connections(app: Starlette, timeout: float = SHUTDOWN_CLOSE_SECONDS) -> int:
    """Close every joined websocket with 4500 (reconnect, to another process
    or to us after the restart) and wait until the close frames are written.

    ``server.serving.Server`` awaits this before uvicorn closes the sockets
    itself (with 1012).  Returns how many connections were closed.
    """
    services: Services | None = getattr(app.state, "services", None)
    if services is None:  # the lifespan never started
        return 0
    connections = services.hub.connections()
    for connection in connections:
        connection.close(CloseCode.SERVER_SHUTDOWN, "server restarting; reconnect")
    written = await asyncio.gather(*(c.wait_written(timeout) for c in connections))
    for connection, done in zip(connections, written, strict=True):
        if not done:
            connection.abort()
    if connections:  # the lifespan's second call, after the first closed them all, says nothing
        log.info("shutdown: closed %d connections with 4500", len(connections))
    return len(connections)


class KleurApp(Starlette):
    """Starlette with the security headers outside its ``ServerErrorMiddleware``.

    Starlette puts that middleware outside every middleware of the app's own, so a
    route that raised was answered with a 500 that had none of the headers
    (``server.security``), no ``no-store`` either.  Wrapped around the whole stack,
    ``SecurityHeaders`` sees every answer, the 500 included.
    """

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def create_app(settings: Settings) -> Starlette:
    # Before anything else: a broken template stops the start (TemplateError).
    templates = load_templates(settings.template_dir)
    # Read, versioned and gzipped once; the pages fill in its prefix.
    static_assets = StaticAssets.load(pages.STATIC_DIR)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # One Redis or a Redis Cluster, with a bounded number of connections;
        # the name says which process a connection belongs to (CLIENT LIST).
        redis = make_redis_client(settings, client_name=redis_client_name())
        sharded = await has_sharded_pubsub(redis)
        store = RoomStore(
            redis,
            room_ttl_seconds=settings.room_ttl_seconds,
            sharded_pubsub=sharded,
            closed_retention_seconds=settings.closed_room_retention_seconds,
        )
        hub = Hub(
            store,
            interval=settings.dashboard_interval_seconds,
            max_interval=settings.dashboard_max_interval_seconds,
            min_group_size=settings.min_group_size,
            suggestion_max_notes=settings.suggestion_max_notes,
            suggestion_min_interval=settings.suggestion_min_interval_seconds,
            reorder_seconds=settings.mirror_reorder_seconds,
        )
        stream = RoomStream(
            redis,
            sharded=sharded,
            heartbeat_seconds=settings.stream_heartbeat_seconds,
            on_message=hub.apply,  # a change heard on the stream is applied like a reply's
            on_subscribed=hub.on_subscribed,
            # On a cluster, one plain pub/sub client per node (the lanes).
            node_client=(
                functools.partial(make_node_client, settings, client_name=redis_client_name())
                if settings.redis_cluster
                else None
            ),
        )
        hub.stream = stream
        app.state.services = Services(
            settings=settings,
            redis=redis,
            store=store,
            hub=hub,
            stream=stream,
            templates=templates,
            failed_joins=SlidingCounter(limits.MAX_FAILED_JOINS_PER_MINUTE, 60.0),
            rooms_created=SlidingCounter(settings.rooms_per_hour_per_client, 3600.0),
            connection_caps=ConnectionCaps(
                settings.max_connections_per_client, settings.max_unjoined_connections_per_client
            ),
            command_buckets=CommandBuckets(
                limits.RATE_LIMIT_PER_SECOND,
                limits.RATE_LIMIT_BURST,
                settings.max_command_buckets,
            ),
            readiness=Readiness(
                redis,
                stream,
                timeout_seconds=settings.redis_command_timeout_seconds,
                policy_check_seconds=settings.redis_policy_check_seconds,
            ),
        )
        tune_garbage_collector(settings.gc_young_threshold)
        # Never the Redis URL: it may hold a password.
        log.info(
            "started: %d templates, %s, sharded pub/sub %s",
            len(templates),
            "Redis Cluster" if settings.redis_cluster else "one Redis",
            "on" if sharded else "off",
        )
        tasks = [
            asyncio.create_task(hub.run(), name="hub"),
            asyncio.create_task(hub.watch_load(), name="hub-load"),
            asyncio.create_task(stream.run(), name="room-stream"),
            # Rooms Redis lost (FLUSHALL, an empty replica) are marked and closed with 4504.
            asyncio.create_task(
                hub.watch_lost(LOST_CHECK_SECONDS, settings.lost_room_seconds), name="hub-lost"
            ),
        ]
        try:
            yield
        finally:
            # Normally done already, before uvicorn's shutdown (``close_connections``);
            # this covers a server that runs the app without kleur's ``Server``.
            await close_connections(app, timeout=0.5)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await redis.aclose()

    app = KleurApp(
        routes=[
            Route("/api/rooms", routes.create_room, methods=["POST"]),
            Route("/api/templates", routes.list_templates),
            Route("/api/templates/{template_id}", routes.get_template),
            Route("/api/rooms/{code}/qr.svg", routes.room_qr),
            Route("/api/rooms/{code}/links", routes.room_links),
            Route("/api/rooms/{code}/control-qr.svg", routes.control_qr),
            Route("/api/rooms/{code}/display-qr.svg", routes.display_qr),
            Route("/api/rooms/{code}/export.{fmt}", routes.room_export),
            Route("/api/rooms/{code}/agenda.pdf", routes.participant_agenda_pdf),
            Route("/api/rooms/{code}/restore", routes.restore_room, methods=["POST"]),
            Route("/api/protocol", pages.protocol_json),
            Route("/healthz", routes.healthz),
            Route("/metrics", routes.metrics),
            Route("/readyz", routes.readyz),
            WebSocketRoute("/ws", websocket_endpoint),
            Route("/", pages.start_page),
            Route("/j/{code}", pages.phone_page),
            Route("/f/{code}", pages.dashboard_page),
            Route("/p/{code}", pages.presenter_page),
            # GET (Starlette adds HEAD); any other method is 405.
            Route("/static/{path:path}", static_assets.endpoint, methods=["GET"], name="static"),
        ],
        # SecurityHeaders is outermost, outside the error middleware too (KleurApp).
        middleware=[
            Middleware(
                OriginCheck,
                allowed=settings.allowed_origins.split(","),
                public_url=settings.public_url,
            ),
            Middleware(PublicJsonGzip),
        ],
        # A route that raised: a short answer in both languages, never the traceback.
        exception_handlers={500: routes.server_error},
        lifespan=lifespan,
    )
    app.state.static_assets = static_assets
    return app


def create_app_from_env() -> Starlette:
    """For ``uvicorn --factory server.app:create_app_from_env``."""
    return create_app(Settings.from_env())
