"""Admission of devices in the pages: the start page's expected number, the
control view's devices, switch and waiting list, and the phone's waiting screen.

Screenshots go to ``/tmp/kleur-admission`` (not to docs/screenshots) so a
person can look at them: the start page with the new field, the control view
with a waiting device, the phone's waiting screen.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser import big_screen, fail_on_page_errors, phone
from tests.support import ServerProcess
from tests.test_pages import browser as browser  # the module-scoped fixture, shared
from tests.test_pages import open_dashboard, open_phone

SHOTS = Path("/tmp/kleur-admission")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # The viewport only: a full-page shot resizes the page, and a click after it missed.
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_the_start_page_asks_how_many_people_are_expected(
    kleur: ServerProcess, browser: Browser
) -> None:
    errors: list[str] = []
    page = big_screen(browser).new_page()
    fail_on_page_errors(page, errors)
    page.goto(f"{kleur.http_url}/")
    page.get_by_test_id("template-participatiescan").check()
    field = page.get_by_label("Aantal mensen verwacht")
    expect(field).to_have_attribute("placeholder", "12")
    field.fill("0")
    page.get_by_test_id("start-session").click()
    expect(page.get_by_text("een getal van 1 tot 500")).to_be_visible()
    field.fill("5")
    field.scroll_into_view_if_needed()
    shot(page, "start-expected")
    page.get_by_test_id("start-session").click()
    expect(page.get_by_test_id("devices-count")).to_have_text("0 van 5 apparaten")
    assert not errors, errors


def test_a_device_beyond_the_expected_number_waits_until_the_facilitator_admits_it(
    kleur: ServerProcess, browser: Browser
) -> None:
    room = kleur.create_room(admission=True, expected_people=1)
    errors: list[str] = []
    dashboard = open_dashboard(browser, room, errors)
    open_phone(browser, room, errors)  # the one person expected: straight in
    expect(dashboard.get_by_test_id("devices-count")).to_have_text("1 van 1 apparaten")

    extra = phone(browser).new_page()
    fail_on_page_errors(extra, errors)
    extra.goto(room["join_url"])
    waiting = extra.get_by_test_id("waiting")
    expect(waiting).to_contain_text("Even wachten")
    code = extra.get_by_test_id("device-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{3}", code), code
    shot(extra, "phone-waiting")

    admit = dashboard.get_by_role("button", name=f"Apparaat {code} toelaten")
    expect(admit).to_be_visible()
    expect(dashboard.get_by_test_id("devices-count")).to_have_text("1 van 1 apparaten")
    shot(dashboard, "control-waiting")
    # Keyboard only: focus the button and press Enter.
    admit.focus()
    dashboard.keyboard.press("Enter")
    expect(dashboard.get_by_test_id("devices-count")).to_have_text("2 van 1 apparaten")
    expect(dashboard.get_by_test_id("devices-over")).to_be_visible()
    expect(dashboard.get_by_test_id(f"waiting-{code}")).to_have_count(0)
    # The phone turns into the normal page, without a reload.
    expect(extra.get_by_test_id("phase")).to_have_attribute("data-phase", "lobby")
    expect(waiting).to_have_count(0)
    assert not errors, errors


def test_the_expected_number_and_the_switch_work_from_the_control_view(
    kleur: ServerProcess, browser: Browser
) -> None:
    room = kleur.create_room(admission=True, expected_people=1)
    errors: list[str] = []
    dashboard = open_dashboard(browser, room, errors)
    open_phone(browser, room, errors)
    extra = phone(browser).new_page()
    fail_on_page_errors(extra, errors)
    extra.goto(room["join_url"])
    expect(extra.get_by_test_id("waiting")).to_be_visible()
    field = dashboard.get_by_label("Aantal mensen verwacht")
    field.fill("3")
    field.press("Enter")
    expect(dashboard.get_by_test_id("devices-count")).to_have_text("1 van 3 apparaten")
    switch = dashboard.get_by_label("Nieuwe apparaten wachten tot ik ze toelaat")
    expect(switch).to_be_checked()
    # A click, then the state it leads to: a snapshot already on its way may
    # redraw the box once before the one with the change arrives.
    switch.click()  # admits everyone waiting
    expect(switch).not_to_be_checked()
    expect(dashboard.get_by_test_id("devices-count")).to_have_text("2 van 3 apparaten")
    expect(extra.get_by_test_id("phase")).to_have_attribute("data-phase", "lobby")
    # The projector says how many devices there are against the people expected.
    projector = big_screen(browser).new_page()
    fail_on_page_errors(projector, errors)
    projector.goto(room["display_url"])
    expect(projector.get_by_test_id("participants")).to_have_text("2 apparaten, 3 mensen verwacht")
    assert not errors, errors


def test_the_phone_shows_the_org_type_as_fixed_once_rating_began(
    kleur: ServerProcess, browser: Browser
) -> None:
    room = kleur.create_room()
    errors: list[str] = []
    dashboard = open_dashboard(browser, room, errors)
    page = open_phone(browser, room, errors)
    page.get_by_test_id("org-gemeente").check()
    expect(dashboard.get_by_test_id("devices-count")).to_have_text("1 van 12 apparaten")
    dashboard.get_by_test_id("phase-to-rating").click()
    expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "rating")
    fixed = page.get_by_test_id("org-fixed")
    expect(fixed).to_contain_text("ligt vast")
    expect(page.get_by_test_id("org-uwv")).to_have_count(0)  # no picker to change it with
    fixed.scroll_into_view_if_needed()
    shot(page, "phone-org-fixed")
    assert not errors, errors
