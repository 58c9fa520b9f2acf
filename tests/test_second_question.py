"""A template's second question per norm (importance or ideal level) and its gap.

End to end against a real redis-server and server: the answers are tallied
apart from the ratings, hidden until the reveal, returned to their phone on
reconnect, and give a gap per norm and theme in the dashboard and exports.
The statistics themselves are tested in ``test_analysis`` (``gap``).
"""

from __future__ import annotations

import asyncio
import statistics

import httpx
import pytest

from agenda.templates import load_builtin_templates
from client.kleur_client import CommandRefused, KleurClient
from protocol.errors import ErrorCode
from protocol.messages import Dashboard
from protocol.phases import Phase, Question, Role
from tests.support import ServerProcess

TEMPLATE = load_builtin_templates()["team-health"]
NORMS = [norm.id for norm in TEMPLATE.norms]
FIRST_THEME = TEMPLATE.themes[0]


def planted(person: int, norm_index: int) -> tuple[int, int]:
    """(rating, importance) of one person on one norm: scores vary, importance is high."""
    rating = 1 + (person + norm_index) % 3
    importance = 4 + (person * norm_index) % 2
    return rating, importance


async def test_second_question_tallied_apart_hidden_until_reveal_and_gives_gaps(
    kleur: ServerProcess,
) -> None:
    assert TEMPLATE.second_question is not None
    room = kleur.create_room("team-health")
    code, token = room["code"], room["facilitator_token"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=token)
    await facilitator.connect()
    people = [KleurClient(kleur.ws_url, code, Role.PARTICIPANT) for _ in range(5)]
    for person in people:
        await person.connect()
    await facilitator.set_phase(Phase.RATING)
    await asyncio.gather(*(p.wait_for(lambda c: c.state.phase is Phase.RATING) for p in people))

    async def answer(i: int) -> None:
        for j, norm in enumerate(NORMS):
            rating, importance = planted(i, j)
            await people[i].rate(norm, rating)
            await people[i].rate(norm, importance, Question.SECOND)

    await asyncio.gather(*(answer(i) for i in range(len(people))))
    # Person 0 says "don't know" to the importance of the first norm: counted apart.
    await people[0].rate(NORMS[0], None, Question.SECOND)

    blind = await facilitator.wait_dashboard(
        lambda d: d.second_norms is not None and d.second_norms[-1].received == len(people)
    )
    assert blind.second_norms is not None
    # Before the reveal: only how many answered, for both questions.
    assert all(r.counts is None and r.median is None for r in blind.second_norms)
    assert all(r.counts is None for r in blind.norms)
    assert [r.received for r in blind.norms] == [len(people)] * len(NORMS)
    assert people[1].state is not None and people[1].state.second_results is None

    # A phone that reconnects gets both of its answers back, each with its question.
    welcome = await people[2].reconnect()
    own = {(r.norm_id, r.question): r.value for r in welcome.ratings}
    assert len(own) == 2 * len(NORMS)
    assert own[(NORMS[3], Question.CURRENT)] == planted(2, 3)[0]
    assert own[(NORMS[3], Question.SECOND)] == planted(2, 3)[1]

    await facilitator.set_phase(Phase.REVEAL)
    shown = await facilitator.wait_dashboard(lambda d: d.analysis is not None)
    assert shown.second_norms is not None and shown.analysis is not None
    for j, (main, second) in enumerate(zip(shown.norms, shown.second_norms, strict=True)):
        ratings = [planted(i, j)[0] for i in range(len(people))]
        importances = [planted(i, j)[1] for i in range(len(people))]
        if j == 0:
            importances = importances[1:]  # person 0 said "don't know"
        assert main.counts is not None and second.counts is not None
        # The main tally never holds an importance answer, and the other way round.
        assert sum(main.counts) == len(people) and main.dont_know == 0
        assert sum(second.counts) == len(importances)
        assert second.dont_know == (1 if j == 0 else 0)
        assert second.median == statistics.median(importances)
        norm_insight = shown.analysis.norms[j]
        assert norm_insight.second_median == statistics.median(importances)
        assert norm_insight.gap == statistics.median(importances) - statistics.median(ratings)
    gaps = {n.norm_id: n.gap for n in shown.analysis.norms}
    theme = next(t for t in shown.analysis.themes if t.theme_id == FIRST_THEME.id)
    expected_theme_gap = statistics.mean(gaps[n.id] for n in FIRST_THEME.norms)  # type: ignore[misc]
    assert theme.gap == pytest.approx(expected_theme_gap)
    # Phones see the second question's distribution after the reveal, too.
    await people[1].wait_for(lambda c: c.state.second_results is not None)
    assert people[1].state is not None and people[1].state.second_results is not None
    assert people[1].state.second_results[1].median == shown.second_norms[1].median

    headers = {"Authorization": f"Bearer {token}"}
    # In the template's own language (English): the export follows ``lang``, Dutch by default.
    url = f"{kleur.http_url}/api/rooms/{code}/export.json?lang=en"
    export = httpx.get(url, headers=headers).json()
    assert export["second_question"] == {
        "kind": "importance",
        "question": TEMPLATE.second_question.question,
    }
    first_row = export["themes"][0]["norms"][1]
    assert first_row["second"]["median"] == shown.second_norms[1].median
    assert first_row["second"]["gap"] == gaps[NORMS[1]]
    assert export["themes"][0]["gap"] == pytest.approx(expected_theme_gap)
    markdown = httpx.get(
        f"{kleur.http_url}/api/rooms/{code}/export.md?lang=en", headers=headers
    ).text
    assert "## Importance against score" in markdown
    # Aggregates only: no pseudonym, token or per-answer trace in any export.
    for fmt in ("json", "md", "csv"):
        body = httpx.get(f"{kleur.http_url}/api/rooms/{code}/export.{fmt}", headers=headers).text
        for person in people:
            assert person.token is not None and person.token not in body
    for client in [facilitator, *people]:
        await client.close()


async def test_a_template_without_a_second_question_refuses_one(kleur: ServerProcess) -> None:
    room = kleur.create_room("participatiescan")
    facilitator = KleurClient(
        kleur.ws_url, room["code"], Role.FACILITATOR, token=room["facilitator_token"]
    )
    await facilitator.connect()
    phone = KleurClient(kleur.ws_url, room["code"], Role.PARTICIPANT)
    await phone.connect()
    await facilitator.set_phase(Phase.RATING)
    await phone.wait_for(lambda c: c.state.phase is Phase.RATING)
    norm = load_builtin_templates()["participatiescan"].norms[0].id
    with pytest.raises(CommandRefused) as refused:
        await phone.rate(norm, 5, Question.SECOND)
    assert refused.value.error.code is ErrorCode.INVALID_FIELD
    assert "second question" in refused.value.error.detail
    await phone.rate(norm, 5)
    await facilitator.set_phase(Phase.REVEAL)
    dashboard: Dashboard = await facilitator.wait_dashboard(lambda d: d.revealed)
    assert dashboard.second_norms is None
    assert dashboard.analysis is not None
    assert all(n.gap is None and n.second_median is None for n in dashboard.analysis.norms)
    assert dashboard.norms[0].counts is not None and sum(dashboard.norms[0].counts) == 1
    for client in (facilitator, phone):
        await client.close()
