"""Benchmark (not a test): full reads of a healthy busy room, with and without the reorder window.

A room's mirror (``server/mirror.py``) used to read the room whole from Redis
whenever a change arrived before the one it follows, which in a busy room is
a reordering between Redis connections, not a loss.  Now it waits up to
``mirror_reorder_seconds`` for the late one.  This runs the same busy room
with the window off (``KLEUR_MIRROR_REORDER_SECONDS=0``: the old behaviour)
and on (the default), on one and on two ``kleur serve`` processes, the
configurations taking turns (``--rounds`` times each) so that all of them
meet the same machine moment.

Per run: a fresh private redis-server and servers; one room; ``--phones``
phones spread round-robin over the processes rate every norm once, offered at
``--rate`` ratings a second in all (open loop: the next rating goes out on
time whether or not the earlier ones were acknowledged); one facilitator
dashboard on the first process.  Measured: the mirrors' full reads after the
first (``kleur_mirror_resyncs_total``, summed over the processes) per minute
of rating; the gaps that closed by themselves (``kleur_mirror_gap_seconds``);
and the dashboard fan-out latency seen by the facilitator's client: for the
k-th acknowledged rating, from its acknowledgement to the first dashboard
that shows k ratings received (0 when that dashboard came first).

Run from the repository root:

    python -m loadtests.bench_mirror                       # 500 phones, 1,000 ratings/s
    python -m loadtests.bench_mirror --out loadtests/reports/mirror-reorder.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from agenda.templates import load_builtin_templates
from client.kleur_client import KleurClient
from loadtests.servers import ServerProcess, code_revision, cpu_seconds, machine_description
from protocol.messages import Dashboard, ServerMessage
from protocol.phases import Phase, Role
from server.embedded_redis import RedisServer

COMMAND = "python -m loadtests.bench_mirror"
KLEUR_SERVE = ("server", "serve")
NORMS = [norm.id for norm in load_builtin_templates()["participatiescan"].norms]


class Watcher(KleurClient):
    """A facilitator client that notes when each dashboard came and how many ratings it shows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shown: list[tuple[float, int]] = []

    async def _dispatch(self, message: ServerMessage) -> None:
        if isinstance(message, Dashboard):
            self.shown.append((time.perf_counter(), sum(n.received for n in message.norms)))
        await super()._dispatch(message)


@dataclass(frozen=True, slots=True)
class Result:
    window: str
    processes: int
    round: int
    ratings_acked: int
    seconds: float
    resyncs: int
    resyncs_per_minute: float
    gaps_closed: int
    gaps_closed_within_1ms: int
    fanout_p50_ms: float
    fanout_p95_ms: float
    dashboards: int
    #: CPU of the kleur processes and of Redis during the rating, milliseconds per 1,000 ratings.
    server_cpu_ms_per_1000: float
    redis_cpu_ms_per_1000: float


def scrape(url: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith(("kleur_mirror_resyncs_total", "kleur_mirror_gap_seconds_")):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def cpu(pids: list[int]) -> float:
    seconds = [cpu_seconds(pid) for pid in pids]
    return sum(s for s in seconds if s is not None)


def _sum(samples: list[dict[str, float]], name: str) -> int:
    return round(sum(s.get(name, 0.0) for s in samples))


@contextmanager
def servers(
    processes: int, reorder: float, work: Path
) -> Iterator[tuple[RedisServer, list[ServerProcess]]]:
    with tempfile.TemporaryDirectory(prefix="kleur-bench-mirror-redis-") as data:
        redis = RedisServer(data_dir=Path(data))
        started: list[ServerProcess] = []
        try:
            redis.start()
            env = {
                "KLEUR_REDIS_URL": redis.url,
                "KLEUR_MIRROR_REORDER_SECONDS": str(reorder),
                "KLEUR_MAX_CONNECTIONS_PER_CLIENT": "1000000",
            }
            for i in range(processes):
                server = ServerProcess(
                    KLEUR_SERVE,
                    log_path=work / f"kleur-{i + 1}.log",
                    env=env,
                    args=["--redis-url", redis.url],
                )
                started.append(server)
                server.start(None, "/readyz")
            yield redis, started
        finally:
            for server in started:
                server.stop()
            redis.stop()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def one_run(
    stack: list[ServerProcess], room: dict[str, str], phones: int, rate: float
) -> tuple[int, float, list[float], int]:
    code = room["code"]
    watcher = Watcher(stack[0].ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await watcher.connect()
    await watcher.set_phase(Phase.RATING)
    clients = [
        KleurClient(stack[i % len(stack)].ws_url, code, Role.PARTICIPANT) for i in range(phones)
    ]
    gate = asyncio.Semaphore(50)

    async def join(client: KleurClient) -> None:
        async with gate:
            await client.connect()

    await asyncio.gather(*(join(c) for c in clients))
    acks: list[float] = []

    async def rate_one(client: KleurClient, norm: str, value: int) -> None:
        try:
            await client.rate(norm, value)
        except Exception:  # counted as not acknowledged
            return
        acks.append(time.perf_counter())

    plan = [(clients[i % phones], NORMS[i // phones], 1 + i % 10) for i in range(phones * 20)]
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter()
    for i, (client, norm, value) in enumerate(plan):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(rate_one(client, norm, value)))
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - start
    # Until the dashboard shows every acknowledged rating (or 5 s more).
    with contextlib.suppress(TimeoutError):
        await watcher.wait_for(
            lambda w: bool(watcher.shown) and watcher.shown[-1][1] >= len(acks), 5
        )
    latencies: list[float] = []
    shown = watcher.shown
    j = 0
    for k, acked_at in enumerate(sorted(acks), start=1):
        while j < len(shown) and shown[j][1] < k:
            j += 1
        if j == len(shown):
            break
        latencies.append(max(0.0, shown[j][0] - acked_at))
    dashboards = len(shown)
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    await watcher.close()
    return len(acks), seconds, latencies, dashboards


def run(
    window: str, reorder: float, processes: int, round_: int, args: argparse.Namespace
) -> Result:
    with (
        tempfile.TemporaryDirectory(prefix="kleur-bench-mirror-") as tmp,
        servers(processes, reorder, Path(tmp)) as (redis, stack),
    ):
        pids = [s.pid for s in stack]
        assert redis.pid is not None
        body = {"template": "participatiescan", "expected_people": args.phones, "admission": False}
        room = httpx.post(f"{stack[0].http_url}/api/rooms", json=body)
        before = [scrape(s.http_url) for s in stack]
        cpu_before = cpu(pids), cpu([redis.pid])
        acked, seconds, latencies, dashboards = asyncio.run(
            one_run(stack, room.json(), args.phones, args.rate)
        )
        after = [scrape(s.http_url) for s in stack]
        cpu_after = cpu(pids), cpu([redis.pid])
    per_1000 = 1000 * 1000 / max(1, acked)
    resyncs = _sum(after, "kleur_mirror_resyncs_total") - _sum(before, "kleur_mirror_resyncs_total")
    gaps = _sum(after, "kleur_mirror_gap_seconds_count") - _sum(
        before, "kleur_mirror_gap_seconds_count"
    )
    fast = 'kleur_mirror_gap_seconds_bucket{le="0.001"}'
    return Result(
        window=window,
        processes=processes,
        round=round_,
        ratings_acked=acked,
        seconds=round(seconds, 2),
        resyncs=resyncs,
        resyncs_per_minute=round(resyncs / seconds * 60, 1),
        gaps_closed=gaps,
        gaps_closed_within_1ms=_sum(after, fast) - _sum(before, fast),
        fanout_p50_ms=round(percentile(latencies, 0.5) * 1000, 1),
        fanout_p95_ms=round(percentile(latencies, 0.95) * 1000, 1),
        dashboards=dashboards,
        server_cpu_ms_per_1000=round((cpu_after[0] - cpu_before[0]) * per_1000, 1),
        redis_cpu_ms_per_1000=round((cpu_after[1] - cpu_before[1]) * per_1000, 1),
    )


def table(results: list[Result]) -> str:
    rows = [
        "| window | processes | runs | ratings acked | full reads after the first"
        " | per minute | gaps that closed by themselves (≤ 1 ms) | fan-out p50 / p95 ms"
        " | CPU ms per 1,000 ratings: kleur / Redis |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for processes in sorted({r.processes for r in results}):
        for window in ("off", "on"):
            runs = [r for r in results if r.window == window and r.processes == processes]
            if not runs:
                continue
            rows.append(
                f"| {window} | {processes} | {len(runs)} "
                f"| {' / '.join(str(r.ratings_acked) for r in runs)} "
                f"| {' / '.join(str(r.resyncs) for r in runs)} "
                f"| {statistics.mean(r.resyncs_per_minute for r in runs):.0f} "
                f"| {' / '.join(f'{r.gaps_closed} ({r.gaps_closed_within_1ms})' for r in runs)} "
                f"| {statistics.median(r.fanout_p50_ms for r in runs):.0f}"
                f" / {statistics.median(r.fanout_p95_ms for r in runs):.0f} "
                f"| {statistics.median(r.server_cpu_ms_per_1000 for r in runs):.0f}"
                f" / {statistics.median(r.redis_cpu_ms_per_1000 for r in runs):.0f} |"
            )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=500)
    parser.add_argument("--rate", type=float, default=1000.0, help="ratings per second in all")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each configuration")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--grace", type=float, default=0.3, help="the window when on, seconds")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)
    results: list[Result] = []
    for round_ in range(1, args.rounds + 1):
        for processes in args.processes:
            for window, reorder in (("off", 0.0), ("on", args.grace)):
                result = run(window, reorder, processes, round_, args)
                print(json.dumps(asdict(result)), file=sys.stderr)
                results.append(result)
    command = " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])])
    print(table(results))
    print(f"\n`{command}`; code {code_revision()}")
    if args.out is not None:
        report = {
            "command": command,
            "code": code_revision(),
            "machine": machine_description(None),
            "phones": args.phones,
            "rate": args.rate,
            "grace_seconds": args.grace,
            "results": [asdict(r) for r in results],
        }
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
