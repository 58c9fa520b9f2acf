"""HTTP routes: rooms, templates, QR codes, exports, health."""

from __future__ import annotations

import dataclasses
import functools
import hmac
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import segno
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from agenda import export, insights, views
from agenda.followup import ImportError_, parse_previous
from agenda.phases import is_revealed
from agenda.templates import Template
from agenda.views import RoomData
from protocol import limits
from protocol.errors import ErrorCode, ProtocolError
from protocol.messages import (
    Analysis,
    SessionInfo,
    check_room_code,
    normalize_room_code,
    normalize_text,
)
from protocol.phases import Phase
from protocol.wire import invalid
from server.keys import issued_here, participant_id, token_hash
from server.metrics import CONTENT_TYPE_LATEST, METRICS
from server.metrics import render as render_metrics
from server.pages import LANGUAGES, preferred_language
from server.request_body import BodyRefused, read_json
from server.restore import parse_restore
from server.services import Services

#: The one answer to a restore that is not the lost room's facilitator's.
RESTORE_NOT_OPEN = "this room code is not open for restoring"
#: What a facilitator token may hold (new_token's alphabet: URL-safe base64).
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")

#: A session's date defaults to today here (where the sessions are held), not
#: in the server's time zone: a room made at 00:30 belongs to that day.
SESSION_TIME_ZONE = ZoneInfo("Europe/Amsterdam")


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


def _base_url(request: Request, services: Services) -> str:
    """Where join links and QR codes point: ``public_url``, else the address this
    connection reached the server at (its socket's own address, and the scheme).

    Never the ``Host`` header: whoever sends the request chooses that, and a
    link to their host in the facilitator's QR code would send the room there.
    """
    if services.settings.public_url:
        return services.settings.public_url.rstrip("/")
    server = request.scope.get("server")
    if not server:
        return str(request.base_url).rstrip("/")  # a Unix socket: no address to name
    host, port = server
    if ":" in host:
        host = f"[{host}]"  # IPv6
    default_port = {"http": 80, "https": 443}.get(request.url.scheme)
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    return f"{request.url.scheme}://{netloc}"


async def create_room(request: Request) -> Response:
    services = _services(request)
    client = request.client.host if request.client else "unknown"
    if services.rooms_created.exceeded(client):
        return _error(429, ErrorCode.RATE_LIMITED, "too many rooms created; try again later")
    try:
        body = await read_json(
            request,
            max_bytes=services.settings.max_body_bytes,
            max_depth=services.settings.max_json_depth,
        )
    except BodyRefused as refused:
        return _error(refused.status, refused.code, refused.detail)
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
    session = _session_info(body)
    if isinstance(session, Response):
        return session
    expected = body.get("expected_people", limits.DEFAULT_EXPECTED_PEOPLE)
    low, high = limits.MIN_EXPECTED_PEOPLE, limits.MAX_EXPECTED_PEOPLE
    if type(expected) is not int or not low <= expected <= high:
        return _error(400, ErrorCode.INVALID_FIELD, f"expected_people must be {low} to {high}")
    admission = body.get("admission", True)
    if not isinstance(admission, bool):
        return _error(400, ErrorCode.INVALID_FIELD, "admission must be true or false")
    try:
        room = await services.store.create_room(
            template_id, previous, session, expected_people=expected, admission=admission
        )
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
            "session": dataclasses.asdict(session),
            "expected_people": expected,
            "admission": admission,
            # For the projector: read-only, sees only what the whole room may see.
            "display_url": f"{base}/p/{room.code}#{room.display_token}",
        },
        status_code=201,
    )


async def restore_room(request: Request) -> Response:
    """``POST /api/rooms/{code}/restore``: a lost room back from its control
    view's last snapshot (docs/protocol.md section 13).

    Only while the room is absent and marked lost, and only by the facilitator
    the marker names (its Bearer token; checked again in ``restore_room.lua``,
    atomically with deleting the marker); the join and display tokens come back
    from the marker, so the QR code and the projector's link keep working.
    Without a marker (no process saw the loss, or it expired) nothing proves
    whose room it was, so there is no restore: the facilitator makes a new
    room.  Every refusal but "your room is back" is one and the same answer
    (404, like a join's guess) and counts as a failed join of the address.
    """
    services = _services(request)
    code = normalize_room_code(request.path_params["code"])
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    client = request.client.host if request.client else "unknown"
    try:
        check_room_code(code)
    except ProtocolError as error:
        return _error(404, error.code, error.detail)
    low, high = limits.TOKEN_MIN_CHARS, limits.TOKEN_MAX_CHARS
    if (
        scheme.lower() != "bearer"
        or not low <= len(token) <= high
        or not _URL_SAFE.fullmatch(token)
    ):
        return _error(401, ErrorCode.BAD_TOKEN, "send the facilitator token as a Bearer token")
    try:
        body = await read_json(
            request,
            max_bytes=services.settings.max_body_bytes,
            max_depth=services.settings.max_json_depth,
        )
        snapshot = parse_restore(body, frozenset(services.templates))
    except BodyRefused as refused:
        return _error(refused.status, refused.code, refused.detail)
    except ProtocolError as error:
        return _error(400, error.code, error.detail)
    try:
        lost = await services.store.lost_marker(code)
        meta = await services.store.room_meta(code)
    except ProtocolError as error:
        return _error(503, error.code, error.detail)
    given = token_hash(token)
    if meta is not None and hmac.compare_digest(given, meta.facilitator_hash):
        # The room's own facilitator, whose room is back (another tab restored it).
        return _error(409, "room_exists", "this room exists: nothing to restore")
    if meta is not None or lost is None or not hmac.compare_digest(given, lost.facilitator_hash):
        # One answer for a code that exists, that was never lost (or whose loss
        # no process saw) and a wrong token: a guesser learns nothing, and the
        # guess counts like a failed join from this address.
        services.failed_joins.add(client)
        return _error(404, ErrorCode.ROOM_NOT_FOUND, RESTORE_NOT_OPEN)
    secrets = dataclasses.replace(lost, template_id=lost.template_id or snapshot.template_id)
    try:
        stored = await services.store.restore_room(code, secrets, snapshot)
    except ProtocolError as error:
        return _error(503, error.code, error.detail)
    if stored is None:  # restored (or its marker changed) meanwhile
        return _error(409, "room_exists", "this room exists: nothing to restore")
    base = _base_url(request, services)
    return JSONResponse(
        {
            "code": code,
            "template": secrets.template_id,
            "tokens_kept": True,
            "join_url": f"{base}/j/{code}?t={secrets.join_token}",
            "display_url": f"{base}/p/{code}#{secrets.display_token}",
            "facilitator_url": f"{base}/f/{code}#{token}",
        },
        headers={"Cache-Control": "no-store"},
    )


def _session_info(body: dict[str, object]) -> SessionInfo | Response:
    """The optional ``name``, ``region`` and ``date`` of a new room, checked;
    the date defaults to today where the sessions are held."""
    texts = {}
    for key, most in (
        ("name", limits.MAX_SESSION_NAME_CHARS),
        ("region", limits.MAX_SESSION_REGION_CHARS),
    ):
        value = body.get(key)
        if value is None:
            value = ""
        if not isinstance(value, str):
            return _error(400, ErrorCode.INVALID_FIELD, f"{key} must be text")
        value = normalize_text(value)
        if len(value) > most:
            return _error(400, ErrorCode.INVALID_FIELD, f"{key} must be at most {most} characters")
        texts[key] = value
    day = body.get("date")
    if day is None or day == "":
        day = datetime.now(SESSION_TIME_ZONE).date().isoformat()
    try:
        if not isinstance(day, str):
            raise invalid("date", "must be a date YYYY-MM-DD")
        return SessionInfo(texts["name"], texts["region"], day)
    except ProtocolError as error:
        return _error(400, ErrorCode.INVALID_FIELD, f"{error.detail} (e.g. 2027-01-15)")


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


async def _authorised_room(
    request: Request, *, display_too: bool = False
) -> tuple[str, str] | Response:
    """(code, join token) if the request carries the room's facilitator token
    (or, with ``display_too``, its presenter view's display token)."""
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
    allowed = meta is not None and scheme.lower() == "bearer"
    if allowed and meta is not None:
        facilitator = hmac.compare_digest(token_hash(token), meta.facilitator_hash)
        display = display_too and bool(meta.display_token)
        # As bytes: compare_digest refuses str with non-ASCII characters (a bad header).
        same = hmac.compare_digest(token.encode(), meta.display_token.encode())
        allowed = facilitator or (display and same)
    if not allowed or meta is None:
        return _error(401, ErrorCode.BAD_TOKEN, "send the facilitator token as a Bearer token")
    return code, meta.join_token


def _qr_svg(url: str, title: str) -> Response:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=10, border=2, title=title)
    return Response(
        buffer.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "no-store"}
    )


async def room_qr(request: Request) -> Response:
    """The join QR code; it holds the join token, so only the facilitator and
    the presenter view (which shows it to the room) may fetch it."""
    authorised = await _authorised_room(request, display_too=True)
    if isinstance(authorised, Response):
        return authorised
    code, join_token = authorised
    url = f"{_base_url(request, _services(request))}/j/{code}?t={join_token}"
    return _qr_svg(url, f"kleur {code}")


def _bearer(request: Request) -> str:
    return request.headers.get("authorization", "").partition(" ")[2]


async def room_links(request: Request) -> Response:
    """The room's links for the control view: join, presenter view and control.

    The control link is rebuilt from the token the request carries (the
    server keeps only its hash), so only who already has control gets it.
    """
    authorised = await _authorised_room(request)
    if isinstance(authorised, Response):
        return authorised
    code, join_token = authorised
    services = _services(request)
    try:
        meta = await services.store.room_meta(code)
    except ProtocolError as error:  # Redis went away since the token check: never a 500
        return _error(503, error.code, error.detail)
    base = _base_url(request, services)
    display = meta.display_token if meta is not None else ""
    return JSONResponse(
        {
            "join_url": f"{base}/j/{code}?t={join_token}",
            "display_url": f"{base}/p/{code}#{display}" if display else None,
            "facilitator_url": f"{base}/f/{code}#{_bearer(request)}",
        },
        headers={"Cache-Control": "no-store"},
    )


async def control_qr(request: Request) -> Response:
    """A QR code of the control link, to take control on a second device.

    Made here, never by a third-party service: the link is the facilitator's key.
    """
    authorised = await _authorised_room(request)
    if isinstance(authorised, Response):
        return authorised
    code, _ = authorised
    url = f"{_base_url(request, _services(request))}/f/{code}#{_bearer(request)}"
    return _qr_svg(url, f"kleur {code}")


async def display_qr(request: Request) -> Response:
    """A QR code of the presenter view's link, to show it on another device.

    The link holds the display token, so only the facilitator may fetch it.
    """
    authorised = await _authorised_room(request)
    if isinstance(authorised, Response):
        return authorised
    code, _ = authorised
    try:
        meta = await _services(request).store.room_meta(code)
    except ProtocolError as error:  # Redis went away since the token check: never a 500
        return _error(503, error.code, error.detail)
    if meta is None or not meta.display_token:
        return _error(404, "not_found", "this room has no presenter link")
    url = f"{_base_url(request, _services(request))}/p/{code}#{meta.display_token}"
    return _qr_svg(url, f"kleur {code}")


async def _analysis(
    services: Services, code: str, data: RoomData, template: Template
) -> Analysis | None:
    """The dashboard's analysis (the same function, the same minimum group size), for the
    exports' contested norms and opinion groups; None before the reveal."""
    if not is_revealed(data.phase):
        return None
    if data.phase is Phase.CLOSED:
        # A closed room has no ballots left, only the analysis it kept at closing.
        kept = await services.store.closed_analysis(code)
        if kept is not None:
            return kept
    votes = await services.store.read_votes(code, data.round, template)
    return await run_in_threadpool(
        insights.build,
        template,
        data.tallies,
        data.previous_tallies,
        votes,
        services.settings.min_group_size,
        data.second_tallies,
    )


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
    template = services.templates[data.template_id]
    try:
        analysis = await _analysis(services, code, data, template)
    except ProtocolError as error:
        return _error(503, error.code, error.detail)
    # DOCX and PDF take ~0.1 s to build: off the event loop, so no socket waits.
    document = await run_in_threadpool(
        functools.partial(export.render, analysis=analysis),
        fmt,
        data,
        template,
        lang,
        code,
    )
    return Response(
        document.body,
        media_type=document.media_type,
        headers={
            "Content-Disposition": (
                f'attachment; filename="{export.file_name(fmt, code, data.session)}"'
            )
        },
    )


async def participant_agenda_pdf(request: Request) -> Response:
    """The closed room's PDF for a participant, who proves it joined with its device token."""
    services = _services(request)
    code = normalize_room_code(request.path_params["code"])
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    lang = request.query_params.get("lang", "nl")
    if lang not in export.LANGUAGES:
        return _error(404, "not_found", "lang: nl or en")
    try:
        check_room_code(code)
        meta = await services.store.room_meta(code) if token else None
        # A closed room keeps no participants: the token proves by itself that
        # this room issued it (``server.keys.issued_here``).
        joined = meta is not None and (
            issued_here(code, meta.facilitator_hash, token)
            or await services.store.is_participant(code, participant_id(code, token))
        )
        data = await services.store.read_room(code) if joined else None
    except ProtocolError as error:
        status = 503 if error.code is ErrorCode.STORE_UNAVAILABLE else 404
        return _error(status, error.code, error.detail)
    # Same answer for "no such room" and "not a participant of it": a guesser learns nothing.
    if scheme.lower() != "bearer" or data is None:
        return _error(
            401, ErrorCode.BAD_TOKEN, "send your participant token (from welcome) as a Bearer token"
        )
    if data.phase is not Phase.CLOSED:
        return _error(
            409, ErrorCode.WRONG_PHASE, "the agenda can be downloaded once the session is closed"
        )
    # What the whole room may see: never a note the facilitator hid or did not approve.
    visible = dataclasses.replace(data, notes=tuple(n for n in data.notes if views.on_wall(n)))
    template = services.templates[data.template_id]
    try:
        analysis = await _analysis(services, code, data, template)
    except ProtocolError as error:
        return _error(503, error.code, error.detail)
    document = await run_in_threadpool(
        functools.partial(export.render, analysis=analysis), "pdf", visible, template, lang, code
    )
    return Response(
        document.body,
        media_type=document.media_type,
        headers={
            "Content-Disposition": (
                f'attachment; filename="{export.file_name("pdf", code, data.session, "agenda")}"'
            ),
            "Cache-Control": "no-store",
        },
    )


async def metrics(request: Request) -> Response:
    hub = _services(request).hub
    roles = {"facilitator": 0, "participant": 0, "presenter": 0}
    for room in hub.rooms.values():
        roles["facilitator"] += len(room.facilitators)
        roles["participant"] += len(room.participants)
        roles["presenter"] += len(room.presenters)
    METRICS.set_connections(roles, len(hub.rooms))
    return Response(render_metrics(), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


#: The body of a 500 that is no API call: a person may read it in a browser.
SERVER_ERROR_TEXT = (
    "Er ging iets mis op de server. Probeer het opnieuw.\n"
    "Something went wrong on the server. Please try again.\n"
)


async def server_error(request: Request, exc: Exception) -> Response:
    """The answer to a route that raised: never the traceback (it is logged,
    ``server.logs``), the same JSON error as every API refusal under ``/api/``.
    Starlette's ``ServerErrorMiddleware`` calls it and then raises ``exc`` again,
    so that uvicorn logs it."""
    if request.url.path.startswith("/api/"):
        return _error(500, ErrorCode.INTERNAL, "internal error; try again")
    return PlainTextResponse(SERVER_ERROR_TEXT, status_code=500)


async def readyz(request: Request) -> Response:
    """503 with the reason (``server/readiness.py``), within the Redis command timeout."""
    problem = await _services(request).readiness.problem()
    if problem is not None:
        return PlainTextResponse(problem, status_code=503)
    return PlainTextResponse("ready")
