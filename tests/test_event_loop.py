"""kleur serves on uvloop with httptools, says so at start-up, and refuses to run without them.

The start-up line is read from the running process's own output (the loop
that runs its coroutines, the HTTP protocol uvicorn loaded), the same line an
operator sees in the log and the load tests copy into their reports.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server.embedded_redis import free_port
from server.serving import ServingStack
from tests.support import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
UVLOOP_HTTPTOOLS = ServingStack("uvloop", "uvloop.Loop", "httptools", "HttpToolsProtocol")


def test_a_running_server_says_it_runs_on_uvloop_and_httptools(kleur: ServerProcess) -> None:
    # tests.support starts `kleur serve`, as the load tests do.
    assert kleur.serving() == UVLOOP_HTTPTOOLS, kleur.log_path.read_text()
    assert httpx.get(f"{kleur.http_url}/healthz").text == "ok"


def test_the_start_up_line_reads_back() -> None:
    line = UVLOOP_HTTPTOOLS.line()
    assert (
        line == "kleur: event loop uvloop (uvloop.Loop), HTTP parser httptools (HttpToolsProtocol)"
    )
    plain = ServingStack(
        "asyncio", "asyncio.unix_events._UnixSelectorEventLoop", "h11", "H11Protocol"
    )
    # The last line counts: a log that a restarted server appended to holds both.
    assert ServingStack.parse(f"x\n{plain.line()}\nINFO y\n{line}\n") == UVLOOP_HTTPTOOLS
    assert ServingStack.parse("INFO: Started server process [1]\n") is None


@pytest.mark.parametrize("module", ["uvloop", "httptools"])
def test_serve_without_it_exits_2_before_starting_anything(tmp_path: Path, module: str) -> None:
    # A package of that name that fails to import, found before the installed one.
    shadow = tmp_path / "shadow" / module
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(f'raise ImportError("no {module} here (planted)")\n')
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLEUR_")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "shadow"), str(ROOT)])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "server",
            "serve",
            "--port",
            str(free_port()),
            "--data-dir",
            str(data_dir),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"kleur: {module} cannot be imported (no {module} here (planted)); kleur serves on "
        "uvloop and httptools: pip install 'uvicorn[standard]'"
    )
    assert not data_dir.exists(), "the embedded Redis was started anyway"
