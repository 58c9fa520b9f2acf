"""The phone says what is true: offline, late, in a second round, while dots are given.

From the facilitator walkthrough of 2026-12-06: an idea written offline was
called "sent", ratings that came back after the round closed vanished without
a word, a second round looked like the first, the heading asked for ideas while
only dots could be given, and the countdown read "01:56" beside the big
screen's "Nog 1:56".  A real Chromium is the phone; the facilitator is a Python
client.  Screenshots go to test-artifacts/ (tests/browser.py).
"""

from __future__ import annotations

import re
from functools import partial

from playwright.sync_api import Browser, Page, expect

from protocol.messages import Dashboard
from protocol.phases import DotVoting, Phase
from tests.browser import fail_on_page_errors, screenshot
from tests.support import ServerProcess
from tests.test_pages import browser as browser  # the module-scoped fixture, shared
from tests.test_pages_analysis import Crowd
from tests.test_pages_analysis import crowds as crowds  # the fixture, shared
from tests.test_pages_phone_keyboard import NORMS, facilitator_crowd, go, phase_is

#: The smallest phones still in use (iPhone SE 1st generation, many Androids).
SMALL = {"width": 320, "height": 568}


def open_phone(
    browser: Browser, crowd: Crowd, errors: list[str], viewport: dict[str, int] | None = None
) -> Page:
    context = browser.new_context(
        viewport=viewport or {"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="nl-NL",
    )
    page = context.new_page()
    fail_on_page_errors(page, errors)
    page.goto(crowd.room["join_url"])
    phase_is(page, "lobby")
    return page


def rate(page: Page, value: int, norm: int) -> None:
    expect(page.locator("#norm-title")).to_be_visible()
    expect(page.locator(".counter")).to_have_text(f"Norm {norm} van 20")
    page.get_by_test_id(f"rate-{value}").click()


def test_an_idea_written_offline_is_kept_and_then_sent(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    crowd, facilitator = facilitator_crowd(kleur, crowds)
    page = open_phone(browser, crowd, errors)
    go(crowd, facilitator, Phase.RATING, Phase.REVEAL, Phase.BRAINSTORM)
    phase_is(page, "brainstorm")
    page.context.set_offline(True)
    expect(page.get_by_test_id("offline-banner")).to_be_visible()
    page.get_by_test_id("note-text").fill("Een vaste contactpersoon per school")
    page.get_by_test_id("note-submit").click()
    notice = page.get_by_test_id("notice")
    # Kept, not "sent": the card says "not sent yet" and so does the notice.
    expect(notice).to_have_text("Bewaard. We sturen je idee zodra je weer verbinding hebt.Sluiten")
    expect(page.get_by_test_id("own-note")).to_contain_text("Nog niet verstuurd")
    screenshot(page, "phone-note-kept-offline")
    page.context.set_offline(False)
    # Sent once the server acknowledged it.
    expect(notice).to_contain_text("Je idee is verstuurd.")
    expect(page.get_by_test_id("own-note")).not_to_contain_text("verstuurd")
    # Taking it back offline is kept too, and done once the server has it.
    page.context.set_offline(True)
    expect(page.get_by_test_id("offline-banner")).to_be_visible()
    page.get_by_test_id("note-withdraw").click()
    expect(notice).to_contain_text("Bewaard. We halen je idee weg zodra je weer verbinding hebt.")
    page.context.set_offline(False)
    expect(notice).to_contain_text("Je idee is ingetrokken.")
    assert errors == []


def test_ratings_that_come_back_after_the_round_closed_are_counted_out(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    crowd, facilitator = facilitator_crowd(kleur, crowds)
    page = open_phone(browser, crowd, errors)
    go(crowd, facilitator, Phase.RATING)
    phase_is(page, "rating")
    for norm, value in enumerate((7, 6, 8), start=1):
        rate(page, value, norm)
    expect(page.get_by_test_id("progress")).to_contain_text("3 van 20 ingevuld")
    crowd.call(partial(facilitator.wait_dashboard, lambda d: _received(d) == 3))
    page.context.set_offline(True)
    banner = page.get_by_test_id("offline-banner")
    # The banner promises no more than is true.
    expect(banner).to_contain_text("als de ronde dan nog open is")
    rate(page, 5, 4)
    rate(page, 4, 5)
    expect(page.get_by_test_id("progress")).to_contain_text("5 van 20 ingevuld")
    go(crowd, facilitator, Phase.REVEAL)
    page.context.set_offline(False)
    phase_is(page, "reveal")
    expect(page.get_by_test_id("notice")).to_contain_text(
        "2 cijfers kwamen te laat en tellen niet mee. De begeleider is al verder."
    )
    # Answered, too late: not "not answered yet".
    expect(page.get_by_test_id(f"own-answer-{NORMS[0]}")).to_have_text("Jouw antwoord: 7")
    expect(page.get_by_test_id(f"own-answer-{NORMS[3]}")).to_have_text(
        "Jouw antwoord: 5, maar dat kwam te laat en telt niet mee"
    )
    screenshot(page, "phone-ratings-too-late")
    # The server agrees: the two late ones were not counted.
    dashboard = crowd.call(partial(facilitator.wait_dashboard, lambda d: d.revealed))
    assert _received(dashboard) == 3
    assert errors == []


def _received(dashboard: Dashboard) -> int:
    return sum(norm.received for norm in dashboard.norms)


def test_a_second_round_dots_and_the_clock_say_what_is_going_on(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    crowd, facilitator = facilitator_crowd(kleur, crowds)
    page = open_phone(browser, crowd, errors)
    go(crowd, facilitator, Phase.RATING)
    phase_is(page, "rating")
    title = page.locator("#phase-title")
    expect(title).to_have_text("Geef je cijfers")
    expect(page.get_by_test_id("phase-round")).to_have_count(0)
    rate(page, 7, 1)
    go(crowd, facilitator, Phase.REVEAL, Phase.RATING)
    expect(title).to_have_text("Ronde 2: geef opnieuw je cijfers")
    expect(page.locator(".phase-head")).to_contain_text(
        "Je cijfers van ronde 1 blijven bewaard. Zo zien we samen wat er veranderd is."
    )
    expect(page.get_by_test_id("phase-round")).to_have_text(" (ronde 2)")
    expect(page.get_by_test_id("progress")).to_contain_text("0 van 20 ingevuld")
    crowd.call(partial(facilitator.set_timer, 120))
    # The big screen's words: "Nog 1:59", not "01:59".
    expect(page.get_by_test_id("timer")).to_have_text(_clock())
    screenshot(page, "phone-round-2")

    go(crowd, facilitator, Phase.REVEAL, Phase.BRAINSTORM)
    expect(title).to_have_text("Ideeën")
    page.get_by_test_id("note-text").fill("Stageplekken in het mkb")
    page.get_by_test_id("note-submit").click()
    expect(page.get_by_test_id("own-note")).to_have_count(1)
    crowd.call(partial(facilitator.set_dot_voting, DotVoting.OPEN))
    # No idea can be written now: the heading asks for dots, not ideas.
    expect(title).to_have_text("Stippen geven")
    crowd.call(partial(facilitator.set_dot_voting, DotVoting.SHOWN))
    expect(title).to_have_text("Ideeën")
    assert errors == []


#: What sticks out of a small phone's screen: the page scrolling sideways, an
#: element beyond an edge, text cut off inside its box.
OUTSIDE = """() => {
  const width = document.documentElement.clientWidth, found = [];
  if (document.documentElement.scrollWidth > width) found.push('page ' + document.documentElement.scrollWidth);
  for (const node of document.querySelectorAll('body *')) {
    const box = node.getBoundingClientRect();
    if (box.width === 0 || node.closest('.visually-hidden')) continue;
    const what = node.tagName + ' ' + (node.textContent || '').trim().slice(0, 30);
    if (box.right > width + 0.5 || box.left < -0.5) found.push('outside: ' + what);
    const clips = getComputedStyle(node).overflowX !== 'visible' && !['TEXTAREA', 'SELECT'].includes(node.tagName);
    if (clips && node.scrollWidth > node.clientWidth + 1) found.push('cut off: ' + what);
  }
  return found;
}"""


def fits(page: Page, phase: str) -> None:
    phase_is(page, phase)
    page.wait_for_timeout(300)  # the last render
    assert page.evaluate(OUTSIDE) == [], phase
    # The top bar stays one row (brand, code, NL and EN), so the question keeps the screen.
    bar = page.locator(".topbar").bounding_box()
    assert bar is not None and bar["height"] <= 56, phase


def test_every_phase_fits_a_320_pixel_phone(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    crowd, facilitator = facilitator_crowd(kleur, crowds)
    crowd.call(partial(facilitator.set_moderation, False))
    page = open_phone(browser, crowd, errors, SMALL)
    fits(page, "lobby")
    go(crowd, facilitator, Phase.RATING)
    crowd.call(partial(facilitator.set_timer, 600))
    fits(page, "rating")
    rate(page, 7, 1)
    go(crowd, facilitator, Phase.REVEAL, Phase.RATING)
    expect(page.get_by_test_id("phase-round")).to_be_visible()
    fits(page, "rating")
    go(crowd, facilitator, Phase.REVEAL)
    fits(page, "reveal")
    go(crowd, facilitator, Phase.BRAINSTORM)
    # One long Dutch word, as people write them.
    page.get_by_test_id("note-text").fill(
        "Samenwerkingsovereenkomstenonderhandelingsbijeenkomst in de regio"
    )
    page.get_by_test_id("note-submit").click()
    fits(page, "brainstorm")
    crowd.call(partial(facilitator.set_dot_voting, DotVoting.OPEN))
    expect(page.locator("#phase-title")).to_have_text("Stippen geven")
    fits(page, "brainstorm")
    go(crowd, facilitator, Phase.AGENDA)
    crowd.call(partial(facilitator.put_agenda_item, "Vaste contactpersoon per school", owner="Gemeente Zuid"))  # fmt: skip
    fits(page, "agenda")
    go(crowd, facilitator, Phase.CLOSED)
    fits(page, "closed")
    screenshot(page, "phone-320-closed")
    assert errors == []


def _clock() -> re.Pattern[str]:
    return re.compile(r"^Nog [12]:\d\d$")
