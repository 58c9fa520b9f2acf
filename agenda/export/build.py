"""The result of a room, built once for every export: ``result_dict``.

No participant token, pseudonym or timestamp ever enters an export: the input
is a ``RoomData``, which holds none.  Distributions appear only once revealed,
and dots only once the facilitator showed them.  The per-norm figures come
from ``agenda.analysis.norm_stats``, which the dashboard's analysis uses too,
so the documents and the dashboard agree on them.
"""

from __future__ import annotations

from collections.abc import Mapping

from agenda import analysis, views
from agenda.export.model import (
    JSON_EXPORT_VERSION,
    NormRow,
    OpinionGroupsRow,
    Result,
    norms,
)
from agenda.insights import is_contested
from agenda.phases import is_revealed
from agenda.templates import Norm, Template
from agenda.views import RoomData, norm_results, previous_scan
from protocol.messages import AgendaItem, Analysis, NormResult
from protocol.phases import DotVoting, Question


def result_dict(
    data: RoomData, template: Template, code: str, analysis: Analysis | None = None
) -> Result:
    """The whole result as plain data (the JSON export, and the base of the others).

    ``analysis`` is the dashboard's (``agenda.insights.build``), for the opinion
    groups; the per-norm figures come from ``agenda.analysis.norm_stats``,
    which the analysis uses too.
    """
    revealed = is_revealed(data.phase)
    results = {r.norm_id: r for r in norm_results(data, template, revealed=revealed)}
    stats = _stats_by_norm(template, data.tallies)
    session = data.session
    result: Result = {
        "format": "kleur-result",
        "version": JSON_EXPORT_VERSION,
        "room": code,
        "template": {"id": template.id, "title": template.title, "language": template.language},
        "scale": {"min": template.scale.min, "max": template.scale.max},
        "phase": data.phase.value,
        "round": data.round,
        "participants": data.participants,
        "revealed": revealed,
        "themes": [
            {
                "id": theme.id,
                "title": theme.title,
                "norms": [
                    _norm_row(norm, results[norm.id], stats[norm.id]) for norm in theme.norms
                ],
            }
            for theme in template.themes
        ],
        "agenda": [
            {
                "action": item.action,
                "owner": item.owner,
                "deadline": item.deadline,
                "norm": item.norm_id,
            }
            for item in sorted(data.agenda, key=_by_position)
        ],
        "notes": [],
        "session": {
            "name": session.name if session else "",
            "region": session.region if session else "",
            "date": session.date if session else None,
        },
        "dots_shown": data.voting_state is DotVoting.SHOWN,
        "groups": [],
        "opinion_groups": _opinion_groups(analysis) if revealed else None,
    }
    for row, item in zip(result["agenda"], sorted(data.agenda, key=_by_position), strict=True):
        if item.follow_up is not None:
            row["follow_up"] = item.follow_up
    _add_notes(result, data)
    return _with_second_question(_with_history(result, data, template), data, template)


def _norm_row(norm: Norm, answers: NormResult, stats: analysis.NormStats) -> NormRow:
    # Before the reveal ``answers.counts`` is None, and so is every figure.
    rated = answers.counts is not None and stats.n > 0
    return {
        "id": norm.id,
        "number": norm.number,
        "title": norm.title,
        "received": answers.received,
        "counts": _list(answers.counts),
        "dont_know": answers.dont_know,
        "median": answers.median,
        "q1": stats.q1 if rated else None,
        "q3": stats.q3 if rated else None,
        "consensus": stats.consensus if rated else None,
        "contested": is_contested(stats) if rated else None,
        "split": stats.split if rated else None,
    }


def _add_notes(result: Result, data: RoomData) -> None:
    """The visible notes with their dots and group, and the groups, most dots first.

    Ties keep the order the notes were added in (the store reads them in that
    order); dots count only once the facilitator showed the results.
    """
    shown = result["dots_shown"]
    # What the room saw: approved notes the facilitator did not hide.
    visible = [note for note in data.notes if views.on_wall(note)]
    order = {note.note_id: index for index, note in enumerate(visible)}
    # A note in two groups belongs to the one with the smallest id, as in the views.
    group_of = {
        note_id: group
        for group in sorted(data.groups, key=lambda g: g.group_id, reverse=True)
        for note_id in group.note_ids
        if note_id in order
    }
    # The screens' own results (agenda.views.voting): a group is one item, its
    # dots those on the group and on its notes; a grouped note has none of its own.
    results = views.voting(data).results or ()
    totals = {row.note_id: row.dots for row in results}

    def dots(item_id: str) -> int:
        return totals.get(item_id, 0) if shown else 0

    def item_dots(note_id: str) -> int:
        """The dots of what the note was voted on as: its group, or itself."""
        return dots(group_of[note_id].group_id) if note_id in group_of else dots(note_id)

    visible.sort(key=lambda note: (-item_dots(note.note_id), order[note.note_id]))
    result["notes"] = [
        {
            "text": note.text,
            "norm": note.norm_id,
            "dots": None if not shown or note.note_id in group_of else dots(note.note_id),
            "group": group_of[note.note_id].title if note.note_id in group_of else None,
        }
        for note in visible
    ]
    groups = []
    for group in data.groups:
        members = [note for note in visible if group_of.get(note.note_id) is group]
        if not members:
            continue
        total = dots(group.group_id)
        first = min(order[note.note_id] for note in members)
        groups.append((-total, first, group.title, members))
    groups.sort(key=lambda g: (g[0], g[1]))
    result["groups"] = [
        {
            "title": title,
            "notes": [note.text for note in members],
            "dots": -negative if shown else None,
        }
        for negative, _, title, members in groups
    ]


def _opinion_groups(found: Analysis | None) -> OpinionGroupsRow | None:
    """The analysis' opinion groups: sizes and, on the separating norms, medians."""
    if found is None:
        return None
    if found.groups_outcome != "groups" or len(found.groups) < 2:
        # No clear groups: the analysis may still hand back one group of
        # everybody, which no screen shows; the exports say why instead.
        outcome = found.groups_outcome if found.groups_outcome != "groups" else "no_clear_groups"
        return {"outcome": outcome, "groups": [], "separating_norms": []}
    index = {norm.norm_id: i for i, norm in enumerate(found.norms)}
    separating = [norm_id for norm_id in found.separating_norms if norm_id in index]
    return {
        "outcome": found.groups_outcome,
        "groups": [
            {
                "size": group.size,
                "medians": {norm_id: group.medians[index[norm_id]] for norm_id in separating},
            }
            for group in found.groups
        ],
        "separating_norms": separating,
    }


def _stats_by_norm(
    template: Template, tallies: Mapping[str, Mapping[int | None, int]]
) -> dict[str, analysis.NormStats]:
    scale = template.scale
    return {
        norm.id: analysis.norm_stats(
            [tallies.get(norm.id, {}).get(v, 0) for v in scale.values],
            scale.min,
            tallies.get(norm.id, {}).get(None, 0),
        )
        for norm in template.norms
    }


def _with_second_question(result: Result, data: RoomData, template: Template) -> Result:
    """Add the second question's answers and the gaps, when the template asks one."""
    question = template.second_question
    if question is None:
        return result
    result["second_question"] = {"kind": question.kind.value, "question": question.question}
    revealed = result["revealed"]
    second = norm_results(data, template, revealed=revealed, question=Question.SECOND)
    gaps = analysis.gap(
        _stats_by_norm(template, data.tallies),
        _stats_by_norm(template, data.second_tallies),
        analysis.themes_of(template),
    )
    rows = {row["id"]: row for row in norms(result)}
    for answers in second:
        rows[answers.norm_id]["second"] = {
            "received": answers.received,
            "counts": _list(answers.counts),
            "dont_know": answers.dont_know,
            "median": answers.median,
            # Before the reveal a gap would give the medians away.
            "gap": gaps.by_norm.get(answers.norm_id) if revealed else None,
        }
    for theme in result["themes"]:
        theme["gap"] = gaps.by_theme.get(theme["id"]) if revealed else None
    return result


def _by_position(item: AgendaItem) -> int:
    # Only the position: ``sorted`` is stable and the store gives the items in
    # the order they were added, so ties keep that order (and a follow-up
    # scan's indexes into this list stay the same across exports).
    return item.position


def _with_history(result: Result, data: RoomData, template: Template) -> Result:
    """Add the shift since the previous round and the follow-up comparison, when any."""
    revealed = result["revealed"]
    rows = {row["id"]: row for row in norms(result)}
    if revealed and data.previous_tallies is not None:
        now_by_norm = _stats_by_norm(template, data.tallies)
        before_by_norm = _stats_by_norm(template, data.previous_tallies)
        for norm in template.norms:
            shift = analysis.compare_rounds(before_by_norm[norm.id], now_by_norm[norm.id])
            before = data.previous_tallies.get(norm.id, {})
            rows[norm.id]["previous_round"] = {
                "median_delta": shift.median_delta,
                "consensus_delta": shift.consensus_delta,
                "n_before": shift.n_before,
                # The round before's own figures, as this round's are given.
                "median_before": before_by_norm[norm.id].median,
                "counts_before": [before.get(v, 0) for v in template.scale.values],
                "dont_know_before": before.get(None, 0),
            }
    scan = previous_scan(data, template, revealed)
    if scan is not None:
        result["previous_room"] = scan.room
        for previous_norm in scan.norms:
            rows[previous_norm.norm_id]["previous_scan"] = {
                "median_before": previous_norm.median_before,
                "median_change": previous_norm.median_change,
            }
        result["earlier_actions"] = [
            {"action": i.action, "owner": i.owner, "deadline": i.deadline, "status": i.status.value}
            for i in scan.items
        ]
    return result


def _list(counts: tuple[int, ...] | None) -> list[int] | None:
    return None if counts is None else list(counts)
