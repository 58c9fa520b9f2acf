"""The pure session core (``agenda``): phases, rules, statistics, privacy, views, exports.

No event loop and no Redis: each function is fed plain data, mostly drawn by
hypothesis, and its result is checked against an independent statement of
the rule.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from itertools import product
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenda import export, stats
from agenda.export import as_markdown, build
from agenda.export import labels as export_labels
from agenda.followup import ImportError_ as FollowUpImportError
from agenda.followup import parse_previous
from agenda.phases import (
    ALLOWED_PHASES,
    REVEALED_PHASES,
    TRANSITIONS,
    check_allowed,
    is_revealed,
    next_phase,
)
from agenda.privacy import publishable_groups
from agenda.rules import check_command
from agenda.templates import Template, load_builtin_templates, parse_template
from agenda.views import PreviousData, RoomData, dashboard, room_state
from protocol import limits
from protocol.codec import JSON, MSGPACK
from protocol.errors import ErrorCode, ProtocolError
from protocol.messages import (
    CLIENT_MESSAGES,
    Admit,
    AgendaItem,
    Analysis,
    ClientMessage,
    DotVote,
    HideNote,
    Join,
    NoteGroup,
    NoteVotes,
    PutAgendaItem,
    PutNote,
    PutNoteGroup,
    Rate,
    RemoveAgendaItem,
    RemoveNoteGroup,
    RoomAgendaItem,
    SetAdmission,
    SetDotVoting,
    SetExpectedPeople,
    SetFollowUpStatus,
    SetLock,
    SetModeration,
    SetOrgType,
    SetPhase,
    SetTimer,
    WallNote,
    WithdrawNote,
)
from protocol.phases import DotVoting, FollowUpStatus, Phase, Role
from tests.test_protocol import client_ids, free_text, iso_dates

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Whole rooms are costly to draw: fewer of them.
ROOMS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Room texts: short (the length limits are the protocol's tests), any characters.
ROOM_TEXT = 80

BUILTIN = load_builtin_templates()
SCAN = BUILTIN["participatiescan"]
TEAM = BUILTIN["team-health"]


def _without_dont_know(template: Template) -> Template:
    public = template.to_public_dict()
    scale = public["scale"]
    assert isinstance(scale, dict)
    public["id"] = f"{template.id}-strict"
    public["scale"] = {**scale, "dont_know": False}
    return parse_template(public, "test")


STRICT = _without_dont_know(TEAM)
TEMPLATES = [SCAN, TEAM, STRICT]
templates = st.sampled_from(TEMPLATES)


def refused(call: Callable[..., object], *args: object) -> ErrorCode:
    """The code of the ProtocolError ``call(*args)`` raises (fails if it raises none)."""
    with pytest.raises(ProtocolError) as error:
        call(*args)
    return error.value.code


# ------------------------------------------------------------------ phases


@pytest.mark.parametrize(("current", "target"), list(product(Phase, Phase)))
def test_next_phase_follows_the_transition_table(current: Phase, target: Phase) -> None:
    if target in TRANSITIONS[current]:
        change = next_phase(current, target, 3)
        assert change.phase is target
        bumped = (current, target) == (Phase.REVEAL, Phase.RATING)
        assert change.round == (4 if bumped else 3)
    else:
        assert refused(next_phase, current, target, 3) is ErrorCode.BAD_TRANSITION


def test_transition_table_shape() -> None:
    assert set(TRANSITIONS) == set(Phase)
    assert TRANSITIONS[Phase.CLOSED] == frozenset()  # terminal
    for phase in Phase:
        assert phase not in TRANSITIONS[phase]  # "stay" is not a move
        if phase is not Phase.CLOSED:
            assert Phase.CLOSED in TRANSITIONS[phase]
    # Every phase can be reached from the lobby.
    seen, todo = {Phase.LOBBY}, [Phase.LOBBY]
    while todo:
        for nxt in TRANSITIONS[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    assert seen == set(Phase)
    assert Phase.LOBBY not in set().union(*TRANSITIONS.values())  # no way back


@PROPERTY
@given(targets=st.lists(st.sampled_from(Phase), max_size=40))
def test_round_counts_the_second_ratings(targets: list[Phase]) -> None:
    phase, round_, reratings = Phase.LOBBY, 1, 0
    for target in targets:
        if target not in TRANSITIONS[phase]:
            with pytest.raises(ProtocolError):
                next_phase(phase, target, round_)
            continue
        reratings += (phase, target) == (Phase.REVEAL, Phase.RATING)
        change = next_phase(phase, target, round_)
        phase, round_ = change.phase, change.round
    assert round_ == 1 + reratings


@pytest.mark.parametrize(("message_type", "phase"), list(product(sorted(CLIENT_MESSAGES), Phase)))
def test_check_allowed_follows_the_phase_table(message_type: str, phase: Phase) -> None:
    allowed = ALLOWED_PHASES.get(message_type)
    if allowed is None or phase in allowed:
        check_allowed(message_type, phase)
    else:
        assert refused(check_allowed, message_type, phase) is ErrorCode.WRONG_PHASE


def test_phase_table_covers_every_command_but_join_and_set_phase() -> None:
    assert set(ALLOWED_PHASES) == set(CLIENT_MESSAGES) - {"join", "set_phase"}
    assert all(Phase.CLOSED not in phases for phases in ALLOWED_PHASES.values())
    assert ALLOWED_PHASES["rate"] == {Phase.RATING}
    assert Phase.LOBBY not in ALLOWED_PHASES["put_note"]


def test_revealed_phases() -> None:
    assert {Phase.REVEAL, Phase.BRAINSTORM, Phase.AGENDA, Phase.CLOSED} == REVEALED_PHASES
    for phase in Phase:
        assert is_revealed(phase) is (phase in REVEALED_PHASES)


# ------------------------------------------------------------------ rules


def valid_messages(template: Template) -> list[ClientMessage]:
    """One of each client message, with ids the template knows."""
    norm, org = template.norms[0].id, template.org_types[0].id
    return [
        Join("ABC234", Role.PARTICIPANT, None, None),
        Rate(1, norm, template.scale.min),
        SetOrgType(2, org),
        SetOrgType(3, None),
        PutNote(4, "note-0001", "idee", norm),
        PutNote(5, "note-0002", "los idee", None),
        WithdrawNote(6, "note-0001"),
        SetPhase(7, Phase.RATING),
        SetLock(8, True),
        HideNote(9, "note-0001", True),
        SetModeration(9, False),
        PutAgendaItem(10, "item-0001", "actie", "", None, norm, "note-0001", 0),
        PutAgendaItem(11, "item-0002", "actie", "wie", "2025-01-31", None, None, 1),
        RemoveAgendaItem(12, "item-0001"),
        SetDotVoting(13, DotVoting.OPEN, 3, 2),
        DotVote(14, "note-0002", 2),
        PutNoteGroup(15, "group-001", "Stages", ("note-0001", "note-0002")),
        RemoveNoteGroup(16, "group-001"),
        SetTimer(17, 300),
        SetTimer(18, None),
        SetFollowUpStatus(19, 0, FollowUpStatus.DONE),
        PutAgendaItem(20, "item-0003", "actie", "", None, None, None, 2, "group-001", "2025-09-01"),
        SetExpectedPeople(21, 12),
        SetAdmission(22, False),
        Admit(23, "K7Q"),
    ]


def test_valid_messages_cover_every_type() -> None:
    assert {m.TYPE for m in valid_messages(SCAN)} == set(CLIENT_MESSAGES)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.id)
@pytest.mark.parametrize("role", list(Role))
def test_role_decides_who_may_send_what(template: Template, role: Role) -> None:
    for message in valid_messages(template):
        if isinstance(message, Join):
            assert refused(check_command, message, role, template) is (ErrorCode.ALREADY_JOINED)
        elif role in message.SENDERS:
            check_command(message, role, template)
        else:
            assert refused(check_command, message, role, template) is (ErrorCode.FORBIDDEN)


def test_who_sends_what() -> None:
    participant = {t for t, cls in CLIENT_MESSAGES.items() if Role.PARTICIPANT in cls.SENDERS}
    facilitator = {t for t, cls in CLIENT_MESSAGES.items() if Role.FACILITATOR in cls.SENDERS}
    assert participant == {
        "join",
        "rate",
        "set_org_type",
        "put_note",
        "withdraw_note",
        "dot_vote",
    }
    assert facilitator == {
        "join",
        "set_phase",
        "set_lock",
        "hide_note",
        "put_agenda_item",
        "remove_agenda_item",
        "set_dot_voting",
        "put_note_group",
        "remove_note_group",
        "set_timer",
        "set_follow_up_status",
        "set_moderation",
        "set_expected_people",
        "set_admission",
        "admit",
    }
    # The projector only joins: it sends no command at all.
    presenter = {t for t, cls in CLIENT_MESSAGES.items() if Role.PRESENTER in cls.SENDERS}
    assert presenter == {"join"}


@PROPERTY
@given(template=templates, value=st.none() | st.integers(-30, 30), data=st.data())
def test_a_rating_must_be_on_the_scale(
    template: Template, value: int | None, data: st.DataObject
) -> None:
    norm = data.draw(st.sampled_from(template.norms))
    rate = Rate(1, norm.id, value)
    scale = template.scale
    on_scale = scale.dont_know if value is None else scale.min <= value <= scale.max
    if on_scale:
        check_command(rate, Role.PARTICIPANT, template)
    else:
        assert refused(check_command, rate, Role.PARTICIPANT, template) is (ErrorCode.OUT_OF_SCALE)


def test_dont_know_only_when_the_scale_has_it() -> None:
    assert STRICT.scale.dont_know is False and TEAM.scale.dont_know is True
    norm = STRICT.norms[0].id
    check_command(Rate(1, norm, None), Role.PARTICIPANT, TEAM)
    code = refused(check_command, Rate(1, norm, None), Role.PARTICIPANT, STRICT)
    assert code is ErrorCode.OUT_OF_SCALE
    for value in (STRICT.scale.min - 1, STRICT.scale.max + 1):
        code = refused(check_command, Rate(1, norm, value), Role.PARTICIPANT, STRICT)
        assert code is ErrorCode.OUT_OF_SCALE


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.id)
def test_unknown_norms_and_org_types(template: Template) -> None:
    unknown = "no-such-norm"
    assert not template.has_norm(unknown)
    cases: list[tuple[ClientMessage, Role, ErrorCode]] = [
        (Rate(1, unknown, template.scale.min), Role.PARTICIPANT, ErrorCode.UNKNOWN_NORM),
        (PutNote(1, "note-0001", "x", unknown), Role.PARTICIPANT, ErrorCode.UNKNOWN_NORM),
        (
            PutAgendaItem(1, "item-0001", "x", "", None, unknown, None, 0),
            Role.FACILITATOR,
            ErrorCode.UNKNOWN_NORM,
        ),
        (SetOrgType(1, "no-such-org"), Role.PARTICIPANT, ErrorCode.UNKNOWN_ORG_TYPE),
        # The role is checked first: a forbidden message says so, whatever it holds.
        (Rate(1, unknown, 99), Role.FACILITATOR, ErrorCode.FORBIDDEN),
        (
            PutAgendaItem(1, "item-0001", "x", "", None, unknown, None, 0),
            Role.PARTICIPANT,
            ErrorCode.FORBIDDEN,
        ),
        (SetOrgType(1, "no-such-org"), Role.FACILITATOR, ErrorCode.FORBIDDEN),
    ]
    for message, role, code in cases:
        assert refused(check_command, message, role, template) is code
    # A norm from another template is unknown here too.
    other = next(t for t in (SCAN, TEAM) if not template.has_norm(t.norms[0].id))
    code = refused(check_command, Rate(1, other.norms[0].id, 1), Role.PARTICIPANT, template)
    assert code is ErrorCode.UNKNOWN_NORM


# ------------------------------------------------------------------ statistics


@PROPERTY
@given(counts=st.lists(st.integers(0, 6), max_size=12), scale_min=st.integers(-5, 5))
def test_median_matches_the_median_of_the_votes(counts: list[int], scale_min: int) -> None:
    votes = [scale_min + offset for offset, n in enumerate(counts) for _ in range(n)]
    expected = statistics.median(votes) if votes else None
    assert stats.median(counts, scale_min) == expected
    assert stats.total(counts) == len(votes)


@pytest.mark.parametrize(
    ("counts", "scale_min", "expected"),
    [
        ((), 0, None),
        ((0, 0, 0), 1, None),
        ((1,), 0, 0.0),
        ((0, 0, 1), 1, 3.0),
        ((1, 0, 0, 1), 1, 2.5),  # mean of the two middle ones: 1 and 4
        ((0, 2, 0, 0, 2, 0), 0, 2.5),
        ((5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6), 0, 10.0),
    ],
)
def test_median_examples(counts: tuple[int, ...], scale_min: int, expected: float | None) -> None:
    assert stats.median(counts, scale_min) == expected


# ------------------------------------------------------------------ privacy


group_counts = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d", "e", "f"]), st.integers(0, 15), max_size=6
)


@PROPERTY
@given(counts=group_counts, unassigned=st.integers(0, 15), min_size=st.integers(1, 6))
def test_publishable_groups_never_single_out_a_small_group(
    counts: dict[str, int], unassigned: int, min_size: int
) -> None:
    total = sum(counts.values()) + unassigned
    shown = publishable_groups(counts, total, min_size)
    assert all(counts[group] == n and n >= min_size for group, n in shown.items())
    hidden = total - sum(shown.values())
    # What is hidden cannot be worked out by subtraction down to fewer than min_size people.
    assert hidden == 0 or hidden >= min_size or not shown
    # Deterministic, whatever order the groups come in.
    assert publishable_groups(dict(reversed(counts.items())), total, min_size) == shown
    assert publishable_groups(counts, total, min_size) == shown


@PROPERTY
@given(counts=group_counts, unassigned=st.integers(0, 15), min_size=st.integers(1, 6))
def test_publishable_groups_hide_nothing_needlessly(
    counts: dict[str, int], unassigned: int, min_size: int
) -> None:
    total = sum(counts.values()) + unassigned
    shown = publishable_groups(counts, total, min_size)
    if all(n >= min_size for n in counts.values()) and (unassigned == 0 or unassigned >= min_size):
        assert shown == counts
    # Suppression takes the smallest shown groups first.
    big_enough = {g: n for g, n in counts.items() if n >= min_size}
    dropped = set(big_enough) - set(shown)
    if dropped and shown:
        assert max(big_enough[g] for g in dropped) <= min(shown.values())


@pytest.mark.parametrize(
    ("counts", "total", "expected"),
    [
        ({"a": 5, "b": 4}, 9, {"a": 5, "b": 4}),
        ({"a": 5, "b": 4, "c": 1}, 10, {"a": 5}),  # c alone would follow from the total
        ({"a": 5, "b": 4, "c": 1}, 12, {"a": 5, "b": 4}),  # c + 2 unassigned = 3
        ({"a": 3, "b": 3}, 7, {"b": 3}),  # tie broken by name: a goes first
        ({"a": 2}, 2, {}),
        ({}, 0, {}),
    ],
)
def test_publishable_groups_examples(
    counts: dict[str, int], total: int, expected: dict[str, int]
) -> None:
    assert publishable_groups(counts, total, 3) == expected


# ------------------------------------------------------------------ views


@st.composite
def room_data(draw: st.DrawFn, template: Template, phase: Phase | None = None) -> RoomData:
    orgs = draw(
        st.dictionaries(st.sampled_from([o.id for o in template.org_types]), st.integers(1, 12))
    )
    answers: list[int | None] = [*template.scale.values, None]
    norms = draw(st.lists(st.sampled_from(template.norms), unique=True, max_size=6))
    tallies = {
        norm.id: draw(st.dictionaries(st.sampled_from(answers), st.integers(1, 30)))
        for norm in norms
    }
    norm_ids = st.none() | st.sampled_from([n.id for n in template.norms])
    notes = draw(
        st.lists(
            st.builds(
                WallNote,
                note_id=client_ids,
                text=free_text(ROOM_TEXT),
                norm_id=norm_ids,
                hidden=st.booleans(),
                pending=st.booleans(),
            ),
            unique_by=lambda note: note.note_id,
            max_size=6,
        )
    )
    agenda = draw(
        st.lists(
            st.builds(
                AgendaItem,
                item_id=client_ids,
                action=free_text(ROOM_TEXT),
                owner=free_text(ROOM_TEXT, allow_empty=True),
                deadline=st.none() | iso_dates,
                norm_id=norm_ids,
                note_id=st.none() | client_ids,
                position=st.integers(0, 5),
            ),
            unique_by=lambda item: item.item_id,
            max_size=5,
        )
    )
    # Votes on the notes above, and on notes since withdrawn (not in ``notes``).
    voted = st.sampled_from([n.note_id for n in notes]) | client_ids if notes else client_ids
    groups = draw(
        st.lists(
            st.builds(
                NoteGroup,
                group_id=client_ids,
                title=free_text(ROOM_TEXT),
                note_ids=st.lists(voted, max_size=3).map(tuple),
            ),
            unique_by=lambda group: group.group_id,
            max_size=4,
        )
    )
    dots = draw(st.integers(1, limits.MAX_DOTS_PER_PARTICIPANT))
    previous = draw(
        st.none()
        | st.builds(
            PreviousData,
            room=st.just("XYZ789"),
            medians=st.dictionaries(
                st.sampled_from([n.id for n in template.norms]),
                st.none() | st.integers(0, 20).map(lambda twice: twice / 2),
            ),
            items=st.lists(
                st.tuples(st.text(max_size=8), st.text(max_size=8), st.none() | iso_dates),
                max_size=3,
            ).map(tuple),
        )
    )
    follow_up = draw(st.dictionaries(st.integers(0, 3), st.sampled_from(FollowUpStatus)))
    return RoomData(
        template_id=template.id,
        phase=draw(st.sampled_from(Phase)) if phase is None else phase,
        round=draw(st.integers(1, 4)),
        locked=draw(st.booleans()),
        version=draw(st.integers(1, 10_000)),
        participants=sum(orgs.values()) + draw(st.integers(0, 12)),
        org_counts=orgs,
        tallies=tallies,
        notes=tuple(notes),
        agenda=tuple(agenda),
        groups=tuple(groups),
        voting_state=draw(st.sampled_from(DotVoting)),
        dots_per_participant=dots,
        max_per_note=draw(st.integers(1, dots)),
        dots_cast=draw(st.integers(0, 500)),
        # Dots on notes, and on groups (a group is one item to vote on).
        votes=draw(
            st.dictionaries(
                voted | st.sampled_from([g.group_id for g in groups] or ["no-group-0"]),
                st.integers(1, 40),
                max_size=6,
            )
        ),
        timer_ends_at=draw(st.none() | st.integers(0, 2**45)),
        previous=previous,
        follow_up=follow_up,
    )


@st.composite
def rooms(draw: st.DrawFn) -> tuple[Template, RoomData]:
    template = draw(templates)
    return template, draw(room_data(template))


def expected_counts(data: RoomData, template: Template, norm_id: str) -> tuple[int, ...]:
    tally: Mapping[int | None, int] = data.tallies.get(norm_id, {})
    return tuple(tally.get(value, 0) for value in template.scale.values)


def expected_votes(data: RoomData) -> tuple[NoteVotes, ...] | None:
    """Dots per item once the facilitator shows them, most first; else None.

    An item is a visible note in no group, or a group: the dots on the group
    and on its visible notes (a note in two groups counts for the group with
    the smallest id).
    """
    if data.voting_state is not DotVoting.SHOWN:
        return None
    visible = {n.note_id for n in data.notes if not n.hidden and not n.pending}
    group_ids = {g.group_id for g in data.groups if set(g.note_ids) & visible}
    owner = {
        note: min(g.group_id for g in data.groups if note in g.note_ids)
        for g in data.groups
        for note in g.note_ids
    }
    totals: Counter[str] = Counter()
    for item, dots in data.votes.items():
        if item in visible:
            totals[owner.get(item, item)] += dots
        elif item in group_ids:
            totals[item] += dots
    shown = [NoteVotes(item, n) for item, n in totals.items() if n > 0]
    return tuple(sorted(shown, key=lambda v: (-v.dots, v.note_id)))


#: Stands in for the statistics the hub computes (``agenda.insights``).
ANALYSIS = Analysis((), (), (), "too_few_participants", (), (), ())


@ROOMS
@given(room=rooms(), min_size=st.integers(1, 5), server_time=st.integers(0, 2**45))
def test_dashboard(room: tuple[Template, RoomData], min_size: int, server_time: int) -> None:
    template, data = room
    view = dashboard(data, template, min_size, server_time, ANALYSIS)
    revealed = data.phase in REVEALED_PHASES
    # Nothing computed from the ratings before the reveal, whatever the caller passes.
    if revealed:  # (the view adds its draft agenda)
        assert view.analysis is not None and replace(view.analysis, draft=()) == ANALYSIS
    else:
        assert view.analysis is None
    assert dashboard(data, template, min_size, server_time).analysis is None
    if data.previous is None:
        assert view.previous is None
    else:
        assert view.previous is not None and view.previous.room == data.previous.room
        assert [n.norm_id for n in view.previous.norms] == [n.id for n in template.norms]
        for before in view.previous.norms:
            assert before.median_before == data.previous.medians.get(before.norm_id)
            if not revealed or before.median_before is None:
                assert before.median_change is None
        assert [(i.index, i.action, i.owner, i.deadline) for i in view.previous.items] == [
            (index, *item) for index, item in enumerate(data.previous.items)
        ]
        assert all(
            i.status is data.follow_up.get(i.index, FollowUpStatus.OPEN)
            for i in view.previous.items
        )
    assert (view.version, view.phase, view.round, view.locked, view.participants) == (
        data.version,
        data.phase,
        data.round,
        data.locked,
        data.participants,
    )
    assert (view.timer_ends_at, view.server_time) == (data.timer_ends_at, server_time)
    assert [g.title for g in view.groups] == sorted(g.title for g in data.groups)
    assert set(view.groups) == set(data.groups)
    voting = view.voting
    assert (voting.state, voting.dots_per_participant, voting.max_per_note, voting.dots_cast) == (
        data.voting_state,
        data.dots_per_participant,
        data.max_per_note,
        data.dots_cast,
    )
    # Dots per note stay hidden from the facilitator too until shown.
    assert voting.results == expected_votes(data)
    assert view.revealed is revealed
    assert [r.norm_id for r in view.norms] == [n.id for n in template.norms]
    for result in view.norms:
        counts = expected_counts(data, template, result.norm_id)
        dont_know = data.tallies.get(result.norm_id, {}).get(None, 0)
        assert result.received == sum(counts) + dont_know  # known before the reveal too
        if revealed:
            assert result.counts == counts and result.dont_know == dont_know
            assert result.median == stats.median(counts, template.scale.min)
        else:
            assert (result.counts, result.dont_know, result.median) == (None, None, None)
    # Notes in id order (says nothing about who or when), hidden ones flagged, none lost.
    assert [n.note_id for n in view.notes] == sorted(n.note_id for n in data.notes)
    assert set(view.notes) == set(data.notes)
    # By position; ties keep the store's order (the order the items were added).
    assert list(view.agenda) == sorted(data.agenda, key=lambda i: i.position)
    # No organisation group below the minimum, and none that subtraction would expose.
    shown = {o.org_type: o.count for o in view.org_counts}
    assert len(shown) == len(view.org_counts)
    assert all(n >= min_size and data.org_counts[org] == n for org, n in shown.items())
    hidden = data.participants - sum(shown.values())
    assert hidden == 0 or hidden >= min_size or not shown
    order = [o.id for o in template.org_types]
    assert [o.org_type for o in view.org_counts] == sorted(shown, key=order.index)


@ROOMS
@given(room=rooms())
def test_room_state_shows_distributions_only_after_the_reveal(
    room: tuple[Template, RoomData],
) -> None:
    template, data = room
    state = room_state(data, template)
    assert (state.phase, state.round, state.locked) == (data.phase, data.round, data.locked)
    assert state.timer_ends_at == data.timer_ends_at
    if data.phase in REVEALED_PHASES:
        assert state.results == dashboard(data, template, limits.MIN_GROUP_SIZE, 0).norms
        assert state.results is not None and all(r.counts is not None for r in state.results)
    else:
        assert state.results is None
    assert state.voting == dashboard(data, template, limits.MIN_GROUP_SIZE, 0).voting
    assert state.voting.results == expected_votes(data)
    # The agenda reaches the room while it is drawn up and after the close:
    # what, who, by when and which norm, and nothing else of an item.
    if data.phase in (Phase.AGENDA, Phase.CLOSED):
        ordered = sorted(data.agenda, key=lambda i: i.position)
        assert state.agenda == tuple(
            RoomAgendaItem(i.action, i.owner, i.deadline, i.norm_id) for i in ordered
        )
    else:
        assert state.agenda is None
    # Participants see the wall only while dot voting is on, and never a
    # hidden note or one waiting for approval.
    if data.voting_state is DotVoting.CLOSED:
        assert state.notes is None
        assert state.groups is None
    else:
        visible = sorted(
            (n for n in data.notes if not n.hidden and not n.pending), key=lambda n: n.note_id
        )
        assert state.notes == tuple(visible)
        # The groups to vote on, with only the notes a participant can see.
        assert state.groups is not None
        shown_ids = {n.note_id for n in visible}
        for group in state.groups:
            stored = next(g for g in data.groups if g.group_id == group.group_id)
            assert group.title == stored.title and group.note_ids
            assert set(group.note_ids) == set(stored.note_ids) & shown_ids
        assert {g.group_id for g in state.groups} == {
            g.group_id for g in data.groups if set(g.note_ids) & shown_ids
        }
    # Every phone learns which notes are hidden or waiting (so an author sees its own).
    assert set(state.hidden_notes) == {n.note_id for n in data.notes if n.hidden}
    assert set(state.pending_notes) == {n.note_id for n in data.notes if n.pending and not n.hidden}


def test_reveal_gating_example() -> None:
    norm = SCAN.norms[1].id
    data = RoomData(
        "participatiescan",
        Phase.RATING,
        1,
        False,
        5,
        4,
        org_counts={"gemeente": 3, "uwv": 1},
        tallies={norm: {7: 2, 8: 1, None: 1}},
    )
    before = dashboard(data, SCAN, 3, 0)
    assert before.norms[1].received == 4 and before.norms[1].counts is None
    assert before.org_counts == ()  # showing gemeente: 3 would expose uwv: 4 - 3 = 1
    assert room_state(data, SCAN).results is None
    after = dashboard(replace(data, phase=Phase.REVEAL), SCAN, 3, 0)
    result = after.norms[1]
    assert result.counts == (0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0)
    assert (result.dont_know, result.median, result.received) == (1, 7.0, 4)
    assert after.norms[0].median is None  # nobody rated it


# ------------------------------------------------------------------ exports

#: Names of keys that would point at a person or a moment.
_PERSONAL_KEY = re.compile(
    r"token|pid|participant_?id|pseudonym|author|user|device|session_?id|address|^ip$"
    r"|time|created|updated|joined",
    re.IGNORECASE,
)


def _keys(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


@ROOMS
@given(room=rooms(), lang=st.sampled_from(sorted(export.LANGUAGES)))
def test_json_export_holds_aggregates_only(room: tuple[Template, RoomData], lang: str) -> None:
    template, data = room
    document = export.render("json", data, template, lang, "ABC234")
    assert document.media_type == "application/json" and document.extension == "json"
    result = json.loads(document.body)
    assert [key for key in _keys(result) if _PERSONAL_KEY.search(key)] == []
    # The language asked for reaches the JSON through the template's texts only.
    one_language = template.localized(lang)
    for other in export.LANGUAGES:
        assert export.render("json", data, one_language, other, "ABC234").body == document.body
    revealed = data.phase in REVEALED_PHASES
    assert result["revealed"] is revealed and result["participants"] == data.participants
    norms = [norm for theme in result["themes"] for norm in theme["norms"]]
    assert [n["id"] for n in norms] == [n.id for n in template.norms]
    for norm in norms:
        counts = expected_counts(data, template, norm["id"])
        if revealed:
            assert norm["counts"] == list(counts)
            assert norm["median"] == stats.median(counts, template.scale.min)
        else:
            assert norm["counts"] is None and norm["median"] is None
            assert norm["dont_know"] is None
    assert sorted(n["text"] for n in result["notes"]) == sorted(
        n.text for n in data.notes if not n.hidden and not n.pending
    )
    ordered = sorted(data.agenda, key=lambda i: i.position)
    assert [(a["action"], a["owner"]) for a in result["agenda"]] == [
        (i.action, i.owner) for i in ordered
    ]


@ROOMS
@given(room=rooms(), lang=st.sampled_from(sorted(export.LANGUAGES)))
def test_markdown_export_lists_the_agenda(room: tuple[Template, RoomData], lang: str) -> None:
    template, data = room
    document = export.render("md", data, template, lang, "ABC234")
    assert document.media_type == "text/markdown; charset=utf-8" and document.extension == "md"
    text = document.body.decode()
    title = {"nl": "# Verbeteragenda: ", "en": "# Improvement agenda: "}[lang]
    assert text.startswith(title + template.localized(lang).title + "\n")
    for item in data.agenda:
        assert _cell(item.action) in text
        assert _cell(item.owner) in text
    if not data.agenda:
        assert {"nl": "Nog geen acties.", "en": "No actions yet."}[lang] in text
    # The scores table shows medians only once revealed.
    labels = export_labels.in_language(lang)
    hidden_label = labels["hidden"]
    norm_rows = [row for row in _section(text, labels["scores"]) if re.match(r"\| \d+\. ", row)]
    assert len(norm_rows) == len(template.norms)
    revealed = data.phase in REVEALED_PHASES
    assert all((f"| {hidden_label} |" in row) is not revealed for row in norm_rows)
    # Every agenda row is one line with as many cells as the header, whatever the text holds.
    table = [row for row in _section(text, labels["agenda"]) if row.startswith("|")]
    rows = table[2:]  # after the header and its rule
    assert len(rows) == len(data.agenda)
    cells = _cell_count(table[0]) if table else 0
    assert all(_cell_count(row) == cells for row in rows)


def _section(markdown: str, heading: str) -> list[str]:
    """The lines under ``## heading``, up to the next heading of that level."""
    lines = markdown.splitlines()
    start = lines.index(f"## {heading}") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def _cell_count(row: str) -> int:
    return len(re.findall(r"(?<!\\)\|", row)) - 1


@pytest.mark.parametrize("lang", sorted(export.LANGUAGES))
def test_exports_leave_out_hidden_notes(lang: str) -> None:
    norm = SCAN.norms[0].id
    data = RoomData(
        "participatiescan",
        Phase.AGENDA,
        2,
        True,
        40,
        9,
        tallies={norm: {6: 3}},
        notes=(
            WallNote("note-0001", "zichtbaar idee", norm, False),
            WallNote("note-0002", "VERBORGEN-TEKST", None, True),
        ),
        agenda=(
            AgendaItem("item-0002", "Tweede | actie\nmet regel", "Jan", None, None, None, 1),
            AgendaItem("item-0001", "Stagebank opzetten", "Gemeente", "2025-06-30", norm, None, 0),
        ),
    )
    for fmt in sorted(export.TEXT_FORMATS):
        body = export.render(fmt, data, SCAN, lang, "ABC234").body.decode("utf-8-sig")
        assert "zichtbaar idee" in body
        assert "VERBORGEN-TEKST" not in body
    md = as_markdown.markdown_from(build.result_dict(data, SCAN, "ABC234"), lang)
    assert md.index("Stagebank opzetten") < md.index("Tweede \\| actie met regel")
    deadline = {"nl": "30 juni 2025", "en": "30 June 2025"}[lang]  # a date in words
    assert f"| 1 | Stagebank opzetten | Gemeente | {deadline} | " + SCAN.norms[0].title in md
    assert "| 6 |" in md  # the median of three sixes


def test_render_refuses_an_unknown_format_or_language() -> None:
    data = RoomData("participatiescan", Phase.LOBBY, 1, False, 1, 0)
    with pytest.raises(ValueError):
        export.render("odt", data, SCAN, "nl", "ABC234")
    with pytest.raises(ValueError):
        export.render("json", data, SCAN, "de", "ABC234")


# ------------------------------------------------------------------ follow-up scans


def _dashboard_of_follow_up(document: object, template: Template) -> None:
    """Import ``document`` as the earlier scan; its dashboard must then be sendable."""
    try:
        previous = parse_previous(document, template)
    except FollowUpImportError:
        return  # refused at the door: fine
    data = RoomData(template.id, Phase.REVEAL, 1, False, 1, 0, previous=previous)
    view = dashboard(data, template, limits.MIN_GROUP_SIZE, 0)
    for codec in (MSGPACK, JSON):
        assert codec.decode_server(codec.encode(view)) == view


@ROOMS
@given(room=rooms())
def test_an_export_can_be_followed_up(room: tuple[Template, RoomData]) -> None:
    template, data = room
    document = json.loads(export.render("json", data, template, "nl", "ABC234").body)
    previous = parse_previous(document, template)
    assert previous.room == "ABC234"
    _dashboard_of_follow_up(document, template)


def _export_with(template: Template, median: object, action: str) -> dict[str, Any]:
    data = RoomData(template.id, Phase.AGENDA, 1, False, 1, 3, tallies={})
    document = json.loads(export.render("json", data, template, "nl", "ABC234").body)
    document["themes"][0]["norms"][0]["median"] = median
    document["agenda"] = [{"action": action, "owner": "", "deadline": None, "norm": None}]
    assert isinstance(document, dict)
    return document


@pytest.mark.parametrize(
    ("median", "action"),
    [
        (math.nan, "actie"),  # Starlette's request.json() reads NaN
        (math.inf, "actie"),
        (6.5, "a\ud800"),  # a lone surrogate, as JSON can spell it
        (6.5, "bel\x07"),
        (6.5, ""),
    ],
    ids=["nan", "infinity", "surrogate", "control", "empty"],
)
def test_an_imported_scan_cannot_break_the_dashboard(median: object, action: str) -> None:
    """Whatever the earlier export holds, the new room's dashboard can still be sent."""
    _dashboard_of_follow_up(_export_with(SCAN, median, action), SCAN)
