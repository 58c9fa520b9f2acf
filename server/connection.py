"""One websocket connection: its identity and its bounded send queue.

Each connection has its own writer task and a queue of at most
``SEND_QUEUE_MAX`` frames.  A client that cannot keep up is closed (4501,
"reconnect and resync") instead of slowing down the room or growing memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect

from agenda.templates import Template
from protocol import limits
from protocol.close_codes import CloseCode
from protocol.codec import Codec
from protocol.messages import ServerMessage
from protocol.phases import Role
from server.metrics import METRICS

log = logging.getLogger("kleur.connection")


@dataclass(slots=True)
class Identity:
    """Who is on the other end, once joined."""

    room: str
    role: Role
    template: Template
    #: The participant's pseudonym; None for the facilitator.
    pid: str | None
    #: The facilitator window's own sequence space ("shared" when it sent none).
    device: str = "shared"


class Connection:
    def __init__(self, websocket: WebSocket, codec: Codec) -> None:
        self.websocket = websocket
        self.codec = codec
        self.identity: Identity | None = None
        self._queue: asyncio.Queue[bytes | str | None] = asyncio.Queue(limits.SEND_QUEUE_MAX)
        self._close: tuple[int, str] | None = None

    def send(self, message: ServerMessage) -> None:
        self.send_frame(self.codec.encode(message))

    def send_frame(self, frame: bytes | str) -> None:
        """Queue an encoded frame; a full queue closes the connection as too slow."""
        if self._close is not None:
            return
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.close(CloseCode.SLOW_CONSUMER, "too slow to keep up; reconnect")

    def close(self, code: int, reason: str) -> None:
        """Close after the frames already queued (the writer sends the close)."""
        if self._close is None:
            self._close = (code, reason[:120])
            METRICS.closes[int(code)] += 1
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(None)
            if self._queue.full():
                # No room for the sentinel: drop the backlog, the client resyncs.
                while not self._queue.empty():
                    self._queue.get_nowait()
                self._queue.put_nowait(None)

    @property
    def closing(self) -> bool:
        return self._close is not None

    async def run_writer(self) -> None:
        try:
            while True:
                frame = await self._queue.get()
                if frame is None:
                    break
                if isinstance(frame, bytes):
                    await self.websocket.send_bytes(frame)
                else:
                    await self.websocket.send_text(frame)
            code, reason = self._close or (CloseCode.NORMAL, "")
            await self.websocket.close(code, reason)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            # The peer went away while we were writing: nothing left to do.
            log.debug("writer stopped: %s", type(exc).__name__)
