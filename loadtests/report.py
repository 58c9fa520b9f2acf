"""Figures from raw records, and the outputs: JSON, a Markdown summary, a PNG plot, the docs.

Definitions (also in ``docs/benchmarks.md``):

* **ack latency**: from handing a rating frame to the socket to the arrival of
  its ``ack``.  Ratings resent after a reconnect are left out (their latency
  is the reconnect) and counted apart.
* **rating-to-dashboard latency**: per room and norm, order the phones' first
  ratings of that norm by the arrival of their acks; the k-th is *included*
  in the first snapshot (in order of arrival at the dashboard) whose
  ``received`` for that norm is at least k.  Its latency runs from the
  rating's send time to that snapshot's arrival.  Re-rates do not change
  ``received`` and are not counted.
* Percentiles are nearest-rank.
"""

from __future__ import annotations

import bisect
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.generator import RatingRecord, Snapshot

SCHEMA = 1
DOCS_BEGIN = "<!-- BEGIN GENERATED: python -m loadtests.run --write-docs -->"
DOCS_END = "<!-- END GENERATED -->"

Report = dict[str, Any]


# ---------------------------------------------------------------- analysis


def percentiles(values: Sequence[float]) -> dict[str, float | int | None]:
    """p50/p95/p99/max/mean of ``values`` (nearest rank); None when there are none."""
    ordered = sorted(values)
    n = len(ordered)

    def rank(p: float) -> float | None:
        if not n:
            return None
        return ordered[max(0, math.ceil(p / 100 * n) - 1)]

    return {
        "n": n,
        "p50": rank(50),
        "p95": rank(95),
        "p99": rank(99),
        "max": ordered[-1] if n else None,
        "mean": sum(ordered) / n if n else None,
    }


def ack_latencies_ms(records: Iterable[RatingRecord]) -> list[float]:
    return [(r.acked - r.sent) * 1000 for r in records if r.acked is not None and not r.resent]


@dataclass(frozen=True, slots=True)
class DashboardLatency:
    #: (send time, latency in ms) of every included rating.
    samples: list[tuple[float, float]]
    #: Acknowledged first ratings no snapshot ever included.
    never_shown: int
    #: Included ratings whose snapshot arrived before the rating was sent (other
    #: ratings of the same norm made up the count); counted as 0 ms.
    early: int
    resent_excluded: int


def dashboard_latencies(
    records: Iterable[RatingRecord], snapshots: dict[int, list[Snapshot]]
) -> DashboardLatency:
    """Rating-to-dashboard latency of every first rating (see the module docstring)."""
    firsts: dict[tuple[int, str], list[RatingRecord]] = {}
    for r in records:
        if r.first and r.acked is not None:
            firsts.setdefault((r.room, r.norm), []).append(r)
    samples: list[tuple[float, float]] = []
    never = early = resent = 0
    for (room, norm), ratings in firsts.items():
        ratings.sort(key=lambda r: r.acked or 0.0)
        shots = snapshots.get(room, [])
        # Running maximum of ``received``: bisect finds the first snapshot with >= k.
        running: list[int] = []
        best = 0
        for shot in shots:
            best = max(best, shot.received.get(norm, 0))
            running.append(best)
        for k, rating in enumerate(ratings, start=1):
            i = bisect.bisect_left(running, k)
            if i == len(running):
                never += 1
                continue
            if rating.resent:
                resent += 1
                continue
            latency = shots[i].at - rating.sent
            if latency < 0:
                early += 1
                latency = 0.0
            samples.append((rating.sent, latency * 1000))
    return DashboardLatency(samples, never, early, resent)


def time_series(
    records: Sequence[RatingRecord],
    dashboard: Sequence[tuple[float, float]],
    start: float,
    end: float,
) -> dict[str, Any]:
    """Per time bin of arrival: acks per second, ack p50/p99 and dashboard p99.

    Latencies are binned by when the ack (or the snapshot) arrived, so that a
    burst, sent all at once, still shows how its latency grew.
    """
    span = max(end - start, 1e-3)
    width = max(0.05, span / 120)
    bins = max(1, math.ceil(span / width))
    acks = [0] * bins
    ack_lat: list[list[float]] = [[] for _ in range(bins)]
    dash_lat: list[list[float]] = [[] for _ in range(bins)]
    for r in records:
        if r.acked is None:
            continue
        slot = min(bins - 1, max(0, int((r.acked - start) / width)))
        acks[slot] += 1
        if not r.resent:
            ack_lat[slot].append((r.acked - r.sent) * 1000)
    for sent, latency in dashboard:
        arrived = sent + latency / 1000
        dash_lat[min(bins - 1, max(0, int((arrived - start) / width)))].append(latency)
    return {
        "bin_seconds": width,
        "t": [round(i * width, 3) for i in range(bins)],
        "acks_per_second": [a / width for a in acks],
        "ack_p50_ms": [percentiles(v)["p50"] for v in ack_lat],
        "ack_p99_ms": [percentiles(v)["p99"] for v in ack_lat],
        "dashboard_p99_ms": [percentiles(v)["p99"] for v in dash_lat],
    }


def ratio(value: float | None, base: float | None) -> float | None:
    if value is None or not base:
        return None
    return value / base


# ----------------------------------------------------------------- targets


@dataclass(frozen=True, slots=True)
class Target:
    key: str
    text: str
    unit: str
    threshold: float
    #: True: the value must be at least the threshold; False: at most.
    at_least: bool
    #: The measured value from a report (None: not measured).
    measure: Callable[[Report], float | None]


def _run(report: Report, index: int = 0) -> dict[str, Any]:
    runs: list[dict[str, Any]] = report["runs"]
    return runs[index] if len(runs) > index else {}


def _scaling(report: Report) -> float | None:
    by_count = {run["processes"]: run.get("ratings_per_second") for run in report["runs"]}
    return ratio(by_count.get(2), by_count.get(1))


def _external(report: Report) -> bool:
    """Servers given with --url: possibly warm, so their memory growth says little."""
    return str(report["setup"].get("servers", "")).startswith("external")


def _worst(report: Report, get: Callable[[dict[str, Any]], float | None]) -> float | None:
    values = [v for v in (get(run) for run in report["runs"]) if v is not None]
    return max(values) if values else None


TARGETS: dict[str, Target] = {
    t.key: t
    for t in (
        Target(
            "cpu_ratio",
            "server CPU per rating ≤ 1.6 × the echo server's CPU per message",
            "×",
            1.6,
            False,
            lambda r: _run(r).get("ratio_to_ceiling", {}).get("cpu_per_1000"),
        ),
        Target(
            "ack_p99",
            "p99 ack latency ≤ 50 ms at 5,000 ratings/s offered",
            "ms",
            50.0,
            False,
            lambda r: _run(r).get("ack_latency_ms", {}).get("p99"),
        ),
        Target(
            "ack_p99_human",
            "p99 ack latency ≤ 100 ms at human pace",
            "ms",
            100.0,
            False,
            lambda r: _run(r).get("ack_latency_ms", {}).get("p99"),
        ),
        Target(
            "dashboard_p99",
            "rating-to-dashboard p99 ≤ 250 ms",
            "ms",
            250.0,
            False,
            lambda r: _run(r).get("dashboard_latency_ms", {}).get("p99"),
        ),
        Target(
            "memory",
            "resident memory per idle participant ≤ 30 KiB",
            "KiB",
            30.0,
            False,
            lambda r: (
                None
                if _external(r)
                else _worst(r, lambda run: run.get("memory", {}).get("per_participant_kib"))
            ),
        ),
        Target(
            "scaling",
            "2 processes ≥ 1.6 × one process (ratings/s)",
            "×",
            1.6,
            True,
            _scaling,
        ),
        Target(
            "correct",
            "zero lost, double-counted or unacknowledged ratings, zero errors",
            "problems",
            0.0,
            False,
            lambda r: _worst(r, lambda run: float(run.get("correctness", {}).get("problems", 0))),
        ),
    )
}


def evaluate(report: Report) -> list[dict[str, Any]]:
    """Each target of the scenario: value, met or not, and by how much."""
    results = []
    for key in report["targets_applied"]:
        target = TARGETS[key]
        value = target.measure(report)
        results.append(
            {
                "key": key,
                "target": target.text,
                "value": value,
                "unit": target.unit,
                "threshold": target.threshold,
                "met": None if value is None else _met(target, value),
                "verdict": verdict(target, value),
            }
        )
    return results


def _met(target: Target, value: float) -> bool:
    return value >= target.threshold if target.at_least else value <= target.threshold


def _num(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def verdict(target: Target, value: float | None) -> str:
    if value is None:
        return "not measured"
    shown = f"{_num(value)} {target.unit}"
    limit = f"{_num(target.threshold)} {target.unit}"
    if _met(target, value):
        return f"met: {shown} (target {'≥' if target.at_least else '≤'} {limit})"
    if target.at_least:
        share = f"{100 * value / target.threshold:.0f} % of the target" if target.threshold else ""
        return f"MISSED by {_num(target.threshold - value)} {target.unit}: {shown} ({share})"
    over = f"{value / target.threshold:.1f}× the limit" if target.threshold else ""
    return f"MISSED by {_num(value - target.threshold)} {target.unit}: {shown} {over}".strip()


# ----------------------------------------------------------------- outputs


def write_outputs(report: Report, out_dir: Path) -> dict[str, Path]:
    """``<scenario>.json``, ``<scenario>.md`` and (with matplotlib) ``<scenario>.png``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = report["scenario"]
    paths = {"json": out_dir / f"{name}.json", "markdown": out_dir / f"{name}.md"}
    png = out_dir / f"{name}.png"
    report["plot"] = png.name if plot(report, png) else None
    paths["json"].write_text(json.dumps(report, indent=1, sort_keys=False) + "\n")
    paths["markdown"].write_text(render_markdown(report))
    if report["plot"]:
        paths["png"] = png
    return paths


def load_reports(out_dir: Path) -> list[Report]:
    """Every report in ``out_dir``, in scenario-letter order."""
    reports = []
    for path in sorted(out_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("schema") == SCHEMA:
            reports.append(data)
    return sorted(reports, key=lambda r: str(r.get("letter", "z")))


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def _figure_rows(report: Report) -> list[tuple[str, list[str]]]:
    runs: list[dict[str, Any]] = report["runs"]

    def row(label: str, get: Callable[[dict[str, Any]], str]) -> tuple[str, list[str]]:
        return label, [get(run) for run in runs]

    def lat(key: str, p: str) -> Callable[[dict[str, Any]], str]:
        return lambda run: _ms(run.get(key, {}).get(p))

    def ceil(run: dict[str, Any], key: str) -> Any:
        return run.get("ceiling", {}).get(key)

    return [
        row("server processes", lambda run: _fmt(run["processes"])),
        row("rooms / participants / dashboards", lambda run: (
            f"{run['rooms']:,} / {run['participants']:,} / {run['dashboards']:,}"
        )),
        row("ratings acknowledged", lambda run: _fmt(run["ratings"]["acknowledged"])),
        row("ratings acknowledged per second", lambda run: _fmt(run["ratings_per_second"], 0)),
        row("… as share of the echo ceiling", lambda run: _pct(
            run.get("ratio_to_ceiling", {}).get("ratings_per_second")
        )),
        row("offered ratings per second (paced)", lambda run: _fmt(
            run.get("offered_per_second"), 0
        )),
        row("ack latency p50 ms", lat("ack_latency_ms", "p50")),
        row("ack latency p95 ms", lat("ack_latency_ms", "p95")),
        row("ack latency p99 ms", lat("ack_latency_ms", "p99")),
        row("rating-to-dashboard p50 ms", lat("dashboard_latency_ms", "p50")),
        row("rating-to-dashboard p95 ms", lat("dashboard_latency_ms", "p95")),
        row("rating-to-dashboard p99 ms", lat("dashboard_latency_ms", "p99")),
        row("dashboard snapshots received", lambda run: _fmt(run["snapshots"])),
        row("server CPU s per 1,000 ratings", lambda run: _fmt(
            run.get("cpu", {}).get("server_seconds_per_1000"), 3
        )),
        row("… echo CPU s per 1,000 messages", lambda run: _fmt(
            ceil(run, "server_cpu_seconds_per_1000"), 3
        )),
        row("redis-server CPU s per 1,000 ratings", lambda run: _fmt(
            run.get("cpu", {}).get("redis_seconds_per_1000"), 3
        )),
        row("server CPU busy in the window", lambda run: _pct(
            run.get("cpu", {}).get("server_share_of_one_cpu")
        )),
        row("load generator CPU busy in the window", lambda run: _pct(
            run.get("cpu", {}).get("generator_share_of_one_cpu")
        )),
        row("RSS per idle participant KiB", lambda run: _fmt(
            run.get("memory", {}).get("per_participant_kib")
        )),
        row("… echo RSS per idle connection KiB", lambda run: _fmt(
            ceil(run, "per_connection_kib")
        )),
        row("Redis commands per rating", lambda run: _fmt(
            run.get("redis", {}).get("per_rating"), 2
        )),
        row("echo ceiling messages per second", lambda run: _fmt(
            ceil(run, "messages_per_second"), 0
        )),
        row("echo ack latency p50 / p99 ms", lambda run: (
            f"{_ms(ceil(run, 'latency_ms') and ceil(run, 'latency_ms')['p50'])} / "
            f"{_ms(ceil(run, 'latency_ms') and ceil(run, 'latency_ms')['p99'])}"
        )),
        row("lost / double-counted / unacknowledged", lambda run: (
            f"{_fmt(run['correctness'].get('lost'))} / "
            f"{_fmt(run['correctness'].get('double_counted'))} / "
            f"{_fmt(run['correctness'].get('unacknowledged'))}"
        )),
        row("errors", lambda run: _fmt(run["correctness"].get("errors"))),
    ]  # fmt: skip


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _figures_table(report: Report) -> str:
    runs = report["runs"]
    header = ["figure", *(f"{run['processes']} process(es)" for run in runs)]
    if len(runs) == 1:
        header = ["figure", "value"]
    return _table(header, [[label, *values] for label, values in _figure_rows(report)])


def _targets_table(report: Report) -> str:
    rows = [[t["target"], t["verdict"]] for t in report["targets"]]
    return _table(["target", "result"], rows)


def _machine_line(machine: dict[str, Any]) -> str:
    return (
        f"{machine['nproc']} CPUs ({machine['cpu_model']}), {machine['memory']} RAM, "
        f"{machine['kernel']}; Python {machine['python']}, uvicorn {machine['uvicorn']}, "
        f"uvloop {machine.get('uvloop', 'not recorded')}, "
        f"httptools {machine.get('httptools', 'not recorded')}, "
        f"websockets {machine['websockets']}, starlette {machine['starlette']}, "
        f"redis-py {machine['redis_py']}, redis-server {machine['redis_server']}"
    )


def serving_line(report: Report) -> str:
    """Which event loop and HTTP parser the servers ran on, as each process said at start-up."""
    runs = report["runs"]
    if any("serving" not in run for run in runs):
        return "not recorded (the report is older than the runner reading it)"
    if _external(report):
        return (
            "not read: the servers were given with --url (their start-up line "
            "`kleur: event loop …` names it)"
        )
    kleur = _stacks([s for run in runs for s in run["serving"]])
    ceilings = [s for run in runs for s in (run.get("ceiling") or {}).get("serving", [])]
    line = f"{kleur}, as each kleur process said at start-up"
    if ceilings:
        line += f"; echo ceiling: {_stacks(ceilings)}"
    return line


def _stacks(said: list[dict[str, str] | None]) -> str:
    if not said or None in said:
        return "**not read** (a process printed no start-up line)"
    seen = sorted(
        {(s["event_loop"], s["event_loop_class"], s["http_parser"]) for s in said if s is not None}
    )
    return " and ".join(
        f"event loop {loop} ({loop_class}), HTTP parser {parser}"
        for loop, loop_class, parser in seen
    )


def _notes(report: Report) -> list[str]:
    notes = []
    for run in report["runs"]:
        prefix = f"{run['processes']} process(es): " if len(report["runs"]) > 1 else ""
        dist = run.get("disturbance", {})
        if dist.get("other_cpu_share") is not None:
            notes.append(
                f"{prefix}other processes on the machine used "
                f"{100 * dist['other_cpu_share']:.0f} % of one CPU during the window "
                f"(load average before: {dist.get('loadavg_before')})"
                + (" — **the run was disturbed**" if dist.get("disturbed") else "")
            )
        if run.get("pace") in ("human", "paced"):
            notes.append(
                f"{prefix}ratings/s is set by the offered load in this scenario: its share of "
                "the ceiling is headroom, not capacity"
            )
        if _external(report) and run is report["runs"][0]:
            notes.append(
                "the servers were given with --url: a server that served earlier runs reuses "
                "memory it already holds, so RSS per participant may read too low (not judged)"
            )
        gen = run.get("generator", {})
        if gen.get("loop_lag_ms"):
            notes.append(
                f"{prefix}load generator event-loop lag p99 {_ms(gen['loop_lag_ms']['p99'])} ms, "
                f"max {_ms(gen['loop_lag_ms']['max'])} ms; pacing lag p99 "
                f"{_ms(gen.get('pacing_lag_ms', {}).get('p99'))} ms"
            )
        ceiling = run.get("ceiling", {})
        if ceiling.get("generator_bound"):
            notes.append(
                f"{prefix}the echo ceiling was limited by the load generator's CPU "
                f"({_pct(ceiling.get('generator_share_of_one_cpu'))} busy), not by the server"
            )
        counts = run["ratings"]
        if counts.get("resent_after_reconnect"):
            notes.append(
                f"{prefix}{counts['resent_after_reconnect']} ratings were resent after a "
                "reconnect; they count as acknowledged but not in the latency percentiles"
            )
        if counts.get("retried_after_error"):
            notes.append(
                f"{prefix}{counts['retried_after_error']:,} ratings were refused with a "
                "retryable error and resent 1-2 s later, as the phone page does "
                f"({run.get('outbox_retries', 0):,} outbox retries); their latency includes "
                "the wait"
            )
        other = run.get("other_commands", {})
        if any(other.values()):
            notes.append(
                f"{prefix}besides ratings the window held {other.get('put_note', 0)} notes and "
                f"{run.get('reconnects', 0)} reconnects (joins); CPU and Redis figures per "
                "rating include them"
            )
        kinds = run["correctness"].get("error_kinds") or {}
        if kinds:
            listed = ", ".join(f"{kind} × {n:,}" for kind, n in sorted(kinds.items()))
            notes.append(f"{prefix}errors by kind: {listed}")
        samples = run["correctness"].get("error_samples") or []
        if samples:
            notes.append(f"{prefix}first error: {samples[0]}")
    return notes


def render_markdown(report: Report) -> str:
    parts = [
        f"# Scenario {report['letter']}: {report['title']}",
        "",
        report["description"],
        "",
        f"Command: `{report['command']}`  ",
        f"Run at {report['started_at']} in {report['duration_seconds']:.0f} s; "
        f"scale {report['scale']}, time scale {report['time_scale']}, codec {report['codec']}.",
        "",
        f"Machine: {_machine_line(report['machine'])}.  ",
        f"Code: {report['setup'].get('code', 'unknown')}.  ",
        f"Pinning: {report['setup']['pinning']['summary']}.  ",
        f"Servers: {serving_line(report)}.  ",
        f"Redis: {report['setup']['redis']}.",
        "",
        "## Figures",
        "",
        _figures_table(report),
        "",
        "## Targets",
        "",
        _targets_table(report),
        "",
    ]
    notes = _notes(report)
    if notes:
        parts += ["## Notes", "", *(f"- {n}" for n in notes), ""]
    if report.get("plot"):
        parts += [f"![latency and throughput]({report['plot']})", ""]
    return "\n".join(parts)


# --------------------------------------------------------------------- plot


def plot(report: Report, path: Path) -> bool:
    """Latency over time and throughput; False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    runs = report["runs"]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=len(runs) == 1)
    if len(runs) > 1:
        _plot_scaling(runs, top, bottom)
    else:
        _plot_timeline(runs[0], top, bottom)
    fig.suptitle(f"{report['letter']}: {report['title']}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def _plot_timeline(run: dict[str, Any], top: Any, bottom: Any) -> None:
    series = run["series"]
    t = series["t"]
    for key, label in (
        ("ack_p50_ms", "ack p50"),
        ("ack_p99_ms", "ack p99"),
        ("dashboard_p99_ms", "rating→dashboard p99"),
    ):
        points = [(x, y) for x, y in zip(t, series[key], strict=True) if y is not None]
        if points:
            top.plot(*zip(*points, strict=True), label=label, linewidth=1, marker=".")
    top.set_ylabel("latency (ms, by arrival time)")
    top.set_yscale("log")
    top.grid(True, which="both", alpha=0.3)
    top.legend(loc="upper left", fontsize=8)
    bottom.plot(t, series["acks_per_second"], label="ratings acknowledged / s", linewidth=1)
    ceiling = run.get("ceiling", {}).get("messages_per_second")
    if ceiling:
        bottom.axhline(ceiling, color="grey", linestyle="--", label="echo ceiling msg/s")
    bottom.set_xlabel("seconds since the round opened")
    bottom.set_ylabel("per second")
    bottom.grid(True, alpha=0.3)
    bottom.legend(loc="upper right", fontsize=8)


def _plot_scaling(runs: list[dict[str, Any]], top: Any, bottom: Any) -> None:
    counts = [run["processes"] for run in runs]
    for key, label in (("p50", "ack p50"), ("p99", "ack p99")):
        top.plot(counts, [run["ack_latency_ms"][key] for run in runs], marker="o", label=label)
    top.set_ylabel("ack latency (ms)")
    top.set_xticks(counts)
    top.grid(True, alpha=0.3)
    top.legend(fontsize=8)
    width = 0.35
    xs = list(range(len(runs)))
    bottom.bar(
        [x - width / 2 for x in xs],
        [run["ratings_per_second"] for run in runs],
        width,
        label="kleur ratings/s",
    )
    bottom.bar(
        [x + width / 2 for x in xs],
        [run.get("ceiling", {}).get("messages_per_second") or 0 for run in runs],
        width,
        label="echo ceiling msg/s",
    )
    bottom.set_xticks(xs, [f"{c} process(es)" for c in counts])
    bottom.set_ylabel("per second")
    bottom.grid(True, axis="y", alpha=0.3)
    bottom.legend(fontsize=8)


# --------------------------------------------------------------------- docs


def render_docs_section(reports: list[Report], docs_dir: Path, out_dir: Path) -> str:
    if not reports:
        return "No reports yet: run `python -m loadtests.run --scenario all --write-docs`."
    machine = reports[-1]["machine"]
    lines = [
        "_Generated by `python -m loadtests.run --write-docs` from the JSON reports in "
        f"`{_rel(out_dir, docs_dir.parent)}`; do not edit by hand._",
        "",
        f"Machine: {_machine_line(machine)}.",
        "",
        "### Targets",
        "",
        _table(
            ["scenario", "target", "result"],
            [
                [f"{r['letter']} {r['scenario']}", t["target"], t["verdict"]]
                for r in reports
                for t in r["targets"]
            ],
        ),
        "",
    ]
    for r in reports:
        lines += [
            f"### {r['letter']}: {r['title']}",
            "",
            f"`{r['command']}` — {r['started_at']}, scale {r['scale']}, "
            f"time scale {r['time_scale']}, {r['duration_seconds']:.0f} s, "
            f"code {r['setup'].get('code', 'unknown')}.  ",
            f"Pinning: {r['setup']['pinning']['summary']}.  ",
            f"Servers: {serving_line(r)}.  ",
            f"Redis: {r['setup']['redis']}.",
            "",
            _figures_table(r),
            "",
        ]
        lines += [f"- {n}" for n in _notes(r)]
        if r.get("plot"):
            link = _rel(out_dir / r["plot"], docs_dir)
            lines += ["", f"[Plot: latency over time and throughput]({link})"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _rel(path: Path, start: Path) -> str:
    return os.path.relpath(path.resolve(), start.resolve()).replace(os.sep, "/")


def update_docs(path: Path, section: str) -> None:
    """Replace the generated section of ``path`` (appended if the markers are missing)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{DOCS_BEGIN}\n{section}{DOCS_END}"
    pattern = re.compile(re.escape(DOCS_BEGIN) + r".*?" + re.escape(DOCS_END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
