"""A TCP proxy the test controls, between a kleur process and Redis.

It stands in for what the issue found in the field: a proxy, sidecar or
managed endpoint that keeps TCP up after its upstream is gone.  Modes:

- ``pass``: bytes flow both ways;
- ``silent``: a blackhole: no byte flows either way, on any connection, and
  every socket stays open; new connections are accepted and get no bytes
  either.  Back to ``pass``, what was held flows on (as TCP delivers its
  retransmitted segments when a partition heals);
- ``freeze_existing``: the connections open at that moment stay open and
  silent for good (even after ``pass``); new connections work.

The proxy runs its own event loop in a thread, so a sync test can use it and
an async test's loop being busy never stalls it.  Nothing is faked: a real
socket on a free port, real Redis behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Final, Literal

Mode = Literal["pass", "silent", "freeze_existing"]

#: Bytes read from one side at a time.
CHUNK: Final = 64 * 1024


@dataclass(slots=True, eq=False)
class _Link:
    """One client connection and its connection upstream."""

    #: Set while bytes may flow on this link.
    flowing: asyncio.Event = field(default_factory=asyncio.Event)
    #: Frozen links never flow again.
    frozen: bool = False
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class TcpProxy:
    """``TcpProxy(redis_port).start()``; point a server at ``proxy.url``; ``set_mode(...)``."""

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.mode: Mode = "pass"
        #: Connections accepted so far (a test can see that a client reconnected).
        self.accepted = 0
        self._links: set[_Link] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    # -- control, from any thread ----------------------------------------------
    def start(self) -> TcpProxy:
        ready: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.result(timeout=10)
        return self

    def set_mode(self, mode: Mode) -> None:
        """Switch modes; when it returns, the new mode holds for every byte."""
        self._call(self._set_mode, mode)

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop = None

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, function: object, *args: object) -> None:
        assert self._loop is not None, "start the proxy first"

        async def run() -> None:
            function(*args)  # type: ignore[operator]

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    # -- the proxy's own loop --------------------------------------------------
    def _run(self, ready: Future[None]) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(self._accept, "127.0.0.1", 0)
            )
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as exc:
            ready.set_exception(exc)
            return
        ready.set_result(None)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _set_mode(self, mode: Mode) -> None:
        self.mode = mode
        for link in self._links:
            if mode == "freeze_existing":
                link.frozen = True
            if mode == "pass" and not link.frozen:
                link.flowing.set()
            else:
                link.flowing.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        link = _Link(writers=[writer])
        if self.mode != "silent":
            link.flowing.set()
        self._links.add(link)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            self._links.discard(link)
            return
        link.writers.append(up_writer)
        link.tasks = [
            asyncio.create_task(self._pump(link, reader, up_writer)),
            asyncio.create_task(self._pump(link, up_reader, writer)),
        ]
        await asyncio.gather(*link.tasks, return_exceptions=True)
        for w in link.writers:
            w.close()
        self._links.discard(link)

    async def _pump(
        self, link: _Link, source: asyncio.StreamReader, sink: asyncio.StreamWriter
    ) -> None:
        """Copy one direction; the gate is checked before reading and before
        writing, so that a chunk read just before the link went silent is held."""
        try:
            while True:
                await link.flowing.wait()
                data = await source.read(CHUNK)
                await link.flowing.wait()
                if not data:
                    break
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            # One side ended: end the other (what a proxy does when one peer hangs up).
            for task in link.tasks:
                if task is not asyncio.current_task():
                    task.cancel()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            for task in link.tasks:
                task.cancel()
            for writer in link.writers:
                with contextlib.suppress(Exception):
                    writer.close()
        # Let every connection's handler see its pumps end and return.
        handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        await asyncio.gather(*handlers, return_exceptions=True)
