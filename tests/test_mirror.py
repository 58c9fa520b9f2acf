"""The mirror of a room applies the stream in version order, and knows when it cannot (pure)."""

from __future__ import annotations

import pytest

from agenda.room_record import RoomRecord, StreamError, StreamMessage, room_data
from server.mirror import RoomMirror, Verdict

META = {
    "template": "participatiescan", "phase": "rating", "round": "1", "locked": "0",
    "version": "7", "voting": "closed", "dots": "3", "maxnote": "3", "dots_cast": "0",
    "timer": "", "epoch": "e1",
}  # fmt: skip


def record(version: int = 7, epoch: str = "e1") -> RoomRecord:
    return RoomRecord(dict(META, version=str(version), epoch=epoch), people=3)


def rating(version: int, count: int, epoch: str = "e1") -> StreamMessage:
    return StreamMessage(version, epoch, (("tally", "1|duidelijke-regie|7", str(count)),))


def live(version: int = 7) -> RoomMirror:
    mirror = RoomMirror("ABCDEF")
    assert mirror.reset(record(version)) is Verdict.APPLIED
    return mirror


def test_messages_in_order_are_applied() -> None:
    mirror = live()
    assert mirror.offer(rating(8, 1)) is Verdict.APPLIED
    assert mirror.offer(rating(9, 2)) is Verdict.APPLIED
    assert mirror.version == 9
    assert room_data(mirror.record).tallies == {"duidelijke-regie": {7: 2}}  # type: ignore[arg-type]


def test_a_message_already_applied_is_stale() -> None:
    mirror = live()
    mirror.offer(rating(8, 1))
    assert mirror.offer(rating(8, 1)) is Verdict.STALE
    assert mirror.offer(rating(5, 9)) is Verdict.STALE
    assert mirror.version == 8


def test_a_skipped_version_asks_for_a_full_read() -> None:
    mirror = live()
    assert mirror.offer(rating(9, 2)) is Verdict.RESYNC
    assert not mirror.live and mirror.resyncs == 1
    # Meanwhile messages wait; the read lands at 9; 10 follows it.
    assert mirror.offer(rating(10, 3)) is Verdict.PENDING
    assert mirror.reset(record(9)) is Verdict.APPLIED
    assert mirror.live and mirror.version == 10


def test_another_epoch_asks_for_a_full_read() -> None:
    mirror = live()
    assert mirror.offer(rating(8, 1, epoch="e2")) is Verdict.RESYNC


def test_a_read_that_leaves_a_gap_asks_again() -> None:
    mirror = RoomMirror("ABCDEF")
    mirror.offer(rating(12, 1))
    assert mirror.reset(record(9)) is Verdict.RESYNC


def test_deleted_fields_and_the_participant_count() -> None:
    mirror = live()
    change = StreamMessage(
        8, "e1", (("groups", "g1", '{"title": "x", "notes": []}'), ("people", "", "4"))
    )
    assert mirror.offer(change) is Verdict.APPLIED
    assert mirror.data().participants == 4 and len(mirror.data().groups) == 1
    assert mirror.offer(StreamMessage(9, "e1", (("groups", "g1", None),))) is Verdict.APPLIED
    assert mirror.data().groups == ()


def test_the_stream_format_parses() -> None:
    raw = '8|e1|[["tally", "1|n|7", "1"], ["groups", "g", false]]'
    assert StreamMessage.parse(raw) == StreamMessage(
        8, "e1", (("tally", "1|n|7", "1"), ("groups", "g", None))
    )
    # cjson encodes an empty table as an object.
    assert StreamMessage.parse("2||{}").writes == ()
    with pytest.raises(StreamError):
        StreamMessage.parse('{"v": 2}')
