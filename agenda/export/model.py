"""The result every export shows, as plain data: the JSON export's layout.

``Result`` and its rows are what ``build.result_dict`` makes of a room and
what every renderer reads, so a key added here reaches every format.  Plain
``TypedDict`` rows rather than dataclasses: the JSON export is this dict as
it is.  Besides the layout, the few questions every renderer asks of a result
(its norms, a linked norm's label, the contested norms).  No format and no
room data are imported here.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

#: Version of the JSON export's layout; bump on any incompatible change.
JSON_EXPORT_VERSION = 1


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
    #: Ratings on the scale in the round before ("don't know" left out).
    n_before: int
    #: The round before's median, its counts per scale value and its "don't know".
    median_before: float | None
    counts_before: list[int]
    dont_know_before: int


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
    #: Two or more groups when the outcome is "groups", else empty (as the screens show).
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


# ------------------------------------------------- what the renderers ask of a result


def norms(result: Result) -> list[NormRow]:
    """Every norm of the result, in template order."""
    return [norm for theme in result["themes"] for norm in theme["norms"]]


def norm_label(result: Result, norm_id: str | None) -> str:
    """ "3. Title" of a linked norm; empty when there is none (or it is unknown)."""
    for norm in norms(result):
        if norm["id"] == norm_id:
            return f"{norm['number']}. {norm['title']}"
    return ""


def has_follow_up(result: Result) -> bool:
    """Whether any agenda item names a follow-up (the documents then show the column)."""
    return any(item.get("follow_up") for item in result["agenda"])


def contested_norms(result: Result) -> list[NormRow]:
    """The norms the analysis calls contested (a split table or low consensus),
    least consensus first, then by number; empty before the reveal."""
    found = [norm for norm in norms(result) if norm["contested"]]
    return sorted(found, key=lambda n: (n["consensus"] or 0.0, n["number"]))
