"""The files in ``client/static``: read once, versioned, gzipped, served.

A hall of 2,000 phones scanning the QR code at once would otherwise pull the
page's ~100 KB each, uncompressed, and again on every visit.  At start-up
every file is read into memory once, gzipped once (level 9) and given an
ETag of its content, and the whole tree gets one version: a digest of every
file's path and content.

``/static/<version>/<path>`` is cached for a year (``immutable``): the pages
ask for their assets under that prefix (``{{static}}`` in the HTML), and the
ES modules import each other by relative paths, so every import of a page
stays inside the same version.  An upgrade changes the digest, and with it
every URL; a browser never keeps an old module for a new page.

``/static/<path>`` (old tabs, tests, people typing it) and a version this
process does not have (a page loaded before an upgrade, or from another
process mid-rollout) get the current file with ``no-cache``: the browser
keeps it but asks again each time, which costs a 304 when it is unchanged.
(So during a rolling upgrade, with no sticky sessions, one page load may mix
modules of two releases; none of them is kept under the wrong URL.)
A path that is not one of the files read at start-up is 404, so ``..`` or an
encoded traversal can never reach a file outside the folder.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import rcssmin
import rjsmin
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

#: Versioned URLs never change content, so a browser or proxy may keep them a year.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Unversioned URLs may change with an upgrade: keep, but revalidate (a 304) every time.
REVALIDATE = "no-cache"
#: Below this a gzip member's own overhead (about 20 bytes) and the CPU are not worth it.
MIN_GZIP_BYTES = 1024
#: Hex characters of the tree digest in the URL: 64 bits, never a collision between releases.
VERSION_LENGTH = 16
#: Our own types first: the platform's mimetypes table differs between machines.
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Asset:
    """One file, as sent: the bytes, their gzip (when it pays) and their validators."""

    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str  # of the bytes as they are; the gzipped body's ETag adds "-gzip"

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gzip"'

    def matches(self, if_none_match: str) -> bool:
        """Whether ``If-None-Match`` names this file's content (weak comparison, RFC 9110)."""
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or self.etag in tags or self.gzip_etag in tags


def content_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path)
    if guessed is None:
        return "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def as_served(path: str, written: bytes) -> bytes:
    """A file's bytes as they go out: JavaScript and CSS without comments and indentation.

    A third of what a phone downloads on its first visit was comments and
    indentation.  rJSmin and rCSSmin (maintained minifiers by one author, made to
    run at start-up) keep every token; ``tests/test_static_minify.py`` checks
    that each module's syntax tree, and each style sheet's rules as Chromium
    parses them, are the same before and after.  Names are not shortened: a
    page's error still names its function.
    """
    if path.endswith((".js", ".mjs")):
        return rjsmin.jsmin(written.decode("utf-8")).encode("utf-8")  # type: ignore[no-any-return]
    if path.endswith(".css"):
        return rcssmin.cssmin(written.decode("utf-8")).encode("utf-8")  # type: ignore[no-any-return]
    return written


def make_asset(path: str, body: bytes) -> Asset:
    gzipped = None
    if len(body) >= MIN_GZIP_BYTES:
        # mtime=0: the same bytes on every process and every start, so a proxy
        # or a browser sees one representation behind the ETag.
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        gzipped = packed if len(packed) < len(body) else None
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Asset(body=body, gzipped=gzipped, content_type=content_type(path), etag=etag)


def tree_version(files: Mapping[str, bytes]) -> str:
    """One digest of every path and its content: a new file, a rename or an edit changes it."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
    return digest.hexdigest()[:VERSION_LENGTH]


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (named, or ``*``, with a quality above 0)."""
    qualities: dict[str, float] = {}
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        qualities[coding.strip().lower()] = quality
    if "gzip" in qualities:
        return qualities["gzip"] > 0
    return qualities.get("*", 0.0) > 0


def _is_version(segment: str) -> bool:
    return len(segment) == VERSION_LENGTH and all(c in "0123456789abcdef" for c in segment)


@dataclass(frozen=True, slots=True)
class StaticAssets:
    """Every file of one folder, read at start-up; ``endpoint`` serves them."""

    files: Mapping[str, Asset]  # by path relative to the folder, with "/"
    version: str

    @classmethod
    def load(cls, directory: Path) -> StaticAssets:
        raw = {
            path.relative_to(directory).as_posix(): path.read_bytes()
            for path in sorted(directory.rglob("*"))
            # The pages' HTML is served by server.pages, filled in ({{lang}},
            # {{static}}); raw, a page would load nothing.
            if path.is_file() and not path.name.startswith(".") and path.suffix != ".html"
        }
        served = {path: as_served(path, body) for path, body in raw.items()}
        return cls(
            files={path: make_asset(path, body) for path, body in served.items()},
            # Of the bytes as served: another minifier release gives another URL.
            version=tree_version(served),
        )

    @property
    def prefix(self) -> str:
        """What the pages put before an asset's path: ``/static/<version>``."""
        return f"/static/{self.version}"

    def find(self, path: str) -> tuple[Asset, bool] | None:
        """The file a URL path (after ``/static/``) names, and whether it was this version's URL."""
        first, _, rest = path.partition("/")
        if _is_version(first) and rest in self.files:
            return self.files[rest], first == self.version
        if path in self.files:
            return self.files[path], False
        return None

    async def endpoint(self, request: Request) -> Response:
        found = self.find(request.path_params["path"])
        if found is None:
            # no-store: a file another release has may well exist tomorrow.
            return PlainTextResponse(
                "Not Found", status_code=404, headers={"Cache-Control": "no-store"}
            )
        asset, versioned = found
        gzipped = asset.gzipped is not None and accepts_gzip(
            request.headers.get("accept-encoding", "")
        )
        body = asset.gzipped if gzipped and asset.gzipped is not None else asset.body
        headers = {
            "Cache-Control": IMMUTABLE if versioned else REVALIDATE,
            "ETag": asset.gzip_etag if gzipped else asset.etag,
        }
        if asset.gzipped is not None:
            # A cache must not hand the gzipped bytes to a client that did not ask for them.
            headers["Vary"] = "Accept-Encoding"
        if asset.matches(request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=headers)
        headers["Content-Length"] = str(len(body))
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        # HEAD: the same headers (Content-Length of the body it would get), no body.
        content = b"" if request.method == "HEAD" else body
        return Response(content, headers=headers, media_type=asset.content_type)
