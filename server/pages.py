"""The HTML pages: start page, phone page (``/j/{code}``), dashboard (``/f/{code}``)
and the presenter view for the projector (``/p/{code}``).

The pages are static files in ``client/static``; the server only fills in
the page language, chosen from Accept-Language (Dutch unless the browser
prefers English), and ``{{static}}``, the versioned prefix of the assets
(``server.static_assets``), so that the browser may cache them for a year.
The page's own switch overrides the language and remembers it.  The pages
themselves are ``no-store``: their URLs carry room codes and tokens.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from agenda.phases import rules_table
from protocol.schema import protocol_schema
from server.settings import Settings
from server.static_assets import StaticAssets

STATIC_DIR = Path(__file__).resolve().parent.parent / "client" / "static"
LANGUAGES = ("nl", "en")


def preferred_language(accept_language: str) -> str:
    """The first of our languages in the header's order of preference; else Dutch."""
    weighted = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            weighted.append((-quality, position, primary))
    return min(weighted)[2] if weighted else "nl"


@cache
def _page(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def _render(name: str, request: Request) -> Response:
    lang = preferred_language(request.headers.get("accept-language", ""))
    # ?lang=en: the presenter view has no switch, so its link can carry it.
    if request.query_params.get("lang") in LANGUAGES:
        lang = request.query_params["lang"]
    assets: StaticAssets = request.app.state.static_assets
    html = _page(name).replace("{{static}}", assets.prefix).replace("{{lang}}", lang)
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "Vary": "Accept-Language"})


async def start_page(request: Request) -> Response:
    return _render("index.html", request)


async def phone_page(request: Request) -> Response:
    return _render("phone.html", request)


async def dashboard_page(request: Request) -> Response:
    return _render("dashboard.html", request)


async def presenter_page(request: Request) -> Response:
    return _render("presenter.html", request)


def _per_second(interval: float) -> float:
    """Events a second at one per ``interval``: a whole number when it is one (10, not 10.0)."""
    rate = 1 / interval
    return round(rate) if abs(rate - round(rate)) < 1e-9 else rate


@cache
def _protocol_document(settings: Settings | None = None) -> dict[str, object]:
    """The protocol document as served; with the default settings when none are given."""
    settings = settings or Settings()
    # The message definitions from protocol/, the phase rules from agenda/: both generated.
    schema = protocol_schema()
    # Two limits are server settings (their defaults live in protocol.limits):
    # pages get the values this server uses, so the two never disagree.
    schema["limits"] = {
        **schema["limits"],
        "min_group_size": settings.min_group_size,
        "dashboard_max_per_second": _per_second(settings.dashboard_interval_seconds),
    }
    return {**schema, **rules_table()}


async def protocol_json(request: Request) -> Response:
    return JSONResponse(_protocol_document(request.app.state.services.settings))
