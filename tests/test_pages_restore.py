"""The control view restores a room that Redis lost (docs/protocol.md section 14).

A control view and one phone page; Redis is emptied (FLUSHALL); the control
view shows the restore panel; a click restores the room, and the phone joins
again and sends its rating again, which counts once.  Screenshots go to
``/tmp/kleur-restore`` for a person to look at.
"""

from __future__ import annotations

import time
from pathlib import Path

import redis
from playwright.sync_api import Browser, Page, expect

from agenda.templates import load_builtin_templates
from server.keys import RoomKeys
from tests.browser import screenshot
from tests.support import ServerProcess
from tests.test_pages import browser as browser  # the module-scoped fixture, shared
from tests.test_pages import open_dashboard, open_phone, rate, set_phase

SHOTS = Path("/tmp/kleur-restore")
FIRST_NORM = load_builtin_templates()["participatiescan"].norms[0].id


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def cells(kleur: ServerProcess, code: str) -> dict[str, int]:
    """The room's tally cells, as tests/faults.py reads them (no marker, no zeros)."""
    raw = redis.Redis.from_url(kleur.redis_url, decode_responses=True).hgetall(RoomKeys(code).tally)
    return {k: int(v) for k, v in raw.items() if "|" in k and int(v) != 0}


def wait_for_cells(kleur: ServerProcess, code: str, want: dict[str, int]) -> None:
    deadline = time.monotonic() + 30
    while cells(kleur, code) != want:
        assert time.monotonic() < deadline, cells(kleur, code)
        time.sleep(0.2)


def test_the_control_view_restores_a_lost_room_and_the_phone_counts_again(
    kleur: ServerProcess, browser: Browser
) -> None:
    room = kleur.create_room()
    code = room["code"]
    errors: list[str] = []
    dashboard = open_dashboard(browser, room, errors)
    phone = open_phone(browser, room, errors)
    set_phase(dashboard, "rating", [phone])
    rate(phone, 3)
    wait_for_cells(kleur, code, {f"1|{FIRST_NORM}|3": 1})
    counted = cells(kleur, code)

    redis.Redis.from_url(kleur.redis_url).flushall()
    panel = dashboard.get_by_test_id("restore-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Deze sessie is kwijtgeraakt in de opslag.")
    expect(panel).to_contain_text("de telefoons sturen hun antwoorden opnieuw")
    button = dashboard.get_by_role("button", name="Sessie herstellen")
    expect(button).to_be_enabled()
    shot(dashboard, "control-lost")
    screenshot(dashboard, "dashboard-lost")  # for the facilitator guides

    button.click()
    expect(panel).to_have_count(0)
    expect(dashboard.get_by_test_id("phase")).to_have_attribute("data-phase", "rating")
    # The phone joins again and re-sends its rating: counted once, as before.
    wait_for_cells(kleur, code, counted)
    expect(dashboard.get_by_test_id("participants")).to_have_text("1")
    shot(dashboard, "control-restored")
    shot(phone, "phone-restored")
    assert not errors, errors


def test_the_panel_in_english_after_a_reload(kleur: ServerProcess, browser: Browser) -> None:
    """A reload of a lost room's control view still has the snapshot (storage)."""
    room = kleur.create_room()
    errors: list[str] = []
    dashboard = open_dashboard(browser, room, errors, locale="en-GB")
    expect(dashboard.get_by_test_id("phase")).to_have_attribute("data-phase", "lobby")
    redis.Redis.from_url(kleur.redis_url).flushall()
    expect(dashboard.get_by_test_id("restore-panel")).to_be_visible()
    dashboard.reload()
    panel = dashboard.get_by_test_id("restore-panel")
    expect(panel).to_contain_text("This session was lost from storage.")
    expect(dashboard.get_by_role("button", name="Restore session")).to_be_enabled()
    shot(dashboard, "control-lost-en")
    dashboard.get_by_role("button", name="Restore session").click()
    expect(panel).to_have_count(0)
    expect(dashboard.get_by_test_id("phase")).to_have_attribute("data-phase", "lobby")
    # Console errors of the refused joins (4504) are the browser's, not a script's.
    assert not [e for e in errors if "pageerror" in e], errors
