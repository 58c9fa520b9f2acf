"""uvicorn's sans-I/O websocket protocol, handing the app a way to drop its connection.

ASGI gives an app no transport: it can only send a close frame, and a close
frame waits, like every frame, until the client has read what is before it.
A client that stopped reading then holds its connection (and its buffers)
until uvicorn's keepalive gives up on it, and gets 1011 instead of the
documented 4501.  This subclass puts ``transport.abort`` in the scope's
extensions (``server.connection.ABORT_EXTENSION``), which the connection
calls once its write deadline and the close grace have both passed.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

from server.connection import ABORT_EXTENSION


class AbortableWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The scope exists only for an accepted handshake.  The app's task is
        # created but has not run yet, so it sees the extension from its start.
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][ABORT_EXTENSION] = {"abort": self.transport.abort}
