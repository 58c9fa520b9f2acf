"""The control view's links, page buttons, layout and words, in a real headless Chromium.

From a facilitator walkthrough (2026-12-06): the presenter's own link for a
projector on another device, the join link the QR code holds, buttons that
turn and hold the projector's results pages (a BroadcastChannel to the
presenter window), the devices panel folded after the lobby, and the words
of a few panels.  Participants are Python clients (``Crowd``).
"""

from __future__ import annotations

import io
import re

import httpx
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from protocol.phases import Phase
from tests.browser import fail_on_page_errors, screenshot
from tests.support import ServerProcess
from tests.test_pages import NORMS, open_dashboard
from tests.test_pages import browser as browser  # the module-scoped fixture, shared
from tests.test_pages_analysis import Crowd, crowd_in_new_room, crowds, go
from tests.test_session import qr_matrix

__all__ = ["browser", "crowds"]

#: A stand-in for the presenter's side of the page contract, in a page of the
#: same browser: it answers every message on the channel and keeps them.
PRESENTER_STUB = """(code) => {
  window.seen = [];
  const state = { page: 1, pages: 5, held: false };
  const channel = new BroadcastChannel(`kleur-presenter-${code}`);
  channel.onmessage = (event) => {
    const m = event.data;
    window.seen.push(m);
    if (m.type === "page" && m.action === "next") state.page = Math.min(state.pages, state.page + 1);
    if (m.type === "page" && m.action === "prev") state.page = Math.max(1, state.page - 1);
    if (m.type === "page" && m.action === "hold") state.held = true;
    if (m.type === "page" && m.action === "resume") state.held = false;
    channel.postMessage({ type: "page-state", ...state });
  };
}"""


def decoded(page: Page, test_id: str) -> set[str]:
    page.wait_for_function(
        f"() => document.querySelector('[data-testid={test_id}]').naturalWidth > 0"
    )
    picture = page.get_by_test_id(test_id).screenshot()
    return {code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(picture)))}


def test_links_for_the_presenter_and_the_locked_room(
    kleur: ServerProcess, browser: Browser
) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    dashboard = open_dashboard(browser, room, errors)
    # The join panel prints the link its QR code holds: it works when the room is locked.
    expect(dashboard.get_by_test_id("join-url")).to_have_text(room["join_url"])
    assert decoded(dashboard, "qr") == {room["join_url"]}
    expect(dashboard.get_by_test_id("join-url").locator("..")).to_contain_text("je telefoon")

    # The presenter's own link and its QR code, for a projector on another device.
    dashboard.get_by_test_id("lang-en").click()
    dashboard.get_by_test_id("show-control").click()
    part = dashboard.get_by_test_id("display-part")
    expect(part).to_contain_text("Presenter on another device")
    expect(dashboard.get_by_test_id("display-link")).to_have_text(room["display_url"])
    assert decoded(dashboard, "display-qr") == {room["display_url"]}
    dashboard.get_by_test_id("copy-display-link").click()  # to the clipboard, or selected
    expect(dashboard.locator("#display-link-status")).to_have_text(
        re.compile(r"^(The link was copied\.|The link is selected\. Copy it with Ctrl\+C\.)$")
    )
    screenshot(dashboard, "dashboard-other-devices")
    # Only with the facilitator's token: the display token does not give its own QR code.
    route = f"{kleur.http_url}/api/rooms/{room['code']}/display-qr.svg"
    display = room["display_url"].split("#", 1)[1]
    assert httpx.get(route, headers={"Authorization": f"Bearer {display}"}).status_code == 401
    assert httpx.get(route).status_code == 401
    svg = httpx.get(route, headers={"Authorization": f"Bearer {room['facilitator_token']}"})
    assert svg.status_code == 200 and qr_matrix(svg.text)

    # "Open presentation" opens it in the control view's language.
    with dashboard.context.expect_page() as opened:
        dashboard.get_by_test_id("open-presenter").click()
    presenter = opened.value
    fail_on_page_errors(presenter, errors)
    expect(presenter.locator("html")).to_have_attribute("lang", "en")
    assert presenter.url.split("#")[0].endswith(f"/p/{room['code']}?lang=en")
    assert errors == []


def test_buttons_turn_and_hold_the_presenters_pages(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    crowd = crowd_in_new_room(kleur, crowds)
    room = crowd.room
    crowd.join(3, ["gemeente"])
    dashboard = open_dashboard(browser, room, errors)
    go(dashboard, "rating")
    crowd.wait_phase(Phase.RATING)
    crowd.rate(lambda i, _norm: 3 + i, NORMS[:4])
    go(dashboard, "reveal")
    # No presenter in this browser: the tool says where the keys are.
    expect(dashboard.get_by_test_id("pager-none")).to_be_visible()
    expect(dashboard.get_by_test_id("pager-none")).to_contain_text("pijltjestoetsen")
    screenshot(dashboard, "dashboard-pager-none")

    # A page of the same browser answers on the channel, as the presenter window does.
    other = dashboard.context.new_page()
    other.goto(f"{kleur.http_url}/healthz")
    other.evaluate(PRESENTER_STUB, room["code"])
    dashboard.get_by_test_id("pager-next").click()
    expect(dashboard.get_by_test_id("pager-state")).to_have_text("pagina 2 van 5")
    expect(dashboard.get_by_test_id("pager-none")).to_be_hidden()
    dashboard.get_by_test_id("pager-hold").click()
    expect(dashboard.get_by_test_id("pager-state")).to_have_text("pagina 2 van 5 · vastgezet")
    screenshot(dashboard, "dashboard-pager")
    expect(dashboard.get_by_test_id("pager-hold")).to_have_text("Doorgaan")
    dashboard.get_by_test_id("pager-hold").click()
    dashboard.get_by_test_id("pager-prev").click()
    expect(dashboard.get_by_test_id("pager-state")).to_have_text("pagina 1 van 5")
    seen = other.evaluate("() => window.seen")
    assert [m.get("action") for m in seen if m["type"] == "page"] == [
        "next",
        "hold",
        "resume",
        "prev",
    ]
    assert errors == []


def test_the_buttons_hold_and_turn_the_real_presenter_window(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    """Both ends of the contract (PRESENTER_PAGES in kleur.js): the control view's
    buttons and the presenter that "Open presentatie" opened, in one browser."""
    errors: list[str] = []
    crowd = crowd_in_new_room(kleur, crowds)
    room = crowd.room
    crowd.join(3, ["gemeente"])
    dashboard = open_dashboard(browser, room, errors)
    with dashboard.context.expect_page() as opened:
        dashboard.get_by_test_id("open-presenter").click()
    presenter = opened.value
    fail_on_page_errors(presenter, errors)
    go(dashboard, "rating")
    crowd.wait_phase(Phase.RATING)
    crowd.rate(lambda i, _norm: 3 + i, NORMS[:4])
    go(dashboard, "reveal")
    expect(presenter.get_by_test_id("reveal-page").first).to_be_visible()

    dashboard.get_by_test_id("pager-hold").click()
    held = re.compile(r"^pagina (\d+) van (\d+) · vastgezet$")
    expect(dashboard.get_by_test_id("pager-state")).to_have_text(held)
    expect(presenter.get_by_test_id("held")).to_be_visible()
    # The page it holds (it may have turned by itself once before the click).
    match = held.match(dashboard.get_by_test_id("pager-state").inner_text())
    assert match is not None
    page, pages = int(match[1]), int(match[2])
    first = presenter.get_by_test_id("reveal-page").first.get_attribute("data-theme")
    dashboard.get_by_test_id("pager-next").click()
    expect(dashboard.get_by_test_id("pager-state")).to_have_text(
        f"pagina {page % pages + 1} van {pages} · vastgezet"
    )
    expect(presenter.get_by_test_id("reveal-page").first).not_to_have_attribute(
        "data-theme", first or ""
    )
    dashboard.get_by_test_id("pager-hold").click()  # resume
    expect(presenter.get_by_test_id("held")).to_have_count(0)
    expect(dashboard.get_by_test_id("pager-none")).to_be_hidden()
    assert errors == []


def test_layout_and_words_from_lobby_to_close(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    errors: list[str] = []
    crowd = crowd_in_new_room(kleur, crowds)
    room = crowd.room
    crowd.join(6, ["gemeente", "onderwijs"])
    page = browser.new_context(viewport={"width": 1100, "height": 650}, locale="nl-NL").new_page()
    fail_on_page_errors(page, errors)
    page.goto(room["facilitator_url"])
    fold = page.get_by_test_id("admission-fold")
    expect(fold).to_have_attribute("open", "")
    go(page, "rating")
    crowd.wait_phase(Phase.RATING)
    # After the lobby the devices panel is one line; "Toon QR-code" closes with the phase.
    expect(fold).not_to_have_attribute("open", "")
    page.get_by_test_id("show-join").click()
    expect(page.get_by_test_id("join-url")).to_be_visible()
    crowd.rate(lambda i, _norm: 1 if i < 3 else 9, NORMS[:6])
    go(page, "reveal")
    expect(page.locator("#join")).to_be_hidden()
    # The results start on the first screen at 1100x650.
    title = page.locator("#results-title").bounding_box()
    assert title is not None and title["y"] + title["height"] < 650, title
    expect(page.get_by_test_id(f"contested-{NORMS[0]}")).to_have_text("Verdeeld")
    row = page.get_by_test_id(f"norm-{NORMS[10]}")  # nobody rated it
    expect(row.get_by_text("Nog geen antwoorden")).to_have_count(1)
    screenshot(page, "dashboard-1100-reveal")

    # Ideas waiting for approval: the wall says they wait.
    go(page, "brainstorm")
    crowd.wait_phase(Phase.BRAINSTORM)
    crowd.note(0, "Eén loket voor werkgevers", NORMS[0])
    expect(page.locator("#wall-empty")).to_have_text(
        "Nog geen ideeën op de muur. 1 idee wacht tot je het goedkeurt (hierboven)."
    )
    # A norm with an action already is marked in the proposal.
    page.get_by_test_id(f"draft-use-{NORMS[0]}").click()
    page.get_by_test_id("agenda-save").click()
    expect(page.get_by_test_id(f"draft-taken-{NORMS[0]}")).to_have_text("Staat al op de agenda")

    # Closing says what the agenda still lacks.
    go(page, "agenda")
    page.get_by_test_id("phase-to-closed").click()
    warning = page.get_by_test_id("confirm-warning")
    expect(warning).to_contain_text("1 actie heeft nog geen trekker")
    expect(warning).to_contain_text("1 actie heeft nog geen datum")
    screenshot(page, "dashboard-close-warning")
    page.get_by_test_id("confirm-cancel").click()
    expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "agenda")
    assert errors == []
