"""Statistics of one norm's ratings, from counts per scale value.

Counts, not individual votes, are the input: the store keeps tallies, and an
aggregate is all the analysis may see.  "Don't know" is kept apart and never
enters a statistic of the scale.

``quantile`` is the one quantile definition of kleur: the analysis, every
export and (through the analysis the server sends) every screen use it, so a
norm's middle range reads the same everywhere (``docs/analysis.md``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction


def total(counts: Sequence[int]) -> int:
    return sum(counts)


def median(counts: Sequence[int], scale_min: int) -> float | None:
    """The median rating (mean of the two middle ones for an even count), or None."""
    n = sum(counts)
    if n == 0:
        return None
    lower_rank, upper_rank = (n - 1) // 2, n // 2
    lower = upper = None
    seen = 0
    for offset, count in enumerate(counts):
        if lower is None and seen + count > lower_rank:
            lower = scale_min + offset
        if seen + count > upper_rank:
            upper = scale_min + offset
            break
        seen += count
    assert lower is not None and upper is not None
    return (lower + upper) / 2


def value_at_rank(counts: Sequence[int], scale_min: int, rank: int) -> int:
    """The ``rank``-th smallest rating (1-based); rank 0 is the scale's bottom,
    rank n + 1 its top (the order statistics of the scale's ends)."""
    if rank <= 0:
        return scale_min
    seen = 0
    for offset, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return scale_min + offset
    return scale_min + len(counts) - 1


def quantile(counts: Sequence[int], scale_min: int, p: Fraction) -> float | None:
    """The ``p``-quantile of the ratings tallied in ``counts``; None without any.

    Hyndman & Fan definition 2 (the inverse of the empirical distribution,
    averaging at a jump): with ``n * p = j + g`` (``j`` whole), ``X(j+1)`` when
    ``g > 0`` and ``(X(j) + X(j+1)) / 2`` when ``g = 0``, where ``X(r)`` is the
    r-th smallest rating.  Grouped integer ratings have many ties, and this
    answer is always a scale value or the midpoint of two neighbours, never an
    interpolated 1.75 that suggests a precision a school grade does not have;
    at ``p = 1/2`` it is ``median``.  ``p`` is an exact fraction (``0 < p < 1``),
    so "``g = 0``" is decided exactly.
    """
    if not 0 < p < 1:
        raise ValueError(f"p must be strictly between 0 and 1, got {p}")
    n = sum(counts)
    if n == 0:
        return None
    position = n * p
    j = math.floor(position)
    upper = value_at_rank(counts, scale_min, j + 1)
    if position != j:
        return float(upper)
    return (value_at_rank(counts, scale_min, j) + upper) / 2


def quartiles(counts: Sequence[int], scale_min: int) -> tuple[float, float] | None:
    """``(q1, q3)`` by ``quantile``: where the middle half of the ratings lies; None without any."""
    q1 = quantile(counts, scale_min, Fraction(1, 4))
    q3 = quantile(counts, scale_min, Fraction(3, 4))
    if q1 is None or q3 is None:
        return None
    return q1, q3


def shown_range(q1: float, q3: float) -> tuple[int, int]:
    """The middle range as people read it on a scale of whole numbers: the ends
    rounded outward (``math.floor`` of q1, ``math.ceil`` of q3).

    A quartile can fall halfway between two scale values (3.5); "most scores
    lie between 3.5 and 6.5" suggests half marks nobody can give.  Rounded
    outward the range still holds the middle half of the ratings: 3 to 7.
    When both ends are the same value there is one: "most scores are 3".
    """
    return math.floor(q1), math.ceil(q3)
