"""Why ``kleur serve`` will not start, as an operator sees it: one line on stderr, 2 or 3.

Real ``kleur serve`` processes (``python -m server serve``), with the
environment an operator would set.  A bad setting stops the start before an
embedded Redis is started (its ``--data-dir`` is never created) and before
anything is logged; a folder in use or a taken port stop it with 3; an unknown
``KLEUR_*`` name that is no typo is only a warning in the log.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server.embedded_redis import free_port
from tests.test_cli import EXIT_TIMEOUT, ROOT, clean_env, output, wait_ready

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def serve(*args: str, env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", "serve", *args],
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"KLEUR_ROOM_TTL_SECONDS": "abc"},
            "kleur: KLEUR_ROOM_TTL_SECONDS='abc': use a whole number, 0 or more (default 172800)",
        ),
        (
            {"KLEUR_HEADER_TIMEOUT_SECONDS": "10s"},
            "kleur: KLEUR_HEADER_TIMEOUT_SECONDS='10s': use a number (a decimal point,"
            " not a comma), 0 or more (default 10.0)",
        ),
        (
            {"KLEUR_PUBLIC_URL": "kleur.example.org"},
            "kleur: KLEUR_PUBLIC_URL='kleur.example.org': use an absolute http(s) address"
            " without ?query or #fragment, e.g. https://kleur.example.org",
        ),
        (
            {"KLEUR_TRUSTED_PROXY": "10.0.0.5"},
            "kleur: KLEUR_TRUSTED_PROXY is not a setting; did you mean KLEUR_TRUSTED_PROXIES?"
            " (rename it, or unset it)",
        ),
        (
            {"KLEUR_TRUSTED_PROXIES": "10.0.0.1/8"},
            "kleur: KLEUR_TRUSTED_PROXIES: '10.0.0.1/8' is not an IP address or network"
            " (10.0.0.1/8 has host bits set); give addresses or CIDRs, e.g. 127.0.0.1,10.0.0.0/8",
        ),
        (
            {"KLEUR_LOG_LEVEL": "loud"},
            "kleur: KLEUR_LOG_LEVEL='loud': use one of critical, error, warning, info, debug,"
            " trace",
        ),
    ],
    ids=["int", "float", "public-url", "typo", "trusted-proxies", "log-level"],
)
def test_a_bad_setting_stops_the_start_before_redis_starts(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    data_dir = tmp_path / "data"
    result = serve("--port", str(free_port()), "--data-dir", str(data_dir), env=env)
    assert (result.returncode, result.stderr) == (2, says + "\n")
    assert result.stdout == ""  # nothing logged, nothing started
    assert not data_dir.exists(), "the embedded Redis was started before the settings were read"


def test_a_taken_port_is_said_on_stderr_and_the_log_level_comes_from_the_environment() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = serve(
            *("--port", str(port), "--redis-url", UNREACHABLE_REDIS, "--log-format", "text"),
            env={"KLEUR_LOG_LEVEL": "warning", "KLEUR_PORT": "9000"},
        )
    assert result.returncode == 3, result.stderr
    assert result.stderr == (
        f"kleur: cannot listen on 127.0.0.1:{port}: Address already in use"
        " (another process has it; choose another --port)\n"
    )
    lines = result.stdout.splitlines()
    # KLEUR_LOG_LEVEL=warning: no info lines (but kleur.startup's, logged at every
    # level); the unknown name is a warning, then uvicorn's error.
    assert "Waiting for application startup" not in result.stdout, result.stdout
    assert [line for line in lines if " INFO " in line and "kleur.startup:" not in line] == []
    assert lines[0].endswith(
        "WARNING kleur: kleur: KLEUR_PORT is not a kleur setting and is ignored;"
        " use kleur serve --port"
    ), result.stdout
    assert "address already in use" in lines[-1], result.stdout


@pytest.mark.slow
def test_a_second_serve_on_one_data_folder_is_refused(tmp_path: Path) -> None:
    """Two ``kleur serve`` with one --data-dir would run two Redis on one
    append-only file, and rooms acknowledged as created are lost at a rewrite."""
    data_dir = tmp_path / "data"
    port = free_port()
    command = [sys.executable, "-m", "server", "serve", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--log-level", "warning"]
    with (
        (tmp_path / "stdout.txt").open("wb") as out,
        (tmp_path / "stderr.txt").open("wb") as err,
        subprocess.Popen(command, cwd=ROOT, env=clean_env(), stdout=out, stderr=err) as first,
    ):
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(first, base, tmp_path)
            second = serve("--port", str(free_port()), "--data-dir", str(data_dir), env={})
            assert second.returncode == 3, second.stderr
            assert second.stderr == (
                f"kleur: the data folder {data_dir} is in use by process {first.pid} and its"
                " embedded Redis; stop that one, give this one another --data-dir,"
                " or run one Redis and give every process --redis-url\n"
            )
            # The first one did not notice.
            response = httpx.post(f"{base}/api/rooms", json={"template": "participatiescan"})
            assert response.status_code == 201, response.text

            first.send_signal(signal.SIGTERM)
            assert first.wait(EXIT_TIMEOUT) == 0, output(tmp_path)
        finally:
            if first.poll() is None:
                first.kill()
    # Stopped: the folder is free for the next one (nothing stale to clean up).
    again = [sys.executable, "-m", "server", "serve", "--port", str(port)]
    again += ["--data-dir", str(data_dir), "--log-level", "warning"]
    with (
        (tmp_path / "stdout.txt").open("wb") as out,
        (tmp_path / "stderr.txt").open("wb") as err,
        subprocess.Popen(again, cwd=ROOT, env=clean_env(), stdout=out, stderr=err) as third,
    ):
        try:
            wait_ready(third, f"http://127.0.0.1:{port}", tmp_path)
            third.send_signal(signal.SIGTERM)
            assert third.wait(EXIT_TIMEOUT) == 0, output(tmp_path)
        finally:
            if third.poll() is None:
                third.kill()
