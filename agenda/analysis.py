"""What a table should talk about: statistics of ordinal ratings, from counts.

Every function here is pure and deterministic and sees aggregates only:
``counts[i]`` is the number of ratings ``scale_min + i``, one entry per value
of the scale (so ``scale_max = scale_min + len(counts) - 1``), and "don't know"
is a separate number that never enters a statistic of the scale.  Because the
input is counts, every result is the same whatever order the votes came in.

The methods, their parameters and their limits are described in
``docs/analysis.md``.  In short:

- quantiles: ``agenda.stats.quantile``, the one definition every screen and
  export shows (Hyndman & Fan definition 2): always a scale value or the
  midpoint of two, and the median equals ``agenda.stats.median``;
- consensus: Tastle & Wierman's measure, 1 when all agree, 0 for an even split
  between the two ends of the scale;
- split: a table that falls into a low and a high camp;
- median band: the exact distribution-free order-statistic confidence interval
  for the median (95 %), widened to the ends of the scale when too few rated.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from agenda.privacy import publishable_groups
from agenda.stats import median as stats_median
from agenda.stats import quartiles, value_at_rank
from agenda.templates import Template

#: Confidence level of the median band.
MEDIAN_BAND_CONFIDENCE: Final = 0.95

#: "Split": each camp holds at least this share of the ratings (and 2 people) ...
SPLIT_MIN_SHARE: Final = Fraction(1, 4)
SPLIT_MIN_CAMP: Final = 2
#: ... the camps' means lie at least this share of the scale's range apart ...
SPLIT_MIN_DISTANCE: Final = 0.4
#: ... and the division explains at least this share of the variance (eta squared;
#: a uniform spread reaches 0.75, a bell curve about 0.64, two clean camps 1).
SPLIT_MIN_SEPARATION: Final = 0.8

# Ratios are compared after rounding, so that floating-point noise never
# decides a threshold or a tie.
_DIGITS: Final = 9


@dataclass(frozen=True, slots=True)
class NormStats:
    """Summary of one norm's ratings (or a pooled theme's); None where undefined (n = 0)."""

    #: Ratings on the scale ("don't know" excluded).
    n: int
    dont_know: int
    median: float | None
    q1: float | None
    q3: float | None
    iqr: float | None
    mean: float | None
    #: Tastle & Wierman consensus in [0, 1].
    consensus: float | None
    #: The ratings fall into a low and a high camp (see ``is_split``).
    split: bool
    #: Band for the median (scale values), see ``median_band``.
    median_low: int | None
    median_high: int | None


@dataclass(frozen=True, slots=True)
class ThemeStats:
    """A theme's norms pooled: every rating of every norm of the theme counted once."""

    #: Pooled statistics.  ``pooled.n`` counts ratings, not people; the median
    #: band is widened for that (see ``theme_stats``).
    pooled: NormStats
    #: Mean of the medians of the theme's norms that have ratings.
    mean_of_medians: float | None
    norms: int
    rated_norms: int


@dataclass(frozen=True, slots=True)
class RoundShift:
    """How a norm moved from one round to the next (after minus before)."""

    median_delta: float | None
    consensus_delta: float | None
    n_before: int
    n_after: int


@dataclass(frozen=True, slots=True)
class Gaps:
    """Target (ideal level or importance) median minus current median."""

    by_norm: dict[str, float | None]
    #: Mean of the gaps of the theme's norms where a gap is defined.
    by_theme: dict[str, float | None]


# --- checks and small helpers ------------------------------------------------


def _check_counts(counts: Sequence[int], what: str = "counts") -> None:
    if len(counts) < 2:
        raise ValueError(f"{what} must have one entry per scale value (at least 2)")
    for count in counts:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"{what} must be non-negative integers, got {count!r}")


def mean(counts: Sequence[int], scale_min: int) -> float | None:
    _check_counts(counts)
    n = sum(counts)
    if n == 0:
        return None
    return scale_min + sum(offset * count for offset, count in enumerate(counts)) / n


def consensus(counts: Sequence[int]) -> float | None:
    """Tastle & Wierman (2007): ``1 + sum p_i log2(1 - |X_i - mu| / d)``, ``d = max - min``.

    Depends only on the shape of the distribution, not on where the scale
    starts.  Values without ratings contribute nothing (``p_i = 0``), so the
    logarithm's argument is always positive.
    """
    _check_counts(counts)
    n = sum(counts)
    if n == 0:
        return None
    width = len(counts) - 1
    mu = sum(offset * count for offset, count in enumerate(counts)) / n
    total = sum(
        count / n * math.log2(1 - abs(offset - mu) / width)
        for offset, count in enumerate(counts)
        if count
    )
    return min(1.0, max(0.0, round(1 + total, 12)))


def is_split(counts: Sequence[int]) -> bool:
    """Whether the ratings fall into a low and a high camp.

    True when some cut of the scale divides the ratings into a low camp and a
    high camp such that each holds at least a quarter of the ratings and at
    least two people (``SPLIT_MIN_SHARE``, ``SPLIT_MIN_CAMP``), the camps' means
    lie at least 40 % of the scale's range apart (``SPLIT_MIN_DISTANCE``), and
    the division explains at least 80 % of the variance (``SPLIT_MIN_SEPARATION``;
    the between-camp share eta squared, as in Otsu's two-class split).  A
    uniform spread (0.75), a bell curve (about 0.64) or a lone dissenter
    (less than a quarter) is not a split; two camps with a hollow middle are.
    """
    _check_counts(counts)
    n = sum(counts)
    if n < 2 * SPLIT_MIN_CAMP:
        return False
    width = len(counts) - 1
    mu = sum(offset * count for offset, count in enumerate(counts)) / n
    variance = sum(count * (offset - mu) ** 2 for offset, count in enumerate(counts)) / n
    if variance == 0:
        return False
    grand_sum = sum(offset * count for offset, count in enumerate(counts))
    low_n = low_sum = 0
    for cut in range(len(counts) - 1):
        low_n += counts[cut]
        low_sum += cut * counts[cut]
        high_n = n - low_n
        smaller = min(low_n, high_n)
        if smaller < SPLIT_MIN_CAMP or smaller < SPLIT_MIN_SHARE * n:
            continue
        distance = (grand_sum - low_sum) / high_n - low_sum / low_n
        between = low_n * high_n / n**2 * distance**2
        if (
            round(distance / width, _DIGITS) >= SPLIT_MIN_DISTANCE
            and round(between / variance, _DIGITS) >= SPLIT_MIN_SEPARATION
        ):
            return True
    return False


# Cached: a room of up to 5,000 people meets each n at most once per process.
@functools.lru_cache(maxsize=8192)
def median_rank_interval(
    n: int, confidence: float = MEDIAN_BAND_CONFIDENCE
) -> tuple[int, Fraction]:
    """``(k, coverage)``: ``[X(k), X(n-k+1)]`` covers the population median with
    probability at least ``coverage = 1 - 2 P(B <= k - 1)``, ``B ~ Binomial(n, 1/2)``,
    for the largest ``k`` whose coverage reaches ``confidence``.

    Distribution-free, and conservative for discrete data (ties only add
    coverage).  When even ``k = 1`` (the sample's range) falls short, which
    happens for ``n <= 5`` at 95 %, ``k = 0``: the band is the whole scale.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be strictly between 0 and 1")
    alpha = 1 - Fraction(repr(confidence))
    whole = 2**n
    # Exact integer arithmetic: 2 P(B <= k) <= alpha  <=>  2 q tail <= p 2**n.
    limit = alpha.numerator * whole
    step = 2 * alpha.denominator
    k = 0
    tail = 0  # P(B <= k - 1) * 2**n, the chosen k's tail
    term = 1  # C(n, k)
    candidate_tail = term  # P(B <= k) * 2**n, the tail of k + 1
    while step * candidate_tail <= limit:
        k += 1
        tail = candidate_tail
        term = term * (n - k + 1) // k
        candidate_tail += term
    return k, 1 - Fraction(2 * tail, whole)


def _band(
    counts: Sequence[int], scale_min: int, effective_n: int, confidence: float
) -> tuple[int, int] | None:
    n = sum(counts)
    if n == 0:
        return None
    k, _ = median_rank_interval(effective_n, confidence)
    # Map the rank from the effective sample onto this one (the identity when
    # effective_n == n), rounding outwards.
    low_rank = (k * n) // effective_n
    return (
        value_at_rank(counts, scale_min, low_rank),
        value_at_rank(counts, scale_min, n - low_rank + 1),
    )


def median_band(
    counts: Sequence[int], scale_min: int, confidence: float = MEDIAN_BAND_CONFIDENCE
) -> tuple[int, int] | None:
    """The exact order-statistic confidence interval for the median, as scale values.

    ``(X(k), X(n-k+1))`` with ``k`` from ``median_rank_interval``; with too few
    ratings for the confidence (``n <= 5`` at 95 %) it is the whole scale.
    None when nobody rated.
    """
    _check_counts(counts)
    return _band(counts, scale_min, sum(counts), confidence)


def _stats(counts: Sequence[int], scale_min: int, dont_know: int, effective_n: int) -> NormStats:
    _check_counts(counts)
    if isinstance(dont_know, bool) or not isinstance(dont_know, int) or dont_know < 0:
        raise ValueError(f"dont_know must be a non-negative integer, got {dont_know!r}")
    n = sum(counts)
    if n == 0:
        return NormStats(0, dont_know, None, None, None, None, None, None, False, None, None)
    quarters = quartiles(counts, scale_min)
    assert quarters is not None
    q1, q3 = quarters
    band = _band(counts, scale_min, effective_n, MEDIAN_BAND_CONFIDENCE)
    assert band is not None
    return NormStats(
        n=n,
        dont_know=dont_know,
        median=stats_median(counts, scale_min),
        q1=q1,
        q3=q3,
        iqr=q3 - q1,
        mean=mean(counts, scale_min),
        consensus=consensus(counts),
        split=is_split(counts),
        median_low=band[0],
        median_high=band[1],
    )


def norm_stats(counts: Sequence[int], scale_min: int, dont_know: int = 0) -> NormStats:
    """All statistics of one norm (see ``NormStats``)."""
    return _stats(counts, scale_min, dont_know, sum(counts))


# --- themes ------------------------------------------------------------------


def themes_of(template: Template) -> dict[str, tuple[str, ...]]:
    """Theme id -> its norm ids, in template order."""
    return {theme.id: tuple(norm.id for norm in theme.norms) for theme in template.themes}


def theme_stats(
    themes: Mapping[str, Sequence[str]],
    counts_by_norm: Mapping[str, Sequence[int]],
    scale_min: int,
    dont_know_by_norm: Mapping[str, int] | None = None,
) -> dict[str, ThemeStats]:
    """Per theme: the counts of its norms pooled, and the mean of the norm medians.

    A norm missing from ``counts_by_norm`` counts as unrated.  The pooled
    ratings come from the same people, so they are not independent: the
    median band is computed as if there were only as many ratings as on the
    theme's most-rated norm (about the number of people), then mapped onto the
    pooled ranks.  That is wider, and more honest, than treating every pooled
    rating as a separate person.
    """
    dont_know_by_norm = dont_know_by_norm or {}
    lengths = {len(counts) for counts in counts_by_norm.values()}
    if len(lengths) > 1:
        raise ValueError("every norm's counts must have the same length (one scale)")
    width = lengths.pop() if lengths else 2
    result: dict[str, ThemeStats] = {}
    for theme_id, norm_ids in themes.items():
        pooled = [0] * width
        dont_know = 0
        medians: list[float] = []
        most = 0
        for norm_id in norm_ids:
            counts = counts_by_norm.get(norm_id, ())
            if counts:
                _check_counts(counts, f"counts of {norm_id!r}")
                pooled = [a + b for a, b in zip(pooled, counts, strict=True)]
                most = max(most, sum(counts))
                norm_median = stats_median(counts, scale_min)
                if norm_median is not None:
                    medians.append(norm_median)
            dont_know += dont_know_by_norm.get(norm_id, 0)
        result[theme_id] = ThemeStats(
            pooled=_stats(pooled, scale_min, dont_know, max(most, 1)),
            mean_of_medians=sum(medians) / len(medians) if medians else None,
            norms=len(norm_ids),
            rated_norms=len(medians),
        )
    return result


# --- what to discuss first ---------------------------------------------------


def priority(stats: NormStats, scale_min: int, scale_max: int) -> float | None:
    """``(1 - consensus) + (1 - normalised median)``, in [0, 2]; None when n = 0.

    High for a norm rated low, or on which the table disagrees; each half
    weighs the same.
    """
    if stats.median is None or stats.consensus is None:
        return None
    if scale_max <= scale_min:
        raise ValueError("scale_max must be above scale_min")
    level = (stats.median - scale_min) / (scale_max - scale_min)
    return (1 - stats.consensus) + (1 - level)


def discussion_ranking(
    stats_by_norm: Mapping[str, NormStats], scale_min: int, scale_max: int
) -> list[str]:
    """Norm ids, highest ``priority`` first; ties keep the mapping's (norm) order,
    and norms nobody rated come last, in norm order."""
    keyed: list[tuple[int, float, int, str]] = []
    for index, (norm_id, stats) in enumerate(stats_by_norm.items()):
        score = priority(stats, scale_min, scale_max)
        if score is None:
            keyed.append((1, 0.0, index, norm_id))
        else:
            keyed.append((0, -round(score, _DIGITS), index, norm_id))
    return [norm_id for *_, norm_id in sorted(keyed)]


def compare_rounds(before: NormStats, after: NormStats) -> RoundShift:
    """The shift of one norm between two rounds (e.g. before and after discussion)."""
    median_delta = (
        None if before.median is None or after.median is None else after.median - before.median
    )
    consensus_delta = (
        None
        if before.consensus is None or after.consensus is None
        else round(after.consensus - before.consensus, 12)
    )
    return RoundShift(median_delta, consensus_delta, before.n, after.n)


def gap(
    current: Mapping[str, NormStats],
    target: Mapping[str, NormStats],
    themes: Mapping[str, Sequence[str]],
) -> Gaps:
    """Per norm: target median (ideal level or importance, asked on the same
    scale) minus current median; None when either has no ratings.  Per theme:
    the mean of its norms' gaps that are defined.

    Norms are taken from ``current``; a norm missing from ``target`` has no gap.
    """
    by_norm: dict[str, float | None] = {}
    for norm_id, now in current.items():
        wanted = target.get(norm_id)
        if wanted is None or wanted.median is None or now.median is None:
            by_norm[norm_id] = None
        else:
            by_norm[norm_id] = wanted.median - now.median
    by_theme: dict[str, float | None] = {}
    for theme_id, norm_ids in themes.items():
        gaps = [g for g in (by_norm.get(norm_id) for norm_id in norm_ids) if g is not None]
        by_theme[theme_id] = sum(gaps) / len(gaps) if gaps else None
    return Gaps(by_norm, by_theme)


# --- breakdown by organisation type ------------------------------------------


def breakdown(
    by_group: Mapping[str, Sequence[int]],
    total_counts: Sequence[int],
    min_size: int,
    *,
    scale_min: int,
    dont_know_by_group: Mapping[str, int] | None = None,
    total_dont_know: int = 0,
) -> dict[str, NormStats]:
    """One norm's statistics per organisation type, for the groups that may be shown.

    A group is shown only with at least ``min_size`` ratings on this norm, and
    only if the people not shown (hidden groups plus those with no
    organisation type, ``total - sum(groups)``) add up to 0 or at least
    ``min_size``, so that nothing about fewer than ``min_size`` people can be
    worked out by subtracting the shown groups from the total.  That rule is
    ``agenda.privacy.publishable_groups``, applied twice: to the ratings on the
    scale, then (among the groups it kept) to all answers including "don't
    know", so that the "don't know" counts give nothing away either.  Each
    pass hides further groups smallest first; hiding a shown group adds at
    least ``min_size`` to what is hidden, so the second pass keeps the first
    one's guarantee.

    When no group can be shown the result is empty (the total, published
    elsewhere, is then the only figure).  Result order: ``by_group``'s order.
    """
    if isinstance(min_size, bool) or not isinstance(min_size, int) or min_size < 1:
        raise ValueError("min_size must be a positive integer")
    _check_counts(total_counts, "total_counts")
    dont_know = dict(dont_know_by_group or {})
    for group, counts in by_group.items():
        _check_counts(counts, f"counts of {group!r}")
        if len(counts) != len(total_counts):
            raise ValueError(f"counts of {group!r} must have {len(total_counts)} entries")
    for value, total in enumerate(total_counts):
        if sum(counts[value] for counts in by_group.values()) > total:
            raise ValueError(f"the groups hold more ratings of value {value} than the total")
    unknown = set(dont_know) - set(by_group)
    if unknown:
        raise ValueError(f"don't-know counts for unknown groups: {sorted(unknown)}")
    if any(not isinstance(dk, int) or isinstance(dk, bool) or dk < 0 for dk in dont_know.values()):
        raise ValueError("don't-know counts must be non-negative integers")
    if sum(dont_know.values()) > total_dont_know:
        raise ValueError("the groups hold more don't-know answers than the total")

    ratings = {group: sum(counts) for group, counts in by_group.items()}
    shown = publishable_groups(ratings, sum(total_counts), min_size)
    answers = {group: ratings[group] + dont_know.get(group, 0) for group in shown}
    shown = publishable_groups(answers, sum(total_counts) + total_dont_know, min_size)
    return {
        group: norm_stats(counts, scale_min, dont_know.get(group, 0))
        for group, counts in by_group.items()
        if group in shown
    }
