"""``kleur serve`` as people run it: a real process, its own Redis, a clean exit.

This is an acceptance test of the whole service: with no Redis configured the
command must start one, serve the API, and on Ctrl-C or SIGTERM exit with 0 and
leave no ``redis-server`` running.  It runs ``python -m server`` so that it
needs no console script on PATH, and it never touches a Redis that may
already run on this machine.
"""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server.embedded_redis import free_port
from server.serving import ServingStack

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 20.0
EXIT_TIMEOUT = 15.0


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any KLEUR_* setting, so the defaults apply."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLEUR_")}
    env.update(extra)
    return env


def redis_children(pid: int) -> list[int]:
    """Pids of the ``redis-server`` processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = stat_file.read_text()
        except OSError:  # the process ended while we looked
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rpartition(")")[2].split()  # state, ppid, ...
        if name == "redis-server" and int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat_file.parent.name))
    return found


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports, anywhere in it (also inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.partition(".")[0])
    return found


def gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def output(tmp_path: Path) -> str:
    return "\n".join(
        f"--- {name} ---\n{(tmp_path / name).read_text(errors='replace')}"
        for name in ("stdout.txt", "stderr.txt")
        if (tmp_path / name).exists()
    )


def wait_ready(proc: subprocess.Popen[bytes], base: str, tmp_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"kleur serve exited with {proc.returncode}\n{output(tmp_path)}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"/readyz not 200 within {READY_TIMEOUT}s\n{output(tmp_path)}")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds children via /proc")
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_with_embedded_redis(tmp_path: Path, stop_signal: signal.Signals) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    command = [sys.executable, "-m", "server", "serve", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--log-level", "warning"]
    with (
        (tmp_path / "stdout.txt").open("wb") as out,
        (tmp_path / "stderr.txt").open("wb") as err,
        subprocess.Popen(command, cwd=ROOT, env=clean_env(), stdout=out, stderr=err) as proc,
    ):
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(proc, base, tmp_path)
            children = redis_children(proc.pid)
            assert len(children) == 1, f"expected one embedded redis-server, saw {children}"
            assert str(data_dir) in (tmp_path / "stdout.txt").read_text(), output(tmp_path)
            assert (data_dir / "appendonlydir").is_dir(), "the append-only file is off"
            serving = ServingStack.parse((tmp_path / "stdout.txt").read_text())
            assert serving is not None, output(tmp_path)
            assert (serving.event_loop, serving.http_parser) == ("uvloop", "httptools")

            response = httpx.post(f"{base}/api/rooms", json={"template": "participatiescan"})
            assert response.status_code == 201, response.text
            assert response.json()["code"]

            proc.send_signal(stop_signal)
            try:
                code = proc.wait(EXIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                pytest.fail(f"no exit within {EXIT_TIMEOUT}s of {stop_signal.name}")
            assert code == 0, output(tmp_path)
            # The CLI reaped its child, so it must be gone now, not in a while.
            assert gone(children[0]), "redis-server left running"
        finally:
            if proc.poll() is None:
                proc.kill()


def test_serve_without_redis_server_exits_2(tmp_path: Path) -> None:
    only_python = tmp_path / "bin"
    only_python.mkdir()
    (only_python / "python").symlink_to(sys.executable)
    result = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=clean_env(PATH=str(only_python)),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stderr
    assert "redis-server" in result.stderr
    assert "apt-get install redis-server" in result.stderr


def test_a_broken_operator_template_stops_serve_with_one_clear_line(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "regio.toml").write_text('id = "regio"\n', encoding="utf-8")
    # The Redis address is never reached: the templates are loaded first.
    command = ["serve", "--port", str(free_port()), "--redis-url", "redis://127.0.0.1:1/0"]
    result = subprocess.run(
        [sys.executable, "-m", "server", *command],
        cwd=ROOT,
        env=clean_env(KLEUR_TEMPLATE_DIR=str(folder)),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip() == (
        "kleur: template not loaded: regio.toml: language: missing required key"
    )


def test_bench_is_not_a_kleur_command() -> None:
    """The load tests run as ``python -m loadtests.run``; the service does not import them."""
    result = subprocess.run(
        [sys.executable, "-m", "server", "bench", "--scenario", "c"],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stderr
    assert "invalid choice: 'bench'" in result.stderr
    importers = [
        path.relative_to(ROOT).as_posix()
        for path in sorted((ROOT / "server").rglob("*.py"))
        if "loadtests" in imported_packages(path)
    ]
    assert importers == [], "server/ must not import the load tests"


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server", "version"],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("kleur ")
