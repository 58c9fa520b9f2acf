"""Overloaded, the hub sheds snapshots before acknowledgements wait.

The hub follows its process's CPU share and stretches the interval between
two snapshots of a room while the process is overloaded, up to a cap, and
comes back to the base interval once it is calm again.  The rule is a pure
function; the watcher that feeds it is checked to measure a busy process as
busy.  No Redis is needed: the watcher reads only clocks.
"""

from __future__ import annotations

import asyncio
import time
from typing import cast

from server.hub import BUSY_SHARE, CALM_SHARE, LOAD_SAMPLE_SECONDS, Hub, next_interval
from server.store import RoomStore


def test_busy_samples_stretch_the_interval_up_to_the_cap() -> None:
    interval = 0.1
    seen = []
    for _ in range(10):
        interval = next_interval(interval, 0.95, 0.1, 1.0)
        seen.append(interval)
    assert seen[0] > 0.1
    assert seen == sorted(seen)
    assert seen[-1] == 1.0  # reached, never passed


def test_calm_samples_bring_it_back_and_between_it_stays() -> None:
    assert next_interval(0.5, (BUSY_SHARE + CALM_SHARE) / 2, 0.1, 1.0) == 0.5
    interval = 1.0
    for _ in range(10):
        interval = next_interval(interval, 0.1, 0.1, 1.0)
    assert interval == 0.1  # the base, never below


def test_a_hub_without_a_cap_keeps_its_interval() -> None:
    hub = Hub(cast(RoomStore, None), interval=0.1, min_group_size=3)
    assert hub.max_interval == 0.1
    assert next_interval(0.1, 1.0, hub.base_interval, hub.max_interval) == 0.1


async def _spin_while_watched(hub: Hub) -> None:
    watcher = asyncio.create_task(hub.watch_load())
    try:
        deadline = time.monotonic() + 4 * LOAD_SAMPLE_SECONDS
        while time.monotonic() < deadline:
            spin = time.process_time() + 0.02
            while time.process_time() < spin:
                pass
            await asyncio.sleep(0)
    finally:
        watcher.cancel()


def test_the_watcher_measures_a_computing_process_as_busy() -> None:
    # The store is never touched by the watcher.
    hub = Hub(cast(RoomStore, None), interval=0.1, max_interval=1.0, min_group_size=3)
    asyncio.run(_spin_while_watched(hub))
    # On a machine shared with others the share can be below one CPU; a
    # process that only computes is never measured as idle.
    assert hub.busy_share > 0.3, hub.busy_share
