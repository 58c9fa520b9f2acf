"""The start page as a new facilitator and the phones meet it, and every page with no script error.

The start page was blank for a whole release (a SyntaxError in ``start.js``)
while every other test passed: these tests start a session from ``/`` with the
page's own controls, join by typing the code on ``/`` and by the QR code (read
from a screenshot of the control view, as a phone camera would), and open
every page and route the server has in Chromium, failing on any script error.
"""

from __future__ import annotations

import asyncio
import io
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from client.kleur_client import KleurClient
from protocol.phases import Phase, Role
from server.app import create_app
from server.settings import Settings
from tests.browser import (
    big_screen,
    fail_on_page_errors,
    phone,
    screenshot,
)
from tests.support import ServerProcess
from tests.test_pages import browser as browser  # the module-scoped fixture, shared


def start_session_from_the_start_page(browser: Browser, base: str, errors: list[str]) -> Page:
    page = big_screen(browser).new_page()
    fail_on_page_errors(page, errors)
    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="Zelf een sessie leiden")).to_be_visible()
    page.get_by_test_id("template-participatiescan").check()
    page.get_by_test_id("start-session").click()
    page.wait_for_url(f"{base}/f/*")
    expect(page.get_by_test_id("room-code")).to_have_text(page.url.rsplit("/", 1)[1].split("#")[0])
    return page


def read_qr(page: Page) -> str:
    """The text of the join QR code, decoded from what the screen shows."""
    qr = page.get_by_test_id("qr")
    expect(qr).to_have_js_property("complete", True)
    page.wait_for_function("() => document.querySelector('[data-testid=qr]').naturalWidth > 0")
    image = Image.open(io.BytesIO(qr.screenshot()))
    # zxing may report the same symbol twice (two detectors): one text is one code.
    found = {str(code.text) for code in zxingcpp.read_barcodes(image)}
    assert len(found) == 1, f"expected one QR code on screen, found {sorted(found)}"
    return found.pop()


def test_a_session_starts_from_the_start_page_and_phones_join_by_code_and_by_qr(
    kleur: ServerProcess, browser: Browser
) -> None:
    errors: list[str] = []
    control = start_session_from_the_start_page(browser, kleur.http_url, errors)
    code = control.get_by_test_id("room-code").inner_text().strip()
    expect(control.get_by_test_id("participants")).to_contain_text("0")

    # A phone types the code on the start page, in lower case with a space, as people do.
    typed = phone(browser).new_page()
    fail_on_page_errors(typed, errors)
    typed.goto(f"{kleur.http_url}/")
    typed.get_by_test_id("join-code").fill(f"{code[:3].lower()} {code[3:].lower()}")
    typed.get_by_test_id("join-button").click()
    expect(typed.get_by_test_id("phase")).to_have_attribute("data-phase", "lobby")
    assert typed.url.startswith(f"{kleur.http_url}/j/{code}")

    # Another scans the QR code on the screen.
    link = read_qr(control)
    assert link.startswith(f"{kleur.http_url}/j/{code}?t="), link
    scanned = phone(browser).new_page()
    fail_on_page_errors(scanned, errors)
    scanned.goto(link)
    expect(scanned.get_by_test_id("phase")).to_have_attribute("data-phase", "lobby")

    expect(control.get_by_test_id("participants")).to_contain_text("2")
    screenshot(typed, "start-joined-by-code")
    assert errors == []


def test_a_wrong_code_on_the_start_page_says_so(kleur: ServerProcess, browser: Browser) -> None:
    errors: list[str] = []
    page = phone(browser).new_page()
    fail_on_page_errors(page, errors)
    page.goto(f"{kleur.http_url}/")
    page.get_by_test_id("join-code").fill("AB")
    page.get_by_test_id("join-button").click()
    expect(page.locator("#join-error")).to_contain_text("Deze code klopt niet")
    expect(page.get_by_test_id("join-code")).to_be_focused()
    assert page.url == f"{kleur.http_url}/"
    screenshot(page, "start-phone")
    assert errors == []


# ------------------------------------------------------------ a follow-up scan

EARLIER_ACTION = "Eén werkgeversloket in de regio"


async def an_earlier_scan(kleur: ServerProcess) -> dict[str, object]:
    """A short scan with one agreed action; its JSON export, as the facilitator downloaded it."""
    room = kleur.create_room()
    code, token = room["code"], room["facilitator_token"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=token)
    await facilitator.connect()
    person = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    await person.connect()
    await facilitator.set_phase(Phase.RATING)
    await person.wait_for(lambda c: c.state is not None and c.state.phase is Phase.RATING)
    await person.rate("deskundigheid-werkgevers", 6)
    await facilitator.set_phase(Phase.REVEAL)
    await facilitator.put_agenda_item(EARLIER_ACTION, owner="Gemeente", deadline="2027-06-01")
    await facilitator.wait_dashboard(lambda d: len(d.agenda) == 1)
    for client in (facilitator, person):
        await client.close()
    export = httpx.get(
        f"{kleur.http_url}/api/rooms/{code}/export.json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert export.status_code == 200
    document: dict[str, object] = export.json()
    return document


def test_a_follow_up_scan_starts_from_the_start_page_with_the_earlier_export(
    kleur: ServerProcess, browser: Browser, tmp_path: Path
) -> None:
    # Playwright's sync API runs an event loop in this thread: the client gets its own thread.
    with ThreadPoolExecutor(1) as pool:
        earlier = pool.submit(asyncio.run, an_earlier_scan(kleur)).result()
    export_file = tmp_path / "kleur-earlier.json"
    export_file.write_text(json.dumps(earlier), encoding="utf-8")
    not_an_export = tmp_path / "notes.json"
    not_an_export.write_text('{"hello": "world"}', encoding="utf-8")

    errors: list[str] = []
    page = big_screen(browser).new_page()
    fail_on_page_errors(page, errors)
    page.goto(f"{kleur.http_url}/")
    # A wrong file is refused on the page, with what to do instead.
    page.get_by_test_id("previous-file").set_input_files(str(not_an_export))
    expect(page.locator("#previous-error")).to_contain_text("geen export van kleur")
    page.get_by_test_id("start-session").click()
    expect(page.get_by_test_id("previous-file")).to_be_focused()
    assert page.url == f"{kleur.http_url}/"

    page.get_by_test_id("previous-file").set_input_files(str(export_file))
    expect(page.get_by_test_id("previous-summary")).to_contain_text(str(earlier["room"]))
    expect(page.get_by_test_id("previous-summary")).to_contain_text("1 afspraak.")
    page.get_by_test_id("session-name").fill("Vervolgscan Rivierenland")
    page.get_by_test_id("session-region").fill("Rivierenland")
    expect(page.get_by_test_id("start-session")).to_have_text("Start de vervolgscan")
    screenshot(page, "start-follow-up")
    page.get_by_test_id("start-session").click()
    page.wait_for_url(f"{kleur.http_url}/f/*")
    # The control view shows the earlier agenda, with a status to set.
    previous = page.get_by_test_id("previous-scan")
    expect(previous).to_contain_text(EARLIER_ACTION)
    expect(previous).to_contain_text("Gemeente")
    assert errors == []


# ------------------------------------------------------------ every page and route


def _page_urls(kleur: ServerProcess) -> dict[str, list[str]]:
    """Each HTML route of the app, with the URLs a person may open for it."""
    room = kleur.create_room()
    code = room["code"]
    token = room["facilitator_url"].split("#", 1)[1]
    return {
        "/": ["/", "/?lang=en"],
        "/j/{code}": [
            f"/j/{code}",
            f"/j/{code.lower()}",
            room["join_url"].removeprefix(kleur.http_url),
            "/j/ZZZZZZ",  # no such room: the page says so
        ],
        "/p/{code}": [
            room["display_url"].removeprefix(kleur.http_url),
            f"/p/{code}",  # no token: the page says what to do
            f"/p/{code}?view=matrix#" + room["display_url"].split("#", 1)[1],
        ],
        "/f/{code}": [
            f"/f/{code}#{token}",
            f"/f/{code}",  # no token: the page says what to do
            f"/f/{code}#not-the-right-token-at-all",
        ],
    }


def _html_routes() -> set[str]:
    app = create_app(Settings.from_env())
    return {
        route.path
        for route in app.routes
        if getattr(getattr(route, "endpoint", None), "__module__", "") == "server.pages"
        and getattr(route, "endpoint", None).__name__ != "protocol_json"  # type: ignore[union-attr]
    }


def test_every_page_and_route_opens_with_no_script_error(
    kleur: ServerProcess, browser: Browser
) -> None:
    urls = _page_urls(kleur)
    assert set(urls) == _html_routes(), "a page route is not opened by this test"
    for locale in ("nl-NL", "en-GB"):
        for make in (phone, big_screen):
            context = make(browser, locale)
            for path in [url for group in urls.values() for url in group]:
                errors: list[str] = []
                page = context.new_page()
                fail_on_page_errors(page, errors)
                page.goto(f"{kleur.http_url}{path}")
                page.wait_for_load_state("networkidle")
                # Something a person can read: never a blank page.
                expect(page.locator("main")).not_to_be_empty()
                body = page.locator("body").inner_text()
                assert body.strip(), f"{path} is blank"
                for word in ("undefined", "null", "NaN", "[object Object]"):
                    assert word not in body, f"{path} shows {word!r}"
                assert errors == [], f"{locale} {path}: {errors}"
                page.close()
            context.close()
    # The JSON and text routes answer too.
    for path in ("/api/protocol", "/api/templates", "/healthz", "/readyz", "/metrics"):
        assert httpx.get(f"{kleur.http_url}{path}").status_code == 200, path
