"""A process's in-memory copy of one room, kept current by the room's stream.

The mirror applies stream messages in version order.  It cannot apply a
message that skips a version (one was lost: a dropped subscription, a
reconnect) or that carries another epoch (the room was rebuilt in Redis);
then it asks for a full read (``Verdict.RESYNC``), and messages arriving
meanwhile wait in ``pending`` until the read lands (``reset``).  No I/O here:
``server/hub.py`` does the reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from agenda.room_record import RoomRecord, StreamMessage, room_data
from agenda.views import RoomData


class Verdict(Enum):
    #: The change is in the mirror now.
    APPLIED = "applied"
    #: Already in the mirror (our own change, heard again on the stream).
    STALE = "stale"
    #: Kept until the full read in progress lands.
    PENDING = "pending"
    #: A gap or a new epoch: read the whole room.
    RESYNC = "resync"


#: Messages kept while a full read is on its way; more means the read is
#: hopelessly behind, and the next read starts from scratch anyway.
MAX_PENDING = 10_000


@dataclass(slots=True)
class RoomMirror:
    code: str
    record: RoomRecord | None = None
    #: A full read was asked for and has not landed yet.
    syncing: bool = True
    pending: list[StreamMessage] = field(default_factory=list)
    #: ``room_data`` of the record, built at most once per version.
    _data: RoomData | None = None
    #: Full reads this mirror needed (a metric and a test hook).
    resyncs: int = 0

    @property
    def live(self) -> bool:
        return self.record is not None and not self.syncing

    @property
    def version(self) -> int:
        return -1 if self.record is None else self.record.version

    @property
    def epoch(self) -> str | None:
        return None if self.record is None else self.record.epoch

    def offer(self, message: StreamMessage) -> Verdict:
        """One message from the stream (or the reply of our own write)."""
        if self.syncing or self.record is None:
            if len(self.pending) < MAX_PENDING:
                self.pending.append(message)
            return Verdict.PENDING
        if message.epoch != self.record.epoch:
            return self._need_resync()
        if message.version <= self.record.version:
            return Verdict.STALE
        if message.version != self.record.version + 1:
            return self._need_resync()
        self.record.apply(message)
        self._data = None
        return Verdict.APPLIED

    def _need_resync(self) -> Verdict:
        self.syncing = True
        self.resyncs += 1
        return Verdict.RESYNC

    def request_resync(self) -> None:
        """The stream was (re)subscribed: what came before may be missing."""
        self.syncing = True

    def reset(self, record: RoomRecord) -> Verdict:
        """A full read landed: start from it, then apply what arrived meanwhile.

        ``RESYNC`` when those messages still leave a gap (read again);
        ``APPLIED`` otherwise.
        """
        pending, self.pending = sorted(self.pending, key=lambda m: m.version), []
        self.record, self.syncing, self._data = record, False, None
        for message in pending:
            if self.offer(message) is Verdict.RESYNC:
                return Verdict.RESYNC
        return Verdict.APPLIED

    def data(self) -> RoomData:
        """The room as the views read it (the mirror must be live)."""
        assert self.record is not None
        if self._data is None or self._data.version != self.record.version:
            self._data = room_data(self.record)
        return self._data
