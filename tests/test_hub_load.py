"""Under overload the hub sheds snapshots before acknowledgements wait.

The hub follows its event loop's lag and stretches the interval between two
snapshots of a room with it, up to a cap, and comes back to the base interval
once the loop keeps time again.  No Redis is needed: the load watcher reads
only the loop's clock.
"""

from __future__ import annotations

import asyncio
import time
from typing import cast

from server.hub import LAG_SAMPLE_SECONDS, Hub
from server.store import RoomStore


def make_hub() -> Hub:
    # The watcher never touches the store.
    return Hub(cast(RoomStore, None), interval=0.1, max_interval=0.2, min_group_size=3)


async def _busy_then_calm(hub: Hub) -> tuple[float, float]:
    watcher = asyncio.create_task(hub.watch_load())
    try:
        # Overload: callbacks that hold the loop for 40 ms each, back to back.
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            time.sleep(0.04)  # noqa: ASYNC251 (blocking the loop is the point)
            await asyncio.sleep(0)
        loaded = hub.interval
        await asyncio.sleep(30 * LAG_SAMPLE_SECONDS)  # the loop keeps time again
        return loaded, hub.interval
    finally:
        watcher.cancel()


def test_the_interval_stretches_under_load_and_comes_back() -> None:
    hub = make_hub()
    assert hub.interval == 0.1
    loaded, calm = asyncio.run(_busy_then_calm(hub))
    assert loaded > 0.15, loaded
    assert loaded <= 0.2  # never past the cap
    assert calm < 0.11, calm


def test_without_a_cap_the_interval_stays_put() -> None:
    hub = Hub(cast(RoomStore, None), interval=0.1, min_group_size=3)
    loaded, calm = asyncio.run(_busy_then_calm(hub))
    assert loaded == calm == 0.1
