"""Server settings: one place, each with its default, read once at start.

Every setting can be given as an environment variable ``KLEUR_<NAME>`` (upper
case) or as an override to ``Settings.from_env``; protocol limits live in
``protocol.limits`` instead, because clients must know them too.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from protocol import limits
from server.mirror import REORDER_SECONDS

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def parse_bool(raw: str, name: str) -> bool:
    """A yes/no setting as the environment gives it; anything else is refused
    (a typo must not quietly mean "no")."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={raw!r}: use 1/true/yes or 0/false/no")


@dataclass(frozen=True, slots=True)
class Settings:
    #: Redis to use; the CLI starts an embedded one when none is given.  In
    #: cluster mode, any one node of the cluster (the client finds the others).
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: ``redis_url`` names a node of a Redis Cluster (``KLEUR_REDIS_CLUSTER=1``):
    #: use redis-py's cluster client, which sends each room's commands to the
    #: shard that holds the room's hash slot (``server.redis_client``).
    redis_cluster: bool = False
    #: Seconds a room lives after its last join or phase change (default 2 days).
    room_ttl_seconds: int = 2 * 24 * 3600
    #: Seconds a closed room's aggregates (tallies, notes without authors, the
    #: agenda, the analysis) live after closing (default 30 days); closing
    #: deletes everything that links a participant to an answer at once.
    closed_room_retention_seconds: int = 30 * 24 * 3600
    #: Smallest organisation-type group ever shown (anonymity).
    min_group_size: int = limits.MIN_GROUP_SIZE
    #: Shortest interval between two dashboard snapshots of one room, seconds.
    dashboard_interval_seconds: float = 1 / limits.DASHBOARD_MAX_PER_SECOND
    #: Longest that interval grows to while the process is overloaded (busy
    #: over 80 % of a CPU): snapshots are shed before acknowledgements wait.
    dashboard_max_interval_seconds: float = 1.0
    #: How often the room stream's subscriber checks its connection (a PING),
    #: seconds; three silent intervals and it resubscribes every room.
    stream_heartbeat_seconds: float = 1.0
    #: How long a room's mirror waits for a change that another one overtook
    #: (each process hears changes over several Redis connections, so version
    #: N + 2 may come a few milliseconds before N + 1), seconds; still missing
    #: then, it was lost, and the room is read whole from Redis.  0: no wait.
    mirror_reorder_seconds: float = REORDER_SECONDS
    #: Longest a Redis command may take before it fails as ``store_unavailable``
    #: (the client keeps it and resends), seconds: a silent partition must
    #: fail fast, not stall every phone of the process.
    redis_command_timeout_seconds: float = 3.0
    #: How long ``/readyz`` keeps Redis's ``maxmemory-policy`` (read with
    #: CONFIG GET; kleur needs ``noeviction``) before asking again, seconds.
    redis_policy_check_seconds: float = 30.0
    #: Seconds a lost room's marker (``kleur:{CODE}:lost``: its facilitator
    #: token's hash and join/display tokens, so that the facilitator can restore
    #: it and its phones are not taken for guessers) lives (default one day).
    lost_room_seconds: int = 24 * 3600
    #: Base URL for join links and QR codes; by default the request's own.
    public_url: str | None = None
    #: Most connections this process opens to Redis (on a cluster: to each
    #: node, besides the pub/sub ones); more concurrent commands wait.
    redis_max_connections: int = 32
    #: Seconds a command waits for a free Redis connection before it fails as
    #: ``store_unavailable`` (the client resends it).  A burst of 40,000 ratings
    #: queues for a few seconds; 20 s leaves room for that on a slow machine.
    redis_pool_timeout_seconds: float = 20.0
    #: Allocations between two young garbage collections (Python's default is
    #: 700); see ``server.app.tune_garbage_collector``.
    gc_young_threshold: int = 50_000
    #: Rooms one client address may create per hour.
    rooms_per_hour_per_client: int = 60
    # -- limits per client address and per sender (issue 11) -----------------
    #: Open websocket connections one client address may have: the knob for
    #: big halls, whose phones may all share one address behind NAT.  4,000
    #: leaves room for a hall of 2,000 phones each reconnecting once.
    max_connections_per_client: int = 4000
    #: Of those, connections that have not (yet) joined a room: a phone joins
    #: within a second of connecting, so even a hall arriving at once has few.
    max_unjoined_connections_per_client: int = 200
    #: Command token buckets kept in memory (one per participant, facilitator
    #: window and projector, kept across reconnects); the least recently used
    #: goes first beyond this.  About 200 bytes each.
    max_command_buckets: int = 100_000
    #: Note-merge suggestions compare only a room's newest this many notes
    #: (their cost grows with the square of the notes: ~20 ms for 300) ...
    suggestion_max_notes: int = 300
    #: ... and are computed at most once per this many seconds per room, so
    #: that one room's notes cannot keep a CPU from the other rooms.
    suggestion_min_interval_seconds: float = 2.0
    #: A folder with the operator's own templates (``*.toml``), loaded at start
    #: next to the shipped ones and checked the same way; none by default.
    template_dir: str | None = None
    # --- HTTP limits, proxies and origins (issue 11) ---
    #: Reverse proxies whose ``X-Forwarded-For``/``-Proto`` are believed:
    #: comma-separated addresses or networks (``127.0.0.1,10.0.0.0/8``).  Empty
    #: (the default): those headers are ignored and the peer is the client, so
    #: no one can pick the address the per-address limits count.
    trusted_proxies: str = ""
    #: Origins (``https://kleur.example.org``, comma-separated) whose pages may
    #: open a websocket; empty: the server's own origin (the Host it was reached
    #: at, with its scheme) and ``public_url``'s.  No ``Origin`` header (the
    #: Python client, native apps) is always let through: browsers always send one.
    allowed_origins: str = ""
    #: Largest request body read, in bytes (a room with an earlier scan's
    #: export attached stays well under 1 MiB); more is refused with 413.
    max_body_bytes: int = 1024 * 1024
    #: Deepest nesting of arrays and objects in a JSON body (an export nests 4).
    max_json_depth: int = 32
    #: Seconds a connection may take to send a request's headers, counted from
    #: its first byte (or from the connection's start); then it is closed.
    header_timeout_seconds: float = 10.0
    #: How log lines are written (``server.logs``): ``json`` (one object per
    #: line) or ``text`` (for reading).  Unset (the default): ``json``, or
    #: ``text`` when stdout is a terminal.  ``kleur serve --log-format`` wins.
    log_format: str | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {}
        for field in dataclasses.fields(cls):
            raw = os.environ.get(f"KLEUR_{field.name.upper()}")
            if raw is None:
                continue
            kind: type = type(field.default)
            if kind is bool:
                values[field.name] = parse_bool(raw, f"KLEUR_{field.name.upper()}")
            elif kind is int:
                values[field.name] = int(raw)
            elif kind is float:
                values[field.name] = float(raw)
            else:
                values[field.name] = raw
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]
