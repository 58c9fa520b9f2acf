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
    NoteGroup,
    Presenter,
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
    else:
        assert view.analysis is None
        assert all(r.counts is None and r.median is None for r in view.norms)
    # "x van N klaar": how many answered is always there.
    assert [r.received for r in view.norms] == [r.received for r in full.norms]
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
    first = view.norms[0]
    assert (first.received, first.counts, first.median) == (9, None, None)
    revealed = presenter(dataclasses.replace(data, phase=Phase.REVEAL), SCAN, 3, 0, ANALYSIS)
    assert revealed.norms[0].counts is not None and revealed.norms[0].median == 7
    assert revealed.analysis is not None and revealed.analysis.draft == ()
    # The facilitator still sees all three, flagged.
    assert {(n.note_id, n.hidden, n.pending) for n in dashboard(data, SCAN, 3, 0).notes} == {
        ("approved-1", False, False),
        ("pending-note1", False, True),
        ("hidden-note1", True, False),
    }
