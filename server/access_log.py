"""uvicorn's request log without identities.

Join links carry the room's join token as ``?t=``, and a client address next
to ``/j/ROOMCODE`` says who was in which session.  uvicorn logs both: the
access log (``uvicorn.access``: client, method, path with query, version,
status) and the websocket handshake (``uvicorn.error``: client, path with
query).  ``WithoutIdentities`` rewrites those records' arguments before any
handler formats them: the query string is dropped from every path, and the
client address is replaced by ``-`` when the path names a room.  Addresses
stay on the other lines (``POST /api/rooms``, ``/healthz``), where they help
to spot abuse and say nothing about a session.  ``server.logs`` puts the
filter on both loggers.
"""

from __future__ import annotations

import logging
import re

#: Paths with a room code in them: the pages and the room's API.
_ROOM_PATH = re.compile(r"^/(?:[jfp]|api/rooms)/[^/?]+")
#: uvicorn's websocket handshake lines: '%s - "WebSocket %s" ...' (client, path).
_WEBSOCKET_LINE = '%s - "WebSocket %s"'
HIDDEN_CLIENT = "-"


def without_identities(client: str, path: str) -> tuple[str, str]:
    """(client, path) as they may be logged: no query, no client beside a room."""
    path = path.partition("?")[0]
    if _ROOM_PATH.match(path):
        client = HIDDEN_CLIENT
    return client, path


class WithoutIdentities(logging.Filter):
    """Rewrites uvicorn's access and websocket-handshake records (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple):
            return True
        if record.name == "uvicorn.access" and len(args) == 5:
            # (client, method, path with query, HTTP version, status)
            client, path = without_identities(str(args[0]), str(args[2]))
            record.args = (client, args[1], path, *args[3:])
        elif isinstance(record.msg, str) and record.msg.startswith(_WEBSOCKET_LINE):
            client, path = without_identities(str(args[0]), str(args[1]))
            record.args = (client, path, *args[2:])
        return True
