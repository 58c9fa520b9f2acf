"""One whole session through every view, in Dutch and English, as people click it.

The start page, the control view (laptop), the presenter view (projector) and
two phones go through every phase: lobby, rating, results, brainstorm with
moderation and dot voting, agenda, closed.  In each phase, on every view:
axe with the WCAG 2.2 AA rules finds no serious or critical violation, the
text a person reads holds no "null", "undefined", "NaN" or "[object Object]",
and no script error or console error occurred.
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from agenda.templates import load_builtin_templates
from tests.browser import fail_on_page_errors, phone
from tests.support import ServerProcess
from tests.test_pages import browser as browser  # the module-scoped fixture, shared
from tests.test_pages import open_dashboard

NORMS = [norm.id for norm in load_builtin_templates()["participatiescan"].norms]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PROJECTOR = {"width": 1920, "height": 1080}
#: What a page must never show a person: a value that leaked from the code.
LEAKS = re.compile(r"\b(null|undefined|NaN)\b|\[object Object\]")


def problems_on(page: Page, name: str) -> list[str]:
    found = []
    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    for violation in result.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [node["target"] for node in violation["nodes"]][:3]
            found.append(f"{name}: {violation['id']} ({violation['impact']}) {targets}")
    text = page.locator("body").inner_text()
    for match in LEAKS.finditer(text):
        context = text[max(0, match.start() - 40) : match.end() + 40].replace("\n", " / ")
        found.append(f"{name}: shows {match.group(0)!r}: …{context}…")
    return found


def wait_phase(page: Page, phase: str) -> None:
    expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", phase)


@pytest.mark.parametrize("locale", ["nl-NL", "en-GB"])
def test_every_view_in_every_phase_is_accessible_and_shows_no_leaked_value(
    kleur: ServerProcess, browser: Browser, locale: str
) -> None:
    errors: list[str] = []
    problems: list[str] = []
    start = phone(browser, locale).new_page()
    fail_on_page_errors(start, errors)
    start.goto(f"{kleur.http_url}/")
    expect(start.get_by_test_id("start-session")).to_be_visible()
    problems += problems_on(start, "start")

    room = kleur.create_room()
    control = open_dashboard(browser, room, errors, locale)
    projector = browser.new_context(viewport=PROJECTOR, locale=locale).new_page()
    fail_on_page_errors(projector, errors)
    projector.goto(room["display_url"])
    expect(projector.get_by_test_id("room-code")).to_have_text(room["code"])
    phones = []
    for index in range(2):
        page = phone(browser, locale).new_page()
        fail_on_page_errors(page, errors)
        page.goto(room["join_url"])
        wait_phase(page, "lobby")
        page.locator("[data-testid^='org-']").nth(index).check()
        phones.append(page)
    views = {"control": control, "presenter": projector, "phone": phones[0]}

    def check(phase: str) -> None:
        for page in views.values():
            wait_phase(page, phase)
        for name, page in views.items():
            problems.extend(problems_on(page, f"{locale} {name} {phase}"))

    def go(phase: str) -> None:
        control.get_by_test_id(f"phase-to-{phase}").click()
        if phase == "closed":
            control.get_by_test_id("confirm-ok").click()

    check("lobby")
    go("rating")
    for page, values in zip(phones, ([7, 8, 6], [3, None, 9]), strict=True):
        wait_phase(page, "rating")
        for value in values:
            page.get_by_test_id("rate-dk" if value is None else f"rate-{value}").click()
        expect(page.get_by_test_id("progress")).to_contain_text("3")
    check("rating")
    go("reveal")
    check("reveal")
    go("brainstorm")
    for page, idea in zip(phones, ["Stagebank voor de hele regio", "Eén loket"], strict=True):
        wait_phase(page, "brainstorm")
        page.get_by_test_id("note-text").fill(idea)
        page.get_by_test_id("note-submit").click()
        expect(page.get_by_test_id("own-note")).to_have_count(1)
    expect(control.locator("[data-testid^='pending-']")).to_have_count(2)
    check("brainstorm")  # with two notes waiting for approval
    control.get_by_test_id("approve-all").click()
    expect(projector.get_by_text("Eén loket", exact=True)).to_be_visible()
    control.get_by_test_id("voting-open").click()
    for page in phones:
        expect(page.get_by_test_id("dots-left")).to_be_visible()
    check("brainstorm")  # voting open
    go("agenda")
    control.get_by_test_id("agenda-action").fill("Eén loket voor werkgevers in de regio")
    control.get_by_test_id("agenda-owner").fill("Gemeente")
    control.get_by_test_id("agenda-save").click()
    expect(control.get_by_test_id("agenda-item")).to_have_count(1)
    check("agenda")
    go("closed")
    check("closed")
    assert problems == []
    assert errors == []
