"""How the documents write a result: numbers, changes, dates and shared sections.

Every renderer writes a median, a change, a date or the opinion-group tables
the same way, in the reader's language (a label table from ``labels``), so
these live here once: "6,5" and "+0,5" in Dutch, "15 January 2027" in English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from agenda.export.model import AgendaRow, NormRow, Result, norm_label, norms
from agenda.stats import shown_range


def number(value: float | None, decimal: str = ".") -> str:
    """A median or quartile as people write it: 6, 6.5 (or 6,5); empty for None."""
    return "" if value is None else f"{value:g}".replace(".", decimal)


def signed(value: float | None, decimal: str) -> str:
    """A change as people write it: +0,5, -1, 0 (two decimals at most); empty for None."""
    if value is None:
        return ""
    # Round first, so that +0.003 prints "0" and not "+0"; adding 0.0 turns a
    # rounded -0.0 into 0.0, which prints "0", not "-0".
    rounded = round(value, 2) + 0.0
    return ("+" if rounded > 0 else "") + number(rounded, decimal)


def _middle_ends(norm: NormRow) -> tuple[str, str] | None:
    """The middle range's ends in whole scale values (``agenda.stats.shown_range``:
    a quartile of 3.5 reads as 3 at the bottom and 4 at the top); None without ratings."""
    if norm["q1"] is None or norm["q3"] is None:
        return None
    low, high = shown_range(norm["q1"], norm["q3"])
    return str(low), str(high)


def middle_range(norm: NormRow, decimal: str = ",") -> str:
    """ "5–8" (or "6" when the middle half sits on one value); empty without ratings.

    Whole numbers only, so ``decimal`` never shows; it stays for the callers' symmetry.
    """
    ends = _middle_ends(norm)
    if ends is None:
        return ""
    low, high = ends
    return low if low == high else f"{low}–{high}"


def middle_sentence(norm: NormRow, t: Mapping[str, str]) -> str:
    """The middle range in plain words: "de meeste cijfers liggen tussen 5 en 8",
    or "de meeste cijfers zijn 3" when both ends are the same."""
    ends = _middle_ends(norm)
    if ends is None:
        return ""
    low, high = ends
    if low == high:
        return t["most_one"].format(value=low)
    return t["most_sentence"].format(low=low, high=high)


def median_then_now(norm: NormRow, t: Mapping[str, str]) -> str:
    """The median in the round before and now: "was 6, nu 7" ("-" for a round
    without ratings); empty when the norm has no previous round.  Words, not an
    arrow: the PDF's font has no "→", and "6–7" would read as a range."""
    shift = norm.get("previous_round")
    if shift is None:
        return ""
    before = number(shift["median_before"], t["decimal"]) or "-"
    now = number(norm["median"], t["decimal"]) or "-"
    return t["then_now"].format(before=before, now=now)


def long_date(iso: str | None, t: Mapping[str, str]) -> str:
    """ "2027-01-15" as people write it: "15 januari 2027", "15 January 2027"; '' for None."""
    if not iso:
        return ""
    day = date.fromisoformat(iso)
    return f"{day.day} {t['months'].split()[day.month - 1]} {day.year}"


def follow_up_date(item: AgendaRow, t: Mapping[str, str]) -> str:
    """When the table reviews an action's progress, written like its deadline; '' for none."""
    value = item.get("follow_up")
    if not value:
        return ""
    try:
        return long_date(value, t)
    except ValueError:  # an older room's free text: as it was typed
        return value


def dots_text(dots: int | None, t: Mapping[str, str]) -> str:
    """ "3 stippen", "1 stip"; empty while the dot results are not shown."""
    if dots is None:
        return ""
    return t["dots_one"] if dots == 1 else t["dots_n"].format(n=dots)


def group_name(index: int, t: Mapping[str, str]) -> str:
    """ "Groep A", "Group B" ... for the ``index``-th opinion group."""
    letters = "ABCDEFGHIJ"
    return t["opinion_group"].format(letter=letters[index] if index < len(letters) else index + 1)


def title_line(result: Result, t: Mapping[str, str]) -> str:
    """The document's title: the session's name when it has one, else the template's."""
    return f"{t['title']}: {result['session']['name'] or result['template']['title']}"


def session_lines(result: Result, t: Mapping[str, str], today: date | None = None) -> list[str]:
    """The title block under the title: where and when, then the room and the export day."""
    session = result["session"]
    first = []
    if session["region"]:
        first.append(f"{t['region']}: {session['region']}")
    if session["date"]:
        first.append(f"{t['date']}: {long_date(session['date'], t)}")
    if session["name"]:
        # Without a name the title already is the template's.
        first.append(f"{t['template']}: {result['template']['title']}")
    second = (
        f"{t['room']}: {result['room']} · {t['participants']}: {result['participants']}"
        f" · {t['round']}: {result['round']}"
    )
    if today is not None:
        second += f" · {t['exported']}: {long_date(today.isoformat(), t)}"
    return [" · ".join(first), second] if first else [second]


def opinion_group_text(result: Result, t: Mapping[str, str]) -> str | None:
    """Why there are no opinion groups to show, in words; None when there are."""
    found = result["opinion_groups"]
    if found is None:
        return None
    if found["outcome"] == "too_few_participants":
        return t["groups_too_few"]
    # ``build`` leaves the groups out unless there are two or more clear ones.
    if found["outcome"] != "groups" or len(found["groups"]) < 2:
        return t["groups_none"]
    return None


def opinion_group_tables(
    result: Result, t: Mapping[str, str]
) -> tuple[list[list[str]], list[list[str]]]:
    """(sizes, separating): rows "Groep A", "5"; and per separating norm its medians
    per group, each table under its header row."""
    found = result["opinion_groups"]
    assert found is not None
    names = [group_name(i, t) for i in range(len(found["groups"]))]
    sizes = [[t["note_group"], t["people"]]]
    sizes += [
        [name, str(group["size"])] for name, group in zip(names, found["groups"], strict=True)
    ]
    separating = [[t["norm"], *names]]
    for norm_id in found["separating_norms"]:
        separating.append(
            [
                norm_label(result, norm_id),
                *(
                    number(group["medians"][norm_id], t["decimal"]) or "-"
                    for group in found["groups"]
                ),
            ]
        )
    return sizes, separating


@dataclass(frozen=True, slots=True)
class GapTables:
    """The gap section every document shows: its title, note and two tables as text."""

    title: str
    note: str
    #: Norm, median, second question's median, gap.
    norm_header: tuple[str, str, str, str]
    norm_rows: list[tuple[str, str, str, str]]
    #: Theme, mean gap.
    theme_header: tuple[str, str]
    theme_rows: list[tuple[str, str]]


def gap_tables(result: Result, t: Mapping[str, str]) -> GapTables | None:
    """The second question against the scores, once revealed; None without one."""
    if "second_question" not in result or not result["revealed"]:
        return None
    decimal = t["decimal"]
    kind = result["second_question"]["kind"]
    return GapTables(
        title=t["gap_" + kind],
        note=t["gap_note_" + kind],
        norm_header=(t["norm"], t["median"], t["second_" + kind], t["gap"]),
        norm_rows=[
            (
                f"{row['number']}. {row['title']}",
                number(row["median"], decimal),
                number(row["second"]["median"], decimal),
                signed(row["second"]["gap"], decimal),
            )
            for row in norms(result)
            if "second" in row
        ],
        theme_header=(t["theme"], t["theme_gap"]),
        theme_rows=[
            (theme["title"], signed(theme.get("gap"), decimal)) for theme in result["themes"]
        ],
    )
