"""Gzip for the public JSON documents a page loads on every visit, and nothing else.

The phone fetches ``/api/protocol`` (12 KB) and its template (6 KB) each
time it opens: ``no-store`` like every API answer, so gzip is where the
bytes are saved (about three quarters).  Only these paths: their bodies
are the same for everyone and hold no secret.  A response that carries a
token (room creation, links) or a room's results next to text a visitor
typed must not be compressed, since its size would tell an eavesdropper
about the secret (BREACH).  The assets in ``/static`` are gzipped once at
start-up (``server.static_assets``); websockets pass straight through.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from server.static_assets import MIN_GZIP_BYTES

#: Paths whose answers are public documents, the same for every visitor.
PUBLIC_JSON_PATHS = ("/api/protocol", "/api/templates")
#: Per request, not precomputed: level 6 costs well under a millisecond for these sizes.
GZIP_LEVEL = 6


class PublicJsonGzip:
    def __init__(self, app: ASGIApp, paths: tuple[str, ...] = PUBLIC_JSON_PATHS) -> None:
        self.app = app
        self.paths = paths
        self.gzip = GZipMiddleware(app, minimum_size=MIN_GZIP_BYTES, compresslevel=GZIP_LEVEL)

    def applies(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.applies(str(scope.get("path", ""))):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
