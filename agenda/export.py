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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, NotRequired, TypedDict

from agenda import analysis, views
from agenda.insights import is_contested
from agenda.phases import is_revealed
from agenda.templates import Norm, Template
from agenda.views import RoomData, norm_results, previous_scan
from protocol.messages import AgendaItem, Analysis, NormResult
from protocol.phases import DotVoting, Question

#: Version of the JSON export's layout; bump on any incompatible change.
JSON_EXPORT_VERSION = 1

#: Format key (the ``export.<key>`` in the URL) -> media type and file extension.
MEDIA_TYPES: Final[Mapping[str, tuple[str, str]]] = {
    "json": ("application/json", "json"),
    "md": ("text/markdown; charset=utf-8", "md"),
    # A ZIP with one CSV file per table (see ``export_csv``).
    "csv": ("application/zip", "zip"),
    # For Excel with a Dutch (or German, French...) locale: ";" between
    # cells and a decimal comma.
    "csv-semicolon": ("application/zip", "zip"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "pdf": ("application/pdf", "pdf"),
}
FORMATS = frozenset(MEDIA_TYPES)


def file_name(fmt: str, code: str) -> str:
    """The download's file name, distinct per format: ``kleur-ABC234.pdf``, and
    ``kleur-ABC234-csv.zip`` / ``kleur-ABC234-csv-semicolon.zip`` for the two ZIPs."""
    extension = MEDIA_TYPES[fmt][1]
    if extension == "zip":
        return f"kleur-{code}-{fmt}.zip"
    return f"kleur-{code}.{extension}"


#: Formats whose body is UTF-8 text (the others are binary: documents and ZIPs).
TEXT_FORMATS = frozenset({"json", "md"})
LANGUAGES = frozenset({"nl", "en"})

# Every language has the same keys and the same {placeholders}; a test checks.
_TEXT: Final[Mapping[str, Mapping[str, str]]] = {
    "nl": {
        "title": "Verbeteragenda",
        "room": "Sessie",
        "participants": "Deelnemers",
        "round": "Ronde",
        "exported": "Gemaakt op",
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
        "agenda": "Afgesproken acties",
        "action": "Actie",
        "owner": "Trekker",
        "deadline": "Uiterlijk klaar",
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
        "session_name": "Naam",
        "region": "Regio",
        "date": "Datum",
        "template": "Vragenlijst",
        "most_between": "Meeste cijfers",
        "most_sentence": "de meeste cijfers liggen tussen {low} en {high}",
        "most_one": "de meeste cijfers zijn {value}",
        "q1": "Eerste kwartiel (Q1)",
        "q3": "Derde kwartiel (Q3)",
        "consensus": "Eensgezind (0–1)",
        "contested": "Hier was de groep het oneens",
        "contested_note": (
            "Bij deze normen liepen de cijfers ver uiteen, of viel de groep in twee kampen. "
            "Eensgezind: 1 als iedereen hetzelfde cijfer gaf, 0 bij twee even grote kampen "
            "aan de uiteinden."
        ),
        "contested_column": "Groep oneens",
        "no_contested": "Bij geen enkele norm was de groep het duidelijk oneens.",
        "split": "twee kampen",
        "yes": "ja",
        "no": "nee",
        "opinion_groups": "Groepen die er hetzelfde over denken",
        "opinion_groups_note": (
            "Mensen die ongeveer dezelfde cijfers gaven, vormen samen een groep. "
            "Wie in welke groep zit, staat nergens."
        ),
        "opinion_group": "Groep {letter}",
        "people": "Mensen",
        "separating": "Hier verschilden de groepen het meest (mediaan per groep)",
        "no_separating": "Op geen enkele norm verschilden de groepen duidelijk.",
        "groups_none": "Er waren geen duidelijke groepen.",
        "groups_too_few": "Te weinig deelnemers voor groepen.",
        "dots": "Stippen",
        "dots_n": "{n} stippen",
        "dots_one": "1 stip",
        "note_group": "Groep",
        "loose_ideas": "Overige ideeën",
        "months": (
            "januari februari maart april mei juni juli augustus september oktober "
            "november december"
        ),
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
        "session_name": "Name",
        "region": "Region",
        "date": "Date",
        "template": "Template",
        "most_between": "Most scores",
        "most_sentence": "most scores lie between {low} and {high}",
        "most_one": "most scores are {value}",
        "q1": "First quartile (Q1)",
        "q3": "Third quartile (Q3)",
        "consensus": "Consensus (0–1)",
        "contested": "Where the group disagreed",
        "contested_note": (
            "On these norms the scores lay far apart, or the group fell into two camps. "
            "Consensus: 1 when everyone gave the same score, 0 for two equal camps at "
            "the ends of the scale."
        ),
        "contested_column": "Group disagreed",
        "no_contested": "The group did not clearly disagree on any norm.",
        "split": "two camps",
        "yes": "yes",
        "no": "no",
        "opinion_groups": "Groups that think alike",
        "opinion_groups_note": (
            "People who gave about the same scores form a group. "
            "Who is in which group is recorded nowhere."
        ),
        "opinion_group": "Group {letter}",
        "people": "People",
        "separating": "Where the groups differed most (median per group)",
        "no_separating": "The groups did not clearly differ on any norm.",
        "groups_none": "There were no clear groups.",
        "groups_too_few": "Too few participants for groups.",
        "dots": "Dots",
        "dots_n": "{n} dots",
        "dots_one": "1 dot",
        "note_group": "Group",
        "loose_ideas": "Other ideas",
        "months": (
            "January February March April May June July August September October November December"
        ),
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
    #: Where the middle half of the ratings lies (``agenda.stats.quantile``),
    #: how much the table agreed (0 to 1) and whether the norm was contested
    #: (as the dashboard's analysis says); None before the reveal or unrated.
    q1: float | None
    q3: float | None
    consensus: float | None
    contested: bool | None
    #: The ratings fell into a low and a high camp (None as above).
    split: bool | None
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
    #: Dots the note got; None until the facilitator showed the dot results.
    dots: int | None
    #: Title of the note group it is in, if any.
    group: str | None


class NoteGroupRow(TypedDict):
    title: str
    #: The group's visible notes' texts, most dots first.
    notes: list[str]
    #: Dots on its notes together; None until the dot results were shown.
    dots: int | None


class SessionRow(TypedDict):
    """What the facilitator named the session at creation ('' / None: not given)."""

    name: str
    region: str
    date: str | None


class OpinionGroupRow(TypedDict):
    size: int
    #: Norm id -> the group's median, for the norms that separate the groups.
    medians: dict[str, float | None]


class OpinionGroupsRow(TypedDict):
    #: "groups", "no_clear_groups" or "too_few_participants" (as the analysis).
    outcome: str
    groups: list[OpinionGroupRow]
    #: Norm ids, most separating first.
    separating_norms: list[str]


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
    #: Visible notes, most dots first, then in the order they were added.
    notes: list[NoteRow]
    session: SessionRow
    #: Whether the dot voting's results were shown (only then are dots exported).
    dots_shown: bool
    groups: list[NoteGroupRow]
    #: The opinion groups of the analysis; None before the reveal.
    opinion_groups: OpinionGroupsRow | None
    #: Only when the template asks a second question per norm.
    second_question: NotRequired[SecondQuestionRef]
    #: Only in a follow-up scan: the earlier scan's room and its actions' status.
    previous_room: NotRequired[str]
    earlier_actions: NotRequired[list[EarlierActionRow]]


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


def contested_norms(result: Result) -> list[NormRow]:
    """The norms the analysis calls contested (a split table or low consensus),
    least consensus first, then by number; empty before the reveal."""
    found = [norm for norm in norms(result) if norm["contested"]]
    return sorted(found, key=lambda n: (n["consensus"] or 0.0, n["number"]))


def middle_range(norm: NormRow, decimal: str) -> str:
    """ "5–8" (or "6" when the middle half sits on one value); empty without ratings."""
    if norm["q1"] is None or norm["q3"] is None:
        return ""
    low, high = number(norm["q1"], decimal), number(norm["q3"], decimal)
    return low if low == high else f"{low}–{high}"


def middle_sentence(norm: NormRow, t: Mapping[str, str]) -> str:
    """The middle range in plain words: "de meeste cijfers liggen tussen 5 en 8"."""
    if norm["q1"] is None or norm["q3"] is None:
        return ""
    low, high = number(norm["q1"], t["decimal"]), number(norm["q3"], t["decimal"])
    if low == high:
        return t["most_one"].format(value=low)
    return t["most_sentence"].format(low=low, high=high)


def long_date(iso: str | None, t: Mapping[str, str]) -> str:
    """ "2027-01-15" as people write it: "15 januari 2027", "15 January 2027"; '' for None."""
    if not iso:
        return ""
    day = date.fromisoformat(iso)
    return f"{day.day} {t['months'].split()[day.month - 1]} {day.year}"


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
    lines = [f"# {title_line(result, t)}", ""]
    for line in session_lines(result, t):
        lines += [line, ""]
    lines += _markdown_agenda(result, t)
    lines += ["", f"## {t['scores']}"]
    for theme in result["themes"]:
        lines += ["", f"### {theme['title']}", ""]
        lines += [
            f"| {t['norm']} | {t['answers']} | {t['median']} | {t['most_between']} "
            f"| {t['dont_know']} |"
        ]
        lines += ["|---|---:|---:|---:|---:|"]
        for norm in theme["norms"]:
            dont_know = "" if norm["dont_know"] is None else str(norm["dont_know"])
            lines.append(
                f"| {norm['number']}. {_cell(norm['title'])} | {norm['received']} "
                f"| {_median(norm, t)} | {middle_range(norm, t['decimal'])} | {dont_know} |"
            )
    if result["revealed"]:
        lines += _markdown_contested(result, t)
        lines += _markdown_opinion_groups(result, t)
    lines += _markdown_history(result, t)
    lines += _markdown_gaps(result, t)
    lines += _markdown_notes(result, t)
    return "\n".join(lines) + "\n"


def _markdown_agenda(result: Result, t: Mapping[str, str]) -> list[str]:
    lines = [f"## {t['agenda']}", ""]
    if not result["agenda"]:
        return [*lines, t["none"]]
    titles = {norm["id"]: norm["title"] for norm in norms(result)}
    lines += [f"| # | {t['action']} | {t['owner']} | {t['deadline']} | {t['norm']} |"]
    lines += ["|---:|---|---|---|---|"]
    for position, item in enumerate(result["agenda"], start=1):
        norm_title = titles.get(item["norm"] or "", "")
        lines.append(
            f"| {position} | {_cell(item['action'])} | {_cell(item['owner'])} "
            f"| {long_date(item['deadline'], t)} | {_cell(norm_title)} |"
        )
    return lines


def _markdown_contested(result: Result, t: Mapping[str, str]) -> list[str]:
    lines = ["", f"## {t['contested']}", ""]
    contested = contested_norms(result)
    if not contested:
        return [*lines, t["no_contested"]]
    lines += [t["contested_note"], ""]
    for norm in contested:
        split = f" ({t['split']})" if norm["split"] else ""
        lines.append(
            f"- {norm['number']}. {_cell(norm['title'])}: {middle_sentence(norm, t)}{split}"
        )
    lines += ["", f"| {t['norm']} | {t['median']} | {t['most_between']} | {t['consensus']} |"]
    lines += ["|---|---:|---:|---:|"]
    for norm in contested:
        lines.append(
            f"| {norm['number']}. {_cell(norm['title'])} | {_median(norm, t)} "
            f"| {middle_range(norm, t['decimal'])} | {_consensus(norm, t)} |"
        )
    return lines


def _consensus(norm: NormRow, t: Mapping[str, str]) -> str:
    value = norm["consensus"]
    return "" if value is None else number(round(value, 2), t["decimal"])


def _markdown_opinion_groups(result: Result, t: Mapping[str, str]) -> list[str]:
    if result["opinion_groups"] is None:
        return []
    lines = ["", f"## {t['opinion_groups']}", "", t["opinion_groups_note"], ""]
    reason = opinion_group_text(result, t)
    if reason is not None:
        return [*lines, reason]
    sizes, separating = opinion_group_tables(result, t)
    lines += _markdown_table(sizes, right_from=1)
    lines += ["", t["separating"] if len(separating) > 1 else t["no_separating"]]
    if len(separating) > 1:
        lines += ["", *_markdown_table(separating, right_from=1)]
    return lines


def _markdown_table(rows: list[list[str]], *, right_from: int) -> list[str]:
    header, *body = rows
    rule = ["---" if i < right_from else "---:" for i in range(len(header))]
    return [
        "| " + " | ".join(_cell(cell) for cell in header) + " |",
        "|" + "|".join(rule) + "|",
        *("| " + " | ".join(_cell(cell) for cell in row) + " |" for row in body),
    ]


def _markdown_notes(result: Result, t: Mapping[str, str]) -> list[str]:
    if not result["notes"]:
        return []
    lines = ["", f"## {t['notes']}"]
    dots = {note["text"]: note["dots"] for note in result["notes"]}

    def bullet(text: str, count: int | None) -> str:
        extra = dots_text(count, t)
        return f"- {_cell(text)}" + (f" ({extra})" if extra else "")

    for group in result["groups"]:
        extra = dots_text(group["dots"], t)
        lines += ["", f"### {_cell(group['title'])}" + (f" ({extra})" if extra else ""), ""]
        lines += [bullet(text, dots.get(text)) for text in group["notes"]]
    loose = [note for note in result["notes"] if note["group"] is None]
    if loose:
        lines += [""] + ([f"### {t['loose_ideas']}", ""] if result["groups"] else [])
        lines += [bullet(note["text"], note["dots"]) for note in loose]
    return lines


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
                    f"| {long_date(item['deadline'], t)} | {t['status_' + item['status']]} |"
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
    analysis: Analysis | None = None,
) -> Document:
    """The export of a room in format ``fmt`` (a key of ``FORMATS``) and language ``lang``.

    ``today`` is the export date the PDF and DOCX print (and carry as their
    creation date, by the day); it defaults to the local date.  ``analysis`` is
    the room's (``agenda.insights.build``), for the opinion groups.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    t = labels(lang)
    template = template.localized(lang)  # norms, themes and labels in the reader's language
    result = result_dict(data, template, code, analysis)
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
            result,
            t,
            today or date.today(),
            delimiter=";" if semicolon else ",",
            decimal="," if semicolon else ".",
        )
    elif fmt == "docx":
        from agenda import export_docx

        body = export_docx.render_docx(result, t, today or date.today(), lang)
    else:
        from agenda import export_pdf

        body = export_pdf.render_pdf(result, t, today or date.today(), lang)
    return Document(body, media_type, extension)
