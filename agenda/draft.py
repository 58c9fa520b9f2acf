"""A draft verbeteragenda proposed from the analysis: what to address, with candidate actions.

The table decides; this only proposes.  Norms are taken in the "talk about
this first" order when they score low or the table is divided on them; each
gets the notes written for it as candidate actions, most dots first once the
facilitator has shown the dot results (before that, in note-id order, so the
proposal gives no result away).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from agenda.templates import Template
from protocol.messages import Analysis, DraftItem, NoteGroup, Voting, WallNote

#: Norms in a draft, and candidate actions per norm.
DRAFT_NORMS: Final = 5
CANDIDATES_PER_NORM: Final = 3


def draft_agenda(
    template: Template,
    analysis: Analysis,
    notes: tuple[WallNote, ...],
    groups: tuple[NoteGroup, ...],
    voting: Voting,
) -> tuple[DraftItem, ...]:
    scale = template.scale
    midpoint = (scale.min + scale.max) / 2
    insight = {n.norm_id: n for n in analysis.norms}
    dots: Mapping[str, int] = (
        {v.note_id: v.dots for v in voting.results} if voting.results is not None else {}
    )
    visible = [note for note in notes if not note.hidden]
    group_of = {note_id: group for group in groups for note_id in group.note_ids}
    draft = []
    for norm_id in analysis.ranking:
        norm = insight[norm_id]
        reasons = []
        if norm.median is not None and norm.median <= midpoint:
            reasons.append("low_score")
        if norm.contested:
            reasons.append("contested")
        if not reasons:
            continue
        linked = [note for note in visible if note.norm_id == norm_id]
        # A note grouped with one about this norm is a candidate too.
        for note in visible:
            group = group_of.get(note.note_id)
            if (
                note not in linked
                and group is not None
                and any(
                    other.norm_id == norm_id for other in visible if other.note_id in group.note_ids
                )
            ):
                linked.append(note)
        linked.sort(key=lambda note: (-dots.get(note.note_id, 0), note.note_id))
        draft.append(
            DraftItem(
                norm_id,
                tuple(reasons),
                tuple(note.note_id for note in linked[:CANDIDATES_PER_NORM]),
            )
        )
        if len(draft) == DRAFT_NORMS:
            break
    return tuple(draft)
