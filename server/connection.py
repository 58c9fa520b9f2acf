"""One websocket connection: its identity and its bounded send queue.

Each connection has a queue of at most ``SEND_QUEUE_MAX`` frames and, while
there is something to write, a writer task.  A client that cannot keep up is closed (4501,
"reconnect and resync") instead of slowing down the room or growing memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect

from agenda.templates import Template
from protocol import limits
from protocol.close_codes import CloseCode, close_reason
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
    #: The room's epoch when this participant joined: its ratings from an older
    #: epoch than the room's are refused (docs/protocol.md section 14).
    epoch: str = ""


class Connection:
    """A joined (or joining) websocket and the frames waiting to be written to it.

    Frames wait in a deque of at most ``SEND_QUEUE_MAX``; a writer task exists
    only while there is something to write, so an idle connection (the usual
    state of a phone) holds no task, no queue and no future: about 3 KiB less
    per connection, which is what the memory target of docs/benchmarks.md is
    about.
    """

    __slots__ = ("_close", "_frames", "_writer", "codec", "identity", "websocket")

    def __init__(self, websocket: WebSocket, codec: Codec) -> None:
        self.websocket = websocket
        self.codec = codec
        self.identity: Identity | None = None
        #: Encoded frames to send, in order; None is "send the close frame now".
        self._frames: deque[bytes | str | None] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._close: tuple[int, str] | None = None

    def send(self, message: ServerMessage) -> None:
        self.send_frame(self.codec.encode(message))

    def send_frame(self, frame: bytes | str) -> None:
        """Queue an encoded frame; a full queue closes the connection as too slow."""
        if self._close is not None:
            return
        if len(self._frames) >= limits.SEND_QUEUE_MAX:
            self.close(CloseCode.SLOW_CONSUMER, "too slow to keep up; reconnect")
            return
        self._frames.append(frame)
        self._start_writer()

    def close(self, code: int, reason: str) -> None:
        """Close after the frames already queued (the writer sends the close)."""
        if self._close is None:
            self._close = (code, close_reason(reason))
            METRICS.closes[int(code)] += 1
            if code == CloseCode.SLOW_CONSUMER:
                # The client resyncs on reconnect: drop the backlog it cannot take.
                self._frames.clear()
            self._frames.append(None)
            self._start_writer()

    @property
    def closing(self) -> bool:
        return self._close is not None

    async def wait_written(self, timeout: float) -> None:
        """Until every queued frame (and the close, if asked for) is written."""
        if self._writer is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._writer, timeout)

    def _start_writer(self) -> None:
        # A writer that found the deque empty has returned without awaiting
        # anything after its last check, so "done" here never loses a frame.
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())

    async def _write(self) -> None:
        try:
            while self._frames:
                frame = self._frames.popleft()
                if frame is None:
                    self._frames.clear()
                    code, reason = self._close or (CloseCode.NORMAL, "")
                    await self.websocket.close(code, reason)
                    return
                if isinstance(frame, bytes):
                    await self.websocket.send_bytes(frame)
                else:
                    await self.websocket.send_text(frame)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            # The peer went away while we were writing: nothing left to do.
            self._frames.clear()
            log.debug("writer stopped: %s", type(exc).__name__)
