"""Real parts for tests: a kleur server as a real ``kleur serve`` process, and helpers.

Every test gets its own redis-server (``server.embedded_redis``) on a free
port, never the machine's shared one, because fault tests kill it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from server.embedded_redis import RedisServer, free_port
from server.serving import ServingStack

ROOT = Path(__file__).resolve().parent.parent


class ServerProcess:
    """``kleur serve`` in a child process, as in production: the same uvicorn options."""

    def __init__(
        self,
        redis_url: str,
        log_path: Path,
        *,
        log_level: str = "warning",
        log_format: str = "text",
        **settings: str,
    ) -> None:
        self.redis_url = redis_url
        #: ``info`` writes uvicorn's access log too (tests that read the log).
        self.log_level = log_level
        #: ``text``: the tests read lines as a person would; tests/test_logs.py reads ``json``.
        self.log_format = log_format
        self.port = free_port()
        self.log_path = log_path
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None
        #: Where this start's output begins in the log (a restarted server appends).
        self._log_start = 0

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, timeout: float = 20.0) -> None:
        env = dict(os.environ, KLEUR_REDIS_URL=self.redis_url, PYTHONPATH=str(ROOT))
        env.update({f"KLEUR_{k.upper()}": v for k, v in self.settings.items()})
        with self.log_path.open("ab") as log:
            self._log_start = log.tell()
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "server", "serve", "--redis-url", self.redis_url,
                    "--host", "127.0.0.1", "--port", str(self.port), "--log-level", self.log_level,
                    "--log-format", self.log_format,
                ],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.http_url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server not ready: {self.log_path.read_text()[-2000:]}")

    def serving(self) -> ServingStack | None:
        """The event loop and HTTP parser this start of the server said it runs on."""
        with self.log_path.open("rb") as log:
            log.seek(self._log_start)
            return ServingStack.parse(log.read().decode(errors="replace"))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def create_room(
        self,
        template: str = "participatiescan",
        *,
        admission: bool = False,
        expected_people: int | None = None,
    ) -> dict[str, str]:
        """A room made over HTTP.  ``admission`` is off unless asked for: the
        tests of other features let phones join after the first round opened
        (as every room did before admission of devices existed), and do not
        play the facilitator admitting them; the admission tests turn it on."""
        body: dict[str, object] = {"template": template, "admission": admission}
        if expected_people is not None:
            body["expected_people"] = expected_people
        response = httpx.post(f"{self.http_url}/api/rooms", json=body)
        assert response.status_code == 201, response.text
        room: dict[str, str] = response.json()
        return room


@contextmanager
def read_only_server(folder: Path) -> Iterator[ServerProcess]:
    """A Redis and a server in ``folder``, for a module whose tests only read
    (and make a room or two), so that they share one start-up."""
    redis = RedisServer(data_dir=folder / "redis")
    redis.start()
    server = ServerProcess(redis.url, folder / "kleur.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        redis.stop()
