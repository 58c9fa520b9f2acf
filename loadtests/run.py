"""The entry point: ``python -m loadtests.run --scenario NAME``.

By default it starts everything itself: a private redis-server (append-only
file, fsync every second), the kleur server process(es) and the echo server,
pinned away from the load generator when the machine has two CPUs or more.
With ``--url`` it drives servers someone else runs instead (add
``--redis-url`` for the lost-rating check and Redis figures, ``--server-pid``
for CPU and memory).

A run goes through stages: create rooms, connect dashboards, measure memory,
join phones, pick organisation types, measure memory again (idle phones),
open the round, play it (the measured window), wait for the dashboards to
show every rating, check the tallies in Redis (read through kleur's own
``RoomStore``, as the server reads them), and close.  Then the echo
ceiling is measured with the same phones and the same rating frames.
Exit status: 0 when every run was correct (whatever the speed), 1 when a
rating was lost, double-counted, unacknowledged or an error occurred, 2 for a
usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import random
import shlex
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter as now
from types import FrameType
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx

from agenda.templates import Template, load_builtin_templates
from loadtests import report as reporting
from loadtests.generator import (
    Dashboard,
    Phone,
    RatingRecord,
    RoomTarget,
    Snapshot,
    Stats,
    Wire,
    make_plan,
    play,
)
from loadtests.scenarios import Pace, Scenario, resolve
from loadtests.servers import (
    Pinning,
    Stack,
    code_revision,
    command_stats,
    cpu_seconds,
    echo_stack,
    external_stack,
    kleur_stack,
    loadavg,
    machine_busy_seconds,
    machine_description,
    pinned_self,
    raise_open_file_limit,
    rss_kb,
    self_cpu_seconds,
)
from protocol import limits
from protocol.codec import CODECS, JSON, MSGPACK
from server.serving import OPTIONS_SUMMARY
from server.store import RoomStore

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).resolve().parent / "reports"
DEFAULT_DOCS = ROOT / "docs" / "benchmarks.md"
TEMPLATE_ID = "participatiescan"

#: Connections opened at once (the server's listen backlog is 2048).
CONNECT_CONCURRENCY = 100
#: Seconds to let the servers settle before reading their memory (times --time-scale).
SETTLE_SECONDS = 1.5
#: Phones pick their organisation type within this many seconds of joining, as people
#: do (times --time-scale, at most 1): not all in the same millisecond.
ORG_SPREAD_SECONDS = 10.0
#: Longest wait for every ack after the last rating was sent, and for the dashboards.
ACK_TIMEOUT = 180.0
DASHBOARD_TIMEOUT = 30.0
#: Other processes using more than this share of one CPU in the window: disturbed.
DISTURBED_SHARE = 0.25
#: Load generator busier than this in the ceiling run: the ceiling is the generator's.
GENERATOR_BOUND_SHARE = 0.9

T = TypeVar("T")


# ------------------------------------------------------------------ options


@dataclass(frozen=True, slots=True)
class Options:
    urls: list[str]
    redis_url: str | None
    server_pids: list[int]
    scale: float
    time_scale: float
    processes: int | None
    codec: str
    pin: bool
    ceiling: bool
    seed: int
    progress: bool
    #: Start a 3-master Redis Cluster (with --url: --redis-url is a cluster node).
    redis_cluster: bool = False

    @property
    def external(self) -> bool:
        return bool(self.urls)


PROG = "python -m loadtests.run"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Load-test kleur with simulated phones and dashboards; see docs/benchmarks.md.",
    )
    parser.add_argument(
        "--scenario",
        required=True,
        help="one-room (a), many-rooms (b), burst (c), burst-scaling (d), paced (e) or all",
    )
    parser.add_argument(
        "--url",
        action="append",
        default=[],
        help="drive this kleur websocket URL (ws://host:port/ws) instead of starting servers; "
        "repeat for several processes",
    )
    parser.add_argument("--redis-url", help="with --url: the Redis those servers use")
    parser.add_argument(
        "--redis-cluster",
        action="store_true",
        help="run on a private 3-master Redis Cluster (with --url: --redis-url names a node)",
    )
    parser.add_argument(
        "--server-pid",
        type=int,
        action="append",
        default=[],
        help="with --url: pid of a server process, for CPU and memory figures",
    )
    parser.add_argument(
        "--processes",
        type=int,
        help="server processes (burst-scaling: run 1..N); default 1, burst-scaling 3",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply rooms/participants (%(default)s)"
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiply the round's duration (%(default)s); the tests use a tiny one",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report directory")
    parser.add_argument("--codec", choices=["msgpack", "json"], default="msgpack")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the echo ceiling")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="rewrite the generated section of docs/benchmarks.md from the reports in --out",
    )
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        scenarios = resolve(args.scenario)
        if args.scale <= 0 or args.time_scale <= 0:
            raise ValueError("--scale and --time-scale must be positive")
        if args.processes is not None and args.processes < 1:
            raise ValueError("--processes must be at least 1")
        if args.url and args.processes is not None and args.processes != len(args.url):
            raise ValueError("with --url the process count is the number of URLs")
    except ValueError as exc:
        parser.error(str(exc))
    options = Options(
        urls=args.url,
        redis_url=args.redis_url,
        server_pids=args.server_pid,
        scale=args.scale,
        time_scale=args.time_scale,
        processes=len(args.url) if args.url else args.processes,
        codec=args.codec,
        pin=not args.no_pin,
        ceiling=not args.no_ceiling,
        seed=args.seed,
        progress=not args.quiet,
        redis_cluster=args.redis_cluster,
    )
    command = " ".join([PROG, *(shlex.quote(a) for a in argv)])
    # SIGTERM stops a run like Ctrl-C: the servers it started are stopped too.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _main(args, scenarios, options, command)
    except KeyboardInterrupt:
        print("\ninterrupted; the servers it started are stopped", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _main(
    args: argparse.Namespace, scenarios: list[Scenario], options: Options, command: str
) -> int:
    limits = raise_open_file_limit()
    pinning = Pinning.plan(options.pin)
    if options.external:
        pinning = dataclasses.replace(
            pinning, why=pinning.why + "; the --url servers are pinned by whoever started them"
        )
    all_correct = True
    for scenario in scenarios:
        spec = scenario.scaled(options.scale, options.time_scale)
        if options.processes is not None:
            spec = spec.with_processes(options.processes)
        try:
            result = run_scenario(spec, options, pinning, command, limits)
        except Exception:
            # One scenario's failure must not cost the others (with --scenario all).
            traceback.print_exc()
            print(f"{spec.name}: FAILED, no report written", file=sys.stderr)
            all_correct = False
            continue
        paths = reporting.write_outputs(result, args.out)
        all_correct &= bool(result["correct"])
        print(f"{spec.name}: {_summary(result)}", file=sys.stderr)
        if not result["correct"]:
            for run in result["runs"]:
                checks = {k: v for k, v in run["correctness"].items() if k != "error_samples"}
                print(f"  {run['processes']} process(es): {checks}", file=sys.stderr)
        print(f"  wrote {', '.join(str(p) for p in paths.values())}", file=sys.stderr)
    if args.write_docs:
        reports = reporting.load_reports(args.out)
        section = reporting.render_docs_section(reports, args.docs.parent, args.out)
        reporting.update_docs(args.docs, section)
        print(f"updated {args.docs}", file=sys.stderr)
    return 0 if all_correct else 1


def _summary(result: dict[str, Any]) -> str:
    parts = []
    for run in result["runs"]:
        parts.append(
            f"{run['processes']}p {run['ratings_per_second']:,.0f} ratings/s, ack p99 "
            f"{reporting._ms(run['ack_latency_ms']['p99'])} ms, lost "
            f"{run['correctness'].get('lost')}, errors {run['correctness']['errors']}"
        )
    return "; ".join(parts) + ("" if result["correct"] else "  — NOT CORRECT")


# ----------------------------------------------------------------- scenario


def run_scenario(
    spec: Scenario,
    options: Options,
    pinning: Pinning,
    command: str,
    nofile: tuple[int, int],
) -> dict[str, Any]:
    started = time.time()
    codec = CODECS[MSGPACK.subprotocol if options.codec == "msgpack" else JSON.subprotocol]
    runs: list[dict[str, Any]] = []
    redis_note = ""
    redis_version: str | None = None
    with pinned_self(pinning.generator), tempfile.TemporaryDirectory(prefix="kleur-bench-") as tmp:
        work = Path(tmp)
        for processes in spec.processes:
            with _stack(options, processes, pinning, work) as stack:
                redis_note = stack.redis_note
                redis_version = redis_version or _redis_version(stack)
                try:
                    run = asyncio.run(drive(spec, stack, Wire(codec), options, processes))
                except Exception:
                    _show_logs(work)
                    raise
                run["serving"] = stack.serving()
            if options.ceiling:
                with echo_stack(processes, pinning, work) as echo:
                    run["ceiling"] = asyncio.run(
                        drive_echo(spec, echo, Wire(codec), options, Pace.BURST)
                    )
                    run["ceiling"]["serving"] = echo.serving()
                    if spec.pace is Pace.PACED:
                        run["ceiling"]["paced"] = asyncio.run(
                            drive_echo(spec, echo, Wire(codec), options, Pace.PACED)
                        )
            _add_ratios(run)
            runs.append(run)
    result: dict[str, Any] = {
        "schema": reporting.SCHEMA,
        "scenario": spec.name,
        "letter": spec.letter,
        "title": spec.title,
        "description": spec.description,
        "command": command,
        "started_at": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "duration_seconds": time.time() - started,
        "scale": options.scale,
        "time_scale": options.time_scale,
        "codec": codec.subprotocol,
        "machine": machine_description(redis_version),
        "setup": {
            "code": code_revision(),
            "redis": redis_note,
            "pinning": pinning.describe(),
            "open_file_limit": list(nofile),
            "servers": "external (--url)"
            if options.external
            else "kleur serve (and the echo server) started by the runner",
            # What the runner's servers are told; what they ran on is each run's "serving".
            "uvicorn": OPTIONS_SUMMARY,
        },
        "targets_applied": list(spec.targets),
        "runs": runs,
    }
    result["targets"] = reporting.evaluate(result)
    result["correct"] = all(run["correctness"]["problems"] == 0 for run in runs)
    return result


@contextlib.contextmanager
def _stack(options: Options, processes: int, pinning: Pinning, work: Path) -> Iterator[Stack]:
    if options.external:
        # burst-scaling runs 1..N processes: the first ``processes`` URLs (and pids).
        pids = options.server_pids
        if len(pids) == len(options.urls):
            pids = pids[:processes]
        stack = external_stack(options.urls[:processes], options.redis_url, pids)
        yield dataclasses.replace(stack, redis_cluster=options.redis_cluster)
    else:
        with kleur_stack(processes, pinning, work, cluster=options.redis_cluster) as stack:
            yield stack


def _redis_version(stack: Stack) -> str | None:
    client = stack.redis_client()
    if client is None:
        return None
    try:
        return str(client.info("server").get("redis_version"))
    finally:
        client.close()


def _show_logs(work: Path) -> None:
    for log in sorted(work.glob("*.log")):
        with contextlib.suppress(OSError):
            print(f"--- {log.name} ---\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)


def _settle(options: Options) -> float:
    return max(0.2, SETTLE_SECONDS * min(1.0, options.time_scale))


def _add_ratios(run: dict[str, Any]) -> None:
    ceiling = run.get("ceiling") or {}
    ceiling_latency = ceiling.get("latency_ms") or {}
    run["ratio_to_ceiling"] = {
        "ratings_per_second": reporting.ratio(
            run["ratings_per_second"], ceiling.get("messages_per_second")
        ),
        "cpu_per_1000": reporting.ratio(
            run["cpu"].get("server_seconds_per_1000"), ceiling.get("server_cpu_seconds_per_1000")
        ),
        "memory_per_connection": reporting.ratio(
            run["memory"].get("per_participant_kib"), ceiling.get("per_connection_kib")
        ),
        "ack_p50": reporting.ratio(run["ack_latency_ms"]["p50"], ceiling_latency.get("p50")),
        "ack_p99": reporting.ratio(run["ack_latency_ms"]["p99"], ceiling_latency.get("p99")),
    }


# ----------------------------------------------------------------- progress


class Progress:
    """One line on stderr, rewritten in place (every few seconds when not a terminal)."""

    def __init__(self, name: str, stats: Stats, total: int, enabled: bool) -> None:
        self.name = name
        self.stats = stats
        self.total = total
        self.enabled = enabled
        self.stage = "start"
        self.started = now()
        self._tty = sys.stderr.isatty()
        self._task: asyncio.Task[None] | None = None
        self._last_acked = 0
        self._last_time = now()

    def __enter__(self) -> Progress:
        if self.enabled:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            self._print(final=True)

    def set(self, stage: str) -> None:
        self.stage = stage
        if self.enabled and not self._tty:
            self._print()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.25 if self._tty else 5.0)
            self._print()

    def _print(self, final: bool = False) -> None:
        s = self.stats
        t = now()
        rate = (s.acked - self._last_acked) / max(t - self._last_time, 1e-6)
        self._last_acked, self._last_time = s.acked, t
        line = (
            f"[{self.name}] {self.stage:<12} conn {s.connected:>5}  sent {s.sent:>6}/{self.total}"
            f"  acked {s.acked:>6}  {rate:>7,.0f}/s  snapshots {s.snapshots:>5}"
            f"  errors {sum(s.errors.values())}  {t - self.started:6.1f}s"
        )
        if self._tty:
            sys.stderr.write("\r" + line + ("\n" if final else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


# -------------------------------------------------------------- measurement


@dataclass(frozen=True, slots=True)
class Counters:
    at: float
    server_cpu: float | None
    redis_cpu: float | None
    machine_busy: float | None
    generator_cpu: float
    commands: Counter[str] | None


def read_counters(stack: Stack) -> Counters:
    cpu = [cpu_seconds(pid) for pid in stack.server_pids]
    commands: Counter[str] | None = None
    client = stack.redis_client()
    if client is not None:
        try:
            stats = command_stats(client)
        finally:
            client.close()
        commands = Counter(
            {
                key.removeprefix("cmdstat_"): int(value["calls"])
                for key, value in stats.items()
                if isinstance(value, dict)
            }
        )
    return Counters(
        at=now(),
        server_cpu=sum(c for c in cpu if c is not None) if cpu and None not in cpu else None,
        redis_cpu=_total_cpu(stack.redis_pids),
        machine_busy=machine_busy_seconds(),
        generator_cpu=self_cpu_seconds(),
        commands=commands,
    )


def _total_cpu(pids: list[int]) -> float | None:
    """CPU seconds of every Redis process (one per shard), None when one is unreadable."""
    cpu = [cpu_seconds(pid) for pid in pids]
    return sum(c for c in cpu if c is not None) if cpu and None not in cpu else None


def server_rss_kib(stack: Stack) -> int | None:
    sizes = [rss_kb(pid) for pid in stack.server_pids]
    if not sizes or None in sizes:
        return None
    return sum(s for s in sizes if s is not None)


def _delta(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


def _per_1000(value: float | None, count: int) -> float | None:
    return None if value is None or not count else value / count * 1000


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """No cyclic garbage collection in the load generator during a measured window.

    Thousands of connections make a full collection take up to seconds; the
    pause would stall every phone at once and show up as server latency.  The
    window is bounded, so the garbage it leaves is collected right after.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


class LoopLag:
    """How late the generator's event loop wakes up: its own contribution to latency."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def __enter__(self) -> LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            before = now()
            await asyncio.sleep(self.interval)
            self.samples.append(max(0.0, (now() - before - self.interval) * 1000))


async def bounded(work: Iterable[Awaitable[T]], limit: int) -> list[T | BaseException]:
    semaphore = asyncio.Semaphore(limit)

    async def one(item: Awaitable[T]) -> T:
        async with semaphore:
            return await item

    return await asyncio.gather(*(one(w) for w in work), return_exceptions=True)


def _failures(results: list[Any], stats: Stats, kind: str) -> int:
    failed = 0
    for result in results:
        if isinstance(result, BaseException):
            failed += 1
            stats.error(kind, repr(result))
    return failed


# -------------------------------------------------------------------- rooms


async def create_rooms(http_urls: list[str], count: int, people: int) -> list[RoomTarget]:
    # Every simulated phone is one of the people expected (a room expecting fewer
    # would make the rest wait for a facilitator the load test does not play).
    fits = people <= limits.MAX_EXPECTED_PEOPLE
    request = {
        "template": TEMPLATE_ID,
        "expected_people": people if fits else limits.MAX_EXPECTED_PEOPLE,
        "admission": fits,
    }
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(index: int) -> RoomTarget:
            base = http_urls[index % len(http_urls)]
            response = await client.post(f"{base}/api/rooms", json=request)
            if response.status_code != 201:
                raise RuntimeError(f"creating a room: {response.status_code} {response.text}")
            body = response.json()
            join_token = parse_qs(urlsplit(body["join_url"]).query).get("t", [None])[0]
            return RoomTarget(index, body["code"], body["facilitator_token"], join_token)

        results = await bounded((one(i) for i in range(count)), 20)
    rooms = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        rooms.append(result)
    return rooms


# -------------------------------------------------------------------- drive


async def drive(
    spec: Scenario, stack: Stack, wire: Wire, options: Options, processes: int
) -> dict[str, Any]:
    """One full run of a scenario against running servers; raw figures and checks."""
    template = load_builtin_templates()[TEMPLATE_ID]
    stats = Stats()
    rng = random.Random(options.seed)
    urls = stack.ws_urls
    total = spec.participants * len(template.norms)
    label = spec.name if len(spec.processes) == 1 else f"{spec.name} ×{processes}"
    with Progress(label, stats, total, options.progress) as progress:
        progress.set("rooms")
        rooms = await create_rooms(stack.http_urls, spec.rooms, spec.participants_per_room)
        dashboards = [Dashboard(room, urls[room.index % len(urls)], wire, stats) for room in rooms]
        progress.set("dashboards")
        results = await bounded((d.join() for d in dashboards), CONNECT_CONCURRENCY)
        _failures(results, stats, "dashboard_gave_up")  # tried again when opening the round
        await asyncio.sleep(_settle(options))
        rss_before = server_rss_kib(stack)

        phones = [
            Phone(i, rooms[i // spec.participants_per_room], urls[i % len(urls)], wire, stats)
            for i in range(spec.participants)
        ]
        plans = [make_plan(spec, template, i, len(phones), rng) for i in range(len(phones))]
        progress.set("join")
        results = await bounded((p.join() for p in phones), CONNECT_CONCURRENCY)
        joined = [
            (phone, plan)
            for phone, plan, result in zip(phones, plans, results, strict=True)
            if not isinstance(result, BaseException)
        ]
        _failures(results, stats, "gave_up_joining")
        progress.set("org type")
        spread = ORG_SPREAD_SECONDS * min(1.0, options.time_scale)
        await asyncio.gather(
            *(_pick_org(phone, plan.org_type, rng.uniform(0, spread)) for phone, plan in joined)
        )
        await asyncio.gather(*(phone.drained(ACK_TIMEOUT) for phone, _ in joined))
        await asyncio.sleep(_settle(options))
        rss_idle = server_rss_kib(stack)

        progress.set("open round")
        results = await bounded((d.open_round() for d in dashboards), 50)
        if _failures(results, stats, "round_not_opened") == len(dashboards):
            raise RuntimeError(f"no round could be opened: {stats.samples[:3]}")
        # A room whose round could not be opened sits this one out (counted as an error).
        closed = {d.room.index for d, r in zip(dashboards, results, strict=True) if r is not None}
        joined = [(phone, plan) for phone, plan in joined if phone.room.index not in closed]
        notes_before = sum(p.notes for p in phones)

        progress.set("round")
        before = read_counters(stack)
        loadavg_before = loadavg()
        start = now()
        with no_gc(), LoopLag() as lag:
            played = await asyncio.gather(
                *(play(phone, plan, start) for phone, plan in joined), return_exceptions=True
            )
            _failures(played, stats, "phone_failed")
            drained = await asyncio.gather(*(phone.drained(ACK_TIMEOUT) for phone, _ in joined))
        after = read_counters(stack)

        progress.set("dashboards")
        records = [r for phone in phones for r in phone.records]
        expected = _expected_received(records)
        await asyncio.gather(
            *(
                d.wait_until(_shows(expected.get(d.room.index, {})), DASHBOARD_TIMEOUT)
                for d in dashboards
                if d.connected
            )
        )
        progress.set("verify")
        correctness = await verify(stack, rooms, phones, records, dashboards, expected, stats)
        correctness["unacknowledged_at_timeout"] = drained.count(False)
        progress.set("close")
        await bounded((p.close() for p in phones), 500)
        await bounded((d.close() for d in dashboards), 500)

    acked = [r for r in records if r.acked is not None]
    end = max((r.acked for r in acked if r.acked is not None), default=start)
    window = max(end - start, 1e-6)
    dash = reporting.dashboard_latencies(records, {d.room.index: d.snapshots for d in dashboards})
    server_cpu = _delta(after.server_cpu, before.server_cpu)
    redis_cpu = _delta(after.redis_cpu, before.redis_cpu)
    generator_cpu = after.generator_cpu - before.generator_cpu
    busy = _delta(after.machine_busy, before.machine_busy)
    ours = sum(v for v in (server_cpu, redis_cpu, generator_cpu) if v is not None)
    measured_span = after.at - before.at
    other = None if busy is None else max(0.0, busy - ours) / measured_span
    commands = _command_delta(before.commands, after.commands)
    first_send = min((r.sent for r in records), default=start)
    return {
        "processes": processes,
        "rooms": len(rooms),
        "participants": len(phones),
        "joined": len(joined),
        "dashboards": len(dashboards),
        "pace": spec.pace.value,
        "window_seconds": window,
        "offered_per_second": spec.offered_per_second if spec.pace is Pace.PACED else None,
        "ratings": {
            "sent": len(records),
            "acknowledged": len(acked),
            "applied": sum(1 for r in acked if not r.duplicate),
            "duplicates": sum(1 for r in acked if r.duplicate),
            "first": sum(1 for r in records if r.first),
            "rerates": sum(1 for r in records if not r.first),
            "resent_after_reconnect": sum(1 for r in records if r.resent),
            "retried_after_error": sum(1 for r in records if r.retried),
        },
        "other_commands": {"put_note": sum(p.notes for p in phones) - notes_before},
        "reconnects": stats.reconnects,
        "outbox_retries": stats.retries,
        "extra_acks": stats.extra_acks,
        "ratings_per_second": len(acked) / max(end - first_send, 1e-6),
        "ack_latency_ms": reporting.percentiles(reporting.ack_latencies_ms(records)),
        "dashboard_latency_ms": {
            **reporting.percentiles([latency for _, latency in dash.samples]),
            "never_shown": dash.never_shown,
            "shown_before_sent": dash.early,
            "resent_excluded": dash.resent_excluded,
        },
        "snapshots": sum(len(d.snapshots) for d in dashboards),
        "cpu": {
            "server_seconds": server_cpu,
            "server_seconds_per_1000": _per_1000(server_cpu, len(acked)),
            "server_share_of_one_cpu": None if server_cpu is None else server_cpu / measured_span,
            "redis_seconds": redis_cpu,
            "redis_seconds_per_1000": _per_1000(redis_cpu, len(acked)),
            "generator_seconds": generator_cpu,
            "generator_share_of_one_cpu": generator_cpu / measured_span,
        },
        "memory": {
            "server_rss_before_kib": rss_before,
            "server_rss_idle_kib": rss_idle,
            "idle_participants": len(joined),
            "per_participant_kib": (
                None
                if rss_before is None or rss_idle is None or not joined
                else (rss_idle - rss_before) / len(joined)
            ),
        },
        "redis": {
            "commands": None if commands is None else sum(commands.values()),
            "per_rating": (
                None if commands is None or not acked else sum(commands.values()) / len(acked)
            ),
            "by_command": None if commands is None else dict(commands.most_common(15)),
            "note": "commands run inside Lua scripts are counted, as is each EVALSHA; "
            "INFO calls of the runner are left out",
        },
        "generator": {
            "loop_lag_ms": reporting.percentiles(lag.samples),
            "pacing_lag_ms": reporting.percentiles([r.lag * 1000 for r in records]),
        },
        "disturbance": {
            "loadavg_before": loadavg_before,
            "other_cpu_share": other,
            "disturbed": other is not None and other > DISTURBED_SHARE,
        },
        "correctness": correctness,
        "series": reporting.time_series(
            records,
            dash.samples,
            start,
            max([end, start + 1e-3, *(sent + ms / 1000 for sent, ms in dash.samples)]),
        ),
    }


async def _pick_org(phone: Phone, org: str, delay: float) -> None:
    await asyncio.sleep(delay)
    await phone.set_org_type(org)


def _shows(want: dict[str, int]) -> Callable[[Snapshot], bool]:
    """A snapshot that counts at least ``want[norm]`` ratings of every norm."""
    return lambda shot: all(shot.received.get(norm, 0) >= n for norm, n in want.items())


def _command_delta(before: Counter[str] | None, after: Counter[str] | None) -> Counter[str] | None:
    if before is None or after is None:
        return None
    delta = Counter({k: v - before.get(k, 0) for k, v in after.items()})
    delta.pop("info", None)
    return +delta


def _expected_received(records: list[RatingRecord]) -> dict[int, dict[str, int]]:
    """Per room and norm: how many phones have an acknowledged rating of it."""
    raters: dict[int, dict[str, set[int]]] = {}
    for r in records:
        if r.acked is not None:
            raters.setdefault(r.room, {}).setdefault(r.norm, set()).add(r.phone)
    return {room: {n: len(p) for n, p in norms.items()} for room, norms in raters.items()}


async def verify(
    stack: Stack,
    rooms: list[RoomTarget],
    phones: list[Phone],
    records: list[RatingRecord],
    dashboards: list[Dashboard],
    expected_received: dict[int, dict[str, int]],
    stats: Stats,
) -> dict[str, Any]:
    """Acknowledged ratings against the tallies stored in Redis.

    The tallies are read with kleur's ``RoomStore.read_room``: the room's
    current round (the one the runner opened) and its organisation counts, as
    every view of the server gets them.

    Exact where every rating is acknowledged.  A rating sent but never
    acknowledged may or may not be stored; a norm of a room with such a rating
    is then checked on its total only (at least every phone with an
    acknowledged rating, at most also those with only unacknowledged ones).
    """
    unacknowledged = sum(1 for r in records if r.acked is None)
    result: dict[str, Any] = {
        "checked_in_redis": False,
        "unacknowledged": unacknowledged,
        "errors": sum(stats.errors.values()),
        "error_kinds": dict(stats.errors),
        "error_samples": stats.samples,
    }
    by_phone: dict[tuple[int, str], list[RatingRecord]] = {}
    for r in records:
        by_phone.setdefault((r.phone, r.norm), []).append(r)
    # Per (room, norm): phones certain to be counted, phones that may be, and exact values.
    certain: Counter[tuple[int, str]] = Counter()
    maybe: Counter[tuple[int, str]] = Counter()
    uncertain: set[tuple[int, str]] = set()
    want: Counter[tuple[int, str, str]] = Counter()
    for ratings in by_phone.values():
        ratings.sort(key=lambda r: r.seq)
        pair = (ratings[0].room, ratings[0].norm)
        acked = [r for r in ratings if r.acked is not None]
        if acked:
            certain[pair] += 1
            if ratings[-1].acked is None:
                uncertain.add(pair)
            value = acked[-1].value
            want[(*pair, "dk" if value is None else str(value))] += 1
        else:
            maybe[pair] += 1
            uncertain.add(pair)
    last_shown = {d.room.index: d.snapshots[-1].received if d.snapshots else {} for d in dashboards}
    result["dashboard_final_mismatch"] = sum(
        max(0, n - last_shown.get(room, {}).get(norm, 0))
        + max(0, last_shown.get(room, {}).get(norm, 0) - n - maybe[(room, norm)])
        for room, norms in expected_received.items()
        for norm, n in norms.items()
    )
    async with stack.room_store() as store:
        if store is None:
            result["problems"] = _problems(result)
            return result
        stored, stored_orgs = await _stored_counts(store, rooms)
    lost = double = 0
    for key in set(want) | set(stored):
        if key[:2] not in uncertain:
            lost += max(0, want[key] - stored[key])
            double += max(0, stored[key] - want[key])
    stored_total: Counter[tuple[int, str]] = Counter()
    for (room_index, norm, _), count in stored.items():
        stored_total[(room_index, norm)] += count
    for pair in uncertain:
        lost += max(0, certain[pair] - stored_total[pair])
        double += max(0, stored_total[pair] - certain[pair] - maybe[pair])
    # Organisation types: exact when every phone's choice was acknowledged.
    want_orgs: Counter[tuple[int, str]] = Counter(
        (p.room.index, p.org_type) for p in phones if p.org_type is not None
    )
    unconfirmed_orgs = sum(1 for p in phones if p.org_type is None)
    org_diff = sum(abs(want_orgs[k] - stored_orgs[k]) for k in set(want_orgs) | set(stored_orgs))
    result.update(
        checked_in_redis=True,
        expected_in_redis=sum(want.values()),
        stored_in_redis=sum(stored.values()),
        lost=lost,
        double_counted=double,
        norms_checked_on_total_only=len(uncertain),
        org_mismatch=org_diff if not unconfirmed_orgs else max(0, org_diff - unconfirmed_orgs),
        org_unconfirmed=unconfirmed_orgs,
    )
    result["problems"] = _problems(result)
    return result


async def _stored_counts(
    store: RoomStore, rooms: list[RoomTarget]
) -> tuple[Counter[tuple[int, str, str]], Counter[tuple[int, str]]]:
    """Per (room, norm, value) the stored count of ratings, and per (room, org type) phones.

    Values are spelled as ``verify`` spells them: the rating, or "dk" for "don't know".
    A room that is gone counts nothing (every rating of it is then lost).
    """
    stored: Counter[tuple[int, str, str]] = Counter()
    stored_orgs: Counter[tuple[int, str]] = Counter()
    results = await bounded((store.read_room(room.code) for room in rooms), 50)
    for target, data in zip(rooms, results, strict=True):
        if isinstance(data, BaseException):
            raise data
        if data is None:
            continue
        for norm, counts in data.tallies.items():
            for value, count in counts.items():
                if count:
                    stored[(target.index, norm, "dk" if value is None else str(value))] = count
        for org, count in data.org_counts.items():
            stored_orgs[(target.index, org)] = count
    return stored, stored_orgs


def _problems(result: dict[str, Any]) -> int:
    keys = ("lost", "double_counted", "org_mismatch", "unacknowledged", "dashboard_final_mismatch")
    return int(sum(result.get(k, 0) for k in keys) + result["errors"])


# --------------------------------------------------------------------- echo


async def drive_echo(
    spec: Scenario, stack: Stack, wire: Wire, options: Options, pace: Pace
) -> dict[str, Any]:
    """The ceiling: the same phones and rating frames against the echo server."""
    template = load_builtin_templates()[TEMPLATE_ID]
    stats = Stats()
    rng = random.Random(options.seed)
    plain = dataclasses.replace(
        spec, pace=pace, rerate_share=0.0, note_share=0.0, reconnect_share=0.0
    )
    room = RoomTarget(0, "ECHO22", "-", None)
    urls = stack.ws_urls
    phones = [
        Phone(i, room, urls[i % len(urls)], wire, stats, echo=True)
        for i in range(spec.participants)
    ]
    plans = [_echo_plan(plain, template, i, len(phones), rng) for i in range(len(phones))]
    label = f"ceiling ×{len(urls)}" + (" paced" if pace is Pace.PACED else "")
    with Progress(label, stats, len(phones) * len(template.norms), options.progress) as progress:
        rss_before = server_rss_kib(stack)
        progress.set("connect")
        results = await bounded((p.connect() for p in phones), CONNECT_CONCURRENCY)
        _failures(results, stats, "connect_failed")
        await asyncio.sleep(_settle(options))
        rss_idle = server_rss_kib(stack)
        progress.set("echo")
        before = read_counters(stack)
        start = now()
        with no_gc():
            await asyncio.gather(
                *(play(p, plan, start) for p, plan in zip(phones, plans, strict=True))
            )
            await asyncio.gather(*(p.drained(ACK_TIMEOUT) for p in phones))
        after = read_counters(stack)
        progress.set("close")
        await bounded((p.close() for p in phones), 500)
    records = [r for p in phones for r in p.records]
    replies = [r for r in records if r.acked is not None]
    end = max((r.acked for r in replies if r.acked is not None), default=start)
    span = after.at - before.at
    server_cpu = _delta(after.server_cpu, before.server_cpu)
    generator_share = (after.generator_cpu - before.generator_cpu) / span
    return {
        "pace": pace.value,
        "connections": len(phones),
        "messages": len(replies),
        "lost": len(records) - len(replies),
        "errors": sum(stats.errors.values()),
        "messages_per_second": len(replies) / max(end - start, 1e-6),
        "offered_per_second": plain.offered_per_second if pace is Pace.PACED else None,
        "latency_ms": reporting.percentiles(reporting.ack_latencies_ms(records)),
        "server_cpu_seconds_per_1000": _per_1000(server_cpu, len(replies)),
        "server_share_of_one_cpu": None if server_cpu is None else server_cpu / span,
        "generator_share_of_one_cpu": generator_share,
        "generator_bound": generator_share > GENERATOR_BOUND_SHARE,
        "per_connection_kib": (
            None
            if rss_before is None or rss_idle is None or not phones
            else (rss_idle - rss_before) / len(phones)
        ),
        "frame_bytes": len(wire.rate(1, template.norms[0].id, 5)),
    }


def _echo_plan(spec: Scenario, template: Template, i: int, n: int, rng: random.Random) -> Any:
    plan = make_plan(spec, template, i, n, rng)
    return dataclasses.replace(plan, drop_after=None)


if __name__ == "__main__":
    sys.exit(main())
