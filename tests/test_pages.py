"""The phone page and the big-screen dashboard in a real headless Chromium.

One big-screen context and phone contexts (phone viewport, touch) run whole
sessions against a real uvicorn and redis-server.  Screenshots of each phase
are written to ``docs/screenshots/`` (the README links the best of them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from agenda.templates import load_builtin_templates
from tests.browser import (
    CHROMIUM_ARGS,
    big_screen,
    chromium_path,
    fail_on_page_errors,
    phone,
    screenshot,
)
from tests.support import ServerProcess

NORMS = [norm.id for norm in load_builtin_templates()["participatiescan"].norms]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        pytest.fail("chromium is not installed: run scripts/test.sh, which installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_dashboard(
    browser: Browser, room: dict[str, str], errors: list[str], locale: str = "nl-NL"
) -> Page:
    page = big_screen(browser, locale).new_page()
    fail_on_page_errors(page, errors)
    page.goto(room["facilitator_url"])
    expect(page.get_by_test_id("room-code")).to_contain_text(room["code"])
    return page


def open_phone(
    browser: Browser, room: dict[str, str], errors: list[str], locale: str = "nl-NL"
) -> Page:
    page = phone(browser, locale).new_page()
    fail_on_page_errors(page, errors)
    page.goto(room["join_url"])
    expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "lobby")
    return page


def set_phase(dashboard: Page, phase: str, phones: list[Page]) -> None:
    dashboard.get_by_test_id(f"phase-to-{phase}").click()
    expect(dashboard.get_by_test_id("phase")).to_have_attribute("data-phase", phase)
    for page in phones:
        expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", phase)


def rate(page: Page, value: int | None) -> None:
    page.get_by_test_id("rate-dk" if value is None else f"rate-{value}").click()


def test_a_whole_session_on_three_phones_and_a_big_screen(
    kleur: ServerProcess, browser: Browser
) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    dashboard = open_dashboard(browser, room, errors)
    expect(dashboard.get_by_test_id("qr")).to_be_visible()
    phones = [open_phone(browser, room, errors) for _ in range(3)]
    phones[0].get_by_test_id("org-gemeente").check()
    expect(dashboard.get_by_test_id("participants")).to_contain_text("3")
    screenshot(phones[0], "phone-lobby")
    screenshot(dashboard, "dashboard-lobby")

    set_phase(dashboard, "rating", phones)
    plan = {0: [7, 8, 6], 1: [3, 4, None], 2: [8, 9, 7]}
    for index, values in plan.items():
        for value in values:
            rate(phones[index], value)
        expect(phones[index].get_by_test_id("progress")).to_contain_text("3")
    # Blind: the big screen counts answers, and shows no distribution yet.
    for norm in NORMS[:3]:
        expect(dashboard.get_by_test_id(f"norm-{norm}")).to_have_attribute("data-received", "3")
        # On screen in steps of three (agenda/progress.py), never the exact count.
        expect(dashboard.get_by_test_id(f"norm-{norm}")).to_contain_text("3 van 3")
    expect(dashboard.get_by_test_id(f"norm-{NORMS[3]}")).to_contain_text("0–2 van 3")
    # 9 answers on 20 norms: not yet one whole person's worth.
    expect(dashboard.get_by_test_id("rating-progress-text")).to_have_text(
        "0 van de 3 mensen klaar (0%)"
    )
    expect(dashboard.get_by_test_id(f"dist-{NORMS[0]}")).to_have_count(0)
    screenshot(phones[1], "phone-rating")
    screenshot(dashboard, "dashboard-rating")

    set_phase(dashboard, "reveal", phones)
    expect(dashboard.get_by_test_id(f"dist-{NORMS[0]}")).to_be_visible()
    expect(dashboard.get_by_test_id(f"norm-{NORMS[0]}")).to_have_attribute("data-median", "7")
    expect(phones[0].get_by_test_id("results")).to_be_visible()
    screenshot(dashboard, "dashboard-reveal")
    screenshot(phones[0], "phone-reveal")

    set_phase(dashboard, "brainstorm", phones)
    ideas = [
        "Stagebank voor de hele regio",
        "Eén regisseur per jongere",
        "Vaste contactpersoon UWV",
    ]
    for page, idea in zip(phones, ideas, strict=True):
        page.get_by_test_id("note-text").fill(idea)
        page.get_by_test_id("note-submit").click()
        expect(page.get_by_test_id("own-note")).to_have_count(1)
    # Moderation is on: the notes wait in the queue until the facilitator approves them.
    expect(dashboard.locator("[data-testid^='pending-']")).to_have_count(3)
    dashboard.get_by_test_id("approve-all").click()
    expect(dashboard.locator("[data-testid^='pending-']")).to_have_count(0)
    cards = dashboard.locator("[data-testid^='note-']")
    for idea in ideas:
        expect(dashboard.get_by_text(idea, exact=True)).to_be_visible()
    note_ids = {
        dashboard.get_by_text(idea, exact=True)
        .locator("xpath=ancestor-or-self::*[starts-with(@data-testid, 'note-')][1]")
        .get_attribute("data-testid")
        .removeprefix("note-"): idea  # type: ignore[union-attr]
        for idea in ideas
    }
    assert cards.count() >= 3
    screenshot(phones[2], "phone-brainstorm")

    dashboard.get_by_test_id("voting-open").click()
    first = next(iter(note_ids))
    for page in phones:
        page.get_by_test_id(f"vote-plus-{first}").click()
    expect(dashboard.get_by_test_id("dots-cast")).to_contain_text("3")
    screenshot(phones[0], "phone-voting")
    dashboard.get_by_test_id("voting-show").click()
    expect(dashboard.get_by_test_id(f"votes-{first}")).to_contain_text("3")
    screenshot(dashboard, "dashboard-wall")

    dashboard.get_by_test_id(f"promote-{first}").click()
    dashboard.get_by_test_id("agenda-owner").fill("Gemeente")
    dashboard.get_by_test_id("agenda-deadline").fill("2027-03-01")
    dashboard.get_by_test_id("agenda-save").click()
    expect(dashboard.get_by_test_id("agenda-item")).to_have_count(1)
    expect(dashboard.get_by_test_id("agenda-item")).to_contain_text(note_ids[first])
    set_phase(dashboard, "agenda", phones)
    screenshot(dashboard, "dashboard-agenda")
    screenshot(phones[0], "phone-agenda")

    with dashboard.expect_download() as download:
        dashboard.get_by_test_id("export-md").click()
    path = download.value.path()
    exported = path.read_text(encoding="utf-8")
    # Dutch files write dates in words.
    assert note_ids[first] in exported and "Gemeente" in exported and "1 maart 2027" in exported
    # Named after the session's date (and name, when it has one) and the code.
    assert re.fullmatch(
        rf"kleur-\d{{4}}-\d\d-\d\d-{room['code']}\.md", download.value.suggested_filename
    ), download.value.suggested_filename
    assert errors == []


def test_offline_ratings_are_kept_and_counted_once(kleur: ServerProcess, browser: Browser) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    dashboard = open_dashboard(browser, room, errors)
    page = open_phone(browser, room, errors)
    set_phase(dashboard, "rating", [page])
    rate(page, 5)
    expect(dashboard.get_by_test_id(f"norm-{NORMS[0]}")).to_have_attribute("data-received", "1")
    # One person, one answer: the step "0–1 van 1" does not move.
    expect(dashboard.get_by_test_id(f"norm-{NORMS[0]}")).to_contain_text("0–1 van 1")

    page.context.set_offline(True)
    for value in (6, 7, 8):
        rate(page, value)
    expect(page.get_by_test_id("offline-banner")).to_be_visible()
    screenshot(page, "phone-offline")
    page.context.set_offline(False)
    for norm in NORMS[1:4]:
        expect(dashboard.get_by_test_id(f"norm-{norm}")).to_have_attribute("data-received", "1")
    expect(page.get_by_test_id("offline-banner")).to_be_hidden()

    # A reload in the middle of the round shows every answer still there.
    page.reload()
    expect(page.get_by_test_id("progress")).to_contain_text("4")
    # Counted exactly once, after the resend and the reload.
    dashboard.get_by_test_id("phase-to-reveal").click()
    for norm, median in zip(NORMS[:4], ("5", "6", "7", "8"), strict=True):
        expect(dashboard.get_by_test_id(f"norm-{norm}")).to_have_attribute("data-received", "1")
        expect(dashboard.get_by_test_id(f"norm-{norm}")).to_have_attribute("data-median", median)
    assert errors == []


def test_hostile_notes_are_shown_as_bounded_text(kleur: ServerProcess, browser: Browser) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    dashboard = open_dashboard(browser, room, errors)
    page = open_phone(browser, room, errors)
    for phase in ("rating", "reveal", "brainstorm"):
        set_phase(dashboard, phase, [page])
    script = "<img src=x onerror=alert(1)>"
    zalgo = "a" + "\u0301" * 5000
    page.get_by_test_id("note-text").fill(script)
    page.get_by_test_id("note-submit").click()
    page.get_by_test_id("note-text").fill(zalgo)
    page.get_by_test_id("note-submit").click()
    note = dashboard.get_by_text(script, exact=True)
    expect(note).to_be_visible()
    assert dashboard.locator("img[src='x']").count() == 0
    # The combining marks are cut to the note limit by the page and stay in their box,
    # first in the moderation queue, then (approved) on the wall.
    for prefix in ("pending-", "note-"):
        cards = dashboard.locator(f"[data-testid^='{prefix}']")
        expect(cards).to_have_count(2)
        for index in range(cards.count()):
            box = cards.nth(index).bounding_box()
            assert box is not None and box["height"] < 400 and box["width"] < 800
        if prefix == "pending-":
            dashboard.get_by_test_id("approve-all").click()
    screenshot(dashboard, "dashboard-hostile-notes")
    assert not [e for e in errors if "dialog" in e]


@pytest.mark.parametrize("locale", ["nl-NL", "en-GB"])
def test_no_serious_accessibility_violations(
    kleur: ServerProcess, browser: Browser, locale: str
) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    dashboard = open_dashboard(browser, room, errors, locale)
    page = open_phone(browser, room, errors, locale)
    lang = locale[:2]
    expect(page.locator("html")).to_have_attribute("lang", lang)
    axe = Axe()
    checked = []
    for name, target in (("phone-lobby", page), ("dashboard-lobby", dashboard)):
        checked.append((name, axe.run(target)))
    set_phase(dashboard, "rating", [page])
    checked.append(("phone-rating", axe.run(page)))
    rate(page, 6)
    set_phase(dashboard, "reveal", [page])
    checked.append(("dashboard-reveal", axe.run(dashboard)))
    checked.append(("phone-reveal", axe.run(page)))
    problems = [
        f"{name}: {violation['id']} ({violation['impact']}): {violation['help']}"
        for name, result in checked
        for violation in result.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert problems == []
    if lang == "en":
        screenshot(dashboard, "dashboard-reveal-en")
        screenshot(page, "phone-reveal-en")
    assert errors == []


def test_language_switch_on_the_phone(kleur: ServerProcess, browser: Browser) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    page = open_phone(browser, room, errors)
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    dutch = page.get_by_test_id("phase").inner_text()
    page.get_by_test_id("lang-en").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("phase")).not_to_have_text(re.compile(f"^{re.escape(dutch)}$"))
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")  # remembered
    assert errors == []


def test_suggested_groups_are_merged_with_one_click(kleur: ServerProcess, browser: Browser) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    dashboard = open_dashboard(browser, room, errors)
    phones = [open_phone(browser, room, errors) for _ in range(2)]
    for phase in ("rating", "reveal", "brainstorm"):
        set_phase(dashboard, phase, phones)
    for page, idea in zip(
        phones, ["Stagebank voor de hele regio", "Regionale stagebank voor jongeren"], strict=True
    ):
        page.get_by_test_id("note-text").fill(idea)
        page.get_by_test_id("note-submit").click()
    suggestions = dashboard.get_by_test_id("suggestions")
    expect(suggestions).to_contain_text("stagebank")
    suggestions.locator("[data-testid^='suggest-merge-']").first.click()
    expect(dashboard.locator("[data-testid^='group-']").filter(has_text="stagebank")).to_have_count(
        1
    )
    expect(dashboard.get_by_test_id("suggestions")).to_be_hidden()
    assert errors == []


def test_the_draft_agenda_proposes_a_low_norm_with_its_idea(
    kleur: ServerProcess, browser: Browser
) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    dashboard = open_dashboard(browser, room, errors)
    phones = [open_phone(browser, room, errors) for _ in range(3)]
    set_phase(dashboard, "rating", phones)
    for page in phones:
        rate(page, 2)  # the first norm scores low at this table
    set_phase(dashboard, "reveal", phones)
    set_phase(dashboard, "brainstorm", phones)
    phones[0].get_by_test_id("note-text").fill("Werkgevers vaker uitnodigen op school")
    phones[0].get_by_test_id("note-norm").select_option(NORMS[0])
    phones[0].get_by_test_id("note-submit").click()
    draft = dashboard.get_by_test_id("draft")
    expect(draft).to_contain_text("Werkgevers vaker uitnodigen op school")
    dashboard.get_by_test_id(f"draft-use-{NORMS[0]}").click()
    expect(dashboard.get_by_test_id("agenda-action")).to_have_value(
        "Werkgevers vaker uitnodigen op school"
    )
    expect(dashboard.get_by_test_id("agenda-norm")).to_have_value(NORMS[0])
    assert errors == []
