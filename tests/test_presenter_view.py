"""The presenter view's filter (``agenda.views.presenter``): pure, no server.

The projector shows only what the whole room may see.  These tests build
rooms (with hypothesis and by hand) and check that the presenter view never
carries a pending or hidden note, a suggestion or the draft agenda, and
nothing of the ratings before the reveal.
"""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenda.phases import REVEALED_PHASES
from agenda.templates import load_builtin_templates
from agenda.views import RoomData, dashboard, presenter
from protocol.messages import (
    Analysis,
    BreakdownEntry,
    DraftItem,
    NormProgress,
    NoteGroup,
    Presenter,
    RatingProgress,
    WallNote,
)
from protocol.phases import DotVoting, Phase
from tests.test_core import rooms

SCAN = load_builtin_templates()["participatiescan"]
ANALYSIS = Analysis(
    (),
    (),
    (),
    "too_few_participants",
    (),
    (),
    (BreakdownEntry("gemeente", SCAN.norms[0].id, 5, 6.0),),
    (DraftItem(SCAN.norms[0].id, ("low_score",), ("pending-note1",)),),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(room=rooms(), min_size=st.integers(1, 5), server_time=st.integers(0, 2**45))
def test_presenter_shows_only_what_the_room_may_see(room, min_size, server_time) -> None:  # type: ignore[no-untyped-def]
    template, data = room
    view = presenter(data, template, min_size, server_time, ANALYSIS)
    full = dashboard(data, template, min_size, server_time, ANALYSIS)
    on_wall = {n.note_id for n in data.notes if not n.hidden and not n.pending}
    # Notes: exactly the approved, not hidden ones, none changed.
    assert {n.note_id for n in view.notes} == on_wall
    assert all(not n.hidden and not n.pending for n in view.notes)
    assert set(view.notes) <= set(data.notes)
    # Groups only ever name notes that are on the wall, and none is left empty.
    for group in view.groups:
        assert group.note_ids and set(group.note_ids) <= on_wall
    # Reveal gating: before the reveal no distribution and no analysis.
    if data.phase in REVEALED_PHASES:
        assert view.analysis is not None and view.analysis.draft == ()
        assert view.analysis.breakdown == ANALYSIS.breakdown
        assert all(r.counts is not None for r in view.norms)
        assert [r.received for r in view.norms] == [r.received for r in full.norms]
        assert view.progress is None
    else:
        # Before the reveal nothing per norm: only the answers in, in whole people.
        assert view.analysis is None
        assert view.norms == () and view.second_norms in ((), None)
        assert view.progress is not None and view.progress.norms == ()
        assert full.progress is not None
        assert view.progress.complete == full.progress.complete <= data.participants
    # Dot results only once shown, and only for notes on the wall.
    if data.voting_state is not DotVoting.SHOWN:
        assert view.voting.results is None
    else:
        assert view.voting.results is not None
        # Items are notes on the wall, or groups (one item each) the room can see.
        shown_groups = {g.group_id for g in view.groups}
        assert {v.note_id for v in view.voting.results} <= on_wall | shown_groups
    assert (view.phase, view.round, view.participants) == (
        data.phase,
        data.round,
        data.participants,
    )
    assert view.agenda == full.agenda and view.previous == full.previous
    assert view.timer_ends_at == data.timer_ends_at
    # The message has no field for suggestions or moderation state at all.
    fields = {f.name for f in dataclasses.fields(Presenter)}
    assert not fields & {"suggestions", "moderation", "draft"}


def test_presenter_example_pending_hidden_and_grouped() -> None:
    notes = (
        WallNote("approved-1", "Stagebank", None, False),
        WallNote("pending-note1", "Nog niet gezien", None, False, pending=True),
        WallNote("hidden-note1", "Verborgen", None, True),
    )
    data = RoomData(
        "participatiescan",
        Phase.RATING,
        1,
        False,
        7,
        12,
        tallies={SCAN.norms[0].id: {7: 5, 8: 4}},
        notes=notes,
        groups=(
            NoteGroup("group-one1", "Stage", ("approved-1", "pending-note1")),
            NoteGroup("group-two2", "Weg", ("hidden-note1",)),
        ),
        moderation=True,
    )
    view = presenter(data, SCAN, 3, 0, ANALYSIS)
    assert [n.note_id for n in view.notes] == ["approved-1"]
    assert view.groups == (NoteGroup("group-one1", "Stage", ("approved-1",)),)
    assert view.analysis is None  # rating: blind
    assert view.norms == ()  # rating: nothing per norm on the projector
    # 9 answers on a template of many norms: not yet one whole person's worth.
    assert view.progress == RatingProgress(12, 0)
    revealed = presenter(dataclasses.replace(data, phase=Phase.REVEAL), SCAN, 3, 0, ANALYSIS)
    assert revealed.norms[0].counts is not None and revealed.norms[0].median == 7
    assert revealed.analysis is not None and revealed.analysis.draft == ()
    # The facilitator still sees all three, flagged.
    assert {(n.note_id, n.hidden, n.pending) for n in dashboard(data, SCAN, 3, 0).notes} == {
        ("approved-1", False, False),
        ("pending-note1", False, True),
        ("hidden-note1", True, False),
    }


def _rating_room(tallies: dict[str, dict[int | None, int]], people: int = 12) -> RoomData:
    return RoomData("participatiescan", Phase.RATING, 1, False, 1, people, tallies=tallies)


def _after_each_rating(people: int) -> list[tuple[str, int]]:
    """Every norm rated by one person after another, one tap at a time:
    (the norm just rated, answers on it now), in order."""
    taps = []
    for person in range(1, people + 1):
        for norm in SCAN.norms:
            taps.append((norm.id, person))
    return taps


def test_one_rating_on_one_norm_changes_nothing_the_projector_gets() -> None:
    """Tap by tap, the presenter's snapshot (version aside) changes only when a
    whole person's worth of answers is in, and then never says which norm."""
    people = 12
    tallies: dict[str, dict[int | None, int]] = {}
    before = presenter(_rating_room(tallies, people), SCAN, 3, 0)
    changes = 0
    for taps, (norm_id, count) in enumerate(_after_each_rating(people), start=1):
        tallies[norm_id] = {7: count}
        after = presenter(_rating_room(tallies, people), SCAN, 3, 0)
        if after != before:
            changes += 1
            # Only at a whole person's worth of answers, and then only the count.
            assert taps % len(SCAN.norms) == 0
            assert dataclasses.replace(after, progress=before.progress) == before
            assert before.progress is not None and after.progress is not None
            assert dataclasses.replace(after.progress, complete=before.progress.complete) == (
                before.progress
            )
        assert after.progress is not None
        assert after.progress.complete == taps // len(SCAN.norms)
        assert after.norms == () and after.progress.norms == ()
        before = after
    assert changes == people


def test_progress_counts_whole_people_however_the_answers_are_spread() -> None:
    """Twelve people who each answered all but one norm are not "12 klaar"."""
    norms = [norm.id for norm in SCAN.norms]
    # Everybody answered every norm except the last: 12 x (n - 1) answers.
    tallies: dict[str, dict[int | None, int]] = {norm: {5: 12} for norm in norms[:-1]}
    progress = presenter(_rating_room(tallies), SCAN, 3, 0).progress
    assert progress is not None
    assert progress.complete == 12 * (len(norms) - 1) // len(norms) < 12
    # Answers beyond the room's size (a person who left) do not count.
    tallies = {norms[0]: {5: 40}}
    progress = presenter(_rating_room(tallies), SCAN, 3, 0).progress
    assert progress is not None and progress.complete == 12 // len(norms)


def test_control_view_gets_each_norm_in_steps() -> None:
    """The facilitator sees which norms lag, in steps of three answers."""
    first, second, third = (norm.id for norm in SCAN.norms[:3])
    data = _rating_room({first: {4: 1, None: 1}, second: {8: 3}, third: {6: 7}})
    progress = dashboard(data, SCAN, 3, 0).progress
    assert progress is not None
    steps = {p.norm_id: p.at_least for p in progress.norms}
    assert (steps[first], steps[second], steps[third]) == (0, 3, 6)
    assert progress.norms[0] == NormProgress(first, 0)
    assert len(progress.norms) == len(SCAN.norms)
    # A rating that does not reach the next step changes nothing the control view shows.
    one_more = _rating_room({first: {4: 1, None: 1}, second: {8: 3, 9: 1}, third: {6: 8}})
    assert dashboard(one_more, SCAN, 3, 0).progress == progress
    # After the reveal the distributions say it all: no progress.
    revealed = dataclasses.replace(data, phase=Phase.REVEAL)
    assert dashboard(revealed, SCAN, 3, 0).progress is None
    assert presenter(revealed, SCAN, 3, 0).progress is None


@settings(max_examples=200)
@given(
    people=st.integers(1, 30),
    data=st.data(),
)
def test_any_one_more_rating_moves_only_the_whole_people_count(people, data) -> None:  # type: ignore[no-untyped-def]
    """Whatever the answers so far, one more on any norm changes the presenter's
    snapshot only in ``progress.complete``, and only when it completes a person."""
    counts = data.draw(
        st.lists(st.integers(0, people), min_size=len(SCAN.norms), max_size=len(SCAN.norms))
    )
    norm = data.draw(st.sampled_from([i for i, c in enumerate(counts) if c < people] or [0]))
    if counts[norm] >= people:
        return  # everybody answered everything: no one more rating to give
    tallies = {n.id: {5: c} for n, c in zip(SCAN.norms, counts, strict=True) if c}
    before = presenter(_rating_room(tallies, people), SCAN, 3, 0)
    tallies[SCAN.norms[norm].id] = {5: counts[norm] + 1}
    after = presenter(_rating_room(tallies, people), SCAN, 3, 0)
    assert before.progress is not None and after.progress is not None
    assert dataclasses.replace(after, progress=before.progress) == before
    # ... and within the progress, only the whole-people count.
    assert dataclasses.replace(after.progress, complete=before.progress.complete) == before.progress
    whole_before = sum(counts) // len(SCAN.norms)
    assert before.progress.complete == whole_before
    assert after.progress.complete == (sum(counts) + 1) // len(SCAN.norms)
