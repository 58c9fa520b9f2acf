"""Statistics of one norm's ratings, from counts per scale value.

Counts, not individual votes, are the input: the store keeps tallies, and an
aggregate is all the analysis may see.  "Don't know" is kept apart and never
enters a statistic of the scale.
"""

from __future__ import annotations

from collections.abc import Sequence


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
