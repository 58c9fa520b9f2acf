"""Backing up and restoring Redis as docs/operations.md tells an operator to.

The guide's procedure, run for real: a room with ratings, a backup taken
while kleur runs (``redis-cli --rdb``), the Redis data lost, the backup put
back into a fresh Redis that loads the RDB and then writes its append-only
file again, and a kleur process that finds the room with every rating.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from client.kleur_client import KleurClient
from protocol.phases import Phase, Role
from server.embedded_redis import RedisServer
from tests.support import ServerProcess
from tests.test_session import NORMS, received

PHONES = 4


def redis_cli(port: int, *args: str) -> str:
    return subprocess.run(
        ["redis-cli", "-p", str(port), *args], check=True, capture_output=True, text=True
    ).stdout


def wait_until_aof_written(port: int, timeout: float = 10.0) -> None:
    client = redis.Redis(port=port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.info("persistence")
        if (
            info["aof_enabled"] == 1
            and info["aof_rewrite_in_progress"] == 0
            and info["aof_rewrite_scheduled"] == 0
        ):
            return
        time.sleep(0.05)
    raise AssertionError(f"the append-only file was not written: {client.info('persistence')}")


async def test_a_backup_brings_a_room_back_with_every_rating(tmp_path: Path) -> None:
    live = RedisServer(data_dir=tmp_path / "redis")
    live.start()
    server = ServerProcess(live.url, tmp_path / "kleur.log")
    server.start()
    try:
        room = server.create_room()
        code = room["code"]
        facilitator = KleurClient(
            server.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"]
        )
        await facilitator.connect()
        await facilitator.set_phase(Phase.RATING)
        phones = [KleurClient(server.ws_url, code, Role.PARTICIPANT) for _ in range(PHONES)]
        for phone in phones:
            await phone.connect()
            for norm in NORMS[:3]:
                await phone.rate(norm, 7)
        for client in [facilitator, *phones]:
            await client.close()

        # The backup, online: Redis sends an RDB of everything it holds.
        backup = tmp_path / "backups" / "kleur.rdb"
        backup.parent.mkdir()
        redis_cli(live.port, "--rdb", str(backup))
        assert backup.stat().st_size > 0
    finally:
        server.stop()
        live.stop()

    # The disk is lost.
    shutil.rmtree(tmp_path / "redis")

    # Restore: the RDB as dump.rdb in an empty folder, Redis started with the
    # append-only file off (else it would start empty from a missing AOF),
    # then turned on, which writes the AOF from memory, then restarted as usual.
    restored_dir = tmp_path / "redis-restored"
    restored_dir.mkdir()
    shutil.copy(backup, restored_dir / "dump.rdb")
    loading = RedisServer(data_dir=restored_dir, port=live.port, appendonly=False)
    loading.start()
    try:
        redis_cli(loading.port, "CONFIG", "SET", "appendonly", "yes")
        wait_until_aof_written(loading.port)
    finally:
        loading.stop()
    (restored_dir / "dump.rdb").unlink()  # from here on the AOF alone carries the data
    restored = RedisServer(data_dir=restored_dir, port=live.port)
    restored.start()
    server = ServerProcess(restored.url, tmp_path / "kleur-after.log")
    server.start()
    try:
        facilitator = KleurClient(
            server.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"]
        )
        welcome = await facilitator.connect()
        assert welcome.state.phase is Phase.RATING
        dashboard = await facilitator.wait_dashboard(lambda d: d.participants == PHONES)
        assert received(dashboard) == {norm: PHONES if norm in NORMS[:3] else 0 for norm in NORMS}
        await facilitator.close()
    finally:
        server.stop()
        restored.stop()
