"""The distribution bars the PDF and the DOCX draw: heights and colours.

Only the geometry and the palette, so both documents draw the same bar; each
renderer draws it with its own library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final


def bar_heights(counts: Sequence[int]) -> list[float]:
    """Each count as a fraction of the largest (all 0 when nobody rated)."""
    peak = max(counts, default=0)
    return [count / peak if peak else 0.0 for count in counts]


#: Bar colours from the low to the high end of the scale: red, amber, green.
_STOPS: Final = ((0xC0, 0x39, 0x2B), (0xE6, 0xA1, 0x17), (0x2E, 0x8B, 0x57))


def bar_colour(index: int, size: int) -> tuple[int, int, int]:
    """RGB of the bar for the ``index``-th of ``size`` scale values."""
    where = index / (size - 1) if size > 1 else 1.0
    half = 0 if where <= 0.5 else 1
    start, end = _STOPS[half], _STOPS[half + 1]
    fraction = where * 2 - half
    r, g, b = (round(a + (z - a) * fraction) for a, z in zip(start, end, strict=True))
    return r, g, b
