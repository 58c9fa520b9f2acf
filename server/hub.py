"""This process's connections, grouped by room, and the coalesced updates sent to them.

A room is "dirty" when this process stored a change for it, or when another
process said so (``broker``).  The refresh loop reads a dirty room from Redis
at most ``1 / dashboard_interval`` times a second (leading edge: the first
change goes out at once), builds the views once and sends the same encoded
frame to every local connection that needs it.  Never one message per vote.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Literal

from agenda import insights, views
from agenda.note_clusters import suggest_groups
from agenda.phases import is_revealed
from agenda.templates import Template
from agenda.views import RoomData
from protocol.codec import Codec
from protocol.errors import ProtocolError
from protocol.messages import Analysis, NoteGroup, RoomState, ServerMessage
from protocol.phases import Phase, Role
from server.connection import Connection
from server.metrics import METRICS
from server.store import RoomStore

log = logging.getLogger("kleur.hub")


def _frozen(value: object) -> object:
    """A hashable, order-independent copy of nested mappings (a cache key)."""
    if isinstance(value, dict):
        return frozenset((k, _frozen(v)) for k, v in value.items())
    return value


def _suggestion_id(note_ids: tuple[str, ...]) -> str:
    return "s" + hashlib.sha256("|".join(note_ids).encode()).hexdigest()[:15]


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(slots=True)
class LocalRoom:
    code: str
    template: Template
    facilitators: set[Connection] = field(default_factory=set)
    participants: set[Connection] = field(default_factory=set)
    #: Presenter views (projectors): read-only, sent their own filtered snapshot.
    presenters: set[Connection] = field(default_factory=set)
    last_refresh: float = float("-inf")
    dashboard_version: int = -1
    presenter_version: int = -1
    state: RoomState | None = None
    #: The last analysis and what it was computed from (recomputed only when
    #: the tallies or organisation counts change, which after the reveal is rare).
    analysis: Analysis | None = None
    analysis_key: object = None
    suggestions: tuple[NoteGroup, ...] = ()
    suggestions_key: object = None

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


class Hub:
    def __init__(self, store: RoomStore, *, interval: float, min_group_size: int) -> None:
        self.store = store
        self.interval = interval
        self.min_group_size = min_group_size
        self.rooms: dict[str, LocalRoom] = {}
        self._dirty: set[str] = set()
        self._wakeup = asyncio.Event()

    # -- membership --------------------------------------------------------
    def add(self, connection: Connection) -> None:
        identity = connection.identity
        assert identity is not None
        room = self.rooms.get(identity.room)
        if room is None:
            room = self.rooms[identity.room] = LocalRoom(identity.room, identity.template)
        if identity.role is Role.FACILITATOR:
            room.facilitators.add(connection)
        elif identity.role is Role.PRESENTER:
            room.presenters.add(connection)
        else:
            room.participants.add(connection)

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
        if room.empty:
            del self.rooms[identity.room]
            self._dirty.discard(identity.room)

    def connections(self) -> list[Connection]:
        return [c for room in self.rooms.values() for c in room.everyone]

    # -- changes -----------------------------------------------------------
    def mark_dirty(self, code: str) -> None:
        if code in self.rooms:
            self._dirty.add(code)
            self._wakeup.set()

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
        room.last_refresh = now
        try:
            await self._send_views(room)
        except ProtocolError:
            log.warning("room read failed; will retry", extra={"room": room.code})
            if room.code in self.rooms:
                self._dirty.add(room.code)
        except Exception:
            # A bug here must cost one update of one room, never the hub task
            # (which serves every room of this process).
            log.exception("room refresh failed", extra={"room": room.code})

    async def _send_views(self, room: LocalRoom) -> None:
        data = await self.store.read_room(room.code)
        if data is None:
            return
        analysis = None
        wants_dashboard = bool(room.facilitators) and data.version != room.dashboard_version
        wants_presenter = bool(room.presenters) and data.version != room.presenter_version
        if (wants_dashboard or wants_presenter) and is_revealed(data.phase):
            analysis = await self._analysis(room, data)
        if wants_presenter:
            room.presenter_version = data.version
            view = views.presenter(data, room.template, self.min_group_size, now_ms(), analysis)
            broadcast(room.presenters, view)
            METRICS.presenters_sent += 1
        if wants_dashboard:
            room.dashboard_version = data.version
            snapshot = views.dashboard(data, room.template, self.min_group_size, now_ms(), analysis)
            suggestions = await self._suggestions(room, data)
            if suggestions:
                snapshot = dataclasses.replace(snapshot, suggestions=suggestions)
            broadcast(room.facilitators, snapshot)
            METRICS.dashboards_sent += 1
        if room.participants:
            state = views.room_state(data, room.template)
            if state != room.state:
                room.state = state
                broadcast(room.participants, state)
                METRICS.room_states_sent += 1

    async def _analysis(self, room: LocalRoom, data: RoomData) -> Analysis:
        key = (
            data.round,
            _frozen(data.tallies),
            _frozen(data.second_tallies),
            _frozen(data.previous_tallies),
            _frozen(data.org_counts),
        )
        if room.analysis is None or room.analysis_key != key:
            votes = await self.store.read_votes(room.code, data.round, room.template)
            # ~50 ms for 2,000 participants: off the event loop.
            room.analysis = await asyncio.to_thread(
                insights.build,
                room.template,
                data.tallies,
                data.previous_tallies,
                votes,
                self.min_group_size,
                data.second_tallies,
            )
            room.analysis_key = key
        return room.analysis

    async def _suggestions(self, room: LocalRoom, data: RoomData) -> tuple[NoteGroup, ...]:
        """Similar notes to merge, while brainstorming; recomputed only when the notes change."""
        if data.phase not in (Phase.BRAINSTORM, Phase.AGENDA):
            return ()
        notes = tuple(sorted((n.note_id, n.text) for n in data.notes if not n.hidden))
        grouped = frozenset(note_id for group in data.groups for note_id in group.note_ids)
        if (notes, grouped) != room.suggestions_key:
            loose = [note for note in notes if note[0] not in grouped]
            language: Literal["nl", "en"] = "en" if room.template.language == "en" else "nl"
            # ~0.2 s for 1,000 notes: off the event loop.
            found = await asyncio.to_thread(suggest_groups, loose, language=language)
            room.suggestions = tuple(
                NoteGroup(_suggestion_id(g.note_ids), (g.label or g.title)[:120], g.note_ids)
                for g in found
            )
            room.suggestions_key = (notes, grouped)
        return room.suggestions

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
