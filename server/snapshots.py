"""What one room's screens are sent, built from its mirror: one build per room per tick.

The facilitator's dashboard, the projector's presenter view and the phones'
room state come from the pure views of ``agenda.views``.  Two inputs are
costly and change rarely, so they are computed off the event loop and only
when what they are computed from changed: the analysis (statistics,
disagreement, opinion groups; it needs every participant's anonymous rating
vector, read from Redis) and the note-merge suggestions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from dataclasses import dataclass
from typing import Literal

from agenda import insights, views
from agenda.note_clusters import suggest_groups
from agenda.phases import is_revealed
from agenda.templates import Template
from agenda.views import RoomData
from protocol.messages import Analysis, Dashboard, NoteGroup, Presenter, RoomState
from protocol.phases import Phase
from server.store import RoomStore

#: A room's suggestions wait at least this many times as long as their last
#: computation took before they are computed again.
SUGGESTION_PAUSE_FACTOR = 10


def now_ms() -> int:
    return int(time.time() * 1000)


def _frozen(value: object) -> object:
    """A hashable, order-independent copy of nested mappings (a cache key)."""
    if isinstance(value, dict):
        return frozenset((k, _frozen(v)) for k, v in value.items())
    return value


def _suggestion_id(note_ids: tuple[str, ...]) -> str:
    return "s" + hashlib.sha256("|".join(note_ids).encode()).hexdigest()[:15]


@dataclass(slots=True)
class RoomViews:
    """The views of one room and the costly parts they were last built from."""

    code: str
    template: Template
    min_group_size: int
    analysis: Analysis | None = None
    analysis_key: object = None
    suggestions: tuple[NoteGroup, ...] = ()
    suggestions_key: object = None
    #: The last room state sent to phones, without its version (sent on change only).
    state: RoomState | None = None
    #: Suggestions compare only the newest this many notes (the cost grows
    #: with the square of the notes) ...
    suggestion_max_notes: int = 300
    #: ... and are computed at most once per this many seconds: a room where
    #: notes keep changing must not keep a CPU busy for the others.
    suggestion_min_interval: float = 2.0
    #: When the suggestions were last computed (``time.monotonic``, at the
    #: end), and how long that took: the next run waits at least
    #: ``SUGGESTION_PAUSE_FACTOR`` times as long, so that even notes of random
    #: letters (slow to stem) take at most about a tenth of a CPU.
    suggestions_at: float = float("-inf")
    suggestions_cost: float = 0.0
    #: Set when notes changed but the suggestions were kept for the interval:
    #: the time from which they may be computed again (the hub then sends
    #: the dashboard once more); None when they are up to date.
    suggestions_due: float | None = None

    async def dashboard(self, store: RoomStore, data: RoomData) -> Dashboard:
        analysis = await self._analysis(store, data)
        snapshot = views.dashboard(data, self.template, self.min_group_size, now_ms(), analysis)
        suggestions = await self._suggestions(data)
        if suggestions:
            snapshot = dataclasses.replace(snapshot, suggestions=suggestions)
        return snapshot

    async def presenter(self, store: RoomStore, data: RoomData) -> Presenter:
        analysis = await self._analysis(store, data)
        return views.presenter(data, self.template, self.min_group_size, now_ms(), analysis)

    def changed_state(self, data: RoomData) -> RoomState | None:
        """The phones' room state, when it differs from the one sent last (else None)."""
        state = views.room_state(data, self.template)
        content = dataclasses.replace(state, version=0)
        if content == self.state:
            return None
        self.state = content
        return state

    async def _analysis(self, store: RoomStore, data: RoomData) -> Analysis | None:
        if not is_revealed(data.phase):
            return None
        key = (
            data.round,
            _frozen(data.tallies),
            _frozen(data.second_tallies),
            _frozen(data.previous_tallies),
            _frozen(data.org_counts),
        )
        if self.analysis is None or self.analysis_key != key:
            if data.phase is Phase.CLOSED:
                # A closed room has no ballots left, only the analysis it kept.
                kept = await store.closed_analysis(self.code)
                if kept is not None:
                    self.analysis, self.analysis_key = kept, key
                    return kept
            votes = await store.read_votes(self.code, data.round, self.template)
            # ~50 ms for 2,000 participants: off the event loop.
            self.analysis = await asyncio.to_thread(
                insights.build,
                self.template,
                data.tallies,
                data.previous_tallies,
                votes,
                self.min_group_size,
                data.second_tallies,
            )
            self.analysis_key = key
        return self.analysis

    async def _suggestions(self, data: RoomData) -> tuple[NoteGroup, ...]:
        """Similar notes to merge, while brainstorming; recomputed only when the notes change."""
        if data.phase not in (Phase.BRAINSTORM, Phase.AGENDA):
            return ()
        notes = tuple(sorted((n.note_id, n.text) for n in data.notes if not n.hidden))
        grouped = frozenset(note_id for group in data.groups for note_id in group.note_ids)
        if (notes, grouped) != self.suggestions_key:
            now = time.monotonic()
            pause = max(
                self.suggestion_min_interval, SUGGESTION_PAUSE_FACTOR * self.suggestions_cost
            )
            due = self.suggestions_at + pause
            if now < due:
                self.suggestions_due = due
                return _still_loose(self.suggestions, notes, grouped)
            self.suggestions_due = None
            # data.notes is in the order the notes were added: the newest last.
            newest = sorted(
                [(n.note_id, n.text) for n in data.notes if not n.hidden][
                    -self.suggestion_max_notes :
                ]
            )
            loose = [note for note in newest if note[0] not in grouped]
            language: Literal["nl", "en"] = "en" if self.template.language == "en" else "nl"
            # ~0.2 s for 1,000 notes, ~20 ms for 300: off the event loop.
            found = await asyncio.to_thread(suggest_groups, loose, language=language)
            self.suggestions_at = time.monotonic()
            self.suggestions_cost = self.suggestions_at - now
            self.suggestions = tuple(
                NoteGroup(_suggestion_id(g.note_ids), (g.label or g.title)[:120], g.note_ids)
                for g in found
            )
            self.suggestions_key = (notes, grouped)
        return self.suggestions


def _still_loose(
    suggestions: tuple[NoteGroup, ...],
    notes: tuple[tuple[str, str], ...],
    grouped: frozenset[str],
) -> tuple[NoteGroup, ...]:
    """Earlier suggestions without the notes that since left the wall or went
    into a group (until they are computed again)."""
    loose = {note_id for note_id, _ in notes} - grouped
    kept = []
    for group in suggestions:
        ids = tuple(note_id for note_id in group.note_ids if note_id in loose)
        if len(ids) >= 2:
            kept.append(
                group if ids == group.note_ids else dataclasses.replace(group, note_ids=ids)
            )
    return tuple(kept)
