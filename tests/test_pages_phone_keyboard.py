"""The phone page for keyboard users, at 200 % zoom, for latecomers, and after the close.

A real Chromium drives the phone page; the facilitator is a Python client
(``tests.test_pages_analysis.Crowd``) so that each test spends its time on
the phone.  Key presses are counted one by one, every box is measured in the
browser, and the PDF a phone downloads is read back with pypdf.
"""

from __future__ import annotations

import io
import itertools
from functools import partial

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pypdf import PdfReader

from agenda.templates import load_builtin_templates
from client.kleur_client import KleurClient
from protocol.phases import DotVoting, Phase, Role
from tests.browser import fail_on_page_errors, phone, screenshot
from tests.support import ServerProcess
from tests.test_pages import browser as browser  # the module-scoped fixture, shared
from tests.test_pages_analysis import Crowd, crowd_in_new_room
from tests.test_pages_analysis import crowds as crowds  # the fixture, shared

SCAN = load_builtin_templates()["participatiescan"]
NORMS = [norm.id for norm in SCAN.norms]
#: Twenty answers as a table gives them: mostly near each other, one "don't know".
PLAN: list[int | None] = [7, 8, 6, 7, 7, 5, 6, 8, 9, 7, None, 6, 7, 8, 4, 6, 7, 7, 10, 6]
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
#: 200 % zoom on a 390 px phone: half the CSS pixels, twice the device pixels.
ZOOMED = {"width": 195, "height": 422}
CONTROLS = "button, a[href], input, select, textarea, summary, [tabindex='0']"


def facilitator_crowd(kleur: ServerProcess, crowds: list[Crowd]) -> tuple[Crowd, KleurClient]:
    crowd = crowd_in_new_room(kleur, crowds)
    return crowd, crowd.join_facilitator()


def go(crowd: Crowd, facilitator: KleurClient, *phases: Phase) -> None:
    for phase in phases:
        crowd.call(partial(facilitator.set_phase, phase))


def open_phone(
    browser: Browser, room: dict[str, str], errors: list[str], locale: str = "nl-NL"
) -> Page:
    page = phone(browser, locale).new_page()
    fail_on_page_errors(page, errors)
    page.goto(room["join_url"])
    expect(page.get_by_test_id("phase")).to_be_visible()
    return page


def zoomed(browser: Browser, locale: str = "nl-NL") -> BrowserContext:
    return browser.new_context(
        viewport=ZOOMED,
        device_scale_factor=4,
        is_mobile=True,
        has_touch=True,
        locale=locale,
        accept_downloads=True,
    )


def phase_is(page: Page, phase: str) -> None:
    expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", phase)


def focused(page: Page) -> dict[str, str | None]:
    result: dict[str, str | None] = page.evaluate(
        """() => {
          const a = document.activeElement;
          return {id: a ? a.id : null, value: a ? a.dataset.value ?? null : null,
                  group: a && a.closest('[role=radiogroup]') ? a.closest('[role=radiogroup]').id : null};
        }"""
    )
    return result


class Keyboard:
    """The phone's keyboard, counting every key press."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.presses = 0

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.presses += 1

    def tab_to_scale(self) -> None:
        for _ in range(10):
            if focused(self.page)["group"] == "rate-group":
                return
            self.press("Tab")
        raise AssertionError(f"Tab never reached the scale: {focused(self.page)}")

    def move_to(self, value: int | None) -> None:
        """Arrow keys for a step or two, else the digit (or End for "don't know")."""
        order = [str(v) for v in SCAN.scale.values] + ["dk"]
        target = "dk" if value is None else str(value)
        here = focused(self.page)["value"]
        assert here in order, focused(self.page)
        distance = order.index(target) - order.index(here)
        if abs(distance) <= 2:
            for _ in range(abs(distance)):
                self.press("ArrowRight" if distance > 0 else "ArrowLeft")
        elif target == "dk" or target == str(SCAN.scale.max):
            # "don't know" is the last answer; 10 has no single digit.
            self.press("End")
            if target != "dk":
                self.press("ArrowLeft")
        else:
            self.press(target)
        assert focused(self.page)["value"] == target


def test_twenty_norms_by_keyboard_in_at_most_60_key_presses(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    crowd, facilitator = facilitator_crowd(kleur, crowds)
    page = open_phone(browser, crowd.room, errors)
    phase_is(page, "lobby")
    go(crowd, facilitator, Phase.RATING)
    phase_is(page, "rating")
    # The round opened: the focus is on its heading, not left on <body>.
    expect(page.locator("#phase-title")).to_be_focused()

    keys = Keyboard(page)
    keys.tab_to_scale()
    assert keys.presses == 1  # the scale is the first stop after the heading
    # One Tab stop for the whole scale, "don't know" included.
    stops = page.locator("#rate-group [role=radio][tabindex='0']")
    expect(stops).to_have_count(1)
    expect(page.locator("#rate-group [role=radio]")).to_have_count(len(SCAN.scale.values) + 1)
    for index, value in enumerate(PLAN):
        expect(page.locator(".card.rating .counter")).to_have_text(f"Norm {index + 1} van 20")
        keys.move_to(value)
        if index == 1:
            screenshot(page, "phone-keyboard-focus")
        # Space and Enter both choose (and move on, like a tap).
        keys.press("Space" if index % 2 else "Enter")
        if index < len(PLAN) - 1:
            expect(page.locator(".card.rating .counter")).to_have_text(f"Norm {index + 2} van 20")
            # The focus waits on the next norm's scale.
            assert focused(page)["group"] == "rate-group", focused(page)
    expect(page.get_by_test_id("progress")).to_contain_text("20 van 20")
    print(f"key presses for {len(PLAN)} norms: {keys.presses}")
    assert keys.presses <= 60, keys.presses

    # Every rating arrived: the facilitator's counts, then the revealed distribution.
    crowd.facilitator_dashboard(lambda d: all(n.received == 1 for n in d.norms))
    go(crowd, facilitator, Phase.REVEAL)
    shown = crowd.facilitator_dashboard(lambda d: d.revealed)
    for norm, value in zip(shown.norms, PLAN, strict=True):
        assert norm.counts is not None
        if value is None:
            assert (norm.dont_know, sum(norm.counts)) == (1, 0), norm
        else:
            assert norm.counts[value - SCAN.scale.min] == 1 and sum(norm.counts) == 1, norm
    phase_is(page, "reveal")
    expect(page.locator("#phase-title")).to_be_focused()
    assert errors == []


def test_arrow_keys_move_without_choosing_and_the_tab_stop_follows(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    crowd, facilitator = facilitator_crowd(kleur, crowds)
    page = open_phone(browser, crowd.room, errors)
    go(crowd, facilitator, Phase.RATING)
    phase_is(page, "rating")
    page.get_by_test_id("rate-0").focus()
    for key in ("ArrowRight", "ArrowRight", "ArrowLeft", "ArrowRight", "ArrowRight"):
        page.keyboard.press(key)
    expect(page.get_by_test_id("rate-3")).to_be_focused()
    # Moving chose nothing: still on norm 1, nothing checked.
    expect(page.locator(".card.rating .counter")).to_have_text("Norm 1 van 20")
    expect(page.locator("#rate-group [aria-checked='true']")).to_have_count(0)
    expect(page.get_by_test_id("rate-3")).to_have_attribute("tabindex", "0")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_test_id("rate-2")).to_be_focused()
    page.keyboard.press("Home")
    expect(page.get_by_test_id("rate-0")).to_be_focused()
    page.keyboard.press("ArrowLeft")  # wraps round to the last answer
    expect(page.get_by_test_id("rate-dk")).to_be_focused()
    page.keyboard.press("4")
    expect(page.get_by_test_id("rate-4")).to_be_focused()
    # A tap still works as before: chosen, next norm, its title focused.
    page.get_by_test_id("rate-9").click()
    expect(page.locator(".card.rating .counter")).to_have_text("Norm 2 van 20")
    expect(page.locator("#norm-title")).to_be_focused()
    page.get_by_test_id("prev").click()
    expect(page.get_by_test_id("rate-9")).to_have_attribute("aria-checked", "true")
    expect(page.locator("#rate-group [role=radio][tabindex='0']")).to_have_attribute(
        "data-value", "9"
    )
    assert errors == []


def boxes(page: Page) -> list[dict[str, float | str]]:
    """Every visible control's box (CSS px), with a name to report."""
    found: list[dict[str, float | str]] = page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
          .filter((node) => node.checkVisibility({visibilityProperty: true})
                  && !node.closest('.visually-hidden') && node.type !== 'radio')
          .map((node) => {
            const r = node.getBoundingClientRect();
            return {name: node.id || node.dataset.testid || node.textContent.trim().slice(0, 30),
                    x: r.left + window.scrollX, y: r.top + window.scrollY,
                    w: r.width, h: r.height,
                    // Text wider than its box runs into the next control.
                    spill: node.scrollWidth - node.clientWidth};
          })""",
        CONTROLS,
    )
    return found


def assert_fits(page: Page, name: str) -> None:
    """No horizontal scrolling, no control over another, every target at least 24 x 24 px."""
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{name}: scrolls sideways {width}"
    found = boxes(page)
    assert found, name
    for box in found:
        assert float(box["w"]) >= 24 and float(box["h"]) >= 24, f"{name}: small target {box}"
        assert float(box["spill"]) <= 1, f"{name}: text runs out of {box}"
        assert float(box["x"]) >= 0 and float(box["x"]) + float(box["w"]) <= width[1] + 0.5, (
            f"{name}: off screen {box}"
        )
    for a, b in itertools.combinations(found, 2):
        overlap_x = min(float(a["x"]) + float(a["w"]), float(b["x"]) + float(b["w"])) - max(
            float(a["x"]), float(b["x"])
        )
        overlap_y = min(float(a["y"]) + float(a["h"]), float(b["y"]) + float(b["h"])) - max(
            float(a["y"]), float(b["y"])
        )
        assert overlap_x <= 0.5 or overlap_y <= 0.5, f"{name}: {a['name']} overlaps {b['name']}"


def assert_focus_in_view(page: Page, name: str, stops: int = 40) -> None:
    """Tab through the page and back: each focused control is in view, under no sticky bar."""
    page.locator("#phase-title").focus()
    for key in ["Tab"] * stops + ["Shift+Tab"] * stops:
        page.keyboard.press(key)
        hidden = page.evaluate(
            """() => {
              const a = document.activeElement;
              if (!a || a === document.body) return null;
              const r = a.getBoundingClientRect();
              if (r.bottom <= 0 || r.top >= window.innerHeight) return 'outside ' + a.id;
              const x = Math.min(Math.max(r.left + r.width / 2, 0), window.innerWidth - 1);
              const y = Math.min(Math.max(r.top + Math.min(r.height / 2, 10), 0), window.innerHeight - 1);
              const top = document.elementFromPoint(x, y);
              return top && (top === a || a.contains(top) || top.contains(a) || (a.labels && [...a.labels].includes(top)))
                ? null : 'covered ' + (a.id || a.tagName) + ' by ' + (top ? top.className : 'nothing');
            }"""
        )
        assert hidden is None, f"{name}: {hidden}"


def test_200_percent_zoom_nothing_overlaps_and_focus_stays_in_view(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    crowd, facilitator = facilitator_crowd(kleur, crowds)
    page = zoomed(browser).new_page()
    fail_on_page_errors(page, errors)
    page.goto(crowd.room["join_url"])
    phase_is(page, "lobby")
    assert_fits(page, "lobby")
    screenshot(page, "phone-zoom-lobby")
    go(crowd, facilitator, Phase.RATING)
    phase_is(page, "rating")
    page.get_by_test_id("rate-7").click()  # norm 2: "Vorige" and "Volgende" side by side
    expect(page.locator(".card.rating .counter")).to_have_text("Norm 2 van 20")
    assert_fits(page, "rating")
    assert_focus_in_view(page, "rating")
    page.locator("#phase-title").focus()
    screenshot(page, "phone-zoom-rating")
    page.get_by_test_id("rate-7").scroll_into_view_if_needed()
    screenshot(page, "phone-zoom-rating-scale")
    page.get_by_test_id("next").scroll_into_view_if_needed()
    screenshot(page, "phone-zoom-rating-nav")
    page.get_by_test_id(f"jump-{NORMS[-1]}").evaluate("node => node.closest('details').open = true")
    page.get_by_test_id(f"jump-{NORMS[-1]}").click()
    page.get_by_test_id("next").click()  # the summary
    expect(page.locator("#summary-title")).to_be_visible()
    assert_fits(page, "summary")
    go(crowd, facilitator, Phase.REVEAL, Phase.BRAINSTORM)
    phase_is(page, "brainstorm")
    assert_fits(page, "brainstorm")
    crowd.call(partial(facilitator.put_agenda_item, "Stagebank voor de hele regio", owner="Gemeente Zuid", deadline="2027-03-01", norm_id=NORMS[0]))  # fmt: skip
    go(crowd, facilitator, Phase.AGENDA, Phase.CLOSED)
    phase_is(page, "closed")
    expect(page.get_by_test_id("agenda-item")).to_have_count(1)
    assert_fits(page, "closed")
    assert_focus_in_view(page, "closed", stops=8)
    page.get_by_test_id("agenda").scroll_into_view_if_needed()
    screenshot(page, "phone-zoom-closed")
    assert errors == []


def test_the_offline_banner_never_hides_the_focus(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    crowd, facilitator = facilitator_crowd(kleur, crowds)
    context = zoomed(browser)
    page = context.new_page()
    fail_on_page_errors(page, errors)
    page.goto(crowd.room["join_url"])
    phase_is(page, "lobby")
    go(crowd, facilitator, Phase.RATING)
    phase_is(page, "rating")
    kleur.stop()  # the sticky banner shows while the phone reconnects
    expect(page.get_by_test_id("offline-banner")).to_be_visible()
    assert_focus_in_view(page, "offline")
    screenshot(page, "phone-zoom-offline")
    assert [e for e in errors if "pageerror" in e] == []


def test_a_latecomer_is_asked_the_organisation_first(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    crowd, facilitator = facilitator_crowd(kleur, crowds)
    crowd.join(2, ["gemeente"])  # with the phone, a group big enough to be shown
    go(crowd, facilitator, Phase.RATING)
    late = open_phone(browser, crowd.room, errors)
    phase_is(late, "rating")
    expect(late.get_by_test_id("org-first")).to_be_visible()
    expect(late.get_by_test_id("rate-7")).to_have_count(0)
    screenshot(late, "phone-latecomer-org")
    late.get_by_test_id("org-gemeente").check()
    late.get_by_test_id("org-continue").click()
    expect(late.locator(".card.rating .counter")).to_have_text("Norm 1 van 20")
    expect(late.locator("#norm-title")).to_be_focused()
    late.get_by_test_id("rate-8").click()
    # The rating arrived, and the phone counts in its organisation's group.
    crowd.facilitator_dashboard(
        lambda d: (
            d.norms[0].received == 1
            and any(o.org_type == "gemeente" and o.count == 3 for o in d.org_counts)
        )
    )
    # Asked once: a reload goes straight to the norms.
    late.reload()
    expect(late.locator(".card.rating .counter")).to_have_text("Norm 2 van 20")

    # Skipping is fine too: "Verder" with nothing picked (or "Zeg ik liever niet").
    skipper = open_phone(browser, crowd.room, errors)
    expect(skipper.get_by_test_id("org-first")).to_be_visible()
    skipper.get_by_test_id("org-continue").click()
    expect(skipper.locator(".card.rating .counter")).to_have_text("Norm 1 van 20")
    skipper.reload()
    expect(skipper.locator(".card.rating .counter")).to_have_text("Norm 1 van 20")

    # Who joined in the lobby is not asked again when the round opens.
    crowd2, facilitator2 = facilitator_crowd(kleur, crowds)
    early = open_phone(browser, crowd2.room, errors)
    phase_is(early, "lobby")
    go(crowd2, facilitator2, Phase.RATING)
    expect(early.locator(".card.rating .counter")).to_have_text("Norm 1 van 20")
    expect(early.get_by_test_id("org-first")).to_have_count(0)
    assert errors == []


def pdf_text(body: bytes) -> str:
    assert body.startswith(b"%PDF"), body[:20]
    reader = PdfReader(io.BytesIO(body))
    # Words only: the PDF breaks long lines where a column ends.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_the_agenda_live_then_its_pdf_after_the_close_and_no_timer(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    crowd, facilitator = facilitator_crowd(kleur, crowds)
    page = open_phone(browser, crowd.room, errors)
    go(crowd, facilitator, Phase.RATING)
    page.get_by_test_id("rate-3").click()
    go(crowd, facilitator, Phase.REVEAL, Phase.BRAINSTORM)
    phase_is(page, "brainstorm")
    page.get_by_test_id("note-text").fill("Een vaste contactpersoon bij het UWV")
    page.get_by_test_id("note-submit").click()
    expect(page.get_by_test_id("own-note")).to_have_count(1)
    first = "Stagebank voor de hele regio"
    crowd.call(partial(facilitator.put_agenda_item, first, owner="Gemeente Zuid", deadline="2027-03-01", norm_id=NORMS[0]))  # fmt: skip
    # Not before the agenda phase: participants see it when the table draws it up.
    expect(page.get_by_test_id("agenda")).to_have_count(0)
    go(crowd, facilitator, Phase.AGENDA)
    phase_is(page, "agenda")
    expect(page.locator("#phase-title")).to_be_focused()
    expect(page.locator("#phase-title")).to_have_text("De verbeteragenda")
    item = page.get_by_test_id("agenda-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(first)
    expect(item).to_contain_text("Gemeente Zuid")
    expect(item).to_contain_text("1 maart 2027")
    expect(item).to_contain_text(f"1. {SCAN.norms[0].title}")
    # Live: an item added now appears without a reload.
    second = "Werkgevers twee keer per jaar op school"
    crowd.call(partial(facilitator.put_agenda_item, second, position=1))
    expect(item).to_have_count(2)
    expect(item.nth(1)).to_contain_text(second)
    expect(page.get_by_test_id("agenda-pdf")).to_have_count(0)  # only once closed
    crowd.call(partial(facilitator.set_timer, 300))
    expect(page.get_by_test_id("timer")).to_be_visible()
    screenshot(page, "phone-agenda-live")

    go(crowd, facilitator, Phase.CLOSED)
    phase_is(page, "closed")
    # The timer stopped with the room: gone from the phone, cleared on the server.
    expect(page.get_by_test_id("timer")).to_have_count(0)
    person = crowd.call(lambda: _participant(crowd))
    assert person.state is not None and person.state.timer_ends_at is None
    assert person.state.agenda is not None and [a.action for a in person.state.agenda] == [
        first,
        second,
    ]
    expect(page.get_by_test_id("agenda-item")).to_have_count(2)
    screenshot(page, "phone-closed-agenda")
    with page.expect_download() as download_info:
        page.get_by_test_id("agenda-pdf").click()
    download = download_info.value
    assert download.suggested_filename == f"kleur-{crowd.room['code']}-verbeteragenda.pdf"
    path = download.path()
    assert path is not None
    text = pdf_text(path.read_bytes())
    assert first in text and second in text
    expect(page.get_by_test_id("agenda-pdf")).to_be_enabled()
    assert errors == []


async def _participant(crowd: Crowd) -> KleurClient:
    person = KleurClient(crowd.server.ws_url, crowd.room["code"], Role.PARTICIPANT)
    await person.connect()
    crowd.people.append(person)
    return person


def axe_problems(page: Page, name: str) -> list[str]:
    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    return [
        f"{name}: {v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']][:3]}"
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("locale", ["nl-NL", "en-GB"])
def test_wcag_22_aa_on_the_phone_in_every_phase(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd], locale: str
) -> None:
    errors: list[str] = []
    lang = locale[:2]
    crowd, facilitator = facilitator_crowd(kleur, crowds)
    page = open_phone(browser, crowd.room, errors, locale)
    problems = axe_problems(page, "lobby")
    go(crowd, facilitator, Phase.RATING)
    phase_is(page, "rating")
    late = open_phone(browser, crowd.room, errors, locale)
    expect(late.get_by_test_id("org-first")).to_be_visible()
    problems += axe_problems(late, "latecomer")
    page.get_by_test_id("rate-6").click()
    page.get_by_test_id("rate-7").focus()  # a moved tab stop
    problems += axe_problems(page, "rating")
    go(crowd, facilitator, Phase.REVEAL)
    phase_is(page, "reveal")
    problems += axe_problems(page, "reveal")
    go(crowd, facilitator, Phase.BRAINSTORM)
    phase_is(page, "brainstorm")
    page.get_by_test_id("note-text").fill("Een stagebank")
    page.get_by_test_id("note-submit").click()
    expect(page.get_by_test_id("own-note")).to_have_count(1)
    crowd.call(partial(facilitator.set_dot_voting, DotVoting.OPEN))
    expect(page.get_by_test_id("dots-left")).to_be_visible()
    problems += axe_problems(page, "brainstorm-voting")
    crowd.call(partial(facilitator.put_agenda_item, "Stagebank opzetten", owner="Gemeente", deadline="2027-03-01", norm_id=NORMS[0]))  # fmt: skip
    go(crowd, facilitator, Phase.AGENDA)
    phase_is(page, "agenda")
    expect(page.get_by_test_id("agenda-item")).to_have_count(1)
    problems += axe_problems(page, "agenda")
    go(crowd, facilitator, Phase.CLOSED)
    phase_is(page, "closed")
    expect(page.get_by_test_id("agenda-pdf")).to_be_visible()
    problems += axe_problems(page, "closed")
    if lang == "en":
        screenshot(page, "phone-closed-agenda-en")
    assert problems == []
    assert errors == []


def test_two_questions_by_keyboard_the_focus_goes_to_the_other_scale(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    room = kleur.create_room("team-health")
    crowd = Crowd(kleur, room)
    crowds.append(crowd)
    facilitator = crowd.join_facilitator()
    page = open_phone(browser, room, errors, "en-GB")
    phase_is(page, "lobby")
    go(crowd, facilitator, Phase.RATING)
    phase_is(page, "rating")
    keys = Keyboard(page)
    keys.tab_to_scale()
    keys.press("3")
    keys.press("Enter")  # the score: the card stays, the focus goes to the second question
    expect(page.locator(".card.rating .counter")).to_contain_text("1")
    assert focused(page)["group"] == "second-group", focused(page)
    keys.press("End")  # "don't know"
    keys.press("Space")
    expect(page.get_by_test_id("progress")).to_contain_text("1 of")
    assert focused(page)["group"] == "rate-group", focused(page)
    # The next norm's score scale waits on the score given last.
    assert focused(page)["value"] == "3", focused(page)
    assert errors == []
