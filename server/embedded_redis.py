"""A real ``redis-server`` as a child process, for ``kleur serve`` and for the tests.

The CLI uses it so that one command runs the whole service without anyone having
to set up Redis; the fault tests use it because they need a Redis they may kill.

Durability is the point of the defaults: the append-only file is on and fsynced
on every write (``appendfsync always``), so once the server has acknowledged a
vote, the vote survives a crash of Redis (``kill()`` then ``restart()``).

One data folder has one Redis: ``start()`` takes an exclusive lock
(``flock``) on ``kleur.lock`` in the folder and the object keeps it until
``stop()``, also across a ``kill()`` and the next ``start()``.  A second
``RedisServer`` on the same folder, in this process or another, is refused
with ``DataDirInUseError`` naming the holder's pid.  Two Redis processes on one
append-only file lose writes (each rewrites the file from its own memory).
The ``redis-server`` child inherits the lock's descriptor, so the folder
stays locked until this process *and* its Redis have exited; the kernel drops
the lock when the last of them dies, so a crash leaves nothing stale behind
(no pid file to guess about).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

__all__ = [
    "DataDirInUseError",
    "RedisNotInstalledError",
    "RedisServer",
    "find_redis_server",
    "free_port",
]

_INSTALL_HINT = (
    "redis-server was not found on PATH. Install it "
    "(Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) "
    "or pass --redis-url / set KLEUR_REDIS_URL."
)

#: Bytes of the log shown when Redis fails to start: enough for the fatal lines.
_LOG_TAIL_BYTES = 2000

#: prctl(2) option: signal sent to this process when its parent thread dies.
_PR_SET_PDEATHSIG = 1


class RedisNotInstalledError(RuntimeError):
    """``redis-server`` is not on PATH; the message says how to get it."""

    def __init__(self, message: str = _INSTALL_HINT) -> None:
        super().__init__(message)


class DataDirInUseError(RuntimeError):
    """Another ``RedisServer`` (another ``kleur serve``) holds the data folder's lock."""

    def __init__(self, data_dir: Path, holder: int | None) -> None:
        self.data_dir = data_dir
        self.holder = holder
        who = f"process {holder}" if holder is not None else "another process"
        super().__init__(
            f"the data folder {data_dir} is in use by {who} and its embedded Redis; "
            "stop that one, give this one another --data-dir, "
            "or run one Redis and give every process --redis-url"
        )


#: The lock file in the data folder; it holds the pid of the process that has it.
LOCK_FILE = "kleur.lock"


def _lock_data_dir(data_dir: Path) -> int:
    """An open file descriptor holding ``data_dir``'s exclusive lock, or raise."""
    path = data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip()
        os.close(fd)
        raise DataDirInUseError(data_dir, int(holder) if holder.isdigit() else None) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return fd


def find_redis_server() -> str:
    """Return the path of ``redis-server``, or raise with what to install."""
    path = shutil.which("redis-server")
    if path is None:
        raise RedisNotInstalledError()
    return path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now.

    Another process may take it before we bind it; ``RedisServer.start`` copes
    with that for ports it chose itself.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _parent_death_signal() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes Linux send SIGTERM to the child when we die.

    Without it a crashed or SIGKILLed Python leaves an orphaned Redis holding the
    port and the data directory.  libc is loaded here, before the fork, because
    loading a library in the forked child of a threaded process can deadlock.
    Elsewhere (macOS, or no usable libc) this returns None and ``stop()`` plus the
    ``atexit`` hook are the only clean-up.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        # The parent may have died between fork and prctl: then nobody would
        # ever send the signal, so act on it now.
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


# Every server that is running, so that none is garbage-collected while its
# process lives, and the interpreter stops any left at a normal exit (callers
# that forget ``stop()``, platforms without PDEATHSIG).
_live: set[RedisServer] = set()


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_live):
        server.stop(timeout=5.0)


class RedisServer:
    """One ``redis-server`` child process with its data in ``data_dir``.

    The port is fixed when the object is made, so ``url`` is known before
    ``start()`` and stays the same across ``restart()``: clients reconnect to
    the same address and find the data again (replayed from the AOF).

    Call ``start()`` from the main thread where possible: only then does Linux
    stop Redis when this process dies without running any clean-up.
    """

    def __init__(
        self,
        *,
        data_dir: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        appendonly: bool = True,
        appendfsync: str = "always",
        binary: str | None = None,
    ) -> None:
        if appendfsync not in ("always", "everysec", "no"):
            raise ValueError(f"appendfsync must be always, everysec or no, not {appendfsync!r}")
        # Absolute, because Redis changes into --dir before it opens --logfile.
        self._data_dir = Path(data_dir).absolute()
        self._host = host
        self._chosen_port = port is None
        self._port = free_port(host) if port is None else port
        self._appendonly = appendonly
        self._appendfsync = appendfsync
        self._binary = binary
        self._proc: subprocess.Popen[bytes] | None = None
        self._started_once = False
        #: The data folder's lock (``_lock_data_dir``), from ``start()`` to ``stop()``.
        self._lock_fd: int | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"redis://{host}:{self._port}/0"

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    @property
    def log_path(self) -> Path:
        return self._data_dir / "redis.log"

    @property
    def pid(self) -> int | None:
        """Process id while running, else None."""
        return self._proc.pid if self.is_running() and self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Spawn Redis and return once it answers PING; raise RuntimeError if not.

        ``DataDirInUseError`` (a RuntimeError) when another object, here or in
        another process, holds the data folder."""
        if self.is_running():
            raise RuntimeError(f"redis-server is already running on port {self._port}")
        binary = self._binary or find_redis_server()
        self._data_dir.mkdir(parents=True, exist_ok=True)
        locked_now = self._lock_fd is None
        if locked_now:
            self._lock_fd = _lock_data_dir(self._data_dir)
        try:
            self._start_with_retries(binary, timeout)
        except BaseException:
            if locked_now:
                self._unlock()
            raise

    def _start_with_retries(self, binary: str, timeout: float) -> None:
        # A port we picked ourselves can be taken by someone else before Redis
        # binds it; then pick another, but only before the first start: after
        # that, clients rely on the address staying the same.
        attempts = 3 if self._chosen_port and not self._started_once else 1
        for attempt in range(attempts):
            try:
                self._start_once(binary, timeout)
            except _PortInUseError:
                if attempt == attempts - 1:
                    raise
                self._port = free_port(self._host)
            else:
                self._started_once = True
                return

    def stop(self, timeout: float = 10.0) -> None:
        """Shut Redis down cleanly (SIGTERM), or SIGKILL it after ``timeout``.

        Safe to call any number of times, also when it never started.  Gives
        the data folder's lock back once Redis has exited.
        """
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        _live.discard(self)
        self._unlock()

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the last descriptor drops the flock
            self._lock_fd = None

    def kill(self) -> None:
        """SIGKILL Redis and reap it: a crash, as the fault tests need one.

        The data folder stays locked: this object still owns it, and the
        next ``start()`` carries on with the same folder."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _live.discard(self)

    def restart(self) -> None:
        """Start again on the same port and data dir; stops it first if running."""
        self.stop()
        self.start()

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _command(self, binary: str) -> list[str]:
        return [
            binary,
            "--port", str(self._port),
            "--bind", self._host,
            "--dir", str(self._data_dir),
            "--appendonly", "yes" if self._appendonly else "no",
            "--appendfsync", self._appendfsync,
            "--save", "",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--logfile", str(self.log_path),
        ]  # fmt: skip

    def _start_once(self, binary: str, timeout: float) -> None:
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        # PDEATHSIG fires when the *thread* that forked exits, not the process.
        # Only the main thread lives as long as the process, so from any other
        # thread (an executor, say) we rely on stop() and the atexit hook.
        preexec = (
            _parent_death_signal()
            if threading.current_thread() is threading.main_thread()
            else None
        )
        # Redis writes to the log file itself once it has parsed its arguments;
        # errors before that (a bad option) go to stderr, so that goes there too.
        with self.log_path.open("ab") as early_log:
            self._proc = subprocess.Popen(
                self._command(binary),
                stdin=subprocess.DEVNULL,
                stdout=early_log,
                stderr=early_log,
                start_new_session=False,
                preexec_fn=preexec,
                close_fds=True,
                # Redis holds the folder's lock too: should this process die
                # first, no other one starts a Redis on the folder while this
                # Redis (or its rewrite child) still writes to it.
                pass_fds=() if self._lock_fd is None else (self._lock_fd,),
            )
        _live.add(self)
        try:
            self._wait_until_ready(timeout, log_offset)
        except BaseException:
            self.kill()
            raise

    def _wait_until_ready(self, timeout: float, log_offset: int) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        client = redis.Redis(
            host=self._host,
            port=self._port,
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
            # We poll in our own loop; the client's default retries with backoff
            # would only make each poll slower.
            retry=Retry(NoBackoff(), 0),
        )
        try:
            while True:
                code = self._proc.poll()
                if code is not None:
                    tail = self._log_tail(log_offset)
                    if "Address already in use" in tail:
                        raise _PortInUseError(self._failure(f"exited with {code}", tail))
                    raise RuntimeError(self._failure(f"exited with {code}", tail))
                if self._answers(client):
                    return
                if time.monotonic() > deadline:
                    tail = self._log_tail(log_offset)
                    raise RuntimeError(self._failure(f"did not answer within {timeout}s", tail))
                time.sleep(0.02)
        finally:
            client.close()

    def _answers(self, client: redis.Redis) -> bool:
        """True once *our* process answers: another Redis on the port does not count."""
        assert self._proc is not None
        try:
            info = client.info("server")
        except redis.RedisError:  # not listening yet, or still loading the AOF
            return False
        return bool(info.get("process_id") == self._proc.pid)

    def _failure(self, what: str, tail: str) -> str:
        return (
            f"redis-server on {self._host}:{self._port} {what}. "
            f"Last lines of {self.log_path}:\n{tail or '(empty)'}"
        )

    def _log_tail(self, offset: int) -> str:
        with contextlib.suppress(OSError), self.log_path.open("rb") as log:
            size = log.seek(0, os.SEEK_END)
            log.seek(max(offset, size - _LOG_TAIL_BYTES))
            return log.read().decode("utf-8", "replace").strip()
        return ""


class _PortInUseError(RuntimeError):
    """Redis could not bind its port (someone took it after ``free_port``)."""
