"""A room full of junk notes must not slow another room's dashboard.

Notes per room are capped (``MAX_NOTES_PER_ROOM``, refused as ``too_many``),
and note suggestions compare only the newest notes, at most once per interval.
The test fills one room to the cap and keeps editing its notes while it times
another room's dashboard after a rating, against a baseline from the same run:
a ratio, not an absolute time, so a slow machine does not fail it.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest

from client.kleur_client import CommandRefused, KleurClient
from protocol import limits
from protocol.errors import ErrorCode
from protocol.phases import Phase, Role
from tests.support import ServerProcess

NORM = "reele-werkervaring"
WORDS = ["loket", "werkgever", "stage", "overleg", "contact", "netwerk", "budget", "regio"]


def junk(i: int, edit: int = 0) -> str:
    return " ".join(WORDS[(i * 7 + k * 3 + edit) % len(WORDS)] + str(i % 13) for k in range(6))


async def _rating_to_dashboard(phone: KleurClient, facilitator: KleurClient, value: int) -> float:
    before = await facilitator.wait_dashboard(lambda d: True)
    started = time.monotonic()
    await phone.rate(NORM, value)
    await facilitator.wait_dashboard(lambda d: d.version > before.version)
    return time.monotonic() - started


async def _latencies(phone: KleurClient, facilitator: KleurClient, count: int) -> list[float]:
    found = []
    for i in range(count):
        found.append(await _rating_to_dashboard(phone, facilitator, i % 11))
        await asyncio.sleep(0.15)  # past the room's refresh interval
    return found


async def test_a_junk_room_does_not_slow_another_rooms_dashboard(kleur: ServerProcess) -> None:
    # The other room: a facilitator and a phone rating.
    other = kleur.create_room()
    facilitator = KleurClient(kleur.ws_url, other["code"], Role.FACILITATOR,
                              token=other["facilitator_token"])  # fmt: skip
    await facilitator.connect()
    await facilitator.set_phase(Phase.RATING)
    phone = KleurClient(kleur.ws_url, other["code"], Role.PARTICIPANT)
    await phone.connect()
    baseline = statistics.median(await _latencies(phone, facilitator, 15))

    # The junk room, brainstorming, with its dashboard open (that is where
    # suggestions are computed), filled to the cap.
    junk_room = kleur.create_room()
    junk_facilitator = KleurClient(kleur.ws_url, junk_room["code"], Role.FACILITATOR,
                                   token=junk_room["facilitator_token"])  # fmt: skip
    await junk_facilitator.connect()
    writers = [
        KleurClient(kleur.ws_url, junk_room["code"], Role.PARTICIPANT)
        for _ in range(limits.MAX_NOTES_PER_ROOM // limits.MAX_NOTES_PER_PARTICIPANT)
    ]
    for writer in writers:
        await writer.connect()
    for phase in (Phase.RATING, Phase.REVEAL, Phase.BRAINSTORM):
        await junk_facilitator.set_phase(phase)
    await writers[0].wait_for(lambda c: c.state is not None and c.state.phase is Phase.BRAINSTORM)

    ids: list[list[str]] = [[] for _ in writers]

    async def fill(w: int) -> None:
        for k in range(limits.MAX_NOTES_PER_PARTICIPANT):
            i = w * limits.MAX_NOTES_PER_PARTICIPANT + k
            ids[w].append(await writers[w].put_note(junk(i)))
            if k % 40 == 39:
                await asyncio.sleep(2)  # under the rate limit

    await asyncio.gather(*(fill(w) for w in range(len(writers))))
    # The cap: one more note in this room is refused, clearly.
    extra = KleurClient(kleur.ws_url, junk_room["code"], Role.PARTICIPANT)
    await extra.connect()
    with pytest.raises(CommandRefused) as refused:
        await extra.put_note("nog een idee")
    assert refused.value.error.code is ErrorCode.TOO_MANY

    # Keep editing the junk notes while the other room is timed.
    stop = asyncio.Event()

    async def keep_editing(w: int) -> None:
        edit = 0
        while not stop.is_set():
            edit += 1
            for k, note_id in enumerate(ids[w][:5]):
                await writers[w].put_note(junk(k, edit), note_id=note_id)
            await asyncio.sleep(0.3)  # 5 edits per 0.3 s: under the rate limit

    editors = [asyncio.create_task(keep_editing(w)) for w in range(len(writers))]
    await asyncio.sleep(1)
    try:
        loaded = statistics.median(await _latencies(phone, facilitator, 15))
    finally:
        stop.set()
        await asyncio.gather(*editors)
    print(f"baseline {baseline * 1000:.1f} ms, next to the junk room {loaded * 1000:.1f} ms")
    # Generous: the junk room's own dashboards and writes cost something.
    assert loaded < 8 * baseline + 0.05, (baseline, loaded)
    for client in (facilitator, phone, junk_facilitator, extra, *writers):
        await client.close()
