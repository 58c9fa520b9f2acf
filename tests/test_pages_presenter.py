"""The presenter view (/p/{code}) on a 1920×1080 projector, in a real headless Chromium.

Participants and the facilitator are Python clients (``Crowd``); the
projector is the real page.  In every phase the test reads the computed font
size of every visible text (≥ 24 px, titles ≥ 32 px), checks that all of it
lies inside the viewport (one screen, no scrolling), that the page holds no
control at all, and runs axe with the WCAG 2.2 AA rules, in Dutch and
English.  Screenshots go to docs/screenshots/presenter-*.png.
"""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
import segno
import zxingcpp
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from agenda.templates import load_builtin_templates
from client.kleur_client import KleurClient
from protocol.messages import Presenter, SetFollowUpStatus
from protocol.phases import DotVoting, FollowUpStatus, Phase, Role
from tests.browser import fail_on_page_errors, screenshot
from tests.support import ServerProcess
from tests.test_pages import browser as browser  # the module-scoped fixture, shared
from tests.test_pages import open_dashboard, open_phone, set_phase
from tests.test_pages_analysis import Crowd, crowd_in_new_room
from tests.test_pages_analysis import crowds as crowds  # closes the clients
from tests.test_session import qr_matrix

SCAN = load_builtin_templates()["participatiescan"]
PROJECTOR = {"width": 1920, "height": 1080}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CONTROLS = "button, input, select, textarea, form, [contenteditable], [role=button]"
#: The norm the table splits on: two camps, low and high.
SPLIT = SCAN.norms[0].id

#: Every visible text node: its font size, whether it is a title, its box.
READ_TEXTS = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const parent = node.parentElement;
    if (parent.closest('.visually-hidden, [hidden], title, script, style')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(parent);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    found.push({
      text: node.textContent.trim().slice(0, 40),
      size: parseFloat(style.fontSize),
      title: Boolean(parent.closest('h1, h2, h3')),
      top: box.top, left: box.left, bottom: box.bottom, right: box.right,
    });
  }
  const root = document.scrollingElement;
  return {found, scrolls: root.scrollHeight > innerHeight || root.scrollWidth > innerWidth,
          width: innerWidth, height: innerHeight};
}"""


def readable_problems(page: Page, name: str) -> list[str]:
    """Texts too small, outside the viewport, a page that scrolls, or a control."""
    seen: dict[str, Any] = page.evaluate(READ_TEXTS)
    problems = []
    assert seen["found"], f"{name}: no text at all?"
    for text in seen["found"]:
        least = 32 if text["title"] else 24
        if text["size"] < least:
            problems.append(f"{name}: {text['text']!r} is {text['size']} px (< {least})")
        inside = (
            text["top"] >= 0
            and text["left"] >= 0
            and text["bottom"] <= seen["height"] + 0.5
            and text["right"] <= seen["width"] + 0.5
        )
        if not inside:
            problems.append(f"{name}: {text['text']!r} is outside the screen")
    if seen["scrolls"]:
        problems.append(f"{name}: the page scrolls")
    controls = page.locator(CONTROLS).count()
    if controls:
        problems.append(f"{name}: {controls} controls on a read-only screen")
    return problems


def serious(axe: Axe, page: Page, name: str) -> list[str]:
    result = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    return [
        f"{name}: {v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']][:3]}"
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def open_presenter(
    browser: Browser, room: dict[str, str], errors: list[str], query: str = ""
) -> Page:
    page = browser.new_context(viewport=PROJECTOR, locale="nl-NL").new_page()
    fail_on_page_errors(page, errors)
    url, _, token = room["display_url"].partition("#")
    page.goto(f"{url}{query}#{token}")
    expect(page.get_by_test_id("room-code")).to_have_text(room["code"])
    return page


def wait_phase(page: Page, phase: str) -> None:
    expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", phase)


def plan(index: int, norm: str) -> int | None:
    """Two camps on SPLIT (2s and 9s); elsewhere ratings around 6, one "don't know"."""
    if norm == SPLIT:
        return 2 if index % 2 == 0 else 9
    if index == 5 and norm == SCAN.norms[3].id:
        return None
    return 5 + (index + len(norm)) % 3


def test_presenter_view_in_every_phase(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    crowd = crowd_in_new_room(kleur, crowds)
    room = crowd.room
    facilitator = crowd.join_facilitator()
    projector = crowd.run(
        lambda: _presenter_client(kleur, room),
    )
    nl = open_presenter(browser, room, errors)
    en = open_presenter(browser, room, errors, "?lang=en")
    expect(en.locator("html")).to_have_attribute("lang", "en")
    axe = Axe()
    problems: list[str] = []

    def check(name: str, *pages: Page) -> None:
        for lang, page in zip(("nl", "en"), pages, strict=False):
            problems.extend(readable_problems(page, f"{name}-{lang}"))
            problems.extend(serious(axe, page, f"{name}-{lang}"))

    # Lobby: the QR code, the room code and how many joined.
    crowd.join(6, ["gemeente", "onderwijs"])
    expect(nl.get_by_test_id("joined")).to_have_attribute("data-count", "6")
    # An <img> without a src yet is "complete" too: wait for the loaded picture itself.
    nl.wait_for_function("() => document.querySelector('[data-testid=qr]').naturalWidth > 0")
    expect(nl.get_by_test_id("join-code")).to_have_text(room["code"])
    check("lobby", nl, en)
    screenshot(nl, "presenter-lobby")

    # Rating, blind: only "x van N mensen klaar" (all answers in whole people),
    # nothing per norm; one person has not finished.
    crowd.call(lambda: facilitator.set_phase(Phase.RATING))
    crowd.wait_phase(Phase.RATING)
    wait_phase(nl, "rating")
    norms = [n.id for n in SCAN.norms]
    crowd.rate(plan, norms[:4])
    crowd.run(lambda: _rate_rest(crowd, norms[4:]))
    answers = 6 * 4 + 5 * 16
    done = answers // len(norms)  # 5 people's worth of answers
    total = nl.get_by_test_id("rating-total")
    expect(total).to_have_attribute("data-done", str(done))
    expect(total).to_have_attribute("data-total", "6")
    expect(total).to_have_text(f"{done} van de 6 mensen klaar")
    expect(en.get_by_test_id("rating-total")).to_have_text(f"{done} of 6 people done")
    bar = nl.get_by_test_id("rating-bar")
    expect(bar.locator("li")).to_have_count(6)
    expect(bar.locator("li.people-bar__one--done")).to_have_count(done)
    # No count per norm anywhere on the projector before the reveal.
    assert nl.locator("[data-testid^='ready-'], [data-received]").count() == 0
    view_now: Presenter = crowd.run(
        lambda: projector.wait_presenter(
            lambda p: p.progress is not None and p.progress.complete == done
        )
    )
    assert view_now.norms == () and view_now.progress is not None
    assert view_now.progress.norms == ()
    assert nl.locator("[data-testid^='hist-']").count() == 0  # blind: no distribution
    check("rating", nl, en)
    screenshot(nl, "presenter-rating")

    # Reveal: one theme per screen, each norm a histogram on the fixed axis.
    crowd.call(lambda: facilitator.set_phase(Phase.REVEAL))
    wait_phase(nl, "reveal")
    view: Presenter = crowd.run(lambda: projector.wait_presenter(lambda p: p.analysis is not None))
    assert view.analysis is not None
    insight = {n.norm_id: n for n in view.analysis.norms}
    assert insight[SPLIT].contested, "the planted split should be contested"
    for index, theme in enumerate(SCAN.themes, start=1):
        pinned = open_presenter(browser, room, errors, f"?theme={index}")
        wait_phase(pinned, "reveal")
        page_view = pinned.get_by_test_id("reveal-page")
        expect(page_view).to_have_attribute("data-theme", theme.id)
        for norm in theme.norms:
            row = pinned.get_by_test_id(f"norm-{norm.id}")
            expect(row).to_be_in_viewport(ratio=1)
            # Nothing spills out of its row onto the next one.
            assert row.evaluate("r => r.scrollHeight <= r.clientHeight + 1"), norm.id
            hist = pinned.get_by_test_id(f"hist-{norm.id}")
            expect(hist).to_be_in_viewport(ratio=1)
            # 11 values on the axis plus "don't know", whatever was rated.
            assert hist.locator("li").count() == len(SCAN.scale.values) + 1
            expected = _range_words(insight[norm.id].most_low, insight[norm.id].most_high)
            expect(pinned.get_by_test_id(f"range-{norm.id}")).to_have_text(expected)
            expect(row).to_have_attribute("data-contested", str(insight[norm.id].contested).lower())
        problems.extend(readable_problems(pinned, f"reveal-theme-{index}"))
        if index == 1:
            # Two camps show as two humps: the bars at 2 and 9 hold 3 each, between them none.
            bars = pinned.get_by_test_id(f"hist-{SPLIT}").locator("li")
            counts = [int(bars.nth(i).get_attribute("data-count") or 0) for i in range(12)]
            assert counts[2] == 3 and counts[9] == 3 and sum(counts[3:9]) == 0
            expect(pinned.get_by_test_id(f"contested-{SPLIT}")).to_contain_text("Verdeeld")
            problems.extend(serious(axe, pinned, "reveal-nl"))
            screenshot(pinned, "presenter-reveal")
        pinned.context.close()
    english = open_presenter(browser, room, errors, "?lang=en&theme=1")
    expect(english.get_by_test_id(f"contested-{SPLIT}")).to_contain_text("Divided")
    problems.extend(readable_problems(english, "reveal-en"))
    problems.extend(serious(axe, english, "reveal-en"))
    screenshot(english, "presenter-reveal-en")
    english.context.close()

    # The matrix: every norm × organisation type on one screen.
    for query, lang in (("?view=matrix", "nl"), ("?view=matrix&lang=en", "en")):
        matrix = open_presenter(browser, room, errors, query)
        expect(matrix.get_by_test_id("matrix")).to_be_visible()
        for norm in SCAN.norms:
            expect(matrix.get_by_test_id(f"matrix-{norm.id}")).to_be_in_viewport(ratio=1)
        shown = {(b.norm_id, b.org_type) for b in view.analysis.breakdown}
        assert (SPLIT, "gemeente") in shown and (SPLIT, "onderwijs") in shown
        problems.extend(readable_problems(matrix, f"matrix-{lang}"))
        problems.extend(serious(axe, matrix, f"matrix-{lang}"))
        if lang == "nl":
            screenshot(matrix, "presenter-matrix")
        matrix.context.close()

    # Brainstorm: only approved notes, in their groups; dots once shown.
    crowd.call(lambda: facilitator.set_phase(Phase.BRAINSTORM))
    wait_phase(nl, "brainstorm")
    ideas = ["Stagebank voor de hele regio", "Regionale stagebank", "Vaste contactpersoon bij UWV"]
    ids = [crowd.note(i, idea, None) for i, idea in enumerate(ideas)]
    waiting = crowd.note(3, "Nog niet goedgekeurd", None)
    for note_id in ids:
        crowd.call(lambda note_id=note_id: facilitator.hide_note(note_id, hidden=False))
    group = crowd.call(lambda: facilitator.put_note_group("Stagebank", (ids[0], ids[1])))
    expect(nl.get_by_test_id(f"wall-note-{ids[2]}")).to_be_visible()
    expect(nl.locator("[data-testid^='wall-group-']")).to_have_count(1)
    expect(nl.get_by_test_id(f"wall-note-{waiting}")).to_have_count(0)
    crowd.call(lambda: facilitator.set_dot_voting(DotVoting.OPEN))
    # A group is one item: its dots stand by its title.
    crowd.call(lambda: crowd.people[0].dot_vote(group, 2))
    crowd.call(lambda: crowd.people[1].dot_vote(ids[2], 1))
    crowd.call(lambda: facilitator.set_dot_voting(DotVoting.SHOWN))
    expect(nl.get_by_test_id(f"wall-group-{group}").locator("h2")).to_contain_text("2 stippen")
    expect(nl.get_by_test_id(f"wall-note-{ids[2]}")).to_contain_text("1 stip")
    check("brainstorm", nl, en)
    screenshot(nl, "presenter-brainstorm")

    # Agenda and closed: the agenda items, in Dutch dates.
    crowd.call(lambda: facilitator.set_phase(Phase.AGENDA))
    wait_phase(nl, "agenda")
    crowd.call(
        lambda: facilitator.put_agenda_item(
            "Eén regionale stagebank", owner="Gemeente", deadline="2027-03-01", norm_id=SPLIT
        )
    )
    crowd.call(lambda: facilitator.put_agenda_item("Vaste contactpersoon UWV", position=1))
    agenda = nl.get_by_test_id("agenda")
    expect(agenda).to_contain_text("1 maart 2027")
    expect(agenda).to_contain_text("nog niemand")
    expect(en.get_by_test_id("agenda")).to_contain_text("1 March 2027")
    check("agenda", nl, en)
    screenshot(nl, "presenter-agenda")

    crowd.call(lambda: facilitator.set_phase(Phase.CLOSED))
    wait_phase(nl, "closed")
    expect(nl.get_by_test_id("agenda")).to_contain_text("Eén regionale stagebank")
    check("closed", nl, en)
    screenshot(nl, "presenter-closed")

    assert problems == []
    assert errors == []
    crowd.call(projector.close)


async def _presenter_client(kleur: ServerProcess, room: dict[str, str]) -> KleurClient:
    client = KleurClient(
        kleur.ws_url, room["code"], Role.PRESENTER, token=room["display_url"].split("#")[1]
    )
    await client.connect()
    return client


async def _rate_rest(crowd: Crowd, norms: list[str]) -> None:
    """Everyone but the last person rates the other norms."""
    for index, person in enumerate(crowd.people[:5]):
        for norm in norms:
            await person.rate(norm, plan(index, norm))


def _range_words(q1: float | None, q3: float | None) -> str:
    """What the page says about the server's middle range (most_low, most_high:
    the quartiles rounded outward to whole scores), in Dutch."""

    def number(value: float) -> str:
        return re.sub(r"\.0$", "", f"{value:.1f}").replace(".", ",")

    assert q1 is not None and q3 is not None
    if q1 == q3:
        return f"De meeste cijfers zijn een {number(q1)}."
    return f"De meeste cijfers liggen tussen {number(q1)} en {number(q3)}."


def test_moderation_reaches_the_projector_and_the_author_at_once(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    dashboard = open_dashboard(browser, room, errors)
    projector = open_presenter(browser, room, errors)
    phone_page = open_phone(browser, room, errors)
    crowd = Crowd(kleur, room)
    crowds.append(crowd)
    crowd.join(1, [None])
    for phase in ("rating", "reveal", "brainstorm"):
        set_phase(dashboard, phase, [phone_page])
    wait_phase(projector, "brainstorm")
    expect(dashboard.get_by_test_id("moderation-switch")).to_be_checked()  # on by default

    phone_page.get_by_test_id("note-text").fill("Eén loket voor alle jongeren")
    phone_page.get_by_test_id("note-submit").click()
    own = phone_page.get_by_test_id("own-note")
    expect(own).to_have_count(1)
    note = own.get_attribute("data-note-id")
    assert note
    # Waiting: the author sees so, the facilitator has it in the queue.
    expect(own.get_by_test_id("own-note-waiting")).to_be_visible()
    expect(dashboard.get_by_test_id(f"pending-{note}")).to_contain_text("Eén loket")
    other = crowd.note(0, "Vaste contactpersoon bij UWV", None)
    dashboard.get_by_test_id(f"approve-{other}").click()
    # The projector has caught up with the other, approved note: ours is still not on it.
    expect(projector.get_by_test_id(f"wall-note-{other}")).to_be_visible()
    expect(projector.get_by_test_id(f"wall-note-{note}")).to_have_count(0)
    problems = serious(Axe(), dashboard, "dashboard-moderation")
    screenshot(dashboard, "dashboard-moderation")

    dashboard.get_by_test_id(f"approve-{note}").click()
    expect(projector.get_by_test_id(f"wall-note-{note}")).to_contain_text("Eén loket")
    expect(own.get_by_test_id("own-note-waiting")).to_have_count(0)
    expect(dashboard.get_by_test_id(f"pending-{note}")).to_have_count(0)

    # Hidden: gone from the projector, and marked on the author's phone, no reload.
    dashboard.get_by_test_id(f"hide-{note}").click()
    expect(projector.get_by_test_id(f"wall-note-{note}")).to_have_count(0)
    expect(own.get_by_test_id("own-note-hidden")).to_be_visible()
    expect(projector.get_by_test_id(f"wall-note-{other}")).to_be_visible()
    screenshot(phone_page, "phone-note-hidden")
    # Shown again: back on both.
    dashboard.get_by_test_id(f"hide-{note}").click()
    expect(projector.get_by_test_id(f"wall-note-{note}")).to_be_visible()
    expect(own.get_by_test_id("own-note-hidden")).to_have_count(0)

    # The switch off: new notes go up at once.
    dashboard.get_by_test_id("moderation-switch").uncheck()
    later = crowd.note(0, "Stagebank voor de hele regio", None)
    expect(projector.get_by_test_id(f"wall-note-{later}")).to_be_visible()
    assert problems == []
    assert errors == []


def test_control_on_a_second_device_from_the_link_the_control_view_shows(
    kleur: ServerProcess, browser: Browser
) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    dashboard = open_dashboard(browser, room, errors)
    toggle = dashboard.get_by_test_id("show-control")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(dashboard.get_by_test_id("control-panel")).to_be_hidden()
    toggle.click()
    panel = dashboard.get_by_test_id("control-panel")
    expect(panel).to_contain_text("bedient de sessie")  # the warning
    link = dashboard.get_by_test_id("control-link").inner_text().strip()
    assert link == room["facilitator_url"]
    qr = dashboard.get_by_test_id("control-qr")
    # An <img> without a src yet is "complete" too: wait for the loaded picture itself.
    dashboard.wait_for_function(
        "() => document.querySelector('[data-testid=control-qr]').naturalWidth > 0"
    )
    # The QR route the page shows holds exactly that link (made by the server, segno).
    svg = httpx.get(
        f"{kleur.http_url}/api/rooms/{room['code']}/control-qr.svg",
        headers={"Authorization": f"Bearer {link.split('#', 1)[1]}"},
    ).text
    expected = segno.make(link, error="m")
    assert qr_matrix(svg) == [[bool(cell) for cell in row] for row in expected.matrix]
    # And what a tablet's camera reads off the screen is that link.
    decoded = {
        code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))
    }
    assert decoded == {link}
    problems = serious(Axe(), dashboard, "dashboard-control")
    screenshot(dashboard, "dashboard-control")

    # A second device (a fresh browser context) opens the scanned link and has control.
    tablet = browser.new_context(viewport={"width": 1024, "height": 768}, locale="nl-NL").new_page()
    fail_on_page_errors(tablet, errors)
    tablet.goto(decoded.pop())
    expect(tablet.get_by_test_id("room-code")).to_contain_text(room["code"])
    tablet.get_by_test_id("phase-to-rating").click()
    expect(dashboard.get_by_test_id("phase")).to_have_attribute("data-phase", "rating")

    # The same device gets control back in a new tab without the link's token.
    again = dashboard.context.new_page()
    fail_on_page_errors(again, errors)
    again.goto(f"{kleur.http_url}/f/{room['code']}")
    expect(again.get_by_test_id("phase")).to_have_attribute("data-phase", "rating")
    expect(again.get_by_test_id("phase-to-reveal")).to_be_visible()

    # "Open presentatie" opens the projector's view in a window of its own.
    with dashboard.context.expect_page() as opened:
        dashboard.get_by_test_id("open-presenter").click()
    presenter = opened.value
    fail_on_page_errors(presenter, errors)
    expect(presenter.get_by_test_id("phase")).to_have_attribute("data-phase", "rating")
    # In the control view's language (the presenter has no switch of its own).
    assert presenter.url.split("#")[0] == f"{kleur.http_url}/p/{room['code']}?lang=nl"
    assert presenter.locator(CONTROLS).count() == 0
    assert problems == []
    assert errors == []


def test_a_follow_up_scan_shows_the_earlier_agenda_on_the_projector(
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
    crowd.rate(lambda _i, _norm: 4, [SPLIT])
    crowd.call(lambda: facilitator.set_phase(Phase.REVEAL))
    for position, action in enumerate(("Stagebank opzetten", "Overleg met UWV")):
        crowd.call(
            lambda action=action, position=position: facilitator.put_agenda_item(
                action, owner="Gemeente", position=position
            )
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
    later = Crowd(kleur, room)
    crowds.append(later)
    later.join(3, [None])
    control = later.join_facilitator()
    later.call(lambda: control.command(lambda seq: SetFollowUpStatus(seq, 1, FollowUpStatus.DONE)))
    projector = open_presenter(browser, room, errors, "?theme=1")
    later.call(lambda: control.set_phase(Phase.RATING))
    later.wait_phase(Phase.RATING)
    later.rate(lambda _i, _norm: 7, [SPLIT])
    later.call(lambda: control.set_phase(Phase.REVEAL))
    wait_phase(projector, "reveal")
    expect(projector.get_by_test_id(f"norm-{SPLIT}")).to_contain_text("Vorige keer: 4")
    for phase in (Phase.BRAINSTORM, Phase.AGENDA):
        later.call(lambda phase=phase: control.set_phase(phase))
    wait_phase(projector, "agenda")
    previous = projector.get_by_test_id("previous")
    expect(previous).to_contain_text("Stagebank opzetten")
    expect(previous.locator("li").nth(0)).to_contain_text("Nog niet begonnen")
    expect(previous.locator("li").nth(1)).to_contain_text("Klaar")
    expect(previous.locator("li").nth(1)).to_contain_text("Overleg met UWV")
    problems = readable_problems(projector, "follow-up-agenda")
    problems.extend(serious(Axe(), projector, "follow-up-agenda"))
    assert problems == []
    assert errors == []
