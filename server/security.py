"""Security headers on every HTTP response.

The Content-Security-Policy forbids inline scripts, inline styles and every
third-party origin: participant text can only ever be text, and every asset
comes from kleur itself (no CDN).  ``no-referrer`` keeps the join token in a
join link from leaking to other sites.  ``Cache-Control: no-store`` goes on
every response but the static assets (unless a route chose its own): room
creation, the pages (``/j/CODE?t=...``), exports and the API carry tokens or
results, and no browser cache or shared proxy may keep a copy of those.

``OriginCheck`` refuses a websocket handshake from a page of another site
(cross-site WebSocket hijacking): browsers send ``Origin`` and let any site
open a websocket anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

#: On every response.
SUBRESOURCE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
#: Policies of a *document*: a browser applies them to a page it shows, never to a
#: script, stylesheet or JSON file a page loads.  A phone's first visit loads 17 such
#: assets, and these ~400 bytes on each were a tenth of what it downloaded.
DOCUMENT_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
HEADERS = SUBRESOURCE_HEADERS + DOCUMENT_HEADERS
#: Static files that a browser only ever runs or reads for a page, never shows as one
#: (an HTML or SVG file opened by its URL is a document, and keeps every header).
SUBRESOURCE_TYPES = (b"text/javascript", b"text/css", b"application/json")


NO_STORE = (b"cache-control", b"no-store")
#: Responses under this path keep their own caching (server.static_assets: a year or no-cache).
STATIC_PREFIX = "/static/"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith(STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                subresource = static and content_type.startswith(SUBRESOURCE_TYPES)
                headers += SUBRESOURCE_HEADERS if subresource else HEADERS
                if not static and not any(name.lower() == NO_STORE[0] for name, _ in headers):
                    headers.append(NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower case, as browsers send it in ``Origin``."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


class OriginCheck:
    """Refuses a websocket handshake whose ``Origin`` is not allowed (HTTP 403).

    ``allowed`` empty: the server's own origin (the scheme and ``Host`` of the
    handshake itself) and ``public_url``'s.  No ``Origin`` header is let
    through: browsers always send one, and what does not (the Python client, a
    native app) cannot be driven by another site.  The refusal is a close
    before ``accept``, which uvicorn answers with 403.
    """

    def __init__(self, app: ASGIApp, allowed: Iterable[str], public_url: str | None) -> None:
        self.app = app
        self.allowed = frozenset(origin_of(o) for o in allowed if o.strip())
        self.public_origin = origin_of(public_url) if public_url else None

    def allows(self, scope: Scope, origin: str) -> bool:
        origin = origin.strip().lower()
        if self.allowed:
            return origin in self.allowed
        # The handshake's own origin: ws -> http, wss -> https (X-Forwarded-Proto
        # from a trusted proxy is already in the scheme).
        scheme = "https" if scope.get("scheme") == "wss" else "http"
        host = Headers(scope=scope).get("host", "").lower()
        return origin in {f"{scheme}://{host}", self.public_origin}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            origin = Headers(scope=scope).get("origin")
            if origin is not None and not self.allows(scope, origin):
                await send({"type": "websocket.close", "code": 1008, "reason": ""})
                return
        await self.app(scope, receive, send)
