"""Small-group suppression, so that no figure points at fewer than ``min_size`` people.

Hiding each small group is not enough when the total is published: one hidden
group could then be worked out by subtraction.  Complementary suppression
hides further groups, smallest first, until what is hidden adds up to at least
``min_size`` people (or to nothing).
"""

from __future__ import annotations

from collections.abc import Mapping


def publishable_groups(counts: Mapping[str, int], total: int, min_size: int) -> dict[str, int]:
    """The groups that may be shown beside ``total``.

    ``counts`` may leave people out (e.g. those who chose no organisation
    type): ``total - sum(counts)`` is an implicit group that is never shown
    but does count as hidden.
    """
    shown = {group: n for group, n in counts.items() if n >= min_size}
    hidden_people = total - sum(shown.values())
    # Hide more groups, smallest first (ties by name, so the result is stable),
    # while the hidden people could be singled out by subtraction.
    for group in sorted(shown, key=lambda g: (shown[g], g)):
        if hidden_people == 0 or hidden_people >= min_size:
            break
        hidden_people += shown.pop(group)
    return shown
