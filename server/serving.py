"""How kleur runs uvicorn: one set of options for ``kleur serve``, the tests and the benchmarks.

kleur names its event loop (uvloop) and HTTP parser (httptools) instead of
taking uvicorn's "auto". "auto" quietly falls back to the plain asyncio loop
and h11 when they are missing, and then every rating costs more CPU without
anyone noticing. Both come with ``uvicorn[standard]``; ``check_installed``
turns their absence into one clear sentence.

At start-up each process prints one line naming the loop it runs on and the
HTTP protocol that serves it. The line is read from the running objects, not
from the settings below: operators see it in the log, and the load tests copy
it into their reports (``ServingStack.parse``).
"""

from __future__ import annotations

import asyncio
import importlib
import re
import socket
from dataclasses import dataclass
from typing import Any

import uvicorn

from protocol.limits import MAX_FRAME_BYTES

EVENT_LOOP = "uvloop"
HTTP_PARSER = "httptools"
#: Sans-I/O websockets: the fastest of uvicorn's websocket implementations for kleur's frames.
WEBSOCKETS = "websockets-sansio"
INSTALL_HINT = "pip install 'uvicorn[standard]'"

_LINE = re.compile(
    r"^kleur: event loop (?P<loop>\S+) \((?P<loop_class>[^)]*)\), "
    r"HTTP parser (?P<http>\S+) \((?P<http_class>[^)]*)\)$",
    re.MULTILINE,
)


class MissingServerPart(RuntimeError):
    """uvloop or httptools cannot be imported."""


def check_installed() -> None:
    """Raise ``MissingServerPart`` unless the event loop and HTTP parser import.

    An actual import rather than a look-up, so that a broken installation is
    caught here too, before any Redis is started.
    """
    for module in (EVENT_LOOP, HTTP_PARSER):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise MissingServerPart(
                f"{module} cannot be imported ({exc}); kleur serves on {EVENT_LOOP} and "
                f"{HTTP_PARSER}: {INSTALL_HINT}"
            ) from exc


@dataclass(frozen=True, slots=True)
class ServingStack:
    """The event loop and HTTP protocol a server process actually runs with."""

    event_loop: str
    event_loop_class: str
    http_parser: str
    http_protocol_class: str

    @classmethod
    def running(cls, http_protocol: type[Any]) -> ServingStack:
        """The loop this coroutine runs on, and ``http_protocol`` (uvicorn's loaded class)."""
        loop = type(asyncio.get_running_loop())
        # The loop's package names it: "uvloop.Loop" is uvloop, and
        # "asyncio.unix_events._UnixSelectorEventLoop" is asyncio.  uvicorn's
        # protocols live in modules named after their parser ("httptools_impl").
        parser = http_protocol.__module__.rpartition(".")[2].removesuffix("_impl")
        return cls(
            event_loop=loop.__module__.partition(".")[0],
            event_loop_class=f"{loop.__module__}.{loop.__qualname__}",
            http_parser=parser,
            http_protocol_class=http_protocol.__qualname__,
        )

    def line(self) -> str:
        return (
            f"kleur: event loop {self.event_loop} ({self.event_loop_class}), "
            f"HTTP parser {self.http_parser} ({self.http_protocol_class})"
        )

    @classmethod
    def parse(cls, log: str) -> ServingStack | None:
        """The last start-up line in ``log``; None when there is none."""
        found = list(_LINE.finditer(log))
        if not found:
            return None
        last = found[-1]
        return cls(last["loop"], last["loop_class"], last["http"], last["http_class"])

    def as_dict(self) -> dict[str, str]:
        return {
            "event_loop": self.event_loop,
            "event_loop_class": self.event_loop_class,
            "http_parser": self.http_parser,
            "http_protocol_class": self.http_protocol_class,
        }


def uvicorn_config(app: Any, *, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop=EVENT_LOOP,
        http=HTTP_PARSER,
        ws=WEBSOCKETS,
        ws_per_message_deflate=False,
        ws_max_size=MAX_FRAME_BYTES,
        lifespan="on",
        log_level=log_level,
        proxy_headers=False,
        server_header=False,
    )


#: What ``uvicorn_config`` sets, for reports (the loop and parser are read from the server).
OPTIONS_SUMMARY = (
    f"loop={EVENT_LOOP} http={HTTP_PARSER} ws={WEBSOCKETS} ws_max_size={MAX_FRAME_BYTES} "
    "ws_per_message_deflate=False lifespan=on proxy_headers=False server_header=False"
)


class Server(uvicorn.Server):
    """uvicorn's server, saying at start-up what it runs on."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # Before the sockets are bound: whoever sees the server answer has the line already.
        print(ServingStack.running(self.config.http_protocol_class).line(), flush=True)
        await super().startup(sockets)


def serve(app: Any, *, host: str, port: int, log_level: str) -> bool:
    """Run ``app`` until SIGINT/SIGTERM; False when it never started (e.g. lifespan failed)."""
    server = Server(uvicorn_config(app, host=host, port=port, log_level=log_level))
    server.run()  # handles SIGINT/SIGTERM itself with a graceful shutdown
    # uvicorn returns normally when the lifespan startup fails; only
    # ``server.started`` tells that apart from a clean stop.
    return server.started
