"""A process's in-memory copy of one room, kept current by the room's stream.

The mirror applies stream messages in version order.  A process hears each
of its own changes twice (its script's reply, over one of several pool
connections, and the room's pub/sub stream) and the other processes' changes
on the stream only, so version N + 2 can arrive a few milliseconds before
N + 1: a reordering, not a loss.  Such a message is held (``Verdict.HELD``,
at most ``max_held`` of them) until the versions before it arrive; then all
are applied in order.  Only when the missing version does not come within
the grace time (the hub's timer calls ``gap_expired``) or too many wait, the
mirror asks for a full read (``Verdict.RESYNC``); a message of another epoch
(the room was rebuilt in Redis) asks for one at once.  Messages arriving
while a read is on its way wait in ``pending`` until it lands (``reset``).
No I/O and no clock here: ``server/hub.py`` does the reads and the timers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Final

from agenda.room_record import RoomRecord, StreamMessage, room_data
from agenda.views import RoomData


class Verdict(Enum):
    #: The change is in the mirror now (with any held ones it let through).
    APPLIED = "applied"
    #: Already in the mirror (our own change, heard again on the stream).
    STALE = "stale"
    #: Kept until the full read in progress lands.
    PENDING = "pending"
    #: Ahead of a missing version: kept until that one arrives (or the grace ends).
    HELD = "held"
    #: A lasting gap, too many held, or a new epoch: read the whole room.
    RESYNC = "resync"


#: Messages kept while a full read is on its way; more means the read is
#: hopelessly behind, and the next read starts from scratch anyway.
MAX_PENDING: Final = 10_000
#: Messages held ahead of a missing version.  A reordering is a few versions
#: deep (measured: a few milliseconds of a busy room's changes); this many
#: waiting means the missing one is lost, and a full read is cheaper.
MAX_HELD: Final = 1_000
#: Default of the setting ``mirror_reorder_seconds``: how long a missing
#: version may take to arrive before the mirror reads the room whole.
REORDER_SECONDS: Final = 0.3


@dataclass(slots=True)
class RoomMirror:
    code: str
    record: RoomRecord | None = None
    #: Most messages held ahead of a missing version; 0: none (a gap reads
    #: the room at once, as before the reorder window).
    max_held: int = MAX_HELD
    #: A full read was asked for and has not landed yet.
    syncing: bool = True
    pending: list[StreamMessage] = field(default_factory=list)
    #: Messages ahead of ``version + 1``, by version (same epoch as the record).
    held: dict[int, StreamMessage] = field(default_factory=dict)
    #: ``room_data`` of the record, built at most once per version.
    _data: RoomData | None = None
    #: Full reads this mirror needed (a metric and a test hook).
    resyncs: int = 0
    #: The highest version heard at the record's epoch, applied or not (held,
    #: pending, dropped by a read): each was stored in Redis before it was
    #: published, so a Redis that later shows less went back (``seen_version``).
    _heard: int = -1

    @property
    def live(self) -> bool:
        return self.record is not None and not self.syncing

    @property
    def version(self) -> int:
        return -1 if self.record is None else self.record.version

    @property
    def epoch(self) -> str | None:
        return None if self.record is None else self.record.epoch

    @property
    def seen_version(self) -> int:
        """The highest version of this epoch the process knows Redis stored: the
        applied ones and those heard but not applied yet (held ahead of a gap,
        or dropped when a read was asked for).  A read or a script that finds
        Redis below it met a Redis that lost acknowledged writes."""
        return max(self.version, self._heard)

    @property
    def waiting_for(self) -> int | None:
        """The missing version that held messages wait for (None: no gap)."""
        return self.version + 1 if self.held and self.live else None

    def offer(self, message: StreamMessage) -> Verdict:
        """One message from the stream (or the reply of our own write)."""
        if self.record is not None and message.epoch == self.record.epoch:
            self._heard = max(self._heard, message.version)
        if self.syncing or self.record is None:
            if len(self.pending) < MAX_PENDING:
                self.pending.append(message)
            return Verdict.PENDING
        if message.epoch != self.record.epoch:
            return self._need_resync()
        if message.version <= self.record.version:
            return Verdict.STALE
        if message.version != self.record.version + 1:
            return self._hold(message)
        self.record.apply(message)
        while (following := self.held.pop(self.record.version + 1, None)) is not None:
            self.record.apply(following)
        self._data = None
        return Verdict.APPLIED

    def _hold(self, message: StreamMessage) -> Verdict:
        if message.version not in self.held and len(self.held) >= self.max_held:
            return self._need_resync()
        self.held[message.version] = message  # a duplicate replaces its twin
        return Verdict.HELD

    def gap_expired(self, waiting_for: int) -> bool:
        """The grace for version ``waiting_for`` ran out (the hub's timer).
        True: it is still missing, so the room must be read whole (``RESYNC``);
        False: it arrived meanwhile, or a read is already on its way."""
        if self.waiting_for != waiting_for:
            return False
        self._need_resync()
        return True

    def _need_resync(self) -> Verdict:
        self.request_resync()
        self.resyncs += 1
        return Verdict.RESYNC

    def request_resync(self) -> None:
        """The stream was (re)subscribed: what came before may be missing.

        The held messages are dropped: each was published before the read is
        sent, so the read holds it (or Redis went back and lost it, and then it
        must not be applied either).
        """
        self.held.clear()
        self.syncing = True

    def reset(self, record: RoomRecord) -> Verdict:
        """A full read landed: start from it, then apply what arrived meanwhile.

        ``RESYNC`` when one of those messages has another epoch (read again);
        ``APPLIED`` otherwise, possibly with messages held behind a gap that
        the missing versions, still on their way, close (``waiting_for``).
        """
        pending, self.pending = sorted(self.pending, key=lambda m: m.version), []
        if record.epoch != self.epoch:  # a new epoch: what was heard before is of another room
            self._heard = -1
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
