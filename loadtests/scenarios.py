"""The scenarios: how many rooms, phones and dashboards, and how the phones behave.

A scenario is plain data.  ``scaled`` shrinks the counts (``--scale``) and the
clock (``--time-scale``) for quick runs; the test suite runs every scenario
at a tiny scale.  How a phone rates (human pauses, a burst, or a fixed
offered rate) is ``Pace``; the phone's script itself is in ``generator``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum


class Pace(StrEnum):
    #: Every phone rates its 20 norms with human pauses, all within ``window_seconds``.
    HUMAN = "human"
    #: Every phone sends its 20 ratings at once, all phones at the same moment.
    BURST = "burst"
    #: Ratings are offered at ``offered_per_second`` in all, open loop (not waiting for acks).
    PACED = "paced"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    letter: str
    title: str
    description: str
    rooms: int
    participants_per_room: int
    pace: Pace
    #: HUMAN: every phone finishes its ratings within this many seconds.
    window_seconds: float = 60.0
    #: PACED: ratings offered per second, over all phones.
    offered_per_second: float = 0.0
    #: Share of phones that change their mind on 1-3 norms after rating them all.
    rerate_share: float = 0.0
    #: Share of phones that write a note during the round.
    note_share: float = 0.0
    #: Share of phones that lose their connection once mid-round and reconnect.
    reconnect_share: float = 0.0
    #: Share of ratings that are "don't know".
    dont_know_share: float = 0.05
    #: Server process counts to run, one full run each (only ``burst-scaling`` has several).
    processes: tuple[int, ...] = (1,)
    #: The targets that apply to this scenario (keys of ``report.TARGETS``).
    targets: tuple[str, ...] = ()

    @property
    def participants(self) -> int:
        return self.rooms * self.participants_per_room

    def scaled(self, scale: float, time_scale: float) -> Scenario:
        """Fewer rooms (or participants, for one room) and a faster clock."""
        if scale <= 0 or time_scale <= 0:
            raise ValueError("scale and time-scale must be positive")
        if self.rooms > 1:
            rooms, per_room = max(1, round(self.rooms * scale)), self.participants_per_room
        else:
            rooms, per_room = 1, max(1, round(self.participants_per_room * scale))
        # Per phone the offered rate stays the same; the clock speeds up.
        offered = self.offered_per_second * (rooms * per_room) / self.participants / time_scale
        return dataclasses.replace(
            self,
            rooms=rooms,
            participants_per_room=per_room,
            window_seconds=self.window_seconds * time_scale,
            offered_per_second=offered,
        )

    def with_processes(self, processes: int) -> Scenario:
        """``--processes N``: N server processes, or 1..N for a scaling scenario."""
        if processes < 1:
            raise ValueError("--processes must be at least 1")
        counts = tuple(range(1, processes + 1)) if len(self.processes) > 1 else (processes,)
        return dataclasses.replace(self, processes=counts)


_ALL_TARGETS = ("memory", "correct")

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="one-room",
            letter="a",
            title="One room, 2,000 participants, human pace",
            description=(
                "One room with 2,000 phones and one dashboard. Every phone picks an "
                "organisation type, then rates all 20 norms with human pauses so that "
                "it is done within 60 s; a fifth re-rate a few norms, a tenth write a "
                "note and 5 % lose their connection once and reconnect."
            ),
            rooms=1,
            participants_per_room=2000,
            pace=Pace.HUMAN,
            window_seconds=60.0,
            rerate_share=0.2,
            note_share=0.1,
            reconnect_share=0.05,
            targets=("dashboard_p99", *_ALL_TARGETS),
        ),
        Scenario(
            name="many-rooms",
            letter="b",
            title="500 rooms × 12 participants + 1 dashboard each, human pace",
            description=(
                "500 rooms, each with 12 phones and its own dashboard: a full rating "
                "round (20 norms per phone within 60 s, same behaviour as one-room)."
            ),
            rooms=500,
            participants_per_room=12,
            pace=Pace.HUMAN,
            window_seconds=60.0,
            rerate_share=0.2,
            note_share=0.1,
            reconnect_share=0.05,
            targets=("dashboard_p99", "ack_p99_human", *_ALL_TARGETS),
        ),
        Scenario(
            name="burst",
            letter="c",
            title="Burst: 2,000 participants send their 20 ratings at once",
            description=(
                "One room with 2,000 phones and one dashboard. At the same moment every "
                "phone sends all 20 ratings without waiting for acks (20 is below the "
                "per-connection burst of 60). Nothing else happens in the window."
            ),
            rooms=1,
            participants_per_room=2000,
            pace=Pace.BURST,
            targets=("cpu_ratio", *_ALL_TARGETS),
        ),
        Scenario(
            name="burst-scaling",
            letter="d",
            title="Burst over 1, 2 and 3 server processes sharing one Redis",
            description=(
                "The burst scenario, once per process count; phones are spread round-robin "
                "over the processes and the dashboard is on the first one, so its updates "
                "for ratings stored elsewhere travel over Redis pub/sub."
            ),
            rooms=1,
            participants_per_room=2000,
            pace=Pace.BURST,
            processes=(1, 2, 3),
            targets=("scaling", *_ALL_TARGETS),
        ),
        Scenario(
            name="paced",
            letter="e",
            title="Offered load: 5,000 ratings/s from 2,000 participants",
            description=(
                "One room with 2,000 phones and one dashboard; ratings are offered at a "
                "fixed 5,000 per second in all (2.5 per phone per second, open loop: a "
                "phone does not wait for its acks), 40,000 ratings in 8 s. This is where "
                "the ack-latency target is measured."
            ),
            rooms=1,
            participants_per_room=2000,
            pace=Pace.PACED,
            offered_per_second=5000.0,
            targets=("ack_p99", *_ALL_TARGETS),
        ),
    )
}

ALIASES = {s.letter: s.name for s in SCENARIOS.values()}


def resolve(name: str) -> list[Scenario]:
    """The scenarios a ``--scenario`` value names: a name, its letter, or ``all``."""
    if name == "all":
        return list(SCENARIOS.values())
    scenario = SCENARIOS.get(ALIASES.get(name, name))
    if scenario is None:
        known = ", ".join(f"{s.name} ({s.letter})" for s in SCENARIOS.values())
        raise ValueError(f"unknown scenario {name!r}; known: {known}, all")
    return [scenario]
