"""A bound on the time a client takes to send a request's headers.

uvicorn (httptools) waits for headers as long as the client keeps the
connection open, so a client that sends one byte a second holds a connection
and its buffers for ever; a few hundred of them fill the process.  uvicorn has
no option for this, so ``BoundedHeadersProtocol`` is its httptools protocol
with one timer: armed when the connection opens and when a request's first
byte arrives, cancelled when the headers are complete.  When it fires, the
connection is closed.  (Idle keep-alive connections are uvicorn's own
``timeout_keep_alive``; bodies and websockets are not affected.)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("kleur.http")


class BoundedHeadersProtocol(HttpToolsProtocol):
    #: Set by ``protocol_with_header_timeout``.
    header_timeout_seconds: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(
                self.header_timeout_seconds, self._headers_too_slow
            )

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        log.info("closed a connection: request headers not complete in time")
        if not self.transport.is_closing():
            self.transport.close()


def protocol_with_header_timeout(seconds: float) -> type[BoundedHeadersProtocol]:
    """``BoundedHeadersProtocol`` with its bound (uvicorn takes a class, not an instance)."""
    return type(
        "BoundedHeadersProtocol", (BoundedHeadersProtocol,), {"header_timeout_seconds": seconds}
    )
