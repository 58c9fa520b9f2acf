"""The dashboard's analysis panels in a real headless Chromium.

The big screen is a browser; the participants are Python clients
(``client.kleur_client.KleurClient``, the same protocol the phone page
speaks), which rate twenty norms in a fraction of the time six phone pages
would take.  The clients run on an event loop of their own in a thread, so
that they never meet Playwright's.

Screenshots are written only when ``KLEUR_ANALYSIS_SCREENSHOTS`` names a
directory (``docs/screenshots`` belongs to ``tests/test_pages.py``).
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from agenda.templates import load_builtin_templates
from client.kleur_client import KleurClient
from protocol.codec import JSON
from protocol.messages import Dashboard
from protocol.phases import FollowUpStatus, Phase, Role
from tests.support import ServerProcess
from tests.test_pages import NORMS, open_dashboard
from tests.test_pages import browser as browser  # the module-scoped fixture, shared

T = TypeVar("T")

#: The norm the table splits on, then agrees on.
NORM = NORMS[0]
#: The label of "gemeente" as an English page shows it.
MUNICIPALITY_EN = load_builtin_templates()["participatiescan"].localized("en").org_types[0].label
#: Opinion groups only cluster people who rated at least half of the norms.
RATED = NORMS[:10]


class Crowd:
    """Participants (and, when asked, a facilitator) as Python clients on a private loop."""

    def __init__(self, server: ServerProcess, room: dict[str, str]) -> None:
        self.server = server
        self.room = room
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.people: list[KleurClient] = []
        self.facilitator: KleurClient | None = None

    def run(self, make: Callable[[], Awaitable[T]], timeout: float = 30) -> T:
        async def call() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout)

    def join(self, count: int, org_types: list[str | None]) -> None:
        async def join_all() -> None:
            for index in range(count):
                person = KleurClient(self.server.ws_url, self.room["code"], Role.PARTICIPANT)
                await person.connect()
                org_type = org_types[index % len(org_types)]
                if org_type is not None:
                    await person.set_org_type(org_type)
                self.people.append(person)

        self.run(join_all)

    def join_facilitator(self) -> KleurClient:
        async def join() -> KleurClient:
            facilitator = KleurClient(
                self.server.ws_url,
                self.room["code"],
                Role.FACILITATOR,
                token=self.room["facilitator_token"],
                codec=JSON,
            )
            await facilitator.connect()
            return facilitator

        self.facilitator = self.run(join)
        return self.facilitator

    def wait_phase(self, phase: Phase, round_: int = 1) -> None:
        async def wait() -> None:
            for person in self.people:
                await person.wait_for(
                    lambda c: (
                        c.state is not None and c.state.phase is phase and c.state.round == round_
                    )
                )

        self.run(wait)

    def rate(self, plan: Callable[[int, str], int | None], norms: list[str]) -> None:
        """Person ``i`` rates ``norm`` with ``plan(i, norm)``; every rating is acknowledged."""

        async def rate_all() -> None:
            async def one(index: int, person: KleurClient) -> None:
                for norm in norms:
                    await person.rate(norm, plan(index, norm))

            await asyncio.gather(*(one(i, p) for i, p in enumerate(self.people)))

        self.run(rate_all)

    def note(self, index: int, text: str, norm_id: str | None) -> str:
        return self.run(lambda: self.people[index].put_note(text, norm_id))

    def facilitator_dashboard(self, predicate: Callable[[Dashboard], bool]) -> Dashboard:
        facilitator = self.facilitator
        assert facilitator is not None
        return self.run(lambda: facilitator.wait_dashboard(predicate))

    def call(self, make: Callable[[], Awaitable[Any]]) -> Any:
        return self.run(make)

    def close(self) -> None:
        async def close_all() -> None:
            clients = [*self.people, *([self.facilitator] if self.facilitator else [])]
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

        try:
            self.run(close_all, timeout=10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()


@pytest.fixture
def crowds() -> Iterator[list[Crowd]]:
    made: list[Crowd] = []
    yield made
    for crowd in made:
        crowd.close()


def crowd_in_new_room(kleur: ServerProcess, crowds: list[Crowd]) -> Crowd:
    """A new room and its participants' Crowd, closed after the test (``crowds``)."""
    crowd = Crowd(kleur, kleur.create_room())
    crowds.append(crowd)
    return crowd


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("KLEUR_ANALYSIS_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def go(dashboard: Page, phase: str, *, confirm: bool = False) -> None:
    dashboard.get_by_test_id(f"phase-to-{phase}").click()
    if confirm:
        dashboard.get_by_test_id("confirm-ok").click()
    expect(dashboard.get_by_test_id("phase")).to_have_attribute("data-phase", phase)


def serious(axe: Axe, page: Page, name: str) -> list[str]:
    result = axe.run(page)
    return [
        f"{name}: {v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']][:3]}"
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_split_then_agreement_groups_and_a_promoted_group(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    dashboard = open_dashboard(browser, room, errors)
    crowd = Crowd(kleur, room)
    crowds.append(crowd)
    # Organisation types across the two camps, so each type has one median to show.
    crowd.join(6, ["gemeente", "onderwijs"])
    expect(dashboard.get_by_test_id("participants")).to_have_text("6")

    # Round 1: two camps of three (1 against 9) on ten norms.
    go(dashboard, "rating")
    crowd.wait_phase(Phase.RATING)
    crowd.rate(lambda i, _norm: 1 if i < 3 else 9, RATED)
    expect(dashboard.get_by_test_id(f"norm-{NORM}")).to_have_attribute("data-received", "6")
    go(dashboard, "reveal")
    contested = dashboard.get_by_test_id(f"contested-{NORM}")
    expect(contested).to_be_visible()
    expect(contested).to_have_text("Verdeeld")  # one word, as the guide and the projector say
    expect(contested).to_have_class(re.compile(r"badge--split"))
    row = dashboard.get_by_test_id(f"norm-{NORM}")
    expect(row).to_contain_text("verdeeld 0,26")  # Tastle-Wierman consensus, decimal comma
    expect(row).to_contain_text("tussen 1 en 9")  # the 95 % median band
    expect(dashboard.get_by_test_id(f"shift-{NORM}")).to_have_count(0)  # no earlier round

    groups = dashboard.get_by_test_id("opinion-groups")
    expect(groups).to_be_visible()
    expect(groups).to_have_attribute("data-outcome", "groups")
    expect(groups.locator(".opinion-group")).to_have_count(2)
    expect(groups.locator(".opinion-group").first).to_contain_text("3 mensen")
    expect(groups.locator(f"tr[data-norm='{NORM}']")).to_contain_text("1")
    # Never anything that could name a person: sizes and medians only.
    assert groups.locator("li").count() == 2

    breakdown = dashboard.get_by_test_id(f"breakdown-{NORM}")
    breakdown.locator("summary").click()
    expect(breakdown.locator("li[data-org='gemeente']")).to_contain_text("Gemeente")
    expect(breakdown.locator("li[data-org='onderwijs']")).to_contain_text("Onderwijs")
    expect(breakdown).to_contain_text("minder dan 3 mensen")
    # All norms against all shown kinds of organisation, in one table, with no click.
    matrix = dashboard.get_by_test_id("breakdown-matrix")
    expect(matrix).to_be_visible()
    expect(matrix.locator("tbody tr")).to_have_count(len(NORMS))
    matrix_row = matrix.locator(f"tr[data-norm='{NORM}']")
    expect(matrix_row.locator("td[data-org='gemeente']")).to_have_count(1)
    expect(matrix_row.locator("td[data-org='onderwijs']")).to_have_count(1)
    expect(matrix.locator("thead th")).to_have_count(3)  # the norm column, gemeente, onderwijs

    dashboard.get_by_test_id("sort-priority").click()
    expect(dashboard.get_by_test_id("sort-priority")).to_have_attribute("aria-pressed", "true")
    ranked = dashboard.locator("#result-norms [data-rank]")
    ranks = [int(ranked.nth(i).get_attribute("data-rank") or 0) for i in range(ranked.count())]
    assert ranks == sorted(ranks) and len(ranks) == len(NORMS)
    shot(dashboard, "analysis-round-1")

    axe = Axe()
    problems = serious(axe, dashboard, "reveal-nl")

    # Round 2, after the talk: everybody close together.
    go(dashboard, "rating", confirm=True)
    crowd.wait_phase(Phase.RATING, 2)
    crowd.rate(lambda i, norm: 7 if norm == NORM else 6 + i % 2, RATED)
    expect(dashboard.get_by_test_id(f"norm-{NORM}")).to_have_attribute("data-received", "6")
    go(dashboard, "reveal")
    shift = dashboard.get_by_test_id(f"shift-{NORM}")
    expect(shift).to_be_visible()
    expect(shift).to_have_text("mediaan +2 sinds ronde 1, eensgezindheid +0,74")
    expect(dashboard.get_by_test_id(f"contested-{NORM}")).to_have_count(0)
    expect(dashboard.get_by_test_id(f"norm-{NORM}")).to_contain_text("eensgezind 1,00")
    expect(dashboard.get_by_test_id("opinion-groups")).to_be_visible()
    dashboard.get_by_test_id(f"breakdown-{NORM}").locator("summary").click()
    problems += serious(axe, dashboard, "reveal-round-2-nl")

    dashboard.get_by_test_id("lang-en").click()
    expect(dashboard.locator("html")).to_have_attribute("lang", "en")
    expect(dashboard.get_by_test_id(f"shift-{NORM}")).to_have_text(
        "median +2 since round 1, agreement +0.74"
    )
    dashboard.get_by_test_id(f"breakdown-{NORM}").locator("summary").click()
    # The organisation types in English too (the template has them in both languages).
    expect(dashboard.get_by_test_id(f"breakdown-{NORM}")).to_contain_text(MUNICIPALITY_EN)
    shot(dashboard, "analysis-round-2-en")
    problems += serious(axe, dashboard, "reveal-round-2-en")
    assert problems == []
    dashboard.get_by_test_id("lang-nl").click()
    expect(dashboard.locator("html")).to_have_attribute("lang", "nl")

    # Brainstorm: three notes on the norm become a group, the group goes on the agenda.
    go(dashboard, "brainstorm")
    crowd.wait_phase(Phase.BRAINSTORM, 2)
    ideas = ["Stagemarkt met werkgevers", "Vaste contactpersoon per school", "Werkgeversdag"]
    note_ids = [crowd.note(i, idea, NORM) for i, idea in enumerate(ideas)]
    # Moderation is on: approve them before they go on the wall.
    for note_id in note_ids:
        dashboard.get_by_test_id(f"approve-{note_id}").click()
    for note_id in note_ids:
        dashboard.get_by_test_id(f"select-{note_id}").check()
    dashboard.get_by_test_id("group-title").fill("Werkgevers dichterbij")
    dashboard.get_by_test_id("group-merge").click()
    group = dashboard.locator("section.group")
    expect(group).to_have_count(1)
    group_id = (group.get_attribute("data-testid") or "").removeprefix("group-")
    dashboard.get_by_test_id(f"promote-group-{group_id}").click()
    expect(dashboard.get_by_test_id("agenda-action")).to_have_value("Werkgevers dichterbij")
    expect(dashboard.get_by_test_id("agenda-norm")).to_have_value(NORM)  # the notes' norm
    expect(dashboard.locator("#agenda-from")).to_contain_text("Werkgevers dichterbij")
    dashboard.get_by_test_id("agenda-follow-up").fill("2027-06-01")
    dashboard.get_by_test_id("agenda-save").click()
    item = dashboard.get_by_test_id("agenda-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Werkgevers dichterbij")
    expect(item).to_contain_text("1 juni 2027")  # the follow-up date
    expect(item.get_by_test_id("agenda-snapshot")).to_have_text(
        "bij het kiezen: mediaan 7 (6 cijfers)"
    )
    expect(item.locator(".snapshot__seg")).to_have_count(1)
    shot(dashboard, "analysis-agenda")

    # The server kept the link to the group and the date.
    facilitator = crowd.join_facilitator()
    snap = crowd.facilitator_dashboard(lambda d: len(d.agenda) == 1)
    assert snap.agenda[0].group_id == group_id
    assert snap.agenda[0].follow_up == "2027-06-01"
    assert snap.agenda[0].snapshot is not None and snap.agenda[0].snapshot.median == 7

    # Moving an item keeps its group and follow-up date.
    crowd.call(lambda: facilitator.put_agenda_item("Tweede actie", position=1))
    expect(dashboard.get_by_test_id("agenda-item")).to_have_count(2)
    dashboard.get_by_test_id("agenda-item").nth(0).get_by_test_id("agenda-down").click()
    snap = crowd.facilitator_dashboard(
        lambda d: (
            [i.action for i in sorted(d.agenda, key=lambda i: i.position)][-1]
            == "Werkgevers dichterbij"
        )
    )
    moved = next(i for i in snap.agenda if i.action == "Werkgevers dichterbij")
    assert (moved.group_id, moved.follow_up) == (group_id, "2027-06-01")
    assert errors == []


def test_a_follow_up_scan_shows_the_earlier_scan(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    # The earlier scan, quickly, with Python clients only.
    first = kleur.create_room()
    crowd = Crowd(kleur, first)
    crowds.append(crowd)
    crowd.join(3, [None])
    facilitator = crowd.join_facilitator()
    crowd.call(lambda: facilitator.set_phase(Phase.RATING))
    crowd.wait_phase(Phase.RATING)
    crowd.rate(lambda _i, _norm: 4, [NORM])
    crowd.call(lambda: facilitator.set_phase(Phase.REVEAL))
    for position, action in enumerate(("Stagebank opzetten", "Overleg met UWV")):
        crowd.call(
            partial(facilitator.put_agenda_item, action, owner="Gemeente", position=position)
        )
    exported = httpx.get(
        f"{kleur.http_url}/api/rooms/{first['code']}/export.json",
        headers={"Authorization": f"Bearer {first['facilitator_token']}"},
    )
    assert exported.status_code == 200, exported.text
    created = httpx.post(
        f"{kleur.http_url}/api/rooms",
        json={"template": "participatiescan", "previous": exported.json()},
    )
    assert created.status_code == 201, created.text
    room = created.json()

    errors: list[str] = []
    dashboard = open_dashboard(browser, room, errors)
    previous = dashboard.get_by_test_id("previous-scan")
    expect(previous).to_be_visible()
    expect(previous).to_contain_text(first["code"])
    expect(dashboard.locator(".previous-item__action")).to_have_text(
        ["Stagebank opzetten", "Overleg met UWV"]
    )
    # The earlier figures wait for this scan's reveal: they must not steer the rating.
    expect(previous.locator(f"tr[data-norm='{NORM}']")).to_be_hidden()
    shot(dashboard, "analysis-follow-up-lobby")
    status = dashboard.get_by_test_id("previous-status-1")
    expect(status).to_have_value("open")
    status.select_option("in_progress")

    later = Crowd(kleur, room)
    crowds.append(later)
    watcher = later.join_facilitator()
    later.facilitator_dashboard(
        lambda d: (
            d.previous is not None
            and d.previous.items[1].status is FollowUpStatus.IN_PROGRESS
            and d.previous.items[0].status is FollowUpStatus.OPEN
        )
    )
    dashboard.reload()
    expect(dashboard.get_by_test_id("previous-status-1")).to_have_value("in_progress")

    later.join(3, [None])
    later.call(lambda: watcher.set_phase(Phase.RATING))
    later.wait_phase(Phase.RATING)
    later.rate(lambda _i, _norm: 6, [NORM])
    go(dashboard, "reveal")
    row = previous.locator(f"tr[data-norm='{NORM}']")
    expect(row).to_be_visible()
    expect(row.locator("td")).to_have_text(["4", "6", "+2"])
    expect(previous).to_contain_text(re.compile("Vorige keer"))
    shot(dashboard, "analysis-follow-up")
    assert serious(Axe(), dashboard, "follow-up") == []
    assert errors == []
