"""A healthy busy room needs no full reads: changes that overtook others wait for them.

Two real ``kleur serve`` processes on one real redis-server, phones spread
over both, every phone rating every norm and then re-rating at random, as
fast as the processes take it.  Each process hears its own changes twice
(the script's reply, over one of several pool connections, and the room's
stream) and the other's on the stream only, so a version often arrives a
moment after the one that follows it.  Before the reorder window each such
moment was a full read of the room (9 to 14 per process in 7,000 ratings);
now the mirror holds the early change until the late one comes.  A lost
message still makes it read the room (``tests/test_room_stream.py``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agenda.templates import load_builtin_templates
from client.kleur_client import KleurClient
from loadtests import bench_mirror
from protocol.messages import Dashboard
from protocol.phases import Phase, Role
from server.embedded_redis import RedisServer
from tests.faults import Fleet
from tests.support import ServerProcess

pytestmark = [pytest.mark.slow]

NORMS = [norm.id for norm in load_builtin_templates()["participatiescan"].norms]
PHONES = 200
CHANGES = 2_000
#: Full reads allowed per process in the healthy burst.  Measured: none; a
#: machine so busy that a missing version takes longer than the grace
#: (``mirror_reorder_seconds``, 0.3 s) to be read from its socket may cost one.
MAX_RESYNCS = 1


def scrape(server: ServerProcess) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in httpx.get(f"{server.http_url}/metrics").text.splitlines():
        if line.startswith(("kleur_mirror_resyncs_total", "kleur_mirror_gap_seconds_count")):
            name, value = line.split()
            found[name] = float(value)
    return found


@pytest.fixture
def three(redis_server: RedisServer, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """Two processes for the room, and a third started only to read it whole afterwards."""
    servers = [ServerProcess(redis_server.url, tmp_path / f"kleur-{i}.log") for i in (1, 2, 3)]
    try:
        for server in servers[:2]:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


async def test_a_busy_healthy_room_is_followed_without_full_reads(
    three: list[ServerProcess],
) -> None:
    one, two, fresh = three
    room = one.create_room()
    code, token = room["code"], room["facilitator_token"]
    watchers = [KleurClient(s.ws_url, code, Role.FACILITATOR, token=token) for s in (one, two)]
    fleet = Fleet([one.ws_url, two.ws_url], code)
    try:
        for watcher in watchers:
            await watcher.connect()
        await watchers[0].set_phase(Phase.RATING)
        await fleet.join(PHONES)
        before = [scrape(s) for s in (one, two)]
        await fleet.burst(NORMS, CHANGES, rng=random.Random(13), concurrency=PHONES)
        await watchers[0].set_phase(Phase.REVEAL)  # the dashboards show the counts now
        after = [scrape(s) for s in (one, two)]

        # Both mirrors end where a full read of Redis starts: nothing lost,
        # nothing applied twice or out of order.
        fresh.start()
        reader = KleurClient(fresh.ws_url, code, Role.FACILITATOR, token=token)
        await reader.connect()
        await reader.wait_dashboard(lambda d: d.phase is Phase.REVEAL)
        truth = reader.dashboard
        assert truth is not None
        await reader.close()

        def same(d: Dashboard) -> bool:
            return d.version == truth.version and d.norms == truth.norms

        for watcher in watchers:
            await watcher.wait_dashboard(same, timeout=5)
    finally:
        await fleet.close()
        for watcher in watchers:
            await watcher.close()

    resyncs = [
        a["kleur_mirror_resyncs_total"] - b["kleur_mirror_resyncs_total"]
        for a, b in zip(after, before, strict=True)
    ]
    gaps = [
        a["kleur_mirror_gap_seconds_count"] - b["kleur_mirror_gap_seconds_count"]
        for a, b in zip(after, before, strict=True)
    ]
    # The mirrors waited for the changes that came late instead of reading the room ...
    assert max(resyncs) <= MAX_RESYNCS, (resyncs, gaps)
    # ... and the burst did reorder changes (else this test would show nothing).
    assert sum(gaps) > 0, gaps


def test_the_benchmark_runs_at_a_tiny_scale(tmp_path: Path) -> None:
    """``loadtests.bench_mirror`` (docs/benchmarks.md) still works: both windows, real servers."""
    out = tmp_path / "mirror.json"
    argv = [
        "--phones",
        "6",
        "--rate",
        "200",
        "--rounds",
        "1",
        "--processes",
        "1",
        "--out",
        str(out),
    ]
    assert bench_mirror.main(argv) == 0
    results = json.loads(out.read_text())["results"]
    assert [(r["window"], r["processes"]) for r in results] == [("off", 1), ("on", 1)]
    assert all(r["ratings_acked"] == 6 * len(NORMS) for r in results)
