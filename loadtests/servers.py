"""What the runner starts and measures: Redis, server processes, CPU pinning, /proc figures.

Everything here is Linux-first (``/proc``, ``sched_setaffinity``); where a
figure cannot be read it is None and the report says "not measured".
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import redis
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.cluster import RedisCluster

from loadtests.redis_cluster import LocalCluster
from server.embedded_redis import RedisServer, free_port
from server.serving import ServingStack
from server.settings import Settings
from server.store import RoomStore

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

#: What the runner starts, as ``python -m ...``: kleur exactly as ``kleur serve``
#: runs it, and the ceiling through the same uvicorn settings (``server.serving``).
KLEUR_SERVE = ("server", "serve")
ECHO_SERVE = ("loadtests.echo_app",)


# ----------------------------------------------------------------- /proc


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (all its threads), in seconds."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    # After the command name: state is field 3, utime 14 and stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_kb(pid: int) -> int | None:
    """Resident memory of a process, in KiB (``VmRSS``)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes of the machine have used since boot (``/proc/stat``)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    # cpu user nice system idle iowait irq softirq steal ...
    values = [int(v) for v in first[1:9]]
    busy = sum(values) - values[3] - values[4]
    return busy / CLOCK_TICKS


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def loadavg() -> list[float] | None:
    try:
        return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def raise_open_file_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def _memory_total() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def machine_description(redis_version: str | None) -> dict[str, object]:
    return {
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": _cpu_model(),
        "memory": _memory_total(),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "uvicorn": _version("uvicorn"),
        "uvloop": _version("uvloop"),
        "httptools": _version("httptools"),
        "websockets": _version("websockets"),
        "starlette": _version("starlette"),
        "redis_py": _version("redis"),
        "msgpack": _version("msgpack"),
        "redis_server": redis_version or "unknown",
    }


def code_revision() -> str:
    """The commit measured (``$KLEUR_BENCH_REVISION`` for a copy without ``.git``)."""
    given = os.environ.get("KLEUR_BENCH_REVISION")
    if given:
        return given
    git = ["git", "--no-optional-locks", "-C", str(ROOT)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + (" with uncommitted changes" if dirty.stdout.strip() else "")


# ---------------------------------------------------------------- pinning


@dataclass(frozen=True, slots=True)
class Pinning:
    """Which CPUs the load generator and the server side may use (None: not pinned)."""

    generator: frozenset[int] | None
    servers: frozenset[int] | None
    why: str

    @classmethod
    def plan(cls, wanted: bool) -> Pinning:
        if not wanted:
            return cls(None, None, "not pinned (--no-pin)")
        if not hasattr(os, "sched_setaffinity"):
            return cls(None, None, "not pinned: no sched_setaffinity on this platform")
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            return cls(None, None, f"not pinned: only CPU {cpus} usable")
        generator = frozenset(cpus[:1])
        servers = frozenset(cpus[1:])
        return cls(
            generator,
            servers,
            f"load generator on CPU {sorted(generator)}; uvicorn process(es), "
            f"redis-server and the echo server on CPU {sorted(servers)}",
        )

    def describe(self) -> dict[str, object]:
        return {
            "generator_cpus": sorted(self.generator) if self.generator else None,
            "server_cpus": sorted(self.servers) if self.servers else None,
            "summary": self.why,
        }


def pin_process(pid: int, cpus: frozenset[int] | None) -> None:
    """Pin every thread of ``pid`` (threads made later inherit it from theirs)."""
    if cpus is None:
        return
    tasks = Path(f"/proc/{pid}/task")
    tids = [int(t.name) for t in tasks.iterdir()] if tasks.is_dir() else [pid]
    for tid in tids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.sched_setaffinity(tid, cpus)


@contextlib.contextmanager
def pinned_self(cpus: frozenset[int] | None) -> Iterator[None]:
    """Pin this process for the duration, then give it back its CPUs."""
    if cpus is None or not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    pin_process(os.getpid(), cpus)
    try:
        yield
    finally:
        pin_process(os.getpid(), frozenset(before))


# ---------------------------------------------------------------- processes


class ServerProcess:
    """A server as a child process: ``python -m ENTRY --host --port --log-level warning``."""

    def __init__(
        self, entry: tuple[str, ...], *, log_path: Path, env: dict[str, str], args: list[str]
    ) -> None:
        self.entry = entry
        self.args = args
        self.port = free_port()
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        #: What the process said it runs on (its start-up line), once it is ready.
        self.serving: ServingStack | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def name(self) -> str:
        return " ".join(self.entry)

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", *self.entry, *self.args,
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
        ]  # fmt: skip

    def start(self, cpus: frozenset[int] | None, ready_path: str, timeout: float = 30.0) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), **self.env)
        with self.log_path.open("ab") as log:
            log_start = log.tell()  # a log of an earlier run (burst-scaling) is appended to
            self.process = subprocess.Popen(
                self.command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        pin_process(self.process.pid, cpus)  # before it starts any thread
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self._log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.http_url + ready_path, timeout=1).status_code == 200:
                    pin_process(self.process.pid, cpus)
                    self.serving = ServingStack.parse(self._log_since(log_start))
                    return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not ready within {timeout}s: {self._log_tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _log_since(self, offset: int) -> str:
        with contextlib.suppress(OSError), self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")
        return ""

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-2000:]
        return ""


@dataclass(slots=True)
class Stack:
    """The servers of one run: kleur process(es) + Redis, or given URLs."""

    ws_urls: list[str]
    http_urls: list[str]
    redis_url: str | None
    server_pids: list[int]
    redis_pid: int | None
    redis_note: str
    processes: list[ServerProcess] = field(default_factory=list)
    #: ``redis_url`` names a node of a Redis Cluster (``--redis-cluster``).
    redis_cluster: bool = False
    #: The cluster's other nodes, besides ``redis_pid``.
    other_shard_pids: list[int] = field(default_factory=list)

    @property
    def redis_pids(self) -> list[int]:
        return [pid for pid in [self.redis_pid, *self.other_shard_pids] if pid is not None]

    def serving(self) -> list[dict[str, str] | None]:
        """Per process started here, what it said it runs on (None: no start-up line)."""
        return [None if p.serving is None else p.serving.as_dict() for p in self.processes]

    def redis_client(self) -> redis.Redis | RedisCluster | None:
        """For ``INFO``: what Redis itself reports, never a room's keys (``room_store``)."""
        if self.redis_url is None:
            return None
        if self.redis_cluster:
            return RedisCluster.from_url(self.redis_url, decode_responses=True, socket_timeout=30)
        return redis.Redis.from_url(self.redis_url, decode_responses=True, socket_timeout=30)

    @contextlib.asynccontextmanager
    async def room_store(self) -> AsyncIterator[RoomStore | None]:
        """kleur's own store over a client of the runner's: rooms read as the server reads them."""
        if self.redis_url is None:
            yield None
            return
        client: aioredis.Redis = (
            AsyncRedisCluster.from_url(self.redis_url, decode_responses=True, socket_timeout=30)  # type: ignore[assignment]
            if self.redis_cluster
            else aioredis.Redis.from_url(self.redis_url, decode_responses=True, socket_timeout=30)
        )
        try:
            yield RoomStore(client, room_ttl_seconds=Settings().room_ttl_seconds)
        finally:
            await client.aclose()


def command_stats(client: redis.Redis | RedisCluster) -> dict[str, Any]:
    """``INFO commandstats``; of a cluster, the calls of every primary added up."""
    if not isinstance(client, RedisCluster):
        stats: dict[str, Any] = client.info("commandstats")
        return stats
    total: Counter[str] = Counter()
    per_node: dict[str, dict[str, Any]] = client.info(
        "commandstats", target_nodes=RedisCluster.PRIMARIES
    )
    for node_stats in per_node.values():
        for key, value in node_stats.items():
            if isinstance(value, dict):
                total[key] += int(value["calls"])
    return {key: {"calls": calls} for key, calls in total.items()}


@contextlib.contextmanager
def kleur_stack(
    processes: int, pinning: Pinning, work_dir: Path, *, cluster: bool = False
) -> Iterator[Stack]:
    """A private redis-server (AOF, fsync every second), or with ``cluster`` a
    private 3-master Redis Cluster, and ``processes`` kleur servers."""
    with tempfile.TemporaryDirectory(prefix="kleur-bench-redis-") as data_dir:
        redis_server: RedisServer | LocalCluster = (
            LocalCluster(data_dir=Path(data_dir), appendfsync="everysec")
            if cluster
            else RedisServer(data_dir=Path(data_dir), appendfsync="everysec")
        )
        servers: list[ServerProcess] = []
        try:
            redis_server.start()
            redis_pids = (
                redis_server.pids if isinstance(redis_server, LocalCluster) else [redis_server.pid]
            )
            for pid in redis_pids:
                assert pid is not None
                pin_process(pid, pinning.servers)
            env = {
                "KLEUR_REDIS_URL": redis_server.url,
                "KLEUR_REDIS_CLUSTER": "1" if cluster else "0",
                # The runner creates hundreds of rooms, and opens thousands of
                # connections (6,500 in many-rooms), from one address.
                "KLEUR_ROOMS_PER_HOUR_PER_CLIENT": "1000000",
                "KLEUR_MAX_CONNECTIONS_PER_CLIENT": "1000000",
            }
            for i in range(processes):
                server = ServerProcess(
                    KLEUR_SERVE,
                    log_path=work_dir / f"kleur-{i + 1}.log",
                    env=env,
                    args=["--redis-url", redis_server.url],
                )
                servers.append(server)
                server.start(pinning.servers, "/readyz")
            yield Stack(
                ws_urls=[s.ws_url for s in servers],
                http_urls=[s.http_url for s in servers],
                redis_url=redis_server.url,
                server_pids=[s.pid for s in servers],
                redis_pid=redis_pids[0],
                redis_note=(
                    ("private 3-master Redis Cluster" if cluster else "private redis-server")
                    + " started by the runner: appendonly yes, "
                    "appendfsync everysec (production's embedded Redis uses always)"
                ),
                processes=servers,
                redis_cluster=cluster,
                other_shard_pids=[pid for pid in redis_pids[1:] if pid is not None],
            )
        finally:
            for server in servers:
                server.stop()
            redis_server.stop()


@contextlib.contextmanager
def echo_stack(processes: int, pinning: Pinning, work_dir: Path) -> Iterator[Stack]:
    servers: list[ServerProcess] = []
    try:
        for i in range(processes):
            server = ServerProcess(
                ECHO_SERVE, log_path=work_dir / f"echo-{i + 1}.log", env={}, args=[]
            )
            servers.append(server)
            server.start(pinning.servers, "/")
        yield Stack(
            ws_urls=[s.ws_url for s in servers],
            http_urls=[s.http_url for s in servers],
            redis_url=None,
            server_pids=[s.pid for s in servers],
            redis_pid=None,
            redis_note="none",
            processes=servers,
        )
    finally:
        for server in servers:
            server.stop()


def external_stack(urls: list[str], redis_url: str | None, server_pids: list[int]) -> Stack:
    """Servers someone else started (``--url``)."""
    http = [
        u.replace("wss://", "https://").replace("ws://", "http://").rsplit("/ws", 1)[0]
        for u in urls
    ]
    redis_pid = None
    if redis_url is not None:
        with contextlib.suppress(redis.RedisError):
            client = redis.Redis.from_url(redis_url, decode_responses=True)
            try:
                info = client.info("server")
                redis_pid = (
                    int(info["process_id"])
                    if Path(f"/proc/{info['process_id']}").exists()
                    else None
                )
            finally:
                client.close()
    return Stack(
        ws_urls=urls,
        http_urls=http,
        redis_url=redis_url,
        server_pids=server_pids,
        redis_pid=redis_pid,
        redis_note="external (--redis-url); its persistence settings are the operator's",
    )
