"""A real Redis Cluster on this machine: three masters on free loopback ports.

For the tests (``tests/conftest.py``, fixture ``redis_cluster``) and the load
tests (``python -m loadtests.run --redis-cluster``).  Each node is a
``redis-server --cluster-enabled yes`` child process with its own data folder
(append-only file, cluster config file); ``redis-cli --cluster create`` splits
the 16384 hash slots over them, with no replicas.  Nothing here is for
production: there, the operator runs the cluster (docs/operations.md).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis

from server.embedded_redis import RedisServer, free_port

#: Milliseconds a node may be unreachable before the others mark it failed.
NODE_TIMEOUT_MS = 5000


class ClusterNode(RedisServer):
    """One ``redis-server`` with cluster mode on; otherwise a ``RedisServer``."""

    def __init__(self, *, data_dir: Path, appendfsync: str) -> None:
        super().__init__(data_dir=data_dir, appendfsync=appendfsync)
        # The nodes talk to each other on a second port, by default the client
        # port + 10000, which is out of range (or taken) for most free ports.
        self.bus_port = free_port()

    def _command(self, binary: str) -> list[str]:
        return [
            *super()._command(binary),
            "--cluster-enabled", "yes",
            "--cluster-port", str(self.bus_port),
            # Relative to --dir: each node keeps its own.
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
        ]  # fmt: skip


class LocalCluster:
    """``masters`` cluster nodes in ``data_dir/node-N``; ``url`` names any one."""

    def __init__(self, *, data_dir: Path, masters: int = 3, appendfsync: str = "always") -> None:
        if masters < 3:
            raise ValueError("redis-cli --cluster create needs at least 3 masters")
        self.nodes = [
            ClusterNode(data_dir=Path(data_dir) / f"node-{i + 1}", appendfsync=appendfsync)
            for i in range(masters)
        ]

    @property
    def url(self) -> str:
        """What ``KLEUR_REDIS_URL`` gets: the first node (the client finds the others)."""
        return self.nodes[0].url

    @property
    def pids(self) -> list[int]:
        return [node.pid for node in self.nodes if node.pid is not None]

    def start(self, timeout: float = 30.0) -> None:
        """Start the nodes, join them into one cluster, return once every node says ok."""
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RuntimeError("redis-cli was not found on PATH (it comes with redis-server)")
        try:
            for node in self.nodes:
                node.start()
            created = subprocess.run(
                [
                    cli, "--cluster", "create",
                    *(f"127.0.0.1:{node.port}" for node in self.nodes),
                    "--cluster-replicas", "0", "--cluster-yes",
                ],
                capture_output=True, text=True, timeout=timeout,
            )  # fmt: skip
            if created.returncode != 0:
                raise RuntimeError(f"redis-cli --cluster create failed:\n{created.stdout[-2000:]}")
            self._wait_until_ok(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def node_for_slot(self, slot: int) -> ClusterNode:
        """The node whose slot ranges hold ``slot`` (as that node's CLUSTER SLOTS says)."""
        with self._client(self.nodes[0]) as client:
            ranges = client.execute_command("CLUSTER SLOTS")
        by_port = {node.port: node for node in self.nodes}
        for first, last, master, *_ in ranges:
            if int(first) <= slot <= int(last):
                return by_port[int(master[1])]
        raise LookupError(f"slot {slot} is not served")

    def _wait_until_ok(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(self.nodes)
        while waiting:
            node = waiting[0]
            with self._client(node) as client:
                info = client.execute_command("CLUSTER INFO")
            # redis-py parses CLUSTER INFO into a dict.  "ok": every slot is
            # served; and this node must know all the others.
            if info.get("cluster_state") == "ok" and int(info["cluster_known_nodes"]) == len(
                self.nodes
            ):
                waiting.pop(0)
                continue
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster not ok within {timeout}s on port {node.port}:\n{info}")
            time.sleep(0.05)

    @staticmethod
    def _client(node: ClusterNode) -> redis.Redis:
        return redis.Redis(port=node.port, decode_responses=True, socket_timeout=5)

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
