"""The load tests, tiny: every scenario against real servers, checked for correctness only.

Each scenario runs through the real entry point (``python -m loadtests.run``)
at a scale of a few dozen phones and a round of seconds, against a private
redis-server and real ``kleur serve`` processes started by the runner.  The
assertions are about correctness: every rating acknowledged, none lost or
counted twice in Redis, no errors, the report files written and readable, and
the event loop the servers said they ran on in the report.  Never about speed: this machine's speed is nobody's business here.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from agenda.templates import load_builtin_templates
from loadtests import report
from loadtests.generator import RatingRecord, Snapshot, Wire, make_plan
from loadtests.scenarios import SCENARIOS, Pace, resolve
from protocol.codec import JSON, MSGPACK, Codec
from protocol.messages import Rate

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = load_builtin_templates()["participatiescan"]
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
RUN_TIMEOUT = 240
UVLOOP_HTTPTOOLS = {
    "event_loop": "uvloop",
    "event_loop_class": "uvloop.Loop",
    "http_parser": "httptools",
    "http_protocol_class": "HttpToolsProtocol",
}

# --------------------------------------------------------------- pure parts


@pytest.mark.parametrize("codec", [MSGPACK, JSON], ids=["msgpack", "json"])
@pytest.mark.parametrize("value", [0, 7, 10, None])
def test_fast_rating_frame_is_what_the_codec_makes(codec: Codec, value: int | None) -> None:
    wire = Wire(codec)
    for round_ in (1, 3):
        assert wire.rate(123456, "samenwerking", value, round_) == codec.encode(
            Rate(123456, "samenwerking", value, round_)
        )
    assert codec.decode_client(wire.rate(9, "x-y", value)) == Rate(9, "x-y", value)


def test_percentiles_are_nearest_rank() -> None:
    figures = report.percentiles([float(v) for v in range(1, 101)])
    assert (figures["p50"], figures["p95"], figures["p99"], figures["max"]) == (50, 95, 99, 100)
    assert report.percentiles([])["p99"] is None


def _rating(
    phone: int, norm: str, sent: float, acked: float, *, first: bool = True
) -> RatingRecord:
    return RatingRecord(phone, 0, norm, 5, 1, first, sent=sent, acked=acked)


def test_dashboard_latency_counts_the_kth_acked_rating_in_the_first_snapshot_with_k() -> None:
    ratings = [
        _rating(1, "a", sent=0.00, acked=0.01),
        _rating(2, "a", sent=0.02, acked=0.03),
        _rating(3, "a", sent=0.50, acked=0.51),
        _rating(2, "a", sent=0.60, acked=0.61, first=False),  # a re-rate: not counted
    ]
    shots = [
        Snapshot(0.10, 2, 3, {"a": 1}),
        Snapshot(0.30, 3, 3, {"a": 2}),
        Snapshot(0.40, 3, 3, {"a": 2}),
        Snapshot(0.70, 4, 3, {"a": 3}),
    ]
    result = report.dashboard_latencies(ratings, {0: shots})
    assert [round(ms) for _, ms in result.samples] == [100, 280, 200]
    assert result.never_shown == 0
    missing = report.dashboard_latencies(ratings, {0: shots[:2]})
    assert missing.never_shown == 1


def test_verdict_says_by_how_much() -> None:
    cpu = report.TARGETS["cpu_ratio"]
    assert report.verdict(cpu, 1.2).startswith("met")
    assert "MISSED by 0.80 ×" in report.verdict(cpu, 2.4)
    p99 = report.TARGETS["ack_p99"]
    assert "MISSED by 25 ms" in report.verdict(p99, 75.0)
    assert "1.5× the limit" in report.verdict(p99, 75.0)
    assert report.verdict(p99, None) == "not measured"


def test_docs_section_is_replaced_between_the_markers(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"# B\n\nby hand\n\n{report.DOCS_BEGIN}\nold\n{report.DOCS_END}\n\ntail\n")
    report.update_docs(docs, "new figures\n")
    text = docs.read_text()
    assert "old" not in text and "new figures" in text
    assert text.startswith("# B\n\nby hand") and text.endswith("tail\n")
    bare = tmp_path / "bare.md"
    bare.write_text("# B\n")
    report.update_docs(bare, "x\n")
    assert report.DOCS_BEGIN in bare.read_text()


def test_serving_line_says_what_was_not_read() -> None:
    said = {**UVLOOP_HTTPTOOLS}
    report_ = {"setup": {"servers": "kleur serve"}, "runs": [{"serving": [said, None]}]}
    assert "**not read**" in report.serving_line(report_)
    report_["runs"] = [{"serving": [said], "ceiling": {"serving": [said]}}]
    assert report.serving_line(report_) == (
        "event loop uvloop (uvloop.Loop), HTTP parser httptools, as each kleur process said at "
        "start-up; echo ceiling: event loop uvloop (uvloop.Loop), HTTP parser httptools"
    )
    external = {"setup": {"servers": "external (--url)"}, "runs": [{"serving": []}]}
    assert report.serving_line(external).startswith("not read: the servers were given with --url")
    older = {"setup": {"servers": "uvicorn started by the runner"}, "runs": [{}]}
    assert report.serving_line(older).startswith("not recorded")


def test_scaling_shrinks_counts_and_clock() -> None:
    many = SCENARIOS["many-rooms"].scaled(0.006, 0.1)
    assert (many.rooms, many.participants_per_room, many.window_seconds) == (3, 12, 6.0)
    paced = SCENARIOS["paced"].scaled(0.01, 0.5)
    assert paced.participants == 20
    assert paced.offered_per_second == pytest.approx(5000 * 0.01 / 0.5)
    assert SCENARIOS["burst-scaling"].with_processes(2).processes == (1, 2)
    assert SCENARIOS["burst"].with_processes(2).processes == (2,)
    assert [s.name for s in resolve("c")] == ["burst"]
    with pytest.raises(ValueError):
        resolve("nope")


def test_every_phone_rates_every_norm_once_first() -> None:
    import random

    rng = random.Random(1)
    for scenario in SCENARIOS.values():
        spec = scenario.scaled(0.01, 0.05)
        plan = make_plan(spec, TEMPLATE, 3, spec.participants, rng)
        rated = [a.norm for a in plan.actions if a.kind == "rate"]
        assert set(rated) == {n.id for n in TEMPLATE.norms}
        assert len(rated) - len(set(rated)) <= 3  # re-rates
        if spec.pace is Pace.BURST:
            assert all(a.at == 0 for a in plan.actions)
        assert all(0 <= a.at <= max(spec.window_seconds, 60) for a in plan.actions)


# ---------------------------------------------------- tiny runs, real servers


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "loadtests.run",
            *args,
            "--out",
            str(tmp_path / "reports"),
            "--quiet",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def _check_report(tmp_path: Path, name: str, processes: list[int]) -> dict[str, object]:
    out = tmp_path / "reports"
    data = json.loads((out / f"{name}.json").read_text())
    assert data["scenario"] == name
    assert data["correct"] is True
    assert [run["processes"] for run in data["runs"]] == processes
    for run in data["runs"]:
        ratings, checks = run["ratings"], run["correctness"]
        assert ratings["sent"] >= run["participants"] * len(TEMPLATE.norms)
        assert ratings["acknowledged"] == ratings["sent"], checks
        assert checks["checked_in_redis"] is True
        assert checks["lost"] == 0 and checks["double_counted"] == 0, checks
        assert checks["stored_in_redis"] == checks["expected_in_redis"]
        assert checks["unacknowledged"] == 0 and checks["errors"] == 0, checks["error_samples"]
        assert checks["org_mismatch"] == 0 and checks["dashboard_final_mismatch"] == 0
        assert run["dashboard_latency_ms"]["never_shown"] == 0
        assert run["ceiling"]["lost"] == 0 and run["ceiling"]["errors"] == 0
        # Read from each server's start-up line: kleur's processes and the echo ceiling's.
        said = [*run["serving"], *run["ceiling"]["serving"]]
        assert len(said) == 2 * run["processes"], said
        assert all(s == UVLOOP_HTTPTOOLS for s in said), said
    assert {t["key"] for t in data["targets"]} == set(SCENARIOS[name].targets)
    markdown = (out / f"{name}.md").read_text()
    assert markdown.startswith(f"# Scenario {data['letter']}")
    assert "Servers: event loop uvloop (uvloop.Loop), HTTP parser httptools, as each" in markdown
    if HAVE_MATPLOTLIB:
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return data


TINY = {
    "one-room": ["--scale", "0.01", "--time-scale", "0.05", "--no-pin"],
    "many-rooms": ["--scale", "0.006", "--time-scale", "0.05", "--no-pin"],
    "paced": ["--scale", "0.01", "--time-scale", "0.1", "--no-pin"],
    "burst-scaling": ["--scale", "0.01", "--time-scale", "0.05", "--processes", "2", "--no-pin"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TINY))
def test_tiny_scenario_is_correct(tmp_path: Path, name: str) -> None:
    result = _run(tmp_path, "--scenario", name, *TINY[name])
    assert result.returncode == 0, result.stderr[-3000:]
    data = _check_report(tmp_path, name, [1, 2] if name == "burst-scaling" else [1])
    if name == "one-room":
        run = data["runs"][0]  # type: ignore[index]
        # The phones re-rated, wrote notes and reconnected, and still nothing was lost.
        assert run["ratings"]["rerates"] > 0
        assert run["reconnects"] > 0
    if name == "many-rooms":
        assert data["runs"][0]["rooms"] == 3  # type: ignore[index]


@pytest.mark.slow
def test_burst_pinned_with_docs(tmp_path: Path) -> None:
    """--write-docs fills the marked section."""
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"# Benchmarks\n\n{report.DOCS_BEGIN}\n{report.DOCS_END}\n")
    result = _run(
        tmp_path,
        *(
            "--scenario",
            "c",
            "--scale",
            "0.01",
            "--time-scale",
            "0.05",
            "--write-docs",
            "--docs",
            str(docs),
        ),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = _check_report(tmp_path, "burst", [1])
    assert str(data["command"]).startswith("python -m loadtests.run --scenario c")
    text = docs.read_text()
    assert "### c: Burst" in text and "python -m loadtests.run --scenario c" in text
    assert "Servers: event loop uvloop (uvloop.Loop), HTTP parser httptools" in text
    assert Counter(text.splitlines())[report.DOCS_BEGIN] == 1
    if HAVE_MATPLOTLIB:
        assert "(reports/burst.png)" in text


def test_profile_summary_counts_inclusive_and_self_shares() -> None:
    from loadtests.profile import summarize

    frame = {"name": "main", "file": "/x/site-packages/uvicorn/server.py"}
    speedscope = {
        "shared": {"frames": [frame, {"name": "rate", "file": "server/store.py"}]},
        # Three samples: main>rate twice, main alone once.
        "profiles": [{"samples": [[0, 1], [0, 1], [0]], "weights": [1, 1, 1]}],
    }
    text = summarize(speedscope)
    inclusive, own = text.split("\n\n")
    assert "100.0% main (uvicorn/server.py)" in inclusive
    assert " 66.7% rate (server/store.py)" in inclusive
    assert " 66.7% rate (server/store.py)" in own and " 33.3% main (uvicorn/server.py)" in own
    assert summarize({"shared": {"frames": []}, "profiles": []}) == "no samples\n"
