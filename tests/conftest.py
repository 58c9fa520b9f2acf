from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtests.redis_cluster import LocalCluster
from server.embedded_redis import RedisServer
from tests.support import ServerProcess


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(data_dir=tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    """A real Redis Cluster of three masters on free ports (no replicas)."""
    with LocalCluster(data_dir=tmp_path / "cluster") as cluster:
        yield cluster


@pytest.fixture
def kleur(redis_server: RedisServer, tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(redis_server.url, tmp_path / "kleur-1.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kleur_pair(
    redis_server: RedisServer, tmp_path: Path
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two server processes sharing one Redis."""
    servers = (
        ServerProcess(redis_server.url, tmp_path / "kleur-1.log"),
        ServerProcess(redis_server.url, tmp_path / "kleur-2.log"),
    )
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()
