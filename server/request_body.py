"""Reading a JSON request body within limits.

Starlette's ``request.json()`` reads the whole body before anything can look
at it, whatever its size (a chunked upload has no ``Content-Length`` to check
first), and a deeply nested document makes the JSON parser raise
``RecursionError``, a 500.  ``read_json`` counts the bytes as they arrive and
stops at the limit, so at most ``max_bytes`` (plus one chunk) is ever held;
it refuses any ``Content-Type`` but JSON, which is also what stops a
cross-site form: a browser sends ``text/plain`` from another site without
asking, but ``application/json`` only after a CORS preflight kleur never answers.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from protocol.errors import ErrorCode


class BodyRefused(Exception):
    """Why a body was not read: the HTTP status, an error code and a sentence."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


async def read_json(request: Request, *, max_bytes: int, max_depth: int) -> Any:
    """The request's JSON document, or ``BodyRefused`` (415, 413 or 400)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise BodyRefused(415, ErrorCode.INVALID_FIELD, "send the body as application/json")
    too_large = BodyRefused(413, ErrorCode.INVALID_FIELD, f"the body is over {max_bytes} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > max_bytes:
            raise too_large  # the rest is never read
    try:
        document = json.loads(received)
    except RecursionError:
        document = _TOO_DEEP
    except ValueError:  # also UnicodeDecodeError
        raise BodyRefused(400, ErrorCode.BAD_FRAME, "the body is not valid JSON") from None
    if document is _TOO_DEEP or _deeper_than(document, max_depth):
        raise BodyRefused(
            400, ErrorCode.BAD_FRAME, f"the JSON nests deeper than {max_depth} levels"
        )
    return document


_TOO_DEEP = object()


def _deeper_than(document: object, max_depth: int) -> bool:
    """Whether arrays and objects nest more than ``max_depth`` levels (no recursion)."""
    level: list[object] = [document]
    for _ in range(max_depth):
        level = [
            child
            for node in level
            if isinstance(node, dict | list)
            for child in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return False
    return any(isinstance(node, dict | list) for node in level)
