"""Counters for ``GET /metrics`` (Prometheus text format), for this process.

Only counts: never a room code, participant, rating value or note.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Metrics:
    #: (message type, "applied" | "duplicate" | error code) -> count
    commands: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: close code -> count
    closes: Counter[int] = field(default_factory=Counter)
    joins: Counter[str] = field(default_factory=Counter)
    dashboards_sent: int = 0
    room_states_sent: int = 0
    presenters_sent: int = 0
    #: Full room reads a mirror needed after a gap or an epoch change.
    mirror_resyncs: int = 0

    def render(self, connections: dict[str, int], rooms: int) -> str:
        lines = [
            "# HELP kleur_connections Open websocket connections, by role.",
            "# TYPE kleur_connections gauge",
            *(f'kleur_connections{{role="{role}"}} {n}' for role, n in sorted(connections.items())),
            "# HELP kleur_rooms Rooms with a connection on this process.",
            "# TYPE kleur_rooms gauge",
            f"kleur_rooms {rooms}",
            "# HELP kleur_commands_total Commands handled, by type and outcome.",
            "# TYPE kleur_commands_total counter",
            *(
                f'kleur_commands_total{{type="{kind}",outcome="{outcome}"}} {n}'
                for (kind, outcome), n in sorted(self.commands.items())
            ),
            "# HELP kleur_joins_total Joins, by outcome.",
            "# TYPE kleur_joins_total counter",
            *(f'kleur_joins_total{{outcome="{k}"}} {n}' for k, n in sorted(self.joins.items())),
            "# HELP kleur_closes_total Connections closed by the server, by close code.",
            "# TYPE kleur_closes_total counter",
            *(f'kleur_closes_total{{code="{c}"}} {n}' for c, n in sorted(self.closes.items())),
            "# HELP kleur_snapshots_total Coalesced updates sent (one per room refresh).",
            "# TYPE kleur_snapshots_total counter",
            f'kleur_snapshots_total{{kind="dashboard"}} {self.dashboards_sent}',
            f'kleur_snapshots_total{{kind="room_state"}} {self.room_states_sent}',
            f'kleur_snapshots_total{{kind="presenter"}} {self.presenters_sent}',
            "# HELP kleur_mirror_resyncs_total Rooms read whole after a gap or a new epoch.",
            "# TYPE kleur_mirror_resyncs_total counter",
            f"kleur_mirror_resyncs_total {self.mirror_resyncs}",
        ]
        return "\n".join(lines) + "\n"


#: This process's metrics (one per process, like its connections).
METRICS = Metrics()
