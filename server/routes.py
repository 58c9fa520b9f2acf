"""HTTP routes: rooms, templates, QR codes, exports, health."""

from __future__ import annotations

import hmac
import io

import segno
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from agenda import export
from agenda.followup import ImportError_, parse_previous
from agenda.templates import Template
from protocol.errors import ErrorCode, ProtocolError
from protocol.messages import check_room_code, normalize_room_code
from server.metrics import METRICS
from server.pages import LANGUAGES, preferred_language
from server.services import Services
from server.store import UNAVAILABLE, token_hash

#: A room request with an earlier scan's export attached stays well under this.
MAX_CREATE_BODY_BYTES = 1024 * 1024


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


def _base_url(request: Request, services: Services) -> str:
    return (services.settings.public_url or str(request.base_url)).rstrip("/")


async def create_room(request: Request) -> Response:
    services = _services(request)
    client = request.client.host if request.client else "unknown"
    if services.rooms_created.exceeded(client):
        return _error(429, ErrorCode.RATE_LIMITED, "too many rooms created; try again later")
    if int(request.headers.get("content-length") or 0) > MAX_CREATE_BODY_BYTES:
        return _error(413, ErrorCode.INVALID_FIELD, "request too large")
    try:
        body = await request.json()
    except ValueError:
        return _error(400, ErrorCode.BAD_FRAME, 'send JSON like {"template": "participatiescan"}')
    template_id = body.get("template") if isinstance(body, dict) else None
    if not isinstance(template_id, str) or template_id not in services.templates:
        return _error(
            400, ErrorCode.INVALID_FIELD, f"template must be one of {sorted(services.templates)}"
        )
    previous = None
    if body.get("previous") is not None:
        # A follow-up scan: the earlier scan's JSON export.
        try:
            previous = parse_previous(body["previous"], services.templates[template_id])
        except ImportError_ as error:
            return _error(400, ErrorCode.INVALID_FIELD, str(error))
    try:
        room = await services.store.create_room(template_id, previous)
    except ProtocolError as error:
        return _error(503, error.code, error.detail)
    services.rooms_created.add(client)
    base = _base_url(request, services)
    return JSONResponse(
        {
            "code": room.code,
            "template": template_id,
            "join_url": f"{base}/j/{room.code}?t={room.join_token}",
            # The token rides in the fragment, which browsers never send to a server.
            "facilitator_url": f"{base}/f/{room.code}#{room.facilitator_token}",
            "facilitator_token": room.facilitator_token,
        },
        status_code=201,
    )


def _template_summary(template: Template) -> dict[str, object]:
    return {
        "id": template.id,
        "language": template.language,
        "title": template.title,
        "description": template.description,
        "norms": len(template.norms),
    }


def _reader_language(request: Request) -> str | Response:
    """``?lang=nl|en``, else the browser's preference as the pages choose it (Dutch by default)."""
    lang = request.query_params.get("lang")
    if lang is None:
        return preferred_language(request.headers.get("accept-language", ""))
    if lang not in LANGUAGES:
        return _error(400, ErrorCode.INVALID_FIELD, f"lang must be one of {list(LANGUAGES)}")
    return lang


def _localized(body: object) -> Response:
    # The answer depends on Accept-Language when ?lang= is left out.
    return JSONResponse(body, headers={"Vary": "Accept-Language"})


async def list_templates(request: Request) -> Response:
    """Every template, its texts in the reader's language (``?lang=``; see ``_reader_language``)."""
    lang = _reader_language(request)
    if isinstance(lang, Response):
        return lang
    templates = _services(request).templates.values()
    return _localized(
        [
            {**_template_summary(t.localized(lang)), "languages": sorted(t.languages)}
            for t in templates
        ]
    )


async def get_template(request: Request) -> Response:
    """One template with plain-string texts in the reader's language (``language`` says which)."""
    lang = _reader_language(request)
    if isinstance(lang, Response):
        return lang
    template = _services(request).templates.get(request.path_params["template_id"])
    if template is None:
        return _error(404, "not_found", "no such template")
    return _localized(template.localized(lang).to_public_dict())


async def _authorised_room(request: Request) -> tuple[str, str] | Response:
    """(code, join token) if the request carries the room's facilitator token."""
    services = _services(request)
    code = normalize_room_code(request.path_params["code"])
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    try:
        check_room_code(code)
        meta = await services.store.room_meta(code)
    except ProtocolError as error:
        status = 503 if error.code is ErrorCode.STORE_UNAVAILABLE else 404
        return _error(status, error.code, error.detail)
    # Same answer for "no such room" and "wrong token": a guesser learns nothing.
    if (
        meta is None
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(token_hash(token), meta.facilitator_hash)
    ):
        return _error(401, ErrorCode.BAD_TOKEN, "send the facilitator token as a Bearer token")
    return code, meta.join_token


async def room_qr(request: Request) -> Response:
    """The join QR code; it holds the join token, so only the facilitator may fetch it."""
    authorised = await _authorised_room(request)
    if isinstance(authorised, Response):
        return authorised
    code, join_token = authorised
    url = f"{_base_url(request, _services(request))}/j/{code}?t={join_token}"
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=10, border=2, title=f"kleur {code}")
    return Response(buffer.getvalue(), media_type="image/svg+xml")


async def room_export(request: Request) -> Response:
    authorised = await _authorised_room(request)
    if isinstance(authorised, Response):
        return authorised
    code, _ = authorised
    services = _services(request)
    fmt = request.path_params["fmt"]
    lang = request.query_params.get("lang", "nl")
    if fmt not in export.FORMATS or lang not in export.LANGUAGES:
        return _error(404, "not_found", f"formats: {sorted(export.FORMATS)}; lang: nl or en")
    try:
        data = await services.store.read_room(code)
    except ProtocolError as error:
        return _error(503, error.code, error.detail)
    if data is None:
        return _error(404, ErrorCode.ROOM_NOT_FOUND, "this room does not exist")
    # DOCX and PDF take ~0.1 s to build: off the event loop, so no socket waits.
    document = await run_in_threadpool(
        export.render, fmt, data, services.templates[data.template_id], lang, code
    )
    return Response(
        document.body,
        media_type=document.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="kleur-{code}.{document.extension}"'
        },
    )


async def metrics(request: Request) -> Response:
    hub = _services(request).hub
    roles = {"facilitator": 0, "participant": 0}
    for room in hub.rooms.values():
        roles["facilitator"] += len(room.facilitators)
        roles["participant"] += len(room.participants)
    return PlainTextResponse(
        METRICS.render(roles, len(hub.rooms)), media_type="text/plain; version=0.0.4"
    )


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    services = _services(request)
    try:
        await services.redis.ping()
    except UNAVAILABLE:
        return PlainTextResponse("redis unreachable", status_code=503)
    if not services.broker.subscribed.is_set():
        return PlainTextResponse("fan-out not subscribed", status_code=503)
    return PlainTextResponse("ready")
