"""Exports of a session's result: aggregates only, in Dutch or English.

No participant token, pseudonym or timestamp ever enters an export: the input
is a ``RoomData``, which holds none.  Distributions appear only once revealed.

Every format is drawn from ``result_dict``, one plain dict (the JSON export),
so a key added there reaches every renderer.  This module owns that dict, the
labels in both languages (``_TEXT``), the statistics the documents share (the
quartiles behind "where the table differed") and the dispatch in ``render``.
The CSV, DOCX and PDF renderers live in ``export_csv``, ``export_docx`` and
``export_pdf``; ``docs/exports.md`` describes each layout.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, NotRequired, TypedDict

from agenda import analysis
from agenda.phases import is_revealed
from agenda.templates import Template
from agenda.views import RoomData, norm_results, previous_scan
from protocol.messages import AgendaItem
from protocol.phases import Question

#: Version of the JSON export's layout; bump on any incompatible change.
JSON_EXPORT_VERSION = 1

#: Format key (the ``export.<key>`` in the URL) -> media type and file extension.
MEDIA_TYPES: Final[Mapping[str, tuple[str, str]]] = {
    "json": ("application/json", "json"),
    "md": ("text/markdown; charset=utf-8", "md"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    # For Excel with a Dutch (or German, French...) locale: ";" between
    # cells and a decimal comma.
    "csv-semicolon": ("text/csv; charset=utf-8", "csv"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "pdf": ("application/pdf", "pdf"),
}
FORMATS = frozenset(MEDIA_TYPES)
#: Formats whose body is UTF-8 text (the others are binary documents).
TEXT_FORMATS = frozenset({"json", "md", "csv", "csv-semicolon"})
LANGUAGES = frozenset({"nl", "en"})

#: How many norms "where the table differed" lists at most.
SPREAD_TOP: Final = 5

# Every language has the same keys and the same {placeholders}; a test checks.
_TEXT: Final[Mapping[str, Mapping[str, str]]] = {
    "nl": {
        "title": "Verbeteragenda",
        "room": "Sessie",
        "participants": "Deelnemers",
        "round": "Ronde",
        "exported": "Export",
        "scores": "Scores per norm",
        "theme": "Thema",
        "number": "Nr.",
        "norm_id": "Norm-id",
        "norm": "Norm",
        "answers": "Antwoorden",
        "median": "Mediaan",
        "dont_know": "Weet niet",
        "score": "Score",
        "distribution": "Verdeling",
        "distribution_note": (
            "Verdeling: het aantal antwoorden per score, van {min} (links) tot {max} (rechts). "
            "De mediaan en de verdeling tellen ‘weet niet’ niet mee."
        ),
        "hidden": "nog niet getoond",
        "hidden_note": (
            "De scores zijn nog niet getoond: hier staat alleen hoeveel antwoorden er zijn."
        ),
        "spread": "Waar de meningen uiteenliepen",
        "spread_note": (
            "De normen met de grootste spreiding: de middelste helft van de scores "
            "(eerste tot derde kwartiel, Q1–Q3) lag hier het verst uit elkaar."
        ),
        "middle_half": "Middelste helft (Q1–Q3)",
        "iqr": "Spreiding (Q3\u00a0−\u00a0Q1)",
        "no_spread": "Bij geen enkele norm lag de middelste helft van de scores uit elkaar.",
        "agenda": "Afgesproken acties",
        "action": "Actie",
        "owner": "Trekker",
        "deadline": "Deadline",
        "follow_up": "Vervolg",
        "none": "Nog geen acties.",
        "notes": "Ideeën uit de brainstorm",
        "rounds": "Wat veranderde in ronde {round}",
        "rounds_note": "Mediaan en eensgezindheid (0 tot 1) tegenover de ronde ervoor.",
        "median_change": "Verschil mediaan",
        "consensus_change": "Verschil eensgezindheid",
        "since_previous": "Sinds de vorige scan ({room})",
        "median_before": "Mediaan toen",
        "earlier_actions": "Acties van de vorige scan",
        "status": "Stand",
        "status_open": "nog open",
        "status_in_progress": "bezig",
        "status_done": "klaar",
        "status_dropped": "gestopt",
        "idea": "Idee",
        "gap_importance": "Belang tegenover score",
        "gap_ideal": "Gewenst niveau tegenover score",
        "gap_note_importance": (
            "Per norm het belang (mediaan) en het verschil: belang min score. "
            "Hoe groter het verschil, hoe verder de score achterblijft bij wat de tafel "
            "belangrijk vindt."
        ),
        "gap_note_ideal": (
            "Per norm het gewenste niveau (mediaan) en het verschil: gewenst niveau min score. "
            "Hoe groter het verschil, hoe meer er nog te doen is."
        ),
        "second_importance": "Belang",
        "second_ideal": "Gewenst niveau",
        "gap": "Verschil",
        "theme_gap": "Gemiddeld verschil",
        "page": "pagina {page}",
        "decimal": ",",
    },
    "en": {
        "title": "Improvement agenda",
        "room": "Session",
        "participants": "Participants",
        "round": "Round",
        "exported": "Exported",
        "scores": "Scores per norm",
        "theme": "Theme",
        "number": "No.",
        "norm_id": "Norm id",
        "norm": "Norm",
        "answers": "Answers",
        "median": "Median",
        "dont_know": "Don't know",
        "score": "Score",
        "distribution": "Distribution",
        "distribution_note": (
            "Distribution: the number of answers per score, from {min} (left) to {max} (right). "
            "The median and the distribution leave out ‘don’t know’."
        ),
        "hidden": "not revealed yet",
        "hidden_note": "The scores are not revealed yet: only the number of answers is shown.",
        "spread": "Where the table differed",
        "spread_note": (
            "The norms with the widest spread: here the middle half of the scores "
            "(first to third quartile, Q1–Q3) lay furthest apart."
        ),
        "middle_half": "Middle half (Q1–Q3)",
        "iqr": "Spread (Q3\u00a0−\u00a0Q1)",
        "no_spread": "On every norm the middle half of the scores agreed.",
        "agenda": "Agreed actions",
        "action": "Action",
        "owner": "Owner",
        "deadline": "Deadline",
        "follow_up": "Follow-up",
        "none": "No actions yet.",
        "notes": "Ideas from the brainstorm",
        "rounds": "What changed in round {round}",
        "rounds_note": "Median and consensus (0 to 1) against the round before.",
        "median_change": "Median change",
        "consensus_change": "Consensus change",
        "since_previous": "Since the previous scan ({room})",
        "median_before": "Median then",
        "earlier_actions": "Actions of the previous scan",
        "status": "Status",
        "status_open": "still open",
        "status_in_progress": "in progress",
        "status_done": "done",
        "status_dropped": "dropped",
        "idea": "Idea",
        "gap_importance": "Importance against score",
        "gap_ideal": "Ideal level against score",
        "gap_note_importance": (
            "Per norm its importance (median) and the gap: importance minus score. "
            "The larger the gap, the further the score falls short of what the table "
            "finds important."
        ),
        "gap_note_ideal": (
            "Per norm the ideal level (median) and the gap: ideal level minus score. "
            "The larger the gap, the more there is still to do."
        ),
        "second_importance": "Importance",
        "second_ideal": "Ideal level",
        "gap": "Gap",
        "theme_gap": "Mean gap",
        "page": "page {page}",
        "decimal": ".",
    },
}


# ------------------------------------------------------------------ the result


@dataclass(frozen=True, slots=True)
class Document:
    """One rendered export, as the HTTP response sends it."""

    body: bytes
    media_type: str
    extension: str


class NormRow(TypedDict):
    id: str
    number: int
    title: str
    received: int
    #: Before the reveal these three are None.
    counts: list[int] | None
    dont_know: int | None
    median: float | None
    #: Only in a second (or later) round, once revealed.
    previous_round: NotRequired[RoundShiftRow]
    #: Only in a follow-up scan.
    previous_scan: NotRequired[PreviousScanRow]
    #: Only when the template asks a second question (see ``SecondQuestionRef``).
    second: NotRequired[SecondRow]


class SecondRow(TypedDict):
    """The answers to the template's second question on one norm."""

    received: int
    #: Before the reveal these four are None.
    counts: list[int] | None
    dont_know: int | None
    median: float | None
    #: ``median`` minus the norm's (main) median.
    gap: float | None


class RoundShiftRow(TypedDict):
    median_delta: float | None
    consensus_delta: float | None
    n_before: int


class PreviousScanRow(TypedDict):
    median_before: float | None
    #: Median now minus then (None until both exist and this scan is revealed).
    median_change: float | None


class ThemeRow(TypedDict):
    id: str
    title: str
    norms: list[NormRow]
    #: Only with a second question: the mean of the theme's norms' gaps.
    gap: NotRequired[float | None]


class SecondQuestionRef(TypedDict):
    #: "importance" or "ideal".
    kind: str
    question: str


class AgendaRow(TypedDict):
    action: str
    owner: str
    deadline: str | None
    #: Id of the linked norm, if any.
    norm: str | None
    #: Date or text of the follow-up meeting, once sessions record one.
    follow_up: NotRequired[str | None]


class NoteRow(TypedDict):
    text: str
    norm: str | None


class TemplateRef(TypedDict):
    id: str
    title: str
    language: str


class ScaleRange(TypedDict):
    min: int
    max: int


class EarlierActionRow(TypedDict):
    action: str
    owner: str
    deadline: str | None
    status: str


class Result(TypedDict):
    """The JSON export's layout (version ``JSON_EXPORT_VERSION``)."""

    format: str
    version: int
    room: str
    template: TemplateRef
    scale: ScaleRange
    phase: str
    round: int
    participants: int
    revealed: bool
    themes: list[ThemeRow]
    agenda: list[AgendaRow]
    notes: list[NoteRow]
    #: Only when the template asks a second question per norm.
    second_question: NotRequired[SecondQuestionRef]
    #: Only in a follow-up scan: the earlier scan's room and its actions' status.
    previous_room: NotRequired[str]
    earlier_actions: NotRequired[list[EarlierActionRow]]


def result_dict(data: RoomData, template: Template, code: str) -> Result:
    """The whole result as plain data (the JSON export, and the base of the others)."""
    revealed = is_revealed(data.phase)
    results = {r.norm_id: r for r in norm_results(data, template, revealed=revealed)}
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
                    {
                        "id": norm.id,
                        "number": norm.number,
                        "title": norm.title,
                        "received": results[norm.id].received,
                        "counts": _list(results[norm.id].counts),
                        "dont_know": results[norm.id].dont_know,
                        "median": results[norm.id].median,
                    }
                    for norm in theme.norms
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
        "notes": sorted(
            ({"text": note.text, "norm": note.norm_id} for note in data.notes if not note.hidden),
            key=lambda n: (n["norm"] or "", n["text"]),
        ),
    }
    for row, item in zip(result["agenda"], sorted(data.agenda, key=_by_position), strict=True):
        if item.follow_up is not None:
            row["follow_up"] = item.follow_up
    return _with_second_question(_with_history(result, data, template), data, template)


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
            rows[norm.id]["previous_round"] = {
                "median_delta": shift.median_delta,
                "consensus_delta": shift.consensus_delta,
                "n_before": shift.n_before,
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


# ------------------------------------------------- helpers the renderers share


def labels(lang: str) -> Mapping[str, str]:
    """Every heading and label of an export, in ``lang`` ("nl" or "en")."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown export language {lang!r}")
    return _TEXT[lang]


def norms(result: Result) -> list[NormRow]:
    """Every norm of the result, in template order."""
    return [norm for theme in result["themes"] for norm in theme["norms"]]


def norm_label(result: Result, norm_id: str | None) -> str:
    """ "3. Title" of a linked norm; empty when there is none (or it is unknown)."""
    for norm in norms(result):
        if norm["id"] == norm_id:
            return f"{norm['number']}. {norm['title']}"
    return ""


def number(value: float | None, decimal: str = ".") -> str:
    """A median or quartile as people write it: 6, 6.5 (or 6,5); empty for None."""
    return "" if value is None else f"{value:g}".replace(".", decimal)


def has_follow_up(result: Result) -> bool:
    """Whether any agenda item names a follow-up (the documents then show the column)."""
    return any(item.get("follow_up") for item in result["agenda"])


def quantile(counts: Sequence[int], scale_min: int, p: float) -> float | None:
    """The ``p``-quantile of the ratings tallied in ``counts``, or None without any.

    Linear interpolation between order statistics (Hyndman & Fan type 7, as in
    ``statistics.quantiles(method="inclusive")`` and spreadsheets' QUARTILE).
    """
    n = sum(counts)
    if n == 0:
        return None
    position = p * (n - 1)
    below = math.floor(position)
    low = _value_at(counts, scale_min, below)
    high = _value_at(counts, scale_min, min(below + 1, n - 1))
    return low + (position - below) * (high - low)


def _value_at(counts: Sequence[int], scale_min: int, rank: int) -> int:
    """The rating at 0-based ``rank`` when the ratings are sorted."""
    seen = 0
    for offset, count in enumerate(counts):
        seen += count
        if rank < seen:
            return scale_min + offset
    raise IndexError(rank)


@dataclass(frozen=True, slots=True)
class Spread:
    """How far one norm's ratings lay apart."""

    norm: NormRow
    q1: float
    q3: float
    low: int
    high: int

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1


def widest_spread(result: Result, top: int = SPREAD_TOP) -> list[Spread]:
    """The ``top`` norms whose middle half of the ratings lay furthest apart.

    Ordered by interquartile range, then by full range, then by number.  A norm
    whose middle half sits on one value (IQR 0) did not divide the table and is
    left out, so the list may be shorter.  Empty before the reveal.
    """
    scale_min = result["scale"]["min"]
    spreads = []
    for norm in norms(result):
        counts = norm["counts"]
        q1 = None if counts is None else quantile(counts, scale_min, 0.25)
        q3 = None if counts is None else quantile(counts, scale_min, 0.75)
        if counts is None or q1 is None or q3 is None or q3 <= q1:
            continue
        rated = [scale_min + i for i, count in enumerate(counts) if count]
        spreads.append(Spread(norm, q1, q3, rated[0], rated[-1]))
    spreads.sort(key=lambda s: (-s.iqr, -(s.high - s.low), s.norm["number"]))
    return spreads[:top]


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


# ------------------------------------------------------------------ markdown


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _median(norm: NormRow, t: Mapping[str, str]) -> str:
    if norm["counts"] is None:
        return t["hidden"]
    return "-" if norm["median"] is None else number(norm["median"], t["decimal"])


def markdown(data: RoomData, template: Template, lang: str, code: str) -> str:
    return markdown_from(result_dict(data, template, code), lang)


def markdown_from(result: Result, lang: str) -> str:
    t = labels(lang)
    lines = [
        f"# {t['title']}: {result['template']['title']}",
        "",
        f"{t['room']}: {result['room']} · {t['participants']}: {result['participants']}"
        f" · {t['round']}: {result['round']}",
        "",
        f"## {t['scores']}",
    ]
    for theme in result["themes"]:
        lines += ["", f"### {theme['title']}", ""]
        lines += [f"| {t['norm']} | {t['answers']} | {t['median']} | {t['dont_know']} |"]
        lines += ["|---|---:|---:|---:|"]
        for norm in theme["norms"]:
            dont_know = "" if norm["dont_know"] is None else str(norm["dont_know"])
            lines.append(
                f"| {norm['number']}. {_cell(norm['title'])} | {norm['received']} "
                f"| {_median(norm, t)} | {dont_know} |"
            )
    lines += ["", f"## {t['agenda']}", ""]
    if not result["agenda"]:
        lines.append(t["none"])
    else:
        titles = {norm["id"]: norm["title"] for norm in norms(result)}
        lines += [f"| # | {t['action']} | {t['owner']} | {t['deadline']} | {t['norm']} |"]
        lines += ["|---:|---|---|---|---|"]
        for position, item in enumerate(result["agenda"], start=1):
            norm_title = titles.get(item["norm"] or "", "")
            lines.append(
                f"| {position} | {_cell(item['action'])} | {_cell(item['owner'])} "
                f"| {item['deadline'] or ''} | {_cell(norm_title)} |"
            )
    lines += _markdown_history(result, t)
    lines += _markdown_gaps(result, t)
    visible = sorted(note["text"] for note in result["notes"])
    if visible:
        lines += ["", f"## {t['notes']}", ""]
        lines += [f"- {_cell(text)}" for text in visible]
    return "\n".join(lines) + "\n"


def signed(value: float | None, decimal: str) -> str:
    """A change as people write it: +0,5, -1, 0 (two decimals at most); empty for None."""
    if value is None:
        return ""
    # Round first, so that +0.003 prints "0" and not "+0"; adding 0.0 turns a
    # rounded -0.0 into 0.0, which prints "0", not "-0".
    rounded = round(value, 2) + 0.0
    return ("+" if rounded > 0 else "") + number(rounded, decimal)


def _markdown_history(result: Result, t: Mapping[str, str]) -> list[str]:
    decimal = t["decimal"]
    lines: list[str] = []
    shifted = [row for row in norms(result) if "previous_round" in row]
    if shifted:
        lines += ["", f"## {t['rounds'].format(round=result['round'])}", "", t["rounds_note"], ""]
        lines += [f"| {t['norm']} | {t['median_change']} | {t['consensus_change']} |"]
        lines += ["|---|---:|---:|"]
        for row in shifted:
            shift = row["previous_round"]
            lines.append(
                f"| {row['number']}. {_cell(row['title'])} "
                f"| {signed(shift['median_delta'], decimal)} "
                f"| {signed(shift['consensus_delta'], decimal)} |"
            )
    if "previous_room" in result:
        lines += ["", f"## {t['since_previous'].format(room=result['previous_room'])}", ""]
        lines += [f"| {t['norm']} | {t['median_before']} | {t['median_change']} |"]
        lines += ["|---|---:|---:|"]
        for row in norms(result):
            if "previous_scan" not in row:
                continue
            then = row["previous_scan"]
            lines.append(
                f"| {row['number']}. {_cell(row['title'])} "
                f"| {number(then['median_before'], decimal)} "
                f"| {signed(then['median_change'], decimal)} |"
            )
        earlier = result.get("earlier_actions", [])
        if earlier:
            lines += ["", f"### {t['earlier_actions']}", ""]
            lines += [f"| {t['action']} | {t['owner']} | {t['deadline']} | {t['status']} |"]
            lines += ["|---|---|---|---|"]
            for item in earlier:
                lines.append(
                    f"| {_cell(item['action'])} | {_cell(item['owner'])} "
                    f"| {item['deadline'] or ''} | {t['status_' + item['status']]} |"
                )
    return lines


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


def _markdown_gaps(result: Result, t: Mapping[str, str]) -> list[str]:
    tables = gap_tables(result, t)
    if tables is None:
        return []
    lines = ["", f"## {tables.title}", "", tables.note, ""]
    lines += ["| " + " | ".join(tables.norm_header) + " |", "|---|---:|---:|---:|"]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in tables.norm_rows]
    lines += ["", "| " + " | ".join(tables.theme_header) + " |", "|---|---:|"]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in tables.theme_rows]
    return lines


# ------------------------------------------------------------------ dispatch


def render(
    fmt: str,
    data: RoomData,
    template: Template,
    lang: str,
    code: str,
    *,
    today: date | None = None,
) -> Document:
    """The export of a room in format ``fmt`` (a key of ``FORMATS``) and language ``lang``.

    ``today`` is the export date the PDF and DOCX print (and carry as their
    creation date, by the day); it defaults to the local date.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    t = labels(lang)
    template = template.localized(lang)  # norms, themes and labels in the reader's language
    result = result_dict(data, template, code)
    media_type, extension = MEDIA_TYPES[fmt]
    # The renderers are imported on use: python-docx and reportlab load only
    # when a document is asked for, and the renderers take their helpers and
    # labels from this module.
    if fmt == "json":
        body = json.dumps(result, ensure_ascii=False, indent=2).encode()
    elif fmt == "md":
        body = markdown_from(result, lang).encode()
    elif fmt in ("csv", "csv-semicolon"):
        from agenda import export_csv

        semicolon = fmt == "csv-semicolon"
        body = export_csv.render_csv(
            result, t, delimiter=";" if semicolon else ",", decimal="," if semicolon else "."
        )
    elif fmt == "docx":
        from agenda import export_docx

        body = export_docx.render_docx(result, t, today or date.today(), lang)
    else:
        from agenda import export_pdf

        body = export_pdf.render_pdf(result, t, today or date.today(), lang)
    return Document(body, media_type, extension)
