"""Brainstorm over the real stack: dot voting with hidden results, note groups, the timer."""

from __future__ import annotations

import pytest

from client.kleur_client import CommandRefused, KleurClient
from protocol.errors import ErrorCode
from protocol.phases import DotVoting, Phase, Role
from tests.support import ServerProcess


async def test_dot_voting_groups_and_timer(kleur: ServerProcess) -> None:
    room = kleur.create_room()
    code = room["code"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    people = [KleurClient(kleur.ws_url, code, Role.PARTICIPANT) for _ in range(3)]
    for person in people:
        await person.connect()
    for phase in (Phase.RATING, Phase.REVEAL, Phase.BRAINSTORM):
        await facilitator.set_phase(phase)
    # About dots, not moderation (tests/test_moderation.py): notes go up at once.
    await facilitator.set_moderation(False)
    await people[0].wait_for(lambda c: c.state is not None and c.state.phase is Phase.BRAINSTORM)
    a = await people[0].put_note("Stagebank voor de hele regio")
    b = await people[1].put_note("Vaste contactpersoon bij UWV")
    c = await people[2].put_note("Regionale stagebank")

    # Not before the facilitator opens voting.
    with pytest.raises(CommandRefused) as closed:
        await people[0].dot_vote(a, 1)
    assert closed.value.error.code is ErrorCode.WRONG_PHASE

    await facilitator.set_dot_voting(DotVoting.OPEN, dots_per_participant=3, max_per_note=2)
    await people[0].wait_for(lambda c: c.state is not None and c.state.notes is not None)
    assert people[0].state is not None and people[0].state.notes is not None
    assert {n.note_id for n in people[0].state.notes} == {a, b, c}
    await people[0].dot_vote(a, 2)
    await people[0].dot_vote(b, 1)
    with pytest.raises(CommandRefused) as over_budget:
        await people[0].dot_vote(c, 1)  # 2 + 1 + 1 > 3 dots
    assert over_budget.value.error.code is ErrorCode.TOO_MANY
    with pytest.raises(CommandRefused) as over_note:
        await people[1].dot_vote(a, 3)  # at most 2 on one note
    assert over_note.value.error.code is ErrorCode.TOO_MANY
    await people[1].dot_vote(a, 2)
    await people[2].dot_vote(c, 1)
    await people[0].dot_vote(b, 0)  # takes its dot back

    # While open, every screen sees progress but no results.
    dashboard = await facilitator.wait_dashboard(lambda d: d.voting.dots_cast == 5)
    assert dashboard.voting.results is None
    assert people[2].state is not None and people[2].state.voting.results is None

    # A reload returns the participant's own dots.
    again = KleurClient(kleur.ws_url, code, Role.PARTICIPANT, token=people[0].token)
    welcome = await again.connect()
    assert {(d.note_id, d.dots) for d in welcome.dots} == {(a, 2), (b, 0)}

    await facilitator.set_dot_voting(DotVoting.SHOWN, dots_per_participant=3, max_per_note=2)
    shown = await facilitator.wait_dashboard(lambda d: d.voting.results is not None)
    assert shown.voting.results is not None
    assert [(v.note_id, v.dots) for v in shown.voting.results] == [(a, 4), (c, 1)]
    await people[1].wait_for(lambda c: c.state is not None and c.state.voting.results is not None)

    # Dots on a note the facilitator hides are freed, and can be taken back.
    await facilitator.set_dot_voting(DotVoting.OPEN, dots_per_participant=3, max_per_note=2)
    await people[1].wait_for(
        lambda c: c.state is not None and c.state.voting.state is DotVoting.OPEN
    )
    await people[1].dot_vote(b, 1)  # people[1]: 2 on a, 1 on b: all 3 dots spent
    await facilitator.hide_note(b)
    await people[1].dot_vote(c, 1)  # the dot on the hidden note no longer counts
    await people[1].dot_vote(b, 0)  # and can still be taken back
    with pytest.raises(CommandRefused) as hidden:
        await people[1].dot_vote(b, 1)
    assert hidden.value.error.code is ErrorCode.UNKNOWN_ITEM
    await facilitator.hide_note(b, hidden=False)
    await facilitator.set_dot_voting(DotVoting.SHOWN, dots_per_participant=3, max_per_note=2)
    shown = await facilitator.wait_dashboard(
        lambda d: (
            d.voting.results is not None
            and dict((v.note_id, v.dots) for v in d.voting.results).get(c) == 2
        )
    )
    assert shown.voting.results is not None
    assert [(v.note_id, v.dots) for v in shown.voting.results] == [(a, 4), (c, 2)]

    # The wall suggests merging the two notes about a regional stagebank.
    suggested = await facilitator.wait_dashboard(lambda d: len(d.suggestions) >= 1)
    assert [set(s.note_ids) for s in suggested.suggestions] == [{a, c}]

    # Merge the two stage-bank notes into a group, promote the group's idea.
    group = await facilitator.put_note_group("Stagebank", (a, c))
    grouped = await facilitator.wait_dashboard(lambda d: len(d.groups) == 1)
    assert grouped.groups[0].group_id == group and set(grouped.groups[0].note_ids) == {a, c}
    assert grouped.suggestions == ()  # merged notes are no longer suggested

    await facilitator.set_timer(300)
    timed = await facilitator.wait_dashboard(lambda d: d.timer_ends_at is not None)
    assert timed.timer_ends_at is not None
    # The countdown ends 300 s after it was set (the snapshot may come a little later).
    assert 290_000 <= timed.timer_ends_at - timed.server_time <= 300_000
    await people[0].wait_for(lambda c: c.state is not None and c.state.timer_ends_at is not None)
    await facilitator.set_timer(None)
    await facilitator.wait_dashboard(lambda d: d.timer_ends_at is None)
    for client in [facilitator, again, *people]:
        await client.close()


async def test_a_group_is_one_item_in_dot_voting_and_notes_close_while_voting(
    kleur: ServerProcess,
) -> None:
    room = kleur.create_room()
    code = room["code"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    await facilitator.set_moderation(False)  # this test is about dots, not approval
    people = [KleurClient(kleur.ws_url, code, Role.PARTICIPANT) for _ in range(2)]
    for person in people:
        await person.connect()
    for phase in (Phase.RATING, Phase.REVEAL, Phase.BRAINSTORM):
        await facilitator.set_phase(phase)
    await people[0].wait_for(lambda c: c.state is not None and c.state.phase is Phase.BRAINSTORM)
    a = await people[0].put_note("Stagebank voor de hele regio")
    b = await people[1].put_note("Regionale stagebank")
    c = await people[1].put_note("Vaste contactpersoon bij UWV")
    group = await facilitator.put_note_group("Eén stagebank voor de regio", (a, b))

    await facilitator.set_dot_voting(DotVoting.OPEN, dots_per_participant=3, max_per_note=2)
    # Phones get the groups to vote on, with their notes.
    await people[0].wait_for(lambda c: c.state is not None and c.state.groups is not None)
    assert people[0].state is not None and people[0].state.groups is not None
    assert [(g.group_id, set(g.note_ids)) for g in people[0].state.groups] == [(group, {a, b})]

    # Adding notes is closed while voting is open (the wall people vote on stays put).
    with pytest.raises(CommandRefused) as closed:
        await people[0].put_note("Nog een idee")
    assert closed.value.error.code is ErrorCode.WRONG_PHASE
    assert "dot voting" in closed.value.error.detail

    # A note inside a group takes no dots of its own: the group is the item.
    with pytest.raises(CommandRefused) as in_group:
        await people[0].dot_vote(a, 1)
    assert in_group.value.error.code is ErrorCode.UNKNOWN_ITEM
    assert "group" in in_group.value.error.detail
    await people[0].dot_vote(group, 2)
    await people[0].dot_vote(c, 1)
    with pytest.raises(CommandRefused) as over_budget:
        await people[0].dot_vote(group, 3)  # more than max_per_note and the budget
    assert over_budget.value.error.code is ErrorCode.TOO_MANY
    await people[1].dot_vote(group, 1)

    await facilitator.set_dot_voting(DotVoting.SHOWN, dots_per_participant=3, max_per_note=2)
    shown = await facilitator.wait_dashboard(lambda d: d.voting.results is not None)
    assert shown.voting.results is not None
    assert [(v.note_id, v.dots) for v in shown.voting.results] == [(group, 3), (c, 1)]

    # A group removed while voting frees its dots, which then count for nothing.
    await facilitator.set_dot_voting(DotVoting.OPEN, dots_per_participant=3, max_per_note=2)
    await people[0].wait_for(
        lambda c: c.state is not None and c.state.voting.state is DotVoting.OPEN
    )
    await facilitator.remove_note_group(group)
    await people[0].wait_for(lambda c: c.state is not None and c.state.groups == ())
    await people[0].dot_vote(a, 2)  # the 2 dots on the group are spent no more
    await facilitator.set_dot_voting(DotVoting.SHOWN, dots_per_participant=3, max_per_note=2)
    shown = await facilitator.wait_dashboard(
        lambda d: d.voting.results is not None and not d.groups
    )
    assert shown.voting.results is not None
    assert [(v.note_id, v.dots) for v in shown.voting.results] == [(a, 2), (c, 1)]
    for client in (facilitator, *people):
        await client.close()
