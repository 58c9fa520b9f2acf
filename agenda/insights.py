"""The analysis the dashboard shows after the reveal, built from aggregates.

Input: the room's tallies (this round and the previous one) and the
participants' rating vectors *without identities* (each paired with its
organisation type, for the suppressed breakdown).  Output: the protocol's
``Analysis``.  Pure; the methods are in ``agenda.analysis`` and
``agenda.opinion_groups`` and described in ``docs/analysis.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from agenda import analysis
from agenda.opinion_groups import opinion_groups
from agenda.stats import shown_range
from agenda.templates import Template
from protocol.messages import Analysis, BreakdownEntry, GroupInsight, NormInsight, ThemeInsight

#: Below this consensus a norm counts as contested (as does a split table).
CONTESTED_CONSENSUS: Final = 0.6

#: Tallies of one round: norm id -> value (None: don't know) -> count.
Tallies = Mapping[str, Mapping[int | None, int]]


@dataclass(frozen=True, slots=True)
class Vote:
    """One participant's ratings in template norm order (None: don't know or
    unrated), with its organisation type; no identity."""

    org_type: str | None
    ratings: tuple[int | None, ...]


def _counts(template: Template, tallies: Tallies, norm_id: str) -> tuple[list[int], int]:
    tally = tallies.get(norm_id, {})
    return [tally.get(value, 0) for value in template.scale.values], tally.get(None, 0)


def is_contested(stats: analysis.NormStats) -> bool:
    return stats.split or (stats.consensus is not None and stats.consensus < CONTESTED_CONSENSUS)


def build(
    template: Template,
    tallies: Tallies,
    previous: Tallies | None,
    votes: Sequence[Vote],
    min_group_size: int,
    second: Tallies | None = None,
) -> Analysis:
    """``second``: the answers to the template's second question, if it asks one."""
    scale = template.scale
    stats: dict[str, analysis.NormStats] = {}
    counts_by_norm: dict[str, list[int]] = {}
    dont_know_by_norm: dict[str, int] = {}
    for norm in template.norms:
        counts, dont_know = _counts(template, tallies, norm.id)
        counts_by_norm[norm.id], dont_know_by_norm[norm.id] = counts, dont_know
        stats[norm.id] = analysis.norm_stats(counts, scale.min, dont_know)
    gaps = _gaps(template, stats, second)
    ranking = analysis.discussion_ranking(stats, scale.min, scale.max)
    rank_of = {norm_id: position for position, norm_id in enumerate(ranking, start=1)}

    norms = []
    for norm in template.norms:
        s = stats[norm.id]
        shift = None
        if previous is not None:
            before_counts, before_dk = _counts(template, previous, norm.id)
            shift = analysis.compare_rounds(
                analysis.norm_stats(before_counts, scale.min, before_dk), s
            )
        shown = None if s.q1 is None or s.q3 is None else shown_range(s.q1, s.q3)
        norms.append(
            NormInsight(
                norm_id=norm.id,
                n=s.n,
                median=s.median,
                q1=s.q1,
                q3=s.q3,
                mean=s.mean,
                consensus=s.consensus,
                split=s.split,
                median_low=s.median_low,
                median_high=s.median_high,
                rank=rank_of[norm.id],
                contested=is_contested(s),
                median_delta=shift.median_delta if shift else None,
                consensus_delta=shift.consensus_delta if shift else None,
                n_before=shift.n_before if shift else None,
                second_median=gaps.second_medians.get(norm.id),
                gap=gaps.by_norm.get(norm.id),
                most_low=shown[0] if shown else None,
                most_high=shown[1] if shown else None,
            )
        )

    themes = analysis.theme_stats(
        analysis.themes_of(template), counts_by_norm, scale.min, dont_know_by_norm
    )
    norm_ids = [norm.id for norm in template.norms]
    grouped = opinion_groups(
        [vote.ratings for vote in votes],
        norm_ids,
        scale_min=scale.min,
        scale_max=scale.max,
        min_size=min_group_size,
    )
    return Analysis(
        norms=tuple(norms),
        themes=tuple(
            ThemeInsight(
                theme.id,
                themes[theme.id].pooled.n,
                themes[theme.id].pooled.median,
                themes[theme.id].pooled.consensus,
                themes[theme.id].mean_of_medians,
                gaps.by_theme.get(theme.id),
            )
            for theme in template.themes
        ),
        ranking=tuple(ranking),
        groups_outcome=grouped.outcome,
        groups=tuple(
            GroupInsight(group.size, tuple(group.median_per_norm.get(n) for n in norm_ids))
            for group in grouped.groups
        ),
        separating_norms=tuple(norm_id for norm_id, _ in grouped.separating_norms),
        breakdown=_breakdown(template, counts_by_norm, dont_know_by_norm, votes, min_group_size),
    )


@dataclass(frozen=True, slots=True)
class _GapFigures:
    second_medians: Mapping[str, float | None]
    by_norm: Mapping[str, float | None]
    by_theme: Mapping[str, float | None]


def _gaps(
    template: Template, stats: Mapping[str, analysis.NormStats], second: Tallies | None
) -> _GapFigures:
    """Second-question medians and gaps; empty when the template asks no second question."""
    if template.second_question is None or second is None:
        return _GapFigures({}, {}, {})
    target = {}
    for norm in template.norms:
        counts, dont_know = _counts(template, second, norm.id)
        target[norm.id] = analysis.norm_stats(counts, template.scale.min, dont_know)
    gaps = analysis.gap(stats, target, analysis.themes_of(template))
    return _GapFigures(
        {norm_id: s.median for norm_id, s in target.items()}, gaps.by_norm, gaps.by_theme
    )


def _breakdown(
    template: Template,
    counts_by_norm: Mapping[str, list[int]],
    dont_know_by_norm: Mapping[str, int],
    votes: Sequence[Vote],
    min_group_size: int,
) -> tuple[BreakdownEntry, ...]:
    scale = template.scale
    offset = {value: i for i, value in enumerate(scale.values)}
    entries = []
    for index, norm in enumerate(template.norms):
        by_group: dict[str, list[int]] = {}
        dont_know: dict[str, int] = {}
        for vote in votes:
            if vote.org_type is None:
                continue
            counts = by_group.setdefault(vote.org_type, [0] * len(scale.values))
            value = vote.ratings[index]
            if value is None:
                continue
            counts[offset[value]] += 1
        # "Don't know" per group is not in the vectors (None also means unrated),
        # so it is protected as part of the unrated remainder.
        shown = analysis.breakdown(
            by_group,
            counts_by_norm[norm.id],
            min_group_size,
            scale_min=scale.min,
            dont_know_by_group=dont_know,
            total_dont_know=0,
        )
        order = {org.id: i for i, org in enumerate(template.org_types)}
        for org_type in sorted(shown, key=lambda g: order.get(g, 99)):
            entries.append(
                BreakdownEntry(org_type, norm.id, shown[org_type].n, shown[org_type].median)
            )
    return tuple(entries)
