"""Server settings: one place, each with its default, read once at start.

Every setting can be given as an environment variable ``KLEUR_<NAME>`` (upper
case) or as an override to ``Settings.from_env``; protocol limits live in
``protocol.limits`` instead, because clients must know them too.

A value that does not fit its setting is refused here, with one sentence that
names the variable and says what it takes (``SettingError``): a number, yes/no,
one of a few words, an http(s) address.  ``check_names`` looks at the other
``KLEUR_*`` variables: one that is almost a setting's name (a typo) is refused,
any other is reported so that ``kleur serve`` can warn about it.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from protocol import limits
from server.mirror import REORDER_SECONDS

PREFIX = "KLEUR_"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})

#: ``kleur serve --log-level`` and ``KLEUR_LOG_LEVEL``: uvicorn's levels.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")

#: How alike (difflib's ratio, 0..1) an unknown name must be to a setting's
#: name to count as a typo of it.  ``TRUSTED_PROXY`` is 0.86 to
#: ``TRUSTED_PROXIES``; the names kleur's own scripts and tests use
#: (``KLEUR_UPDATE_GOLDEN``, ``KLEUR_TEST_PARTITION_SECONDS``...) stay under 0.7.
TYPO_RATIO = 0.8
#: Alike enough to name the setting as a hint in the warning.
HINT_RATIO = 0.6

#: Options of ``kleur serve`` without an environment variable, by the name one
#: might try: the warning names the option instead.
_OPTIONS = {"HOST": "--host", "PORT": "--port", "DATA_DIR": "--data-dir"}


class SettingError(ValueError):
    """A ``KLEUR_*`` variable whose value (or name) kleur cannot use."""


def env_name(name: str) -> str:
    """``room_ttl_seconds`` -> ``KLEUR_ROOM_TTL_SECONDS``."""
    return f"{PREFIX}{name.upper()}"


def parse_bool(raw: str, name: str) -> bool:
    """A yes/no setting as the environment gives it; anything else is refused
    (a typo must not quietly mean "no")."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(f"{name}={raw!r}: use 1/true/yes or 0/false/no")


def _parse_number(raw: str, name: str, kind: type, default: object) -> int | float:
    whole = kind is int
    try:
        value: int | float = int(raw) if whole else float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        what = "a whole number" if whole else "a number (a decimal point, not a comma)"
        raise SettingError(f"{name}={raw!r}: use {what}, 0 or more (default {default})")
    return value


def check_public_url(url: str) -> None:
    """Join links and QR codes start with ``url``: an absolute http(s) address.

    Without a scheme (``kleur.example.org``) a link would be
    ``kleur.example.org/j/CODE``, which no QR scanner opens; a query or a
    fragment would end up in the middle of every link.
    """
    name = env_name("public_url")
    expected = (
        "use an absolute http(s) address without ?query or #fragment,"
        " e.g. https://kleur.example.org"
    )
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if (
        not port_ok
        or url != url.strip()
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or "?" in url  # also an empty query or fragment: a link would end in "?/j/CODE"
        or "#" in url
    ):
        raise SettingError(f"{name}={url!r}: {expected}")


def check_names(environ: Mapping[str, str]) -> list[str]:
    """The ``KLEUR_*`` variables in ``environ`` that are no setting, as warnings.

    Raises ``SettingError`` for a name that is almost a setting's (a typo:
    ``KLEUR_TRUSTED_PROXY``), because the setting it was meant for would
    quietly keep its default; any other unknown name (another tool's, a
    setting of a newer kleur) is only reported, one sentence each.
    """
    known = {setting.name.upper() for setting in dataclasses.fields(Settings)}
    warnings = []
    for variable in sorted(environ):
        if not variable.startswith(PREFIX) or variable[len(PREFIX) :] in known:
            continue
        name = variable[len(PREFIX) :]
        typo = difflib.get_close_matches(name, known, n=1, cutoff=TYPO_RATIO)
        if typo:
            raise SettingError(
                f"{variable} is not a setting; did you mean {PREFIX}{typo[0]}?"
                " (rename it, or unset it)"
            )
        if name in _OPTIONS:
            hint = f"; use kleur serve {_OPTIONS[name]}"
        elif similar := difflib.get_close_matches(name, known, n=1, cutoff=HINT_RATIO):
            hint = f" (did you mean {PREFIX}{similar[0]}?)"
        else:
            hint = ""
        warnings.append(f"{variable} is not a kleur setting and is ignored{hint}")
    return warnings


@dataclass(frozen=True, slots=True)
class Settings:
    #: Redis to use.  Unset, ``kleur serve`` starts its own ``redis-server``
    #: (data in ``--data-dir``); in cluster mode, any one node of the cluster
    #: (the client finds the others).  (``Settings()`` in code, without
    #: ``kleur serve``, means the local ``redis://127.0.0.1:6379/0``.)
    redis_url: str = field(
        default="redis://127.0.0.1:6379/0",
        metadata={"shown_default": "(none: kleur serve starts its own Redis)"},
    )
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
    #: Least severe lines logged: ``critical``, ``error``, ``warning``,
    #: ``info``, ``debug`` or ``trace``; uvicorn's and websockets' lines stop
    #: at ``info`` (their debug lines carry headers and query strings).
    #: ``kleur serve --log-level`` wins.
    log_level: str = "info"

    def __post_init__(self) -> None:
        if self.public_url:
            check_public_url(self.public_url)
        if self.log_level not in LOG_LEVELS:
            raise SettingError(
                f"{env_name('log_level')}={self.log_level!r}: use one of {', '.join(LOG_LEVELS)}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """The settings in ``environ`` (default ``os.environ``), then ``overrides``
        (None: not given).  A value that does not fit raises ``SettingError``."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for setting in dataclasses.fields(cls):
            name = env_name(setting.name)
            raw = environ.get(name)
            if raw is None:
                continue
            kind: type = type(setting.default)
            if kind is bool:
                values[setting.name] = parse_bool(raw, name)
            elif kind in (int, float):
                values[setting.name] = _parse_number(raw, name, kind, setting.default)
            elif setting.name == "log_level":
                values[setting.name] = raw.strip().lower()
            else:
                values[setting.name] = raw
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]
