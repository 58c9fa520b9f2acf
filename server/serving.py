"""How kleur runs uvicorn: one set of options for ``kleur serve``, the tests and the benchmarks.

kleur names its event loop (uvloop) and HTTP parser (httptools) instead of
taking uvicorn's "auto". "auto" quietly falls back to the plain asyncio loop
and h11 when they are missing, and then every rating costs more CPU without
anyone noticing. Both come with ``uvicorn[standard]``; ``check_installed``
turns their absence into one clear sentence.

At start-up each process logs one line naming the loop it runs on and the
HTTP protocol that serves it. The line is read from the running objects, not
from the settings below: operators see it in the log, and the load tests copy
it into their reports (``ServingStack.parse``).  It is logged like every other
line (``kleur.startup``, at any ``--log-level``), so that a JSON log holds
nothing but JSON lines; in JSON its text is the ``event`` field, and
``ServingStack.parse`` finds it in either format.

On SIGTERM/SIGINT uvicorn closes every websocket itself with 1012 and only
then runs the app's lifespan shutdown, so the app's own goodbye (4500,
"reconnect elsewhere") would never be sent.  ``Server.shutdown`` therefore
first stops listening (a reconnect must find another process, not this
one), then awaits the app's ``before_shutdown`` (which closes its
connections with 4500 and waits, bounded, for the close frames to be
written), and only then hands over to uvicorn's shutdown.

When the start fails (the port is taken, the app's lifespan start-up
raised), uvicorn logs the error and calls ``sys.exit(3)``. ``Server.startup``
keeps the error it logged and ``serve`` raises ``StartupFailed`` with it, so
that ``kleur serve`` can give the reason on stderr as one sentence.
"""

from __future__ import annotations

import asyncio
import errno
import importlib
import ipaddress
import logging
import os
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import uvicorn

from protocol.limits import MAX_FRAME_BYTES
from server import logs

EVENT_LOOP = "uvloop"
HTTP_PARSER = "httptools"
#: Sans-I/O websockets: the fastest of uvicorn's websocket implementations for kleur's frames
#: (kleur's subclass, ``server.ws_protocol``, lets a stalled connection be dropped).
WEBSOCKETS = "websockets-sansio"
INSTALL_HINT = "pip install 'uvicorn[standard]'"

#: The start-up line, at the end of a line of text or of a JSON string (``"event": "..."``).
_LINE = re.compile(
    r"kleur: event loop (?P<loop>[^\s\"]+) \((?P<loop_class>[^)]*)\), "
    r"HTTP parser (?P<http>[^\s\"]+) \((?P<http_class>[^)]*)\)(?=\"|$)",
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
        # kleur's own subclass (server.slow_headers) names uvicorn's protocol it extends.
        http_protocol = next(
            (k for k in http_protocol.__mro__ if k.__module__.startswith("uvicorn.")),
            http_protocol,
        )
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


class BadTrustedProxies(ValueError):
    """An entry of ``trusted_proxies`` is not an address or network."""


def parse_trusted_proxies(raw: str) -> tuple[str, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` as uvicorn's ``forwarded_allow_ips``; empty: none.

    uvicorn takes a misspelt entry as a host *name* that never matches, so a
    typo would quietly switch the proxy off and put every phone behind the
    proxy's one address; here it stops the start instead.  ``*`` is refused
    too: it would let any client choose the address the limits count.
    """
    entries = tuple(entry.strip() for entry in raw.split(",") if entry.strip())
    for entry in entries:
        try:
            if "/" in entry:
                ipaddress.ip_network(entry)  # strict: 10.0.0.1/8 is a typo for 10.0.0.0/8
            else:
                ipaddress.ip_address(entry)
        except ValueError as exc:
            raise BadTrustedProxies(
                f"KLEUR_TRUSTED_PROXIES: {entry!r} is not an IP address or network"
                f" ({exc}); give addresses or CIDRs, e.g. 127.0.0.1,10.0.0.0/8"
            ) from None
    return entries


def uvicorn_config(
    app: Any,
    *,
    host: str,
    port: int,
    log_level: str,
    log_format: str | None = None,
    trusted_proxies: tuple[str, ...] = (),
    header_timeout_seconds: float = 10.0,
) -> uvicorn.Config:
    """uvicorn's options for kleur; ``log_format`` None: ``server.logs``'s default rule."""
    # Imported here: it imports httptools, whose absence ``check_installed`` reports first.
    from server.slow_headers import protocol_with_header_timeout
    from server.ws_protocol import AbortableWebSocketProtocol

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop=EVENT_LOOP,
        # httptools, with a bound on slowly sent headers (server.slow_headers).
        http=protocol_with_header_timeout(header_timeout_seconds),
        ws=AbortableWebSocketProtocol,
        ws_per_message_deflate=False,
        ws_max_size=MAX_FRAME_BYTES,
        lifespan="on",
        # The levels come from log_config alone: uvicorn would set its loggers to
        # log_level after it, and its debug and trace lines carry request headers
        # and query strings (server.logs keeps uvicorn's loggers at info or above).
        log_level=None,
        # One logging set-up for uvicorn's loggers and kleur's (server.logs).
        log_config=logs.logging_config(log_format or logs.default_format(), log_level),
        # Only a trusted proxy's X-Forwarded-For names the client (the limits count it).
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies),
        server_header=False,
    )


#: What ``uvicorn_config`` sets, for reports (the loop and parser are read from the server).
OPTIONS_SUMMARY = (
    f"loop={EVENT_LOOP} http={HTTP_PARSER} ws={WEBSOCKETS} ws_max_size={MAX_FRAME_BYTES} "
    "ws_per_message_deflate=False lifespan=on proxy_headers=when trusted_proxies "
    "server_header=False header_timeout=header_timeout_seconds"
)


class StartupFailed(RuntimeError):
    """uvicorn did not start serving; the message says why, in one line."""


class _StartupErrors(logging.Filter):
    """Keeps the error uvicorn logs just before it gives up starting: the
    ``OSError`` of a failed bind (logged as the message itself) or the
    exception of a failed lifespan start-up (logged as ``exc_info``)."""

    def __init__(self) -> None:
        super().__init__()
        self.error: BaseException | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, OSError):
            self.error = record.msg
        elif record.exc_info and record.exc_info[1] is not None:
            self.error = record.exc_info[1]
        return True


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


#: What ``Server.shutdown`` awaits before uvicorn's own: the app closing its connections.
BeforeShutdown = Callable[[], Awaitable[object]]


class Server(uvicorn.Server):
    """uvicorn's server, saying at start-up what it runs on, and letting the app
    say goodbye to its websockets before uvicorn closes them."""

    def __init__(self, config: uvicorn.Config, before_shutdown: BeforeShutdown | None = None):
        super().__init__(config)
        self.before_shutdown = before_shutdown
        #: Why the start failed (one line), or None.
        self.startup_failure: str | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # Before the sockets are bound: whoever sees the server answer has the line already.
        line = ServingStack.running(self.config.http_protocol_class).line()
        logging.getLogger(logs.STARTUP_LOGGER).info(line)
        errors = _StartupErrors()
        uvicorn_log = logging.getLogger("uvicorn.error")
        uvicorn_log.addFilter(errors)
        try:
            await super().startup(sockets)
        except SystemExit:  # uvicorn's way to give up; it has logged why
            if isinstance(errors.error, OSError):
                error = errors.error
                why = os.strerror(error.errno) if error.errno else _one_line(error)
                where = f"{self.config.host}:{self.config.port}"
                self.startup_failure = f"cannot listen on {where}: {why}"
                if error.errno == errno.EADDRINUSE:
                    self.startup_failure += " (another process has it; choose another --port)"
            elif errors.error is not None:
                self.startup_failure = (
                    f"the application did not start: {type(errors.error).__name__}: "
                    f"{_one_line(errors.error)}"
                )
            else:
                self.startup_failure = "the server did not start (the log says why)"
            self.should_exit = True
        finally:
            uvicorn_log.removeFilter(errors)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.before_shutdown is not None and not self.force_exit:
            # Stop accepting first, as uvicorn would: clients told to go must
            # find another process.  (uvicorn closes them again: no harm.)
            for server in self.servers:
                server.close()
            try:
                await self.before_shutdown()
            except Exception:  # a goodbye that failed must not stop the shutdown
                logging.getLogger("kleur").exception("closing connections before shutdown")
        await super().shutdown(sockets)


def serve(
    app: Any,
    *,
    host: str,
    port: int,
    log_level: str,
    log_format: str | None = None,
    trusted_proxies: tuple[str, ...] = (),
    header_timeout_seconds: float = 10.0,
    before_shutdown: BeforeShutdown | None = None,
) -> bool:
    """Run ``app`` until SIGINT/SIGTERM; raise ``StartupFailed`` when it never
    started (the port is taken, the lifespan start-up failed), else True.

    ``before_shutdown`` runs once the signal came, before uvicorn closes any
    connection (``Server.shutdown``)."""
    config = uvicorn_config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_format=log_format,
        trusted_proxies=trusted_proxies,
        header_timeout_seconds=header_timeout_seconds,
    )
    server = Server(config, before_shutdown)
    server.run()  # handles SIGINT/SIGTERM itself with a graceful shutdown
    if server.startup_failure is not None:
        raise StartupFailed(server.startup_failure)
    # uvicorn may also return normally without having started (a signal
    # during the start-up); only ``server.started`` tells that from a clean stop.
    if not server.started:
        raise StartupFailed("the server stopped before it started serving")
    return True
