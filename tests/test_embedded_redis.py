"""The embedded Redis: durable across a crash, stoppable, and never left behind.

Every test starts its own ``redis-server`` on a free port with its data in
``tmp_path``; none touches a Redis that may already run on this machine.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from server.embedded_redis import (
    LOCK_FILE,
    DataDirInUseError,
    RedisNotInstalledError,
    RedisServer,
    find_redis_server,
    free_port,
)


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (dead, not yet reaped) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (macOS): ask the kernel instead
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    # The state follows the command name, which is in parentheses and may hold spaces.
    return stat.rpartition(")")[2].split()[0] != "Z"


def wait_until_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while process_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    srv = RedisServer(data_dir=tmp_path / "redis")
    yield srv
    srv.kill()
    srv.stop()  # gives the folder's lock back


def client(srv: RedisServer) -> redis.Redis:
    return redis.Redis.from_url(srv.url, socket_timeout=2)


def test_acknowledged_write_survives_a_crash(server: RedisServer) -> None:
    server.start()
    port = server.port
    with client(server) as r:
        assert r.set("vote", "green")
    server.kill()
    assert not server.is_running()

    server.restart()
    assert server.port == port
    assert server.url == f"redis://127.0.0.1:{port}/0"
    with client(server) as r:
        assert r.get("vote") == b"green"


def test_stop_is_idempotent_and_leaves_no_process(server: RedisServer) -> None:
    server.stop()  # before start: nothing to do
    server.start()
    pid = server.pid
    assert pid is not None and process_alive(pid)
    server.stop()
    server.stop()
    assert not server.is_running()
    assert server.pid is None
    assert not process_alive(pid)


def test_graceful_stop_keeps_data(server: RedisServer) -> None:
    with server, client(server) as r:
        r.set("k", "v")
    assert not server.is_running()
    server.start()
    with client(server) as r:
        assert r.get("k") == b"v"


def test_starting_twice_is_an_error(server: RedisServer) -> None:
    server.start()
    with pytest.raises(RuntimeError, match="already running"):
        server.start()


def test_busy_port_fails_with_the_log(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        srv = RedisServer(data_dir=tmp_path, port=port)
        with pytest.raises(RuntimeError, match="Address already in use"):
            srv.start(timeout=5)
        assert not srv.is_running()


def test_missing_binary_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RedisNotInstalledError, match="apt-get install redis-server"):
        find_redis_server()
    with pytest.raises(RedisNotInstalledError):
        RedisServer(data_dir=tmp_path).start()


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_redis_dies_with_a_killed_parent(tmp_path: Path) -> None:
    # A parent that is SIGKILLed runs no clean-up at all: only the kernel's
    # parent-death signal can stop its Redis.
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from server.embedded_redis import RedisServer
        srv = RedisServer(data_dir=Path({str(tmp_path)!r}))
        srv.start()
        print(srv.pid, flush=True)
        time.sleep(60)
        """
    )
    root = Path(__file__).resolve().parent.parent
    with subprocess.Popen(
        [sys.executable, "-c", script], cwd=root, stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout is not None
            redis_pid = int(parent.stdout.readline())
            assert process_alive(redis_pid)
        finally:
            parent.send_signal(signal.SIGKILL)
    assert wait_until_gone(redis_pid), "redis-server outlived its parent"


def test_a_second_server_on_one_folder_is_refused_naming_the_first(tmp_path: Path) -> None:
    """Two Redis on one append-only file lose writes: the second must not start."""
    first = RedisServer(data_dir=tmp_path / "redis")
    second = RedisServer(data_dir=tmp_path / "redis")
    first.start()
    try:
        with pytest.raises(DataDirInUseError) as refused:
            second.start()
        assert refused.value.holder == os.getpid()
        assert str(tmp_path / "redis") in str(refused.value)
        assert not second.is_running()
        assert first.is_running()
        # A crash and a start again are the same owner: still its folder.
        first.kill()
        with pytest.raises(DataDirInUseError):
            second.start()
        first.start()
        with pytest.raises(DataDirInUseError):
            second.start()
    finally:
        first.stop()
    second.start()  # stopped: the folder is free again
    second.stop()


def test_a_failed_first_start_gives_the_folder_back(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        srv = RedisServer(data_dir=tmp_path, port=squatter.getsockname()[1])
        with pytest.raises(RuntimeError, match="Address already in use"):
            srv.start(timeout=5)
    other = RedisServer(data_dir=tmp_path)
    other.start()
    other.stop()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/PID/fd")
def test_redis_holds_the_lock_too(server: RedisServer) -> None:
    """Should kleur die first, its Redis keeps the folder locked until it exits."""
    server.start()
    assert server.pid is not None
    held = {os.path.realpath(fd) for fd in Path(f"/proc/{server.pid}/fd").iterdir()}
    assert str(server.data_dir / LOCK_FILE) in held


def test_another_process_is_refused_while_one_holds_the_folder(tmp_path: Path) -> None:
    holder = RedisServer(data_dir=tmp_path)
    holder.start()
    try:
        script = textwrap.dedent(
            f"""
            import sys
            from pathlib import Path
            from server.embedded_redis import DataDirInUseError, RedisServer
            try:
                RedisServer(data_dir=Path({str(tmp_path)!r})).start()
            except DataDirInUseError as exc:
                print(exc.holder)
                sys.exit(0)
            sys.exit("started a second Redis on the folder")
            """
        )
        root = Path(__file__).resolve().parent.parent
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == str(os.getpid())
    finally:
        holder.stop()
