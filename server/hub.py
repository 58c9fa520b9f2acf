"""This process's connections, grouped by room, and the coalesced updates sent to them.

Each room with local connections has a mirror (``server/mirror.py``) fed by
the room's stream (``server/stream.py``) and by the replies of this
process's own writes.  A change marks the room dirty; the refresh loop sends
a dirty room's views at most ``1 / interval`` times a second (leading edge:
the first change goes out at once), built from the mirror once
(``server/snapshots.py``) and encoded once per codec for every local
connection.  Never one message per vote, never a Redis read per refresh: the
room is read whole only when its mirror starts, misses a version for longer
than ``reorder_seconds`` (a change that merely overtook another is held until
the other arrives: the hub arms the timer, the mirror decides) or sees a new
epoch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from agenda.room_record import RoomRecord, StreamError, StreamMessage, split_header
from agenda.templates import Template
from agenda.views import RoomData
from protocol.close_codes import CloseCode
from protocol.codec import Codec
from protocol.errors import ProtocolError
from protocol.messages import ServerMessage
from protocol.phases import Phase, Role
from server.connection import Connection
from server.logs import detached_task
from server.metrics import METRICS
from server.mirror import MAX_HELD, REORDER_SECONDS, RoomMirror, Verdict
from server.restore import RoomSecrets
from server.snapshots import RoomViews
from server.store import RoomStore
from server.stream import RoomStream

log = logging.getLogger("kleur.hub")


@dataclass(frozen=True, slots=True)
class RatingWait:
    """A stored rating that reached this process (its version, ``perf_counter``
    time), waiting to be shown on a dashboard: an aggregate latency, never
    stored or sent anywhere."""

    version: int
    since: float


def _moves_a_tally(change: StreamMessage) -> bool:
    """A change that moved a tally: a rating (or a rebuilt or restored room)."""
    return any(name == "tally" for name, _, _ in change.writes)


@dataclass(slots=True)
class LocalRoom:
    code: str
    template: Template
    mirror: RoomMirror
    views: RoomViews
    facilitators: set[Connection] = field(default_factory=set)
    participants: set[Connection] = field(default_factory=set)
    #: Presenter views (projectors): read-only, sent their own filtered snapshot.
    presenters: set[Connection] = field(default_factory=set)
    last_refresh: float = float("-inf")
    dashboard_version: int = -1
    presenter_version: int = -1
    #: A full read of the room is on its way.
    reading: bool = False
    #: The room's secrets from a join, to mark it lost (``Hub.room_lost``).
    secrets: RoomSecrets | None = None
    #: The oldest rating no dashboard sent from here shows yet, and the first
    #: one that arrived after the dashboard being built took its data (the
    #: fan-out latency, ``RatingWait``); None when there is none.
    unshown: RatingWait | None = None
    arrived_during_build: RatingWait | None = None
    #: The version the views being built show; None when none are built.
    building: int | None = None
    #: The missing version the mirror's held changes wait for, the timer that
    #: reads the room if it does not come, and when the wait began.
    gap_for: int | None = None
    gap_timer: asyncio.TimerHandle | None = None
    gap_since: float = 0.0

    @property
    def empty(self) -> bool:
        return not self.facilitators and not self.participants and not self.presenters

    @property
    def everyone(self) -> set[Connection]:
        return self.facilitators | self.participants | self.presenters


def broadcast(connections: set[Connection], message: ServerMessage) -> None:
    """Send one message to many connections, encoding it once per codec."""
    frames: dict[Codec, bytes | str] = {}
    for connection in connections:
        frame = frames.get(connection.codec)
        if frame is None:
            frame = frames[connection.codec] = connection.codec.encode(message)
        connection.send_frame(frame)


#: How often the hub measures how busy its process is, seconds.
LOAD_SAMPLE_SECONDS = 0.25
#: Share of one CPU the process used over a sample above which it counts as
#: overloaded (Redis or the other processes of the machine need the rest), and
#: below which it has room again.
BUSY_SHARE = 0.8
CALM_SHARE = 0.6
#: Factor by which the refresh interval grows (overloaded) or shrinks (calm) per sample.
INTERVAL_STEP = 1.5


def next_interval(interval: float, busy_share: float, base: float, cap: float) -> float:
    """The refresh interval after a load sample: longer while busy, back to ``base`` when calm."""
    if busy_share >= BUSY_SHARE:
        return min(cap, interval * INTERVAL_STEP)
    if busy_share < CALM_SHARE:
        return max(base, interval / INTERVAL_STEP)
    return interval


class Hub:
    def __init__(
        self,
        store: RoomStore,
        *,
        interval: float,
        min_group_size: int,
        max_interval: float | None = None,
        suggestion_max_notes: int = 300,
        suggestion_min_interval: float = 2.0,
        reorder_seconds: float = REORDER_SECONDS,
    ) -> None:
        self.store = store
        #: How long a room's mirror waits for a missing version before it is
        #: read whole; 0: no wait (every gap reads the room at once).
        self.reorder_seconds = max(0.0, reorder_seconds)
        self.suggestion_max_notes = suggestion_max_notes
        self.suggestion_min_interval = suggestion_min_interval
        #: A room's views go out at most once per ``interval`` seconds, and
        #: less often (up to ``max_interval``) while the process is overloaded.
        self.base_interval = interval
        self.max_interval = max(interval, max_interval if max_interval is not None else interval)
        self.interval = interval
        #: The process's CPU share over the last sample.
        self.busy_share = 0.0
        self.min_group_size = min_group_size
        self.rooms: dict[str, LocalRoom] = {}
        #: Set by the app once the stream exists (the stream calls back into the hub).
        self.stream: RoomStream | None = None
        self._dirty: set[str] = set()
        self._wakeup = asyncio.Event()
        self._reads: set[asyncio.Task[None]] = set()
        #: Rooms a ``room_lost`` task runs for (``notice_lost``).
        self._losing: set[str] = set()

    # -- membership --------------------------------------------------------
    def add(self, connection: Connection) -> None:
        identity = connection.identity
        assert identity is not None
        room = self.rooms.get(identity.room)
        if room is None:
            code = identity.room
            room = self.rooms[code] = LocalRoom(
                code,
                identity.template,
                RoomMirror(code, max_held=MAX_HELD if self.reorder_seconds > 0 else 0),
                RoomViews(
                    code,
                    identity.template,
                    self.min_group_size,
                    suggestion_max_notes=self.suggestion_max_notes,
                    suggestion_min_interval=self.suggestion_min_interval,
                ),
            )
            if self.stream is not None:
                self.stream.watch(code)  # the first read follows its confirmation
            else:
                self._read_room(room)
        if identity.role is Role.FACILITATOR:
            room.facilitators.add(connection)
        elif identity.role is Role.PRESENTER:
            room.presenters.add(connection)
        else:
            room.participants.add(connection)
            mirror = room.mirror
            if mirror.live and identity.epoch and identity.epoch != mirror.epoch:
                # It joined at another epoch than the mirror's: one of them is
                # behind.  A full read tells which (and closes the phone if it is).
                self.epoch_may_have_changed(code=identity.room)

    def remove(self, connection: Connection) -> None:
        identity = connection.identity
        if identity is None:
            return
        room = self.rooms.get(identity.room)
        if room is None:
            return
        room.facilitators.discard(connection)
        room.participants.discard(connection)
        room.presenters.discard(connection)
        if not room.facilitators:  # no dashboard to wait for here any more
            room.unshown = room.arrived_during_build = None
        if room.empty:
            _stop_gap_timer(room)
            del self.rooms[identity.room]
            self._dirty.discard(identity.room)
            if self.stream is not None:
                self.stream.unwatch(identity.room)

    def connections(self) -> list[Connection]:
        return [c for room in self.rooms.values() for c in room.everyone]

    def room_data(self, code: str, at_least: int = 0) -> RoomData | None:
        """The room from this process's mirror, if it is live and has ``at_least`` that version."""
        room = self.rooms.get(code)
        if room is None or not room.mirror.live or room.mirror.version < at_least:
            return None
        return room.mirror.data()

    # -- changes -----------------------------------------------------------
    def apply(self, code: str, raw: str) -> None:
        """A stored change of a room, as its script published it: ours (the
        script's reply) or heard on the stream.  Each change arrives twice in
        the process that made it; the second copy is dropped on its version,
        before any JSON is parsed."""
        room = self.rooms.get(code)
        if room is None:
            return
        mirror = room.mirror
        try:
            version, epoch, _ = split_header(raw)
            if (
                mirror.live
                and epoch == mirror.epoch
                and (version <= mirror.version or version in mirror.held)
            ):
                return  # already applied, or already waiting for its turn
            change = StreamMessage.parse(raw)
        except StreamError:
            log.warning("malformed stream message; reading the room", extra={"room": code})
            mirror.request_resync()
            self._read_room(room)
            return
        verdict = mirror.offer(change)
        # A held rating reached the process now too; a dashboard shows it
        # once the change it overtook arrives.
        arrived = verdict is Verdict.APPLIED or verdict is Verdict.HELD
        if arrived and room.facilitators and _moves_a_tally(change):
            _rating_arrived(room, change.version)
        if verdict is Verdict.APPLIED:
            self.mark_dirty(code)
        elif verdict is Verdict.RESYNC:
            METRICS.mirror_resync()
            self._read_room(room)
        self._watch_gap(room)

    # -- changes that overtook others (a reordering, not a loss) -----------
    def _watch_gap(self, room: LocalRoom) -> None:
        """Arm the grace timer for the version the mirror waits for, once per
        missing version; a wait that ended (the version came) is measured."""
        waiting = room.mirror.waiting_for
        if waiting == room.gap_for:
            return
        if room.gap_for is not None and room.mirror.live and room.mirror.version >= room.gap_for:
            METRICS.mirror_gap_closed(time.perf_counter() - room.gap_since)
        _stop_gap_timer(room)
        if waiting is not None:
            room.gap_for, room.gap_since = waiting, time.perf_counter()
            room.gap_timer = asyncio.get_running_loop().call_later(
                self.reorder_seconds, self._gap_due, room, waiting
            )

    def _gap_due(self, room: LocalRoom, waiting: int) -> None:
        """The grace for a missing version ran out: if it is still missing, it
        was lost (not overtaken), so read the room whole."""
        if room.gap_for == waiting:
            room.gap_for = room.gap_timer = None
        if self.rooms.get(room.code) is not room:
            return
        if room.mirror.gap_expired(waiting):
            log.info("version %d never came; reading the room", waiting, extra={"room": room.code})
            METRICS.mirror_resync()
            self._read_room(room)

    def on_subscribed(self, code: str) -> None:
        """The room's stream is (again) subscribed: read the room whole, then follow the stream."""
        room = self.rooms.get(code)
        if room is not None:
            room.mirror.request_resync()
            self._read_room(room)

    def _read_room(self, room: LocalRoom) -> None:
        if room.reading:
            return
        room.reading = True
        task = detached_task(self._read(room), name=f"read-room-{room.code}")
        self._reads.add(task)
        task.add_done_callback(self._reads.discard)

    async def _read(self, room: LocalRoom) -> None:
        backoff = 0.05
        try:
            while self.rooms.get(room.code) is room:
                try:
                    # What was heard before the read is sent, Redis stored before the
                    # read runs; what is heard while it runs may be newer than it.
                    seen = room.mirror.seen_version
                    record = await self.store.read_record(room.code)
                    if record is None:  # gone from Redis (expired or lost): nothing to show
                        return
                    if record.lost:  # the tally or ballots hash was lost: rebuild first
                        await self.store.rebuild(room.code)
                        await asyncio.sleep(backoff)  # (never a tight loop)
                        backoff = min(backoff * 2, 2.0)
                        continue
                    if await self._went_back(room, record, seen):
                        continue  # the room has a new epoch now: read it again
                    verdict = room.mirror.reset(record)
                except Exception:
                    # Redis unreachable, or anything else: the room must not stay
                    # without a mirror (its screens would freeze), so try again.
                    log.warning("room read failed; will retry", extra={"room": room.code})
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 2.0)
                    continue
                self._close_older_epochs(room)
                if verdict is Verdict.APPLIED:
                    self.mark_dirty(room.code)
                    # A gap closed by the read is no reordering (not measured); what
                    # arrived meanwhile may wait for a version still on its way.
                    _stop_gap_timer(room)
                    self._watch_gap(room)
                    return
        finally:
            room.reading = False

    # -- rooms that heal (docs/protocol.md section 14) -----------------------
    def version_seen(self, code: str, epoch: str) -> int | None:
        """The highest version of the room this process has seen at ``epoch``
        (None: none): Redis holding a lower one went back (``rate.lua``)."""
        room = self.rooms.get(code)
        if room is None or not epoch or room.mirror.record is None:
            return None
        # Held and dropped versions count: Redis stored them before publishing.
        return room.mirror.seen_version if room.mirror.epoch == epoch else None

    async def _went_back(self, room: LocalRoom, record: RoomRecord, seen: int) -> bool:
        """Whether Redis gave the room back older than this process had heard it
        (``seen``: the mirror's ``seen_version`` when the read was sent, held
        versions included) at the same epoch: an ``appendfsync everysec`` crash
        lost its last writes.  Then the room gets a new epoch, so that every
        process closes its phones' connections and they re-send what was lost."""
        mirror = room.mirror
        if mirror.record is None or record.epoch != mirror.epoch:
            return False
        if record.version >= seen:
            return False
        log.warning(
            "room came back older than seen (%d < %d); new epoch",
            record.version,
            seen,
            extra={"room": room.code},
        )
        await self.store.renew_epoch(room.code, record.epoch)
        return True

    def epoch_may_have_changed(self, code: str) -> None:
        """A command met another epoch than its connection's (or a lost room):
        read the room whole now; its read closes the phones of an older epoch."""
        room = self.rooms.get(code)
        if room is not None and not room.reading:
            room.mirror.request_resync()
            self._read_room(room)

    def _close_older_epochs(self, room: LocalRoom) -> None:
        """Close, with 4503, the participants that joined the room at another epoch
        than its mirror has: the room was rebuilt since (or Redis went back), so
        their ratings are refused until they join again and re-send.
        Facilitators and projectors just get the new snapshot."""
        epoch = room.mirror.epoch if room.mirror.live else None
        if not epoch:
            return
        for connection in list(room.participants):
            identity = connection.identity
            if identity is not None and identity.epoch and identity.epoch != epoch:
                connection.close(
                    CloseCode.ROOM_REBUILT, "the room was rebuilt: join again and re-send"
                )

    def mark_dirty(self, code: str) -> None:
        if code in self.rooms:
            self._dirty.add(code)
            self._wakeup.set()

    async def watch_load(self) -> None:
        """Follow how busy the process is and stretch the refresh interval with it.

        Overloaded, a snapshot per room per tick takes the CPU that
        acknowledgements wait for (in the many-rooms benchmark 500 rooms asked
        for over 1,000 snapshots a second).  While the process used more than
        ``BUSY_SHARE`` of a CPU, the interval grows step by step up to
        ``max_interval``; below ``CALM_SHARE`` it comes back to the base.  A
        dashboard then shows a change a little later; a phone still hears its
        acknowledgement at once.
        """
        loop = asyncio.get_running_loop()
        wall, cpu = loop.time(), time.process_time()
        while True:
            await asyncio.sleep(LOAD_SAMPLE_SECONDS)
            now_wall, now_cpu = loop.time(), time.process_time()
            self.busy_share = (now_cpu - cpu) / max(now_wall - wall, 1e-6)
            wall, cpu = now_wall, now_cpu
            self.interval = next_interval(
                self.interval, self.busy_share, self.base_interval, self.max_interval
            )

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            now = loop.time()
            # A room may have emptied since it was marked: forget it.
            self._dirty.intersection_update(self.rooms)
            due = [c for c in self._dirty if now - self.rooms[c].last_refresh >= self.interval]
            self._dirty.difference_update(due)
            if due:
                await asyncio.gather(*(self._refresh(self.rooms[c], now) for c in due))
            if self._dirty:
                # Wake up again when the earliest throttled room is due.
                next_due = min(self.rooms[c].last_refresh for c in self._dirty) + self.interval
                loop.call_later(max(0.0, next_due - loop.time()), self._wakeup.set)

    async def _refresh(self, room: LocalRoom, now: float) -> None:
        if not room.mirror.live:
            return  # marked dirty again when its read lands
        room.last_refresh = now
        try:
            data = room.mirror.data()
        except Exception:
            log.exception("room refresh failed", extra={"room": room.code})
            self.mark_dirty(room.code)
            return
        if not await self._send_views(room, data):
            # Retried on the next tick (the interval keeps it from spinning): a
            # view that failed must not stay stale until the room changes again.
            self.mark_dirty(room.code)

    async def _send_views(self, room: LocalRoom, data: RoomData) -> bool:
        """Each kind of view on its own: one view's failure (the facilitator's
        dashboard, say) never skips another's; a view's version is recorded only
        once it was sent, so a failed one is sent again.  Whether all went out."""
        room.building = data.version
        try:
            # Phones first: the cheapest view, and the most people.
            sent = await self._send_view(room, "room state", self._send_state, data)
            sent = await self._send_view(room, "presenter", self._send_presenter, data) and sent
            sent = await self._send_view(room, "dashboard", self._send_dashboard, data) and sent
        finally:
            room.building = None
        return sent

    async def _send_view(
        self,
        room: LocalRoom,
        kind: str,
        send: Callable[[LocalRoom, RoomData], Awaitable[None]],
        data: RoomData,
    ) -> bool:
        try:
            await send(room, data)
        except ProtocolError:
            log.warning("%s refresh failed; will retry", kind, extra={"room": room.code})
            return False
        except Exception:
            # A bug here must cost one update of one room, never the hub task
            # (which serves every room of this process).
            log.exception("%s refresh failed; will retry", kind, extra={"room": room.code})
            return False
        return True

    async def _send_state(self, room: LocalRoom, data: RoomData) -> None:
        if room.participants:
            start = time.perf_counter()
            state = room.views.changed_state(data)
            METRICS.snapshot_built("room_state", time.perf_counter() - start)
            if state is not None:
                broadcast(room.participants, state)
                METRICS.snapshot_sent("room_state")

    async def _send_presenter(self, room: LocalRoom, data: RoomData) -> None:
        if room.presenters and data.version != room.presenter_version:
            start = time.perf_counter()
            view = await room.views.presenter(self.store, data)
            METRICS.snapshot_built("presenter", time.perf_counter() - start)
            broadcast(room.presenters, view)
            METRICS.snapshot_sent("presenter")
            room.presenter_version = data.version

    async def _send_dashboard(self, room: LocalRoom, data: RoomData) -> None:
        if room.facilitators and data.version != room.dashboard_version:
            start = time.perf_counter()
            snapshot = await room.views.dashboard(self.store, data)
            METRICS.snapshot_built("dashboard", time.perf_counter() - start)
            broadcast(room.facilitators, snapshot)
            METRICS.snapshot_sent("dashboard")
            room.dashboard_version = data.version
            _rating_shown(room, data.version)
            due = room.views.suggestions_due
            if due is not None:
                # Suggestions were kept for their minimum interval: send the
                # dashboard again once they may be computed.
                room.views.suggestions_due = None
                delay = max(0.0, due - time.monotonic())
                asyncio.get_running_loop().call_later(delay, self._resend_dashboard, room)

    def _resend_dashboard(self, room: LocalRoom) -> None:
        if self.rooms.get(room.code) is room:
            room.dashboard_version = -1
            self.mark_dirty(room.code)

    def send_dashboard_now(self, connection: Connection) -> None:
        """A newly joined facilitator or presenter gets a snapshot at once (on the next refresh)."""
        identity = connection.identity
        assert identity is not None
        room = self.rooms[identity.room]
        if identity.role is Role.PRESENTER:
            room.presenter_version = -1
        else:
            room.dashboard_version = -1
        room.last_refresh = float("-inf")
        self.mark_dirty(identity.room)

    # -- lost rooms (docs/protocol.md section 14) -----------------------------
    def remember_secrets(self, code: str, secrets: RoomSecrets) -> None:
        """Keep the room's secrets (from a join's read of its meta) for ``room_lost``."""
        room = self.rooms.get(code)
        if room is not None:
            room.secrets = secrets

    def notice_lost(self, code: str, marker_seconds: int) -> None:
        """A command of this room was answered "no such room": mark it lost and
        close its connections, in a task of its own (the command's error goes
        out first), once per room."""
        room = self.rooms.get(code)
        if room is None or code in self._losing:
            return
        self._losing.add(code)
        task = detached_task(self.room_lost(code, marker_seconds), name=f"lost-{code}")
        self._reads.add(task)
        task.add_done_callback(self._reads.discard)
        task.add_done_callback(lambda _: self._losing.discard(code))

    async def room_lost(self, code: str, marker_seconds: int) -> None:
        """The room is gone from Redis: leave a marker with its secrets (so that
        its facilitator can restore it and its phones are not taken for
        guessers), then close its connections here with 4504."""
        room = self.rooms.get(code)
        if room is None:
            return
        if room.secrets is not None:
            try:
                if not await self.store.mark_lost(code, room.secrets, marker_seconds):
                    return  # restored meanwhile: nothing to close
            except ProtocolError:
                # Redis went away meanwhile: the room is not known to be lost.
                log.warning("lost marker not written", extra={"room": code})
                return
        METRICS.room_lost()
        log.warning("room lost from Redis; closing its connections", extra={"room": code})
        for connection in room.everyone:
            connection.close(CloseCode.ROOM_LOST, "the room was lost from storage; it is restored")

    async def watch_lost(self, every_seconds: float, marker_seconds: int) -> None:
        """Every few seconds, one pipelined EXISTS per served room: an idle room
        that Redis lost (FLUSHALL, a failover to an empty replica) is noticed
        too, not only one whose command hits the hole."""
        while True:
            await asyncio.sleep(every_seconds)
            codes = [code for code, room in self.rooms.items() if not _closed(room)]
            try:
                missing = await self.store.rooms_missing(codes)
            except ProtocolError:
                continue  # Redis unreachable: nothing is known to be lost
            except Exception:
                # This task watches every room of the process: it must not die
                # (a refused write under noeviction, READONLY after a failover).
                log.exception("checking for lost rooms failed")
                continue
            for code in missing:
                try:
                    await self.room_lost(code, marker_seconds)
                except Exception:
                    log.exception("marking a lost room failed", extra={"room": code})


def _rating_arrived(room: LocalRoom, version: int) -> None:
    """A rating reached the room's mirror: start its wait for a dashboard.
    Only the oldest unshown one is timed, plus the first that comes in while a
    dashboard is being built without it (the next dashboard's oldest)."""
    if room.unshown is None:
        room.unshown = RatingWait(version, time.perf_counter())
    elif (
        room.building is not None and version > room.building and room.arrived_during_build is None
    ):
        room.arrived_during_build = RatingWait(version, time.perf_counter())


def _rating_shown(room: LocalRoom, version: int) -> None:
    """A dashboard of ``version`` went to the room's facilitators on this process."""
    waiting = room.unshown
    if waiting is None or waiting.version > version:
        return
    METRICS.fanout_seconds.observe(time.perf_counter() - waiting.since)
    later = room.arrived_during_build
    room.unshown = later if later is not None and later.version > version else None
    room.arrived_during_build = None


def _stop_gap_timer(room: LocalRoom) -> None:
    if room.gap_timer is not None:
        room.gap_timer.cancel()
    room.gap_for = room.gap_timer = None


def _closed(room: LocalRoom) -> bool:
    """A closed room that expires is gone by design, not lost."""
    return room.mirror.live and room.mirror.data().phase is Phase.CLOSED
