"""The presenter view fits common projectors, and its pages can be turned and held.

One room with twelve people (Python clients) goes through every phase while
the real page is open at 1280×720, 1366×768, 1024×768 and 1920×1080.  On
every page of every phase (lobby with and without a countdown, rating, each
results page, the matrix, round 2, brainstorm, dots, agenda) nothing may be
clipped: no element's box outside the viewport, no text box whose text is
wider than the box, and the room code whole.  The pages are turned with the
keys and over the BroadcastChannel the control view uses
(``PRESENTER_PAGES`` in client/static/kleur.js).
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page, expect

from agenda.templates import load_builtin_templates
from protocol.phases import DotVoting, Phase
from tests.browser import fail_on_page_errors, screenshot
from tests.support import ServerProcess
from tests.test_pages import browser as browser  # the module-scoped fixture, shared
from tests.test_pages_analysis import Crowd, crowd_in_new_room
from tests.test_pages_analysis import crowds as crowds  # closes the clients

SCAN = load_builtin_templates()["participatiescan"]
SIZES = [(1280, 720), (1366, 768), (1024, 768), (1920, 1080)]
SPLIT = SCAN.norms[2].id

#: Everything on the screen that is cut off: boxes outside the viewport, text
#: wider than its box, a room code not whole.
CLIPPED = """() => {
  const W = innerWidth, H = innerHeight, found = [];
  const name = (e) => e.getAttribute('data-testid') || e.id || e.className || e.tagName;
  for (const e of document.body.querySelectorAll('*')) {
    if (e.closest('[hidden], .visually-hidden, script, style')) continue;
    const style = getComputedStyle(e);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.left < -0.5 || r.top < -0.5 || r.right > W + 0.5 || r.bottom > H + 0.5) {
      found.push(`${name(e)} outside (${Math.round(r.left)},${Math.round(r.top)})-` +
                 `(${Math.round(r.right)},${Math.round(r.bottom)})`);
      continue;
    }
    const hasText = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (hasText && style.display !== 'inline' && e.scrollWidth > e.clientWidth + 1) {
      found.push(`${name(e)} text wider than its box: ${e.textContent.trim().slice(0, 30)}`);
    }
  }
  const code = document.getElementById('room-code');
  const header = code.closest('header');
  if (header.scrollWidth > header.clientWidth + 1) found.push('the header is wider than the screen');
  const range = document.createRange();
  range.selectNodeContents(code);
  const box = range.getBoundingClientRect();
  if (box.width === 0 || box.right > W + 0.5 || box.bottom > H + 0.5) found.push('room code cut');
  return found;
}"""

IDEAS = [
    "Eén contactpersoon bij de school voor alle werkgevers",
    "Elke school een vaste contactpersoon voor werkgevers geven",
    "Meer stageplekken bij kleine bedrijven zoeken",
    "Stageplekken bij kleine bedrijven in de regio werven",
    "Warme overdracht van school naar werk met een vast gesprek",
    "Jobcoach ook na 18 jaar beschikbaar houden",
    "Signalen van verzuim sneller delen tussen school en leerplicht",
    "Train school staff and employers together once a year",
    "Ouders eerder betrekken bij de keuze voor werk",
    "Een regionale netwerkdag voor werkgevers en scholen organiseren, met een markt waar "
    "jongeren zich presenteren aan bedrijven uit de regio en afspraken maken voor een stage",
    "Gezamenlijke scholing voor begeleiders van school en gemeente",
    "Arbeidsmarktregio-overstijgende samenwerkingsafspraken vastleggen",
    "Een loket voor alle vragen van werkgevers",
    "Meer tijd voor begeleiding op de werkvloer",
    "Kleine klassen voor jongeren die extra hulp nodig hebben",
    "Vervoer naar de stage regelen voor jongeren zonder rijbewijs",
]


def plan(index: int, norm: str) -> int | None:
    if norm == SPLIT:
        return 1 if index % 2 == 0 else 9
    return 4 + (index + len(norm)) % 6


def open_at(
    browser: Browser, room: dict[str, str], size: tuple[int, int], errors: list[str]
) -> Page:
    page = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, locale="nl-NL"
    ).new_page()
    fail_on_page_errors(page, errors)
    url, _, token = room["display_url"].partition("#")
    page.goto(f"{url}#{token}")
    expect(page.get_by_test_id("room-code")).to_have_text(room["code"])
    return page


def pages_of(page: Page) -> int:
    pager = page.get_by_test_id("pager")
    return int(pager.get_attribute("data-pages") or 1) if pager.count() else 1


def at_page(page: Page) -> int:
    pager = page.get_by_test_id("pager")
    return int(pager.get_attribute("data-page") or 1) if pager.count() else 1


def test_every_phase_fits_every_projector_size(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    crowd = crowd_in_new_room(kleur, crowds)
    room = crowd.room
    facilitator = crowd.join_facilitator()
    crowd.call(lambda: facilitator.set_expected_people(12))
    crowd.join(12, ["gemeente", "onderwijs", "werkgever", "uwv"])
    screens = {size: open_at(browser, room, size, errors) for size in SIZES}
    problems: list[str] = []

    def check(name: str) -> None:
        for (w, h), page in screens.items():
            found: list[str] = page.evaluate(CLIPPED)
            problems.extend(f"{name} at {w}x{h}: {p}" for p in found)
            screenshot(page, f"presenter-fit-{name}-{w}x{h}")

    def every_page(name: str) -> None:
        """Hold, then step through every page with the arrow key, round to where it started."""
        for (w, h), page in screens.items():
            page.keyboard.press("p")
            expect(page.get_by_test_id("held")).to_be_visible()
            # The page may have turned by itself before the hold (every 20 s).
            count, start = pages_of(page), at_page(page)
            for step in range(count):
                number = (start - 1 + step) % count + 1
                assert at_page(page) == number, f"{name} at {w}x{h}"
                found: list[str] = page.evaluate(CLIPPED)
                problems.extend(f"{name} page {number} at {w}x{h}: {p}" for p in found)
                screenshot(page, f"presenter-fit-{name}-{number}-{w}x{h}")
                page.keyboard.press("ArrowRight")
            assert at_page(page) == start, f"{name} at {w}x{h}: the last page leads to the first"
            page.keyboard.press(" ")
            expect(page.get_by_test_id("held")).to_have_count(0)

    for page in screens.values():
        expect(page.get_by_test_id("joined")).to_have_attribute("data-count", "12")
        page.wait_for_function("() => document.querySelector('[data-testid=qr]').naturalWidth > 0")
    check("lobby")
    crowd.call(lambda: facilitator.set_timer(300))
    for page in screens.values():
        expect(page.get_by_test_id("timer")).to_be_visible()
    check("lobby-timer")

    crowd.call(lambda: facilitator.set_phase(Phase.RATING))
    for page in screens.values():
        expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "rating")
        # Latecomers: the join QR code stays in the corner; the header counts people only.
        expect(page.get_by_test_id("join-qr")).to_be_visible()
        expect(page.get_by_test_id("participants")).to_have_text("12 mensen doen mee")
        page.wait_for_function("() => document.getElementById('join-qr').naturalWidth > 0")
    norms = [n.id for n in SCAN.norms]
    crowd.rate(plan, norms)
    check("rating")

    crowd.call(lambda: facilitator.set_phase(Phase.REVEAL))
    for page in screens.values():
        expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "reveal")
        expect(page.get_by_test_id("round")).to_be_hidden()
    every_page("reveal")

    # Round 2: the header names it, and each norm says how its middle score moved.
    crowd.call(lambda: facilitator.set_phase(Phase.RATING))
    crowd.wait_phase(Phase.RATING, 2)
    crowd.rate(lambda i, n: (plan(i, n) or 0) + 1 if n != SPLIT else 5, norms)
    crowd.call(lambda: facilitator.set_phase(Phase.REVEAL))
    for page in screens.values():
        expect(page.get_by_test_id("round")).to_have_text("Ronde 2")
        expect(page.get_by_test_id(f"shift-{SCAN.norms[0].id}")).to_contain_text("sinds ronde 1")
    every_page("reveal2")

    crowd.call(lambda: facilitator.set_phase(Phase.BRAINSTORM))
    ids = [crowd.note(i % 12, idea, None) for i, idea in enumerate(IDEAS)]
    for note_id in ids:
        crowd.call(lambda note_id=note_id: facilitator.hide_note(note_id, hidden=False))
    first = crowd.call(lambda: facilitator.put_note_group("Vaste contactpersoon", tuple(ids[:2])))
    crowd.call(lambda: facilitator.put_note_group("Stageplekken in het mkb", tuple(ids[2:4])))
    for page in screens.values():
        expect(page.get_by_test_id(f"wall-group-{first}")).to_be_attached()
    every_page("brainstorm")

    # Dots: one ranking, a loose idea with 6 dots above a group with 3.
    crowd.call(lambda: facilitator.set_dot_voting(DotVoting.OPEN))
    crowd.call(lambda: crowd.people[0].dot_vote(first, 3))
    for person in crowd.people[1:4]:
        crowd.call(lambda person=person: person.dot_vote(ids[5], 2))
    crowd.call(lambda: facilitator.set_dot_voting(DotVoting.SHOWN))
    nl = screens[(1920, 1080)]
    expect(nl.get_by_test_id(f"wall-note-{ids[5]}")).to_contain_text("6 stippen")
    order: list[Any] = nl.get_by_test_id("wall-items").evaluate(
        "l => [...l.children].map(c => c.getAttribute('data-testid'))"
    )
    assert order[:2] == [f"wall-note-{ids[5]}", f"wall-group-{first}"], order
    every_page("dots")

    crowd.call(lambda: facilitator.set_phase(Phase.AGENDA))
    for index in range(9):
        crowd.call(
            lambda index=index: facilitator.put_agenda_item(
                IDEAS[index], owner="Gemeente", deadline="2027-03-01", norm_id=norms[index]
            )
        )
    for page in screens.values():
        expect(page.locator("[data-testid^='agenda-']").first).to_be_attached()
    every_page("agenda")

    # Closed: nobody can take part any more, so no join QR code.
    crowd.call(lambda: facilitator.set_phase(Phase.CLOSED))
    for page in screens.values():
        expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "closed")
        expect(page.get_by_test_id("join")).to_be_hidden()
    check("closed")

    assert problems == []
    assert errors == []


#: A second page in the presenter's browser, as the control view is: it sends
#: page actions on the channel and keeps the presenter's answers.
LISTEN = """code => {
  window.states = [];
  window.channel = new BroadcastChannel(`kleur-presenter-${code}`);
  window.channel.onmessage = (event) => window.states.push(event.data);
}"""


def test_the_control_view_turns_and_holds_the_pages_over_a_broadcast_channel(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    crowd = crowd_in_new_room(kleur, crowds)
    room = crowd.room
    facilitator = crowd.join_facilitator()
    crowd.join(3, ["gemeente"])
    crowd.call(lambda: facilitator.set_phase(Phase.RATING))
    crowd.rate(plan, [n.id for n in SCAN.norms])
    crowd.call(lambda: facilitator.set_phase(Phase.REVEAL))
    presenter = open_at(browser, room, (1920, 1080), errors)
    expect(presenter.get_by_test_id("phase")).to_have_attribute("data-phase", "reveal")
    control = presenter.context.new_page()
    fail_on_page_errors(control, errors)
    control.goto(kleur.http_url + "/")
    control.evaluate(LISTEN, room["code"])

    def send(message: dict[str, str]) -> dict[str, Any]:
        seen = control.evaluate("() => window.states.length")
        control.evaluate("m => window.channel.postMessage(m)", message)
        control.wait_for_function(f"() => window.states.length > {seen}")
        state: dict[str, Any] = control.evaluate("() => window.states.at(-1)")
        return state

    pages = len(SCAN.themes) + 1  # one theme a page at 1920×1080, then the matrix
    assert send({"type": "page-query"}) == {
        "type": "page-state",
        "page": 1,
        "pages": pages,
        "held": False,
    }
    assert send({"type": "page", "action": "next"})["page"] == 2
    expect(presenter.get_by_test_id("reveal-page")).to_have_attribute(
        "data-theme", SCAN.themes[1].id
    )
    assert send({"type": "page", "action": "hold"})["held"] is True
    expect(presenter.get_by_test_id("held")).to_have_text("Vastgezet")
    assert send({"type": "page", "action": "prev"}) == {
        "type": "page-state",
        "page": 1,
        "pages": pages,
        "held": True,
    }
    assert send({"type": "page", "action": "prev"})["page"] == pages  # round to the matrix
    expect(presenter.get_by_test_id("matrix")).to_be_visible()
    assert send({"type": "page", "action": "resume"})["held"] is False
    expect(presenter.get_by_test_id("held")).to_have_count(0)
    # Anything else on the channel is left alone.
    control.evaluate("() => window.channel.postMessage({type: 'page', action: 'jump'})")
    control.evaluate("() => window.channel.postMessage('next')")
    assert send({"type": "page-query"})["page"] == pages
    assert errors == []
