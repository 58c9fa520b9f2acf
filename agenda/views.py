"""What each role sees of a room, built from the stored aggregates.

The store reads a ``RoomData`` (aggregates only: tallies, counts, notes
without authors) and these pure functions turn it into the messages sent.
Reveal gating lives here: before the reveal nobody gets a distribution.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from agenda.draft import draft_agenda
from agenda.phases import is_revealed
from agenda.privacy import publishable_groups
from agenda.progress import rating_progress
from agenda.stats import median
from agenda.templates import Template
from protocol.limits import DEFAULT_DOTS_PER_PARTICIPANT, DEFAULT_EXPECTED_PEOPLE
from protocol.messages import (
    AgendaItem,
    Analysis,
    Dashboard,
    NormResult,
    NoteGroup,
    NoteVotes,
    OrgCount,
    Presenter,
    PreviousItem,
    PreviousNorm,
    PreviousScan,
    RoomAgendaItem,
    RoomState,
    SessionInfo,
    Voting,
    WallNote,
)
from protocol.phases import DotVoting, FollowUpStatus, Phase, Question

#: Key for "don't know" in a norm's tally.
DONT_KNOW: None = None


@dataclass(frozen=True, slots=True)
class PreviousData:
    """What a follow-up room keeps of the earlier scan's JSON export: aggregates only."""

    room: str
    #: norm id -> median then (None if not revealed or nobody rated).
    medians: Mapping[str, float | None]
    #: (action, owner, deadline) of each earlier agenda item, in order.
    items: tuple[tuple[str, str, str | None], ...]


@dataclass(frozen=True, slots=True)
class RoomData:
    """One consistent read of a room's shared state (no participant ids in here)."""

    template_id: str
    phase: Phase
    round: int
    locked: bool
    version: int
    participants: int
    #: organisation type -> participants who chose it.
    org_counts: Mapping[str, int] = field(default_factory=dict)
    #: norm id -> rating value (None: don't know) -> count, current round.
    tallies: Mapping[str, Mapping[int | None, int]] = field(default_factory=dict)
    #: Answers to the template's second question, current round, the same way.
    second_tallies: Mapping[str, Mapping[int | None, int]] = field(default_factory=dict)
    #: The same for the previous round, when this is a second (or later) round.
    previous_tallies: Mapping[str, Mapping[int | None, int]] | None = None
    #: Visible, hidden and pending notes; withdrawn ones are not here.
    notes: tuple[WallNote, ...] = ()
    agenda: tuple[AgendaItem, ...] = ()
    groups: tuple[NoteGroup, ...] = ()
    voting_state: DotVoting = DotVoting.CLOSED
    dots_per_participant: int = DEFAULT_DOTS_PER_PARTICIPANT
    max_per_note: int = DEFAULT_DOTS_PER_PARTICIPANT
    dots_cast: int = 0
    #: note id -> dots on it (results: shown only once the facilitator shows them).
    votes: Mapping[str, int] = field(default_factory=dict)
    #: End of the countdown, server ms since the epoch.
    timer_ends_at: int | None = None
    previous: PreviousData | None = None
    #: Index of an earlier agenda item -> its status (default: open).
    follow_up: Mapping[int, FollowUpStatus] = field(default_factory=dict)
    #: The session's name, region and date, as given at creation.
    session: SessionInfo | None = None
    #: New notes wait for the facilitator's approval (see ``SetModeration``).
    moderation: bool = False
    #: The room state's epoch (new when the room was rebuilt in Redis).
    epoch: str = ""
    #: People the facilitator expects (``participants`` counts admitted devices).
    expected_people: int = DEFAULT_EXPECTED_PEOPLE
    #: Whether new devices beyond that, or after the first round opened, wait.
    admission: bool = True
    #: The codes of the devices waiting to be admitted, sorted.
    waiting: tuple[str, ...] = ()


def on_wall(note: WallNote) -> bool:
    """Whether the whole room may see a note: approved and not hidden."""
    return not note.hidden and not note.pending


def norm_results(
    data: RoomData,
    template: Template,
    *,
    revealed: bool,
    question: Question = Question.CURRENT,
) -> tuple[NormResult, ...]:
    scale = template.scale
    values = scale.values
    tallies = data.second_tallies if question is Question.SECOND else data.tallies
    results = []
    if not revealed:
        # Before the reveal only how many answered leaves the server (a tally
        # holds the scale's values and "don't know", nothing else).
        for norm in template.norms:
            tally = tallies.get(norm.id)
            received = sum(tally.values()) if tally else 0
            results.append(NormResult(norm.id, received, None, None, None))
        return tuple(results)
    empty = (0,) * len(values)
    for norm in template.norms:
        tally = tallies.get(norm.id)
        if not tally:  # nobody answered yet
            counts: tuple[int, ...] = empty
            dont_know = received = 0
        else:
            counts = tuple([tally.get(value, 0) for value in values])
            dont_know = tally.get(DONT_KNOW, 0)
            received = sum(counts) + dont_know
        results.append(NormResult(norm.id, received, counts, dont_know, median(counts, scale.min)))
    return tuple(results)


def voting(data: RoomData) -> Voting:
    """Dot voting; the dots per item stay hidden from every screen until shown.

    A note group is one item: its result is the dots put on the group plus any
    put on its notes before they were merged, and its notes are not listed
    apart.  Hidden and withdrawn notes count for nothing.
    """
    results = None
    if data.voting_state is DotVoting.SHOWN:
        visible = {note.note_id for note in data.notes if on_wall(note)}
        # A group counts while the room can see one of its notes.
        group_ids = {g.group_id for g in data.groups if any(n in visible for n in g.note_ids)}
        # A note in two groups counts for the one with the smallest id.
        group_of = {
            n: g.group_id
            for g in sorted(data.groups, key=lambda g: g.group_id, reverse=True)
            for n in g.note_ids
        }
        totals: dict[str, int] = {}
        for item_id, dots in data.votes.items():
            if item_id in visible:
                target = group_of.get(item_id, item_id)
            elif item_id in group_ids:
                target = item_id
            else:
                continue
            totals[target] = totals.get(target, 0) + dots
        results = tuple(
            NoteVotes(item_id, dots)
            for item_id, dots in sorted(totals.items(), key=lambda v: (-v[1], v[0]))
            if dots > 0
        )
    return Voting(
        data.voting_state, data.dots_per_participant, data.max_per_note, data.dots_cast, results
    )


def visible_groups(data: RoomData) -> tuple[NoteGroup, ...]:
    """The note groups as the room sees them: only their visible notes, none left empty."""
    visible = {note.note_id for note in data.notes if on_wall(note)}
    shown = []
    for group in sorted(data.groups, key=lambda g: g.group_id):
        members = tuple(n for n in group.note_ids if n in visible)
        if members:
            shown.append(NoteGroup(group.group_id, group.title, members))
    return tuple(shown)


def _wall(data: RoomData) -> tuple[WallNote, ...]:
    # Sorted by the random note id: an order that says nothing about who
    # wrote what, or when.
    return tuple(sorted(data.notes, key=lambda note: note.note_id))


def dashboard(
    data: RoomData,
    template: Template,
    min_group_size: int,
    server_time: int,
    analysis: Analysis | None = None,
) -> Dashboard:
    revealed = is_revealed(data.phase)
    groups = publishable_groups(data.org_counts, data.participants, min_group_size)
    org_order = {org.id: i for i, org in enumerate(template.org_types)}
    return Dashboard(
        version=data.version,
        phase=data.phase,
        round=data.round,
        locked=data.locked,
        revealed=revealed,
        participants=data.participants,
        org_counts=tuple(
            OrgCount(org, n)
            for org, n in sorted(groups.items(), key=lambda g: org_order.get(g[0], 99))
        ),
        norms=norm_results(data, template, revealed=revealed),
        notes=_wall(data),
        groups=tuple(sorted(data.groups, key=lambda group: group.title)),
        voting=voting(data),
        agenda=tuple(sorted(data.agenda, key=lambda item: item.position)),
        timer_ends_at=data.timer_ends_at,
        server_time=server_time,
        # Reveal gating: whatever was computed, nothing of it before the reveal.
        analysis=_with_draft(analysis, data, template) if revealed else None,
        previous=previous_scan(data, template, revealed),
        second_norms=second_results(data, template, revealed=revealed),
        session=data.session,
        moderation=data.moderation,
        epoch=data.epoch,
        progress=(
            None
            if revealed
            else rating_progress(data.tallies, template, data.participants, per_norm=True)
        ),
        expected_people=data.expected_people,
        admission=data.admission,
        waiting=data.waiting,
    )


def presenter(
    data: RoomData,
    template: Template,
    min_group_size: int,
    server_time: int,
    analysis: Analysis | None = None,
) -> Presenter:
    """The projector's view: what the whole room may see, and nothing more.

    Built from the facilitator's view and then filtered, so the two cannot
    drift apart on what they show; what only the facilitator may see (pending
    and hidden notes, suggestions, the draft agenda) is left out here.
    Before the reveal nothing per norm is left: only the progress in whole
    people (``agenda/progress.py``).
    """
    full = dashboard(data, template, min_group_size, server_time, analysis)
    notes = tuple(note for note in full.notes if on_wall(note))
    shown = {note.note_id for note in notes}
    groups = []
    for group in full.groups:
        members = tuple(note_id for note_id in group.note_ids if note_id in shown)
        if members:
            groups.append(dataclasses.replace(group, note_ids=members))
    return Presenter(
        version=full.version,
        phase=full.phase,
        round=full.round,
        locked=full.locked,
        revealed=full.revealed,
        participants=full.participants,
        org_counts=full.org_counts,
        norms=full.norms if full.revealed else (),
        notes=notes,
        groups=tuple(groups),
        voting=full.voting,
        agenda=full.agenda,
        timer_ends_at=full.timer_ends_at,
        server_time=full.server_time,
        analysis=None if full.analysis is None else dataclasses.replace(full.analysis, draft=()),
        previous=full.previous,
        second_norms=(full.second_norms if full.revealed or full.second_norms is None else ()),
        epoch=full.epoch,
        progress=(None if full.progress is None else dataclasses.replace(full.progress, norms=())),
        expected_people=full.expected_people,
    )


def second_results(
    data: RoomData, template: Template, *, revealed: bool
) -> tuple[NormResult, ...] | None:
    """The second question's distributions, when the template asks one."""
    if template.second_question is None:
        return None
    return norm_results(data, template, revealed=revealed, question=Question.SECOND)


def _with_draft(analysis: Analysis | None, data: RoomData, template: Template) -> Analysis | None:
    """The analysis with a draft agenda from the current notes and dot results."""
    if analysis is None:
        return None
    draft = draft_agenda(template, analysis, _wall(data), data.groups, voting(data))
    return dataclasses.replace(analysis, draft=draft)


def previous_scan(data: RoomData, template: Template, revealed: bool) -> PreviousScan | None:
    """The earlier scan, and per norm the change since (once this one is revealed)."""
    if data.previous is None:
        return None
    now = {r.norm_id: r.median for r in norm_results(data, template, revealed=True)}
    norms = []
    for norm in template.norms:
        before = data.previous.medians.get(norm.id)
        current = now.get(norm.id)
        change = (
            current - before if revealed and before is not None and current is not None else None
        )
        norms.append(PreviousNorm(norm.id, before, change))
    return PreviousScan(
        room=data.previous.room,
        norms=tuple(norms),
        items=tuple(
            PreviousItem(
                index, action, owner, deadline, data.follow_up.get(index, FollowUpStatus.OPEN)
            )
            for index, (action, owner, deadline) in enumerate(data.previous.items)
        ),
    )


def room_state(data: RoomData, template: Template) -> RoomState:
    revealed = is_revealed(data.phase)
    return RoomState(
        phase=data.phase,
        round=data.round,
        locked=data.locked,
        results=norm_results(data, template, revealed=True) if revealed else None,
        voting=voting(data),
        notes=(
            tuple(note for note in _wall(data) if on_wall(note))
            if data.voting_state is not DotVoting.CLOSED
            else None
        ),
        timer_ends_at=data.timer_ends_at,
        second_results=second_results(data, template, revealed=True) if revealed else None,
        groups=visible_groups(data) if data.voting_state is not DotVoting.CLOSED else None,
        agenda=room_agenda(data) if data.phase in AGENDA_PHASES else None,
        hidden_notes=tuple(note.note_id for note in _wall(data) if note.hidden),
        pending_notes=tuple(n.note_id for n in _wall(data) if n.pending and not n.hidden),
        epoch=data.epoch,
        version=data.version,
        waiting=data.waiting,
    )


#: Phases in which participants see the agenda (while it is drawn up, and after).
AGENDA_PHASES = frozenset({Phase.AGENDA, Phase.CLOSED})


def room_agenda(data: RoomData) -> tuple[RoomAgendaItem, ...]:
    """The agenda as the whole room may see it: what, who, by when, for which norm."""
    ordered = sorted(data.agenda, key=lambda item: item.position)
    return tuple(
        RoomAgendaItem(item.action, item.owner, item.deadline, item.norm_id) for item in ordered
    )
