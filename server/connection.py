"""One websocket connection: its identity and its bounded send queue.

Each connection has a queue of at most ``SEND_QUEUE_MAX`` frames and, while
there is something to write, a writer task.  A client that cannot keep up is closed (4501,
"reconnect and resync") instead of slowing down the room or growing memory.

Two ways to be too slow.  A client that reads, but slower than the room
changes, fills its queue: the backlog is dropped and the close frame goes
out next.  A client that stops reading fills the socket instead, and the
writer waits for it to drain (uvicorn's flow control): then nothing queued
behind, the close frame included, would ever be written.  So a write has a
deadline (``WRITE_DEADLINE_SECONDS``); past it the writer gives up on the
frame, tries the 4501 close for ``CLOSE_GRACE_SECONDS`` and, when even that
cannot get out, drops the TCP connection (its buffers go with it).  Either
way the endpoint hears the disconnect and takes the connection out of the hub.
"""

from __future__ import annotations

import asyncio
import logging
import time
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

#: After a missed write deadline: how long the 4501 close frame may wait to be
#: written before the connection is dropped without it.
CLOSE_GRACE_SECONDS = 2.0
#: The ASGI scope extension through which the server lets the app drop a
#: connection (``server.ws_protocol``); absent, a stalled client is left to
#: the websocket stack's own keepalive.
ABORT_EXTENSION = "kleur.abort"
_SLOW_REASON = "too slow to keep up; reconnect"
#: How often the watchdog looks at the writers that are running.  A write is
#: given up between ``WRITE_DEADLINE_SECONDS`` and that plus this.
WATCH_INTERVAL_SECONDS = 1.0


class _Watchdog:
    """One timer for every writer of the process, not one per writer.

    A writer run registers here while it runs (most runs end without ever
    waiting, so the set is small); once a second the watchdog cancels the
    writers whose current write began more than the deadline ago.  A timer
    per run costs 2-3 µs on uvloop (measured: call_later and cancel), paid
    for every connection on every broadcast; the set and the clock, 0.2 µs.
    """

    def __init__(self) -> None:
        self.writing: set[Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, connection: Connection, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is not loop:  # a new event loop (tests run several): start afresh
            self.writing.clear()
            self._loop, self._timer = loop, None
        self.writing.add(connection)
        if self._timer is None:
            self._timer = loop.call_later(WATCH_INTERVAL_SECONDS, self._sweep)

    def _sweep(self) -> None:
        assert self._loop is not None
        late = self._loop.time() - limits.WRITE_DEADLINE_SECONDS
        for connection in [c for c in self.writing if c._written_at < late]:
            self.writing.discard(connection)
            connection._stall()
        self._timer = (
            self._loop.call_later(WATCH_INTERVAL_SECONDS, self._sweep) if self.writing else None
        )


_WATCHDOG = _Watchdog()


@dataclass(frozen=True, slots=True)
class TimedFrame:
    """An acknowledgement's frame, and when its command's frame was received
    (``time.perf_counter``): the writer times it once written
    (``kleur_ack_seconds``).  Only acknowledgements are timed."""

    frame: bytes | str
    kind: str
    received: float


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

    __slots__ = (
        "_close",
        "_frames",
        "_stalled",
        "_writer",
        "_written_at",
        "codec",
        "identity",
        "websocket",
    )

    def __init__(self, websocket: WebSocket, codec: Codec) -> None:
        self.websocket = websocket
        self.codec = codec
        self.identity: Identity | None = None
        #: Encoded frames to send, in order; None is "send the close frame now".
        self._frames: deque[bytes | str | TimedFrame | None] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._close: tuple[int, str] | None = None
        #: While a writer runs: when its current write began (``_Watchdog``).
        self._written_at = 0.0
        #: Set by the watchdog just before it cancels a writer stuck on a write.
        self._stalled = False

    def send(self, message: ServerMessage) -> None:
        self.send_frame(self.codec.encode(message))

    def send_ack(self, message: ServerMessage, kind: str, received: float) -> None:
        """Queue a command's acknowledgement, timed from ``received`` until written."""
        self.send_frame(TimedFrame(self.codec.encode(message), kind, received))

    def send_frame(self, frame: bytes | str | TimedFrame) -> None:
        """Queue an encoded frame; a full queue closes the connection as too slow."""
        if self._close is not None:
            return
        if len(self._frames) >= limits.SEND_QUEUE_MAX:
            self.close(CloseCode.SLOW_CONSUMER, _SLOW_REASON)
            return
        self._frames.append(frame)
        self._start_writer()

    def close(self, code: int, reason: str) -> None:
        """Close after the frames already queued (the writer sends the close)."""
        if self._close is None:
            self._close = (code, close_reason(reason))
            METRICS.closed_by_server(int(code))
            if code == CloseCode.SLOW_CONSUMER:
                # The client resyncs on reconnect: drop the backlog it cannot take.
                self._frames.clear()
            self._frames.append(None)
            self._start_writer()

    def closed_by_peer(self, code: int) -> None:
        """The client closed (or dropped) the connection: nothing more is
        written to it, and the endpoint's closing ``close`` is not counted as
        the server's."""
        if self._close is None:
            self._close = (code, "")
            METRICS.closed_by_client(code)
            self._frames.clear()

    @property
    def closing(self) -> bool:
        return self._close is not None

    async def wait_written(self, timeout: float) -> bool:
        """Until every queued frame (and the close, if asked for) is written;
        False when ``timeout`` passed first (the writer is then cancelled)."""
        if self._writer is not None and not self._writer.done():
            try:
                await asyncio.wait_for(self._writer, timeout)
            except TimeoutError:
                return False
        return True

    def _start_writer(self) -> None:
        # A writer that found the deque empty has returned without awaiting
        # anything after its last check, so "done" here never loses a frame.
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        self._written_at = loop.time()
        _WATCHDOG.watch(self, loop)
        closing = False
        try:
            while self._frames:
                frame = self._frames.popleft()
                if frame is None:
                    self._frames.clear()
                    code, reason = self._close or (CloseCode.NORMAL, "")
                    closing = True
                    await self.websocket.close(code, reason)
                    return
                timed = None
                if isinstance(frame, TimedFrame):
                    timed, frame = frame, frame.frame
                if isinstance(frame, bytes):
                    await self.websocket.send_bytes(frame)
                else:
                    await self.websocket.send_text(frame)
                self._written_at = loop.time()
                if timed is not None:
                    METRICS.acknowledged(timed.kind, time.perf_counter() - timed.received)
        except asyncio.CancelledError:
            if not self._stalled:
                raise
            # Our own watchdog, not a shutdown: carry on to close this client.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            await self._close_stalled(already_closing=closing)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            # The peer went away while we were writing: nothing left to do.
            self._frames.clear()
            log.debug("writer stopped: %s", type(exc).__name__)
        finally:
            _WATCHDOG.writing.discard(self)

    def _stall(self) -> None:
        """The watchdog found the current write past its deadline: give up on it."""
        writer = self._writer
        if writer is not None and not writer.done():
            self._stalled = True
            writer.cancel()

    async def _close_stalled(self, *, already_closing: bool) -> None:
        """A write missed its deadline: 4501 if the close frame gets out in time, else drop."""
        if self._close is None:
            self._close = (CloseCode.SLOW_CONSUMER, _SLOW_REASON)
            METRICS.closed_by_server(int(CloseCode.SLOW_CONSUMER))
        self._frames.clear()  # the client resyncs on reconnect: free the backlog now
        log.info("write deadline missed: closing a slow client")
        if not already_closing:
            code, reason = self._close
            try:
                async with asyncio.timeout(CLOSE_GRACE_SECONDS):
                    await self.websocket.close(code, reason)
                return
            except (TimeoutError, WebSocketDisconnect, RuntimeError, OSError):
                pass
        self.abort()

    def abort(self) -> None:
        """Drop the TCP connection at once, unwritten frames and all (no close frame)."""
        self._frames.clear()
        extension = self.websocket.scope.get("extensions", {}).get(ABORT_EXTENSION)
        if extension is None:
            log.warning("cannot drop a stalled connection: no %s extension", ABORT_EXTENSION)
            return
        extension["abort"]()
