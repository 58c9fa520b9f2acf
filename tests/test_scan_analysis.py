"""Issue 4, end to end: two rounds with a planted split, opinion groups, a
promoted note group with its distribution snapshot, and a follow-up scan."""

from __future__ import annotations

import asyncio
import statistics

import httpx
import pytest

from agenda.templates import load_builtin_templates
from client.kleur_client import CommandRefused, KleurClient
from protocol.errors import ErrorCode
from protocol.messages import Dashboard
from protocol.phases import FollowUpStatus, Phase, Role
from tests.support import ServerProcess

TEMPLATE = load_builtin_templates()["participatiescan"]
NORMS = [norm.id for norm in TEMPLATE.norms]
#: The first two themes (10 norms) against the last two: the planted camps.
FIRST_HALF = set(NORMS[:10])
SPLIT = NORMS[0]


def insight(dashboard: Dashboard, norm_id: str):  # type: ignore[no-untyped-def]
    assert dashboard.analysis is not None
    return next(n for n in dashboard.analysis.norms if n.norm_id == norm_id)


async def run_round(people: list[KleurClient], values: dict[int, dict[str, int]]) -> None:
    async def one(i: int) -> None:
        for norm, value in values[i].items():
            await people[i].rate(norm, value)

    await asyncio.gather(*(one(i) for i in values))


async def test_two_rounds_groups_promotion_and_follow_up(kleur: ServerProcess) -> None:
    room = kleur.create_room()
    code, token = room["code"], room["facilitator_token"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=token)
    await facilitator.connect()
    people = [KleurClient(kleur.ws_url, code, Role.PARTICIPANT) for _ in range(12)]
    for person in people:
        await person.connect()
    # Camp A works at municipalities, camp B in education.
    for i, person in enumerate(people):
        await person.set_org_type("gemeente" if i < 6 else "onderwijs")
    await facilitator.set_phase(Phase.RATING)
    await asyncio.gather(*(p.wait_for(lambda c: c.state.phase is Phase.RATING) for p in people))

    # Round 1: camp A rates the first half low and the second high, camp B the opposite.
    def camp_values(i: int, low: int, high: int) -> dict[str, int]:
        in_a = i < 6
        # Noise that differs per person and norm, so the camps are not made of clones.
        return {
            n: (low if (n in FIRST_HALF) == in_a else high) + (i * 7 + j * 3) % 3 - 1
            for j, n in enumerate(NORMS)
        }

    round_one = {i: camp_values(i, 2, 8) for i in range(12)}
    await run_round(people, round_one)
    await facilitator.set_phase(Phase.REVEAL)
    first = await facilitator.wait_dashboard(lambda d: d.analysis is not None)
    assert first.analysis is not None
    split = insight(first, SPLIT)
    assert split.contested and split.split and split.n == 12
    assert split.median_delta is None  # no earlier round
    assert "contested" in {r for item in first.analysis.draft for r in item.reasons}
    # The two camps are found, with the norms that separate them.
    assert first.analysis.groups_outcome == "groups"
    assert sorted(g.size for g in first.analysis.groups) == [6, 6]
    assert SPLIT in first.analysis.separating_norms
    # Breakdown by organisation type: both groups have 6 people, so both are shown.
    by_org = {(b.org_type, b.norm_id): b for b in first.analysis.breakdown}
    assert by_org[("gemeente", SPLIT)].median is not None
    assert by_org[("gemeente", SPLIT)].median < by_org[("onderwijs", SPLIT)].median  # type: ignore[operator]
    assert {b.org_type for b in first.analysis.breakdown} == {"gemeente", "onderwijs"}

    # Round 2 after the discussion: the table converges on the split norm.
    await facilitator.set_phase(Phase.RATING)
    await asyncio.gather(*(p.wait_for(lambda c: c.state.round == 2) for p in people))
    await run_round(people, {i: {SPLIT: 3 + (i % 2)} for i in range(12)})
    await facilitator.set_phase(Phase.REVEAL)
    second = await facilitator.wait_dashboard(lambda d: d.analysis is not None and d.round == 2)
    moved = insight(second, SPLIT)
    assert moved.n_before == 12 and moved.n == 12
    assert not moved.contested
    assert moved.consensus_delta is not None and moved.consensus_delta > 0.3
    median_before = statistics.median(round_one[i][SPLIT] for i in range(12))
    assert moved.median_delta == statistics.median(3 + (i % 2) for i in range(12)) - median_before
    # Before the reveal of round 2 nothing of the analysis was shown.
    assert all(
        m.analysis is None for m in facilitator.received
        if isinstance(m, Dashboard) and m.round == 2 and m.phase is Phase.RATING
    )  # fmt: skip

    # Brainstorm, merge two notes into a group, promote the group with its norm.
    await facilitator.set_phase(Phase.BRAINSTORM)
    await people[0].wait_for(lambda c: c.state.phase is Phase.BRAINSTORM)
    a = await people[0].put_note("Eén loket voor werkgevers", SPLIT)
    b = await people[7].put_note("Werkgeversloket samen met UWV", SPLIT)
    # The draft agenda proposes the norms to address, with these notes as candidate actions.
    drafted = await facilitator.wait_dashboard(
        lambda d: d.analysis is not None and any(len(i.note_ids) == 2 for i in d.analysis.draft)
    )
    assert drafted.analysis is not None
    proposal = {item.norm_id: item for item in drafted.analysis.draft}
    assert set(proposal[SPLIT].note_ids) == {a, b}
    assert all(item.reasons for item in drafted.analysis.draft)
    group = await facilitator.put_note_group("Eén werkgeversloket", (a, b))
    await facilitator.put_agenda_item(
        "Eén werkgeversloket in de regio",
        owner="Gemeente",
        deadline="2027-06-01",
        follow_up="2027-01-15",
        norm_id=SPLIT,
        group_id=group,
    )
    promoted = await facilitator.wait_dashboard(lambda d: len(d.agenda) == 1)
    item = promoted.agenda[0]
    assert item.group_id == group and item.follow_up == "2027-01-15"
    assert item.snapshot is not None and item.snapshot.norm_id == SPLIT
    assert item.snapshot.counts is not None and sum(item.snapshot.counts) == 12
    assert item.snapshot.counts[3] == 6 and item.snapshot.counts[4] == 6  # round 2's distribution

    export = httpx.get(
        f"{kleur.http_url}/api/rooms/{code}/export.json",
        headers={"Authorization": f"Bearer {token}"},
    ).json()

    # The export shows how the split norm moved between the rounds.
    split_row = next(n for t in export["themes"] for n in t["norms"] if n["id"] == SPLIT)
    assert split_row["previous_round"]["n_before"] == 12
    assert split_row["previous_round"]["median_delta"] == moved.median_delta
    assert export["agenda"][0]["follow_up"] == "2027-01-15"

    # A follow-up scan a year later imports the export.
    follow = httpx.post(
        f"{kleur.http_url}/api/rooms",
        # The phone below joins after the round opened: no facilitator admits it here.
        json={"template": "participatiescan", "previous": export, "admission": False},
    )
    assert follow.status_code == 201, follow.text
    later = follow.json()
    facilitator2 = KleurClient(
        kleur.ws_url, later["code"], Role.FACILITATOR, token=later["facilitator_token"]
    )
    await facilitator2.connect()
    lobby = await facilitator2.wait_dashboard(lambda d: d.previous is not None)
    assert lobby.previous is not None
    assert [i.action for i in lobby.previous.items] == ["Eén werkgeversloket in de regio"]
    assert lobby.previous.items[0].status is FollowUpStatus.OPEN
    assert all(n.median_change is None for n in lobby.previous.norms)  # not revealed yet
    await facilitator2.command(lambda seq: _status(seq, 0, FollowUpStatus.DONE))
    await facilitator2.wait_dashboard(
        lambda d: d.previous is not None and d.previous.items[0].status is FollowUpStatus.DONE
    )
    # The earlier scan had one item: an index beyond it is refused (it would never show).
    with pytest.raises(CommandRefused) as beyond:
        await facilitator2.command(lambda seq: _status(seq, 1, FollowUpStatus.DONE))
    assert beyond.value.error.code is ErrorCode.UNKNOWN_ITEM
    # And a room that follows up no scan has no items to give a status.
    with pytest.raises(CommandRefused) as no_scan:
        await facilitator.command(lambda seq: _status(seq, 0, FollowUpStatus.DONE))
    assert no_scan.value.error.code is ErrorCode.UNKNOWN_ITEM
    await facilitator2.set_phase(Phase.RATING)
    phone = KleurClient(kleur.ws_url, later["code"], Role.PARTICIPANT)
    await phone.connect()
    await phone.rate(SPLIT, 8)
    await facilitator2.set_phase(Phase.REVEAL)
    revealed = await facilitator2.wait_dashboard(lambda d: d.revealed and d.previous is not None)
    assert revealed.previous is not None
    change = next(n for n in revealed.previous.norms if n.norm_id == SPLIT)
    assert change.median_before == 3.5 and change.median_change == 8 - 3.5

    markdown = httpx.get(
        f"{kleur.http_url}/api/rooms/{later['code']}/export.md?lang=nl",
        headers={"Authorization": f"Bearer {later['facilitator_token']}"},
    ).text
    assert f"## Sinds de vorige scan ({code})" in markdown
    assert "| Eén werkgeversloket in de regio | Gemeente | 1 juni 2027 | klaar |" in markdown
    assert "| 1. Deskundigheid omgaan met werkgevers | 3,5 | +4,5 |" in markdown

    # A document that is not an export of this template is refused clearly.
    refused = httpx.post(
        f"{kleur.http_url}/api/rooms", json={"template": "team-health", "previous": export}
    )
    assert refused.status_code == 400 and "template" in refused.json()["detail"]
    for client in [facilitator, facilitator2, phone, *people]:
        await client.close()


def _status(seq: int, index: int, status: FollowUpStatus) -> object:
    from protocol.messages import SetFollowUpStatus

    return SetFollowUpStatus(seq, index, status)
