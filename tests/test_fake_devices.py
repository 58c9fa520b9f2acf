"""The fake-device attack (issue 11, acceptance 1), against a real server and Redis.

Five people are expected and five come: one of them is the only UWV person.
Two extra devices join with the QR link, claim UWV and rate 0 and 10
everywhere: were they counted, the UWV group would have three members (the
smallest group shown) and its median on every norm would be the target's own
rating.  With admission on (the default) they wait for the facilitator, so
the breakdown recovers none of the target's ratings; and once the first round
opened, nobody can change organisation type to see which norms they rated.

``test_the_attack_works_when_the_facilitator_lets_everyone_in`` runs the same
attack with admission off: the breakdown then gives the target's ratings
away, which shows the checks of the first test can see the leak at all.
"""

from __future__ import annotations

import random

import pytest

from agenda.templates import load_builtin_templates
from client.kleur_client import CommandRefused, KleurClient
from protocol.errors import ErrorCode
from protocol.messages import Dashboard
from protocol.phases import Phase, Role
from tests.support import ServerProcess

TEMPLATE = load_builtin_templates()["participatiescan"]
NORMS = [norm.id for norm in TEMPLATE.norms]
SCALE = TEMPLATE.scale
#: The table: the target is the only UWV person.
ORGS = ["uwv", "gemeente", "gemeente", "onderwijs", "onderwijs"]


async def _refused(awaitable: object) -> ErrorCode:
    with pytest.raises(CommandRefused) as caught:
        await awaitable  # type: ignore[misc]
    return caught.value.error.code


class Session:
    """A room with its facilitator and five people at the table, in the lobby."""

    def __init__(self, kleur: ServerProcess, *, admission: bool) -> None:
        self.room = kleur.create_room(expected_people=5, admission=admission)
        self.url = kleur.ws_url
        self.facilitator = KleurClient(
            kleur.ws_url, self.room["code"], Role.FACILITATOR, token=self.room["facilitator_token"]
        )
        self.people: list[KleurClient] = []
        self.attackers: list[KleurClient] = []

    def phone(self) -> KleurClient:
        # With the QR link's join token, as anyone holding the link can.
        return KleurClient(
            self.url,
            self.room["code"],
            Role.PARTICIPANT,
            join_token=self.room["join_url"].split("?t=")[1],
        )

    async def start(self) -> None:
        await self.facilitator.connect()
        for org in ORGS:
            phone = self.phone()
            welcome = await phone.connect()
            assert welcome.admitted
            await phone.set_org_type(org)
            self.people.append(phone)

    async def attackers_join(self) -> list[KleurClient]:
        for _ in range(2):
            phone = self.phone()
            await phone.connect()
            self.attackers.append(phone)
        return self.attackers

    async def close(self) -> None:
        for client in [self.facilitator, *self.people, *self.attackers]:
            await client.close()


def _target_ratings() -> dict[str, int | None]:
    chosen = random.Random(11)
    # Mostly on the scale, some "don't know": both must stay hidden.
    return {
        norm: (None if i % 7 == 3 else chosen.randint(SCALE.min + 1, SCALE.max - 1))
        for i, norm in enumerate(NORMS)
    }


async def _rate_everything(session: Session, target: dict[str, int | None]) -> None:
    others = random.Random(5)
    for i, phone in enumerate(session.people):
        for norm in NORMS:
            value = target[norm] if i == 0 else others.randint(SCALE.min, SCALE.max)
            await phone.rate(norm, value)


async def _outcome(send: object) -> ErrorCode | None:
    """The refusal a command met, or None when it was accepted."""
    try:
        await send  # type: ignore[misc]
    except CommandRefused as refused:
        return refused.error.code
    return None


async def _claim_uwv(attackers: list[KleurClient]) -> set[ErrorCode | None]:
    return {await _outcome(attacker.set_org_type("uwv")) for attacker in attackers}


async def _rate_extremes(attackers: list[KleurClient]) -> set[ErrorCode | None]:
    """One attacker rates the scale's bottom everywhere, the other its top."""
    outcomes = set()
    for attacker, extreme in zip(attackers, (SCALE.min, SCALE.max), strict=True):
        for norm in NORMS:
            outcomes.add(await _outcome(attacker.rate(norm, extreme)))
    return outcomes


def _uwv_medians(dashboard: Dashboard) -> dict[str, float | None]:
    assert dashboard.analysis is not None
    return {e.norm_id: e.median for e in dashboard.analysis.breakdown if e.org_type == "uwv"}


async def test_fake_devices_wait_and_recover_none_of_a_lone_persons_ratings(
    kleur: ServerProcess,
) -> None:
    session = Session(kleur, admission=True)
    await session.start()
    target = _target_ratings()
    try:
        # Two devices beyond the five expected, still in the lobby: they wait.
        early = await session.attackers_join()
        assert [a.welcome.admitted for a in early if a.welcome] == [False, False]
        codes = sorted(a.welcome.device_code for a in early if a.welcome)
        assert all(len(code) == 3 for code in codes) and codes[0] != codes[1]
        dashboard = await session.facilitator.wait_dashboard(lambda d: len(d.waiting) == 2)
        assert sorted(dashboard.waiting) == codes
        assert (dashboard.participants, dashboard.expected_people) == (5, 5)

        assert await _claim_uwv(early) == {ErrorCode.NOT_ADMITTED}
        await session.facilitator.set_phase(Phase.RATING)
        await _rate_everything(session, target)
        assert await _rate_extremes(early) == {ErrorCode.NOT_ADMITTED}
        assert await _claim_uwv(early) == {ErrorCode.NOT_ADMITTED}

        # A device new once rating opened waits too, however few devices there are.
        late = session.phone()
        assert not (await late.connect()).admitted
        session.attackers.append(late)
        assert await _refused(late.rate(NORMS[0], SCALE.max)) is ErrorCode.NOT_ADMITTED

        # Changing organisation type once the first round opened is refused.
        target_phone = session.people[0]
        assert await _refused(target_phone.set_org_type("gemeente")) is ErrorCode.ORG_TYPE_FIXED
        assert await _refused(target_phone.set_org_type(None)) is ErrorCode.ORG_TYPE_FIXED

        await session.facilitator.set_phase(Phase.REVEAL)
        dashboard = await session.facilitator.wait_dashboard(
            lambda d: d.analysis is not None and d.phase is Phase.REVEAL
        )
        # Only the five admitted devices are counted, and only their ratings.
        assert dashboard.participants == 5 and len(dashboard.waiting) == 3
        assert all(n.received == 5 for n in dashboard.norms)
        assert {o.org_type for o in dashboard.org_counts} <= {"gemeente", "onderwijs"}
        # The breakdown shows no UWV group, so nothing derived from the target.
        assert _uwv_medians(dashboard) == {}
        presenter_view = KleurClient(
            session.url,
            session.room["code"],
            Role.PRESENTER,
            token=session.room["display_url"].split("#")[1],
        )
        await presenter_view.connect()
        shown = await presenter_view.wait_presenter(lambda p: p.analysis is not None)
        await presenter_view.close()
        assert shown.analysis is not None
        assert not [e for e in shown.analysis.breakdown if e.org_type == "uwv"]
        assert (shown.participants, shown.expected_people) == (5, 5)
    finally:
        await session.close()


async def test_an_admitted_device_learns_it_without_reloading(kleur: ServerProcess) -> None:
    session = Session(kleur, admission=True)
    await session.start()
    try:
        await session.facilitator.set_phase(Phase.RATING)
        late = session.phone()
        welcome = await late.connect()
        session.attackers.append(late)
        assert not welcome.admitted and welcome.org_type_fixed
        assert welcome.device_code in welcome.state.waiting
        await session.facilitator.admit(welcome.device_code)
        await late.wait_for(
            lambda c: c.state is not None and welcome.device_code not in c.state.waiting
        )
        # Admitted: it rates, and (having none) may pick its organisation type once.
        await late.rate(NORMS[0], 6)
        await late.set_org_type("werkgever")
        assert await _refused(late.set_org_type("uwv")) is ErrorCode.ORG_TYPE_FIXED
        dashboard = await session.facilitator.wait_dashboard(lambda d: d.participants == 6)
        assert dashboard.waiting == ()
        # Admission off lets the next device straight in.
        await session.facilitator.set_admission(False)
        straight_in = session.phone()
        session.attackers.append(straight_in)
        assert (await straight_in.connect()).admitted
    finally:
        await session.close()


async def test_the_attack_works_when_the_facilitator_lets_everyone_in(
    kleur: ServerProcess,
) -> None:
    """The control: with admission off the two devices are counted, the UWV
    group is "large enough", and its medians are the target's own ratings."""
    session = Session(kleur, admission=False)
    await session.start()
    target = _target_ratings()
    try:
        attackers = await session.attackers_join()
        assert await _claim_uwv(attackers) == {None}
        await session.facilitator.set_phase(Phase.RATING)
        await _rate_everything(session, target)
        assert await _rate_extremes(attackers) == {None}
        await session.facilitator.set_phase(Phase.REVEAL)
        dashboard = await session.facilitator.wait_dashboard(
            lambda d: d.analysis is not None and d.phase is Phase.REVEAL
        )
        medians = _uwv_medians(dashboard)
        recovered = [n for n, v in target.items() if v is not None and medians.get(n) == v]
        assert len(recovered) == sum(v is not None for v in target.values())
    finally:
        await session.close()
