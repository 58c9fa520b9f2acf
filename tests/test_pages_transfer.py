"""What a phone downloads to join (issue 13, light pages), measured in Chromium.

A fresh browser context opens the join link of a real room, as a phone does
when it scans the QR code, and counts the bytes of every response as they
came over the wire: ``encodedDataLength`` of CDP's ``Network.loadingFinished``,
headers and (gzipped) body, which is what DevTools shows as "transferred".
Then the same context opens the link again (a second scan, or a phone that
lost its tab): the versioned assets come from the browser's cache without a
request, and only the page itself and the protocol document travel.

The websocket is not counted: it is not a download of the page, and its
frames are the session itself (``docs/benchmarks.md`` measures those).

The figures, per resource and in total, go to ``test-artifacts/transfer.json``
for the operations guide; the URLs there carry no room code and no token.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, CDPSession, Page, expect

from tests.browser import fail_on_page_errors, phone
from tests.support import ROOT, ServerProcess
from tests.test_pages import browser as browser  # the module-scoped fixture, shared

ARTIFACT = ROOT / "test-artifacts" / "transfer.json"
#: The issue's target: at most 40 KB, compressed, on a phone's first visit.  The
#: bodies are held to it (measured: 39,084 bytes, from 184,482 before issue 13);
#: the 20 responses' HTTP/1.1 headers come on top (7,250 bytes; HTTP/2 at the
#: proxy compresses repeated headers), with a bound of their own.
FIRST_VISIT_BODY_LIMIT = 40_000
FIRST_VISIT_LIMIT = 48 * 1024
#: A second visit fetches the page and the protocol, not the assets: under a quarter.
SECOND_VISIT_SHARE = 0.25
VERSION = re.compile(r"/static/[0-9a-f]{16}/")


@dataclass(frozen=True, slots=True)
class Transfer:
    url: str  # path only, code and version replaced: nothing to identify a room
    status: int
    bytes: int  # on the wire: headers + body as sent (gzipped when it was)
    header_bytes: int  # of those, the response headers (HTTP/1.1: sent in full each time)
    from_cache: bool


class TransferLog:
    """Every finished response of one page, by CDP request id."""

    def __init__(self, cdp: CDPSession, code: str) -> None:
        self.code = code
        self.responses: dict[str, dict[str, Any]] = {}
        self.finished: dict[str, float] = {}
        self.cached: set[str] = set()
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.requestServedFromCache", lambda e: self.cached.add(e["requestId"]))
        cdp.on("Network.loadingFinished", self._finished)
        cdp.send("Network.enable")

    def _response(self, event: dict[str, Any]) -> None:
        self.responses[event["requestId"]] = event["response"]

    def _finished(self, event: dict[str, Any]) -> None:
        self.finished[event["requestId"]] = event["encodedDataLength"]

    def _name(self, url: str) -> str:
        path = urlsplit(url).path  # no query, no fragment: the token stays out
        return VERSION.sub("/static/VERSION/", path).replace(self.code, "CODE")

    def take(self) -> list[Transfer]:
        """The transfers so far (finished ones), and start counting afresh."""
        transfers = []
        for request_id, length in self.finished.items():
            response = self.responses.get(request_id)
            if response is None or not response["url"].startswith("http"):
                continue  # data: URLs (the icon) never touch the network
            cached = (
                request_id in self.cached
                or response.get("fromDiskCache", False)
                or response.get("fromPrefetchCache", False)
            )
            transfers.append(
                Transfer(
                    self._name(response["url"]),
                    response["status"],
                    int(length),
                    # What had arrived when the headers were parsed: the headers.
                    min(int(length), int(response.get("encodedDataLength", 0))),
                    cached,
                )
            )
        self.responses.clear()
        self.finished.clear()
        self.cached.clear()
        return sorted(transfers, key=lambda t: t.url)


def visit(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "lobby")
    page.wait_for_load_state("networkidle")


def summary(transfers: list[Transfer]) -> dict[str, object]:
    return {
        "total_bytes": sum(t.bytes for t in transfers),
        "header_bytes": sum(t.header_bytes for t in transfers),
        "requests_over_the_network": sum(1 for t in transfers if not t.from_cache),
        "resources": [asdict(t) for t in transfers],
    }


def test_a_phone_downloads_little_to_join_and_next_to_nothing_the_second_time(
    kleur: ServerProcess, browser: Browser
) -> None:
    room = kleur.create_room()
    context = phone(browser)
    page = context.new_page()
    errors: list[str] = []
    fail_on_page_errors(page, errors)
    log = TransferLog(context.new_cdp_session(page), room["code"])

    visit(page, room["join_url"])
    first = log.take()
    visit(page, room["join_url"])  # the same phone scans the code again
    second = log.take()
    page.reload()
    expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "lobby")
    page.wait_for_load_state("networkidle")
    reload = log.take()
    context.close()

    figures = {
        "what": "the phone page /j/CODE?t=TOKEN in Chromium, a fresh context; bytes as "
        "transferred (CDP encodedDataLength: headers + body on the wire); no websocket",
        "first_visit": summary(first),
        "second_visit": summary(second),
        "reload": summary(reload),
    }
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")

    assert errors == []
    first_total = sum(t.bytes for t in first)
    second_total = sum(t.bytes for t in second)
    assert any(t.url.endswith("/phone/main.js") for t in first), first
    assert first_total - sum(t.header_bytes for t in first) <= FIRST_VISIT_BODY_LIMIT, figures
    assert first_total <= FIRST_VISIT_LIMIT, figures["first_visit"]
    assert second_total <= first_total * SECOND_VISIT_SHARE, figures["second_visit"]
    # Nothing versioned travels again: every asset came from the cache, none as a 304.
    again = [t for t in second if "/static/" in t.url and not t.from_cache]
    assert again == [], again
    # Every text of the phone is in i18n/{lang}.json: the control view's catalogue stays home.
    assert not any("/i18n/dashboard" in t.url for t in first), first
