"""Benchmark (not a test) of what one snapshot of a room costs the server.

A room of the Participatiescan template in its rating phase, twelve norms
partly answered, held in a mirror as the hub holds it (``server.mirror``).
Timed, best of 15 runs of 500 calls with ``time.perf_counter``: reading the
mirror (``RoomData``), building the facilitator's dashboard, encoding it with
the canonical codec (msgpack), and the phones' room state with its
has-it-changed check.  These are the parts of a snapshot that run on the
event loop; sending the frame is measured by the load tests (``loadtests.run``).
Prints one Markdown table row with the figures and the command.

Run from the repository root:

    python -m loadtests.bench_snapshots
"""

from __future__ import annotations

import random
import timeit
from collections.abc import Callable

from agenda import views
from agenda.room_record import RoomRecord, StreamMessage
from agenda.templates import load_builtin_templates
from protocol.codec import MSGPACK
from server.mirror import RoomMirror
from server.snapshots import RoomViews

COMMAND = "python -m loadtests.bench_snapshots"
META = {
    "template": "participatiescan",
    "phase": "rating",
    "round": "1",
    "locked": "0",
    "version": "7",
    "voting": "closed",
    "dots": "3",
    "maxnote": "3",
    "dots_cast": "0",
    "timer": "",
    "epoch": "e1",
}


def best_microseconds(call: Callable[[], object], number: int = 500, repeat: int = 15) -> float:
    return min(timeit.Timer(call).repeat(repeat, number)) / number * 1e6


def main() -> None:
    template = load_builtin_templates()["participatiescan"]
    mirror = RoomMirror("BENCH1")
    mirror.reset(RoomRecord(dict(META), people=12))
    version = 7
    rng = random.Random(1)
    for norm in template.norms[:12]:
        for value in range(3, 8):
            version += 1
            cell = (("tally", f"1|{norm.id}|{value}", str(rng.randint(1, 3))),)
            mirror.offer(StreamMessage(version, "e1", cell))
    data = mirror.data()
    room_views = RoomViews("BENCH1", template, 3)
    dashboard = views.dashboard(data, template, 3, 0, None)
    figures = {
        "mirror read": best_microseconds(mirror.data),
        "dashboard build": best_microseconds(lambda: views.dashboard(data, template, 3, 0, None)),
        "dashboard encode": best_microseconds(lambda: MSGPACK.encode(dashboard)),
        "room state + check": best_microseconds(lambda: room_views.changed_state(data)),
    }
    total = sum(figures.values())
    print("| " + " | ".join(figures) + " | snapshot in all | bytes | command |")
    print("|" + "---|" * (len(figures) + 3))
    cells = [f"{value:.1f} µs" for value in figures.values()]
    size = len(MSGPACK.encode(dashboard))
    print(f"| {' | '.join(cells)} | {total:.0f} µs | {size:,} | `{COMMAND}` |")


if __name__ == "__main__":
    main()
