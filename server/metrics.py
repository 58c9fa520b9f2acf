"""This process's metrics for ``GET /metrics``, with ``prometheus-client``.

Only counts, gauges and latency histograms: never a room code, token,
participant, note or rating value, not even as a label.  Labels come from
small closed sets only (a role, a message type of ``protocol/``, an outcome
or error code, a close code, a view kind), so that no client can make the
output grow.

The hot path (thousands of phones rating at once) pays for an increment or
an observation only: each label set's child is looked up once
(``_Children``) and then kept, never ``.labels()`` per frame.

kleur has a registry of its own (``REGISTRY``), not prometheus-client's
global one: importing the server twice (tests) never registers a name twice,
and ``/metrics`` shows exactly kleur's metrics plus the process, platform
and garbage-collector collectors.  docs/operations.md ("Metrics") says what
each one tells an operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Generic, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from protocol.close_codes import CloseCode

__all__ = ["CONTENT_TYPE_LATEST", "METRICS", "REGISTRY", "Metrics", "render"]

#: Latency buckets, seconds: from 1 ms (an acknowledgement on an idle
#: process) to 10 s (past the clients' patience: the command timeout).
LATENCY_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip

#: Buckets of a mirror's wait for a version that another overtook, seconds:
#: from 0.1 ms (the next message on the same loop turn) to the grace time.
GAP_BUCKETS: Final = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)

#: Close codes a client may send that are counted by their number; any other
#: (a client may send any code from 3000 to 4999) is counted as "other", so
#: that a client cannot add label values.  1005: no code given; 1006: the
#: connection dropped without a close frame.
_CLIENT_CODES: Final = frozenset({*(int(c) for c in CloseCode), 1005, 1006})

#: The kinds of view the hub sends (``server/hub.py``).
VIEW_KINDS: Final = ("dashboard", "room_state", "presenter")

# The ``*_created`` series (when each child was first used) double the output
# and tell an operator nothing the process start time does not.
disable_created_metrics()  # type: ignore[no-untyped-call]  # (untyped upstream)

REGISTRY: Final = CollectorRegistry(auto_describe=True)
# prometheus-client registers these in its global registry; kleur's gets its own.
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

L = TypeVar("L", Counter, Gauge, Histogram)


@dataclass(frozen=True, slots=True)
class _Children(Generic[L]):
    """A labelled metric's children by label values, each made once."""

    metric: L
    children: dict[tuple[str, ...], L] = field(default_factory=dict)

    def __call__(self, *values: str) -> L:
        child = self.children.get(values)
        if child is None:
            child = self.children[values] = self.metric.labels(*values)
        return child


def _counter(name: str, doc: str, labels: tuple[str, ...]) -> _Children[Counter]:
    return _Children(Counter(name, doc, labels, registry=REGISTRY))


def _histogram(name: str, doc: str, labels: tuple[str, ...]) -> _Children[Histogram]:
    return _Children(Histogram(name, doc, labels, registry=REGISTRY, buckets=LATENCY_BUCKETS))


def redis_error_kind(error: BaseException) -> str:
    """``timeout``, ``connection`` or ``other``: what went wrong with Redis."""
    if isinstance(error, RedisTimeoutError | TimeoutError):
        return "timeout"
    if isinstance(error, RedisConnectionError | ConnectionError | OSError):
        return "connection"
    return "other"


@dataclass(frozen=True, slots=True)
class Metrics:
    """Every metric of the process, with one method per thing that happens."""

    connections: _Children[Gauge] = field(
        default_factory=lambda: _Children(
            Gauge(
                "kleur_connections",
                "Open websocket connections of this process, by role (joined ones only).",
                ("role",),
                registry=REGISTRY,
            )
        )
    )
    rooms: Gauge = field(
        default_factory=lambda: Gauge(
            "kleur_rooms",
            "Rooms with at least one connection on this process.",
            registry=REGISTRY,
        )
    )
    commands: _Children[Counter] = field(
        default_factory=lambda: _counter(
            "kleur_commands",
            "Commands handled, by message type and outcome (applied, duplicate, or the error"
            " code; refused commands have type 'refused').",
            ("type", "outcome"),
        )
    )
    joins: _Children[Counter] = field(
        default_factory=lambda: _counter(
            "kleur_joins", "Joins, by outcome ('ok' or the error code).", ("outcome",)
        )
    )
    closes: _Children[Counter] = field(
        default_factory=lambda: _counter(
            "kleur_closes",
            "Websocket connections closed, by close code and by whom ('server' or 'client').",
            ("code", "by"),
        )
    )
    snapshots: _Children[Counter] = field(
        default_factory=lambda: _counter(
            "kleur_snapshots",
            "Coalesced updates sent (one per room refresh), by kind of view.",
            ("kind",),
        )
    )
    mirror_resyncs_total: Counter = field(
        default_factory=lambda: Counter(
            "kleur_mirror_resyncs",
            "Rooms read whole from Redis after a gap in their stream or a new epoch.",
            registry=REGISTRY,
        )
    )
    mirror_gap_seconds: Histogram = field(
        default_factory=lambda: Histogram(
            "kleur_mirror_gap_seconds",
            "Seconds a room's mirror held changes that came ahead of a missing version"
            " until that version arrived (a reordering, not a loss); one that does not"
            " arrive within mirror_reorder_seconds is counted in kleur_mirror_resyncs_total.",
            registry=REGISTRY,
            buckets=GAP_BUCKETS,
        )
    )
    ratings_stored: Counter = field(
        default_factory=lambda: Counter(
            "kleur_ratings_stored",
            "Ratings Redis stored for phones of this process (not counting duplicates).",
            registry=REGISTRY,
        )
    )
    rooms_lost_total: Counter = field(
        default_factory=lambda: Counter(
            "kleur_rooms_lost",
            "Rooms found missing from Redis while this process served them (marked lost,"
            " their connections closed with 4504).",
            registry=REGISTRY,
        )
    )
    redis_errors: _Children[Counter] = field(
        default_factory=lambda: _counter(
            "kleur_redis_errors",
            "Failed Redis attempts (commands, pipelines, the room stream), by kind:"
            " timeout, connection or other (an error reply such as READONLY or OOM).",
            ("kind",),
        )
    )
    redis_reconnects: _Children[Counter] = field(
        default_factory=lambda: _counter(
            "kleur_redis_reconnects",
            "Redis connections replaced after a failure, by link: 'commands' (a command"
            " retried on a new connection) or 'stream' (the pub/sub connection).",
            ("link",),
        )
    )
    readiness_failures: _Children[Counter] = field(
        default_factory=lambda: _counter(
            "kleur_readiness_failures",
            "GET /readyz answers 503, by reason: redis_timeout, redis_unreachable,"
            " stream_not_listening, eviction_policy.",
            ("reason",),
        )
    )
    ack_seconds: _Children[Histogram] = field(
        default_factory=lambda: _histogram(
            "kleur_ack_seconds",
            "Seconds from a command's frame received to its acknowledgement written to the"
            " socket, by message type.",
            ("type",),
        )
    )
    fanout_seconds: Histogram = field(
        default_factory=lambda: Histogram(
            "kleur_fanout_seconds",
            "Seconds from a rating reaching this process (the store's reply, or the room"
            " stream for a rating made on another process) to the first facilitator"
            " dashboard that includes it, sent from this process; one observation per"
            " dashboard, for the oldest rating it newly shows.",
            registry=REGISTRY,
            buckets=LATENCY_BUCKETS,
        )
    )
    snapshot_build_seconds: _Children[Histogram] = field(
        default_factory=lambda: _histogram(
            "kleur_snapshot_build_seconds",
            "Seconds to build one room's view from its mirror (the dashboard includes its"
            " analysis and note suggestions), by kind of view.",
            ("kind",),
        )
    )

    def __post_init__(self) -> None:
        # Known label values start at 0, so that a rate over them exists from
        # the first scrape (not only after the first error).
        for role in ("facilitator", "participant", "presenter"):
            self.connections(role)
        for kind in VIEW_KINDS:
            self.snapshots(kind)
            self.snapshot_build_seconds(kind)
        for kind in ("timeout", "connection", "other"):
            self.redis_errors(kind)
        for link in ("commands", "stream"):
            self.redis_reconnects(link)

    # -- what happens -------------------------------------------------------
    def command(self, kind: str, outcome: str) -> None:
        self.commands(kind, outcome).inc()

    def join(self, outcome: str) -> None:
        self.joins(outcome).inc()

    def closed_by_server(self, code: int) -> None:
        self.closes(str(code), "server").inc()

    def closed_by_client(self, code: int) -> None:
        self.closes(str(code) if code in _CLIENT_CODES else "other", "client").inc()

    def snapshot_built(self, kind: str, seconds: float) -> None:
        self.snapshot_build_seconds(kind).observe(seconds)

    def snapshot_sent(self, kind: str) -> None:
        self.snapshots(kind).inc()

    def mirror_resync(self) -> None:
        self.mirror_resyncs_total.inc()

    def mirror_gap_closed(self, seconds: float) -> None:
        self.mirror_gap_seconds.observe(seconds)

    def acknowledged(self, kind: str, seconds: float) -> None:
        self.ack_seconds(kind).observe(seconds)

    def rating_stored(self) -> None:
        self.ratings_stored.inc()

    def room_lost(self) -> None:
        self.rooms_lost_total.inc()

    def redis_error(self, error: BaseException) -> None:
        self.redis_errors(redis_error_kind(error)).inc()

    def redis_reconnect(self, link: str) -> None:
        self.redis_reconnects(link).inc()

    def not_ready(self, reason: str) -> None:
        self.readiness_failures(reason).inc()

    def set_connections(self, by_role: dict[str, int], rooms: int) -> None:
        for role, count in by_role.items():
            self.connections(role).set(count)
        self.rooms.set(rooms)


#: This process's metrics (one per process, like its connections).
METRICS: Final = Metrics()


def render() -> bytes:
    """The Prometheus text exposition of every metric of the process."""
    return generate_latest(REGISTRY)
