"""Where a scenario's server time goes: a py-spy profile of one kleur process.

Starts the same stack as the runner (a private redis-server and one uvicorn
process, pinned like the runner pins them), records that process with
py-spy while ``loadtests.run`` drives the scenario against it (``--url``), and
writes the profile (speedscope JSON, for https://www.speedscope.app) and a
text summary: the functions with the largest share of samples, inclusive and
self.  The figures of such a run are slower than a plain run: py-spy samples
the process from outside and costs it some CPU.

    python -m loadtests.profile --scenario many-rooms --scale 0.5

Needs ``py-spy`` (``pip install py-spy``; in the dev dependency group) and
the right to read another process's memory (root, or ptrace allowed).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from loadtests import run
from loadtests.servers import Pinning, kleur_stack

DEFAULT_OUT = Path(__file__).resolve().parent / "reports"
#: Samples per second; py-spy's own default is 100.
SAMPLE_RATE = 100


def summarize(speedscope: dict[str, object], top: int = 40) -> str:
    """The functions with the most samples, inclusive (anywhere on the stack) and self."""
    shared = speedscope["shared"]
    assert isinstance(shared, dict)
    frames = shared["frames"]
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0.0
    profiles = speedscope["profiles"]
    assert isinstance(profiles, list)
    for profile in profiles:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            total += weight
            names = [_name(frames[index]) for index in stack]
            for name in set(names):
                inclusive[name] += weight
            if names:
                own[names[-1]] += weight
    if not total:
        return "no samples\n"
    lines = ["share  inclusive (the function or anything it called)"]
    lines += [f"{100 * w / total:5.1f}% {name}" for name, w in inclusive.most_common(top)]
    lines += ["", "share  self (the function's own code)"]
    lines += [f"{100 * w / total:5.1f}% {name}" for name, w in own.most_common(top // 2)]
    return "\n".join(lines) + "\n"


def _name(frame: dict[str, object]) -> str:
    path = str(frame.get("file", ""))
    path = path.split("site-packages/")[-1]
    path = re.sub(r"^.*/lib/python3\.\d+/", "", path)  # the standard library
    path = path.replace(str(Path(__file__).resolve().parent.parent) + "/", "")
    return f"{frame.get('name')} ({path})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.profile", description=__doc__)
    parser.add_argument("--scenario", required=True, help="a scenario name or letter")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=int, default=120, help="most seconds to record")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    options = parser.parse_args(argv)
    # Beside this Python first (a venv's bin/ is not always on PATH).
    beside = Path(sys.executable).with_name("py-spy")
    spy = str(beside) if beside.exists() else shutil.which("py-spy")
    if spy is None:
        print("loadtests.profile: py-spy not found (pip install py-spy)", file=sys.stderr)
        return 2
    options.out.mkdir(parents=True, exist_ok=True)
    name = f"profile-{options.scenario}"
    speedscope = options.out / f"{name}.speedscope.json"
    with (
        tempfile.TemporaryDirectory(prefix="kleur-profile-") as work,
        kleur_stack(1, Pinning.plan(True), Path(work)) as stack,
    ):
        assert stack.redis_url is not None
        pid = str(stack.server_pids[0])
        recorder = subprocess.Popen(
            [spy, "record", "--pid", pid, "--rate", str(SAMPLE_RATE), "--nonblocking",
             "--duration", str(options.seconds), "--format", "speedscope",
             "--output", str(speedscope)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            code = run.main(
                ["--scenario", options.scenario, "--scale", str(options.scale),
                 "--url", stack.ws_urls[0], "--redis-url", stack.redis_url,
                 "--server-pid", pid, "--no-ceiling", "--quiet",
                 "--out", str(Path(work) / "reports")]
            )  # fmt: skip
        finally:
            # Like Ctrl-C: py-spy stops sampling and writes what it has.
            recorder.send_signal(signal.SIGINT)
            recorder.wait(60)
    if not speedscope.exists():
        print("loadtests.profile: py-spy wrote no profile", file=sys.stderr)
        return 1
    command = "python -m loadtests.profile " + " ".join(argv or sys.argv[1:])
    summary = f"Command: {command}\n\n" + summarize(json.loads(speedscope.read_text()))
    (options.out / f"{name}.txt").write_text(summary)
    print(summary)
    return code


if __name__ == "__main__":
    sys.exit(main())
