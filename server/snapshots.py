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
            loose = [note for note in notes if note[0] not in grouped]
            language: Literal["nl", "en"] = "en" if self.template.language == "en" else "nl"
            # ~0.2 s for 1,000 notes: off the event loop.
            found = await asyncio.to_thread(suggest_groups, loose, language=language)
            self.suggestions = tuple(
                NoteGroup(_suggestion_id(g.note_ids), (g.label or g.title)[:120], g.note_ids)
                for g in found
            )
            self.suggestions_key = (notes, grouped)
        return self.suggestions
