"""uvicorn's request log without identities.

Join links carry the room's join token as ``?t=``, and a client address next
to ``/j/ROOMCODE`` says who was in which session.  uvicorn logs both: the
access log (``uvicorn.access``: client, method, path with query, version,
status) and the websocket handshake (``uvicorn.error``: client, path with
query).  ``WithoutIdentities`` rewrites those records' arguments before any
handler formats them: the query string is dropped from every path, and the
client address is kept only where it helps to spot abuse: on a refusal
(status 400 or more, a websocket handshake refused) and on ``POST /api/rooms``
(rooms are limited per address), never when the path names a room.  Not on
the other lines either: a phone that opens ``/j/CODE`` fetches its scripts,
the template and the protocol over the same connection milliseconds later,
and the address on those lines would say whose the ``/j/CODE`` line was; the
same for the websocket handshake just before its ``joined`` line.
``server.logs`` puts the filter on both loggers.
"""

from __future__ import annotations

import logging
import re

#: Paths with a room code in them: the pages and the room's API.
_ROOM_PATH = re.compile(r"^/(?:[jfp]|api/rooms)/[^/?]+")
#: uvicorn's websocket handshake lines: '%s - "WebSocket %s" ...' (client, path).
_WEBSOCKET_LINE = '%s - "WebSocket %s"'
HIDDEN_CLIENT = "-"


def without_identities(
    client: str, path: str, *, refused: bool = False, creates_room: bool = False
) -> tuple[str, str]:
    """(client, path) as they may be logged: no query; the client only on a
    refusal or a room creation, and never beside a room."""
    path = path.partition("?")[0]
    if _ROOM_PATH.match(path) or not (refused or creates_room):
        return HIDDEN_CLIENT, path
    return _address_only(client), path


def _address_only(client: str) -> str:
    """uvicorn's ``host:port`` without the port: the address is what a limit
    counts; the source port says nothing (and is ``0`` behind a trusted proxy)."""
    host, colon, port = client.rpartition(":")
    return host if colon and host and port.isdigit() else client


class WithoutIdentities(logging.Filter):
    """Rewrites uvicorn's access and websocket-handshake records (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple):
            return True
        if record.name == "uvicorn.access" and len(args) == 5:
            # (client, method, path with query, HTTP version, status)
            method, status = str(args[1]), args[4]
            client, path = without_identities(
                str(args[0]),
                str(args[2]),
                refused=isinstance(status, int) and status >= 400,
                creates_room=method == "POST" and str(args[2]).partition("?")[0] == "/api/rooms",
            )
            record.args = (client, args[1], path, *args[3:])
        elif isinstance(record.msg, str) and record.msg.startswith(_WEBSOCKET_LINE):
            # '... [accepted]', '... [closed]' or a refusal: '... 403', '... %d'.
            refused = not record.msg.endswith("]")
            client, path = without_identities(str(args[0]), str(args[1]), refused=refused)
            record.args = (client, path, *args[2:])
        return True
