"""Logging for the whole process: kleur's loggers, uvicorn's and the rest, one format.

Every record goes to stdout through one handler, in one of two formats:

- ``json``: one JSON object per line, for a log shipper: ``time`` (ISO 8601,
  UTC, milliseconds), ``level``, ``logger``, ``event`` (the message), ``room``
  and ``connection`` when known, the record's other plain extra fields, and
  ``exc`` (the traceback as one string, messages withheld: see below) for an
  exception.  uvicorn's access lines also get ``client``, ``method``, ``path`` and ``status``.
- ``text``: one readable line per record for a person at a terminal, with
  the same fields after the message as ``key=value``.

Without a choice (``--log-format``, ``KLEUR_LOG_FORMAT``) the format is
``json``, or ``text`` when stdout is a terminal: containers get lines a
machine can parse, a person running ``kleur serve`` gets lines to read.

The room code and connection id come from context variables that the
websocket endpoint sets in its connection's task (``bind_connection``,
``bind_room``), so every kleur log call made on behalf of that connection
carries them without passing them around; ``extra={"room": code}`` still
works (and wins) for the hub's background tasks.  uvicorn's records never
get them: its websocket handshake line names the client's address, and a
connection id next to it would tie that address to the room the connection
later joins (``server.access_log`` keeps addresses away from rooms).

Tracebacks keep every exception's type and frames (file, line, function and
the line of code) but not its message, unless the exception is one of
``TELLING_EXCEPTIONS`` (``OSError``, Redis's connection and time-out errors),
whose message says something about the machine: an address, a socket, a file.
Any other message may hold what someone sent or what Redis keeps: a rating or
a note's text in a ``ValueError``, a pseudonym in a ``KeyError``, a token in a
Lua script's error.  Such a line is written next to a room code and a
connection id, and the privacy rule (docs/privacy.md) forbids that pairing;
the type and the frames are what a developer needs to find the bug.  Notes
added to an exception (``add_note``) are dropped for the same reason, and so
is all but the first line of asyncio's own error lines ("Task exception was
never retrieved"), whose other lines are the ``repr`` of a task and of its
exception.

The start-up lines (``kleur.startup``: which event loop, where the embedded
Redis keeps its data) are logged at INFO whatever ``--log-level`` says:
operators and the load tests read them once per start.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import logging.config
import secrets
import sys
import traceback
from collections.abc import Coroutine
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeAlias, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from uvicorn.config import LOG_LEVELS

FORMATS = ("json", "text")
#: The logger of the start-up lines, shown at every ``--log-level``.
STARTUP_LOGGER = "kleur.startup"

#: The room the current connection joined, and its connection id.
_room: ContextVar[str | None] = ContextVar("kleur_log_room", default=None)
_connection: ContextVar[str | None] = ContextVar("kleur_log_connection", default=None)

#: Attributes every LogRecord has: anything else on a record came as ``extra``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",  # Python 3.12+
    "color_message",  # uvicorn's message with terminal colours: the plain one is the event
}
#: Extra fields never written, whatever a caller passes: a name that says it
#: holds a credential is refused here rather than trusted to every call site.
_SECRET_WORDS = ("token", "secret", "password", "hash")
#: The fields of uvicorn's access line, in the order of its arguments.
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class BadLogFormat(ValueError):
    """A log format that is neither ``json`` nor ``text``."""


def choose_format(value: str | None, *, stdout_is_terminal: bool) -> str:
    """The format to use: ``value`` when given (checked), else the default rule."""
    if value is None or value == "":
        return "text" if stdout_is_terminal else "json"
    chosen = value.strip().lower()
    if chosen not in FORMATS:
        raise BadLogFormat(f"KLEUR_LOG_FORMAT={value!r}: use json or text")
    return chosen


def default_format() -> str:
    """``choose_format`` with nothing chosen, for this process's stdout."""
    return choose_format(None, stdout_is_terminal=sys.stdout.isatty())


def new_connection_id() -> str:
    """A short random id for one websocket (32 bits): from ``secrets``, never
    derived from a token, so it says nothing about who is connected."""
    return secrets.token_hex(4)


def bind_connection() -> str:
    """Give the current task (one websocket) a new connection id; returns it."""
    connection_id = new_connection_id()
    _connection.set(connection_id)
    return connection_id


def bind_room(code: str) -> None:
    """The current task's connection has joined room ``code``."""
    _room.set(code)


_T = TypeVar("_T")


def detached_task(coro: Coroutine[Any, Any, _T], *, name: str) -> asyncio.Task[_T]:
    """A task of the process's own (a room's reader, the script batcher, a stream
    lane), started in an empty context: a task copies the context of whoever
    starts it, and without this every line it logs would carry the room and
    connection id of the websocket that happened to start it."""
    return asyncio.create_task(coro, name=name, context=contextvars.Context())


class ConnectionContext(logging.Filter):
    """Adds ``room`` and ``connection`` from the context to kleur's records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "kleur" or record.name.startswith("kleur."):
            if getattr(record, "room", None) is None:
                record.room = _room.get()
            if getattr(record, "connection", None) is None:
                record.connection = _connection.get()
        return True


def _time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's fields besides time, level, logger and event, in order."""
    found: dict[str, Any] = {}
    for name in ("room", "connection"):
        value = getattr(record, name, None)
        if value is not None:
            found[name] = value
    args = record.args
    if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
        # (client, method, path, HTTP version, status), as WithoutIdentities left them.
        found.update(zip(_ACCESS_FIELDS, args, strict=True))
    for name, value in vars(record).items():
        if name in _STANDARD or name in found or name in ("room", "connection"):
            continue
        if any(word in name.lower() for word in _SECRET_WORDS):
            continue
        if value is None or isinstance(value, str | int | float | bool):
            found[name] = value
    return found


#: The exceptions whose message a traceback keeps: it tells of the machine (an
#: address, a socket, a file, a time-out), never of what a person sent.
TELLING_EXCEPTIONS: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionRefusedError, TimeoutError, ssl.SSLError ... and asyncio's TimeoutError
    RedisConnectionError,  # "Error 111 connecting to 10.0.0.5:6379. Connection refused."
    RedisTimeoutError,
)
#: Written where the message of any other exception would be.
WITHHELD = "[message withheld]"

ExcInfo: TypeAlias = (
    tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
)


def _headline(exc: BaseException) -> str:
    """``module.Type: message`` as Python writes it, the message only if it may be told."""
    kind = type(exc)
    name = kind.__qualname__
    if kind.__module__ not in ("builtins", "__main__"):
        name = f"{kind.__module__}.{name}"
    if not exc.args:
        return name
    if isinstance(exc, TELLING_EXCEPTIONS):
        try:
            return f"{name}: {exc}"
        except Exception:  # a __str__ that fails: as Python's own traceback does
            return f"{name}: <exception str() failed>"
    return f"{name}: {WITHHELD}"


def _exception_lines(exc: BaseException, seen: set[int]) -> list[str]:
    """Python's traceback of ``exc`` (its causes first, the sub-exceptions of a
    group indented), with only ``_headline``'s part of each message."""
    seen.add(id(exc))
    lines: list[str] = []
    cause, context = exc.__cause__, exc.__context__
    if cause is not None and id(cause) not in seen:
        lines += _exception_lines(cause, seen)
        lines.append("\nThe above exception was the direct cause of the following exception:\n\n")
    elif context is not None and not exc.__suppress_context__ and id(context) not in seen:
        lines += _exception_lines(context, seen)
        lines.append("\nDuring handling of the above exception, another exception occurred:\n\n")
    if exc.__traceback__ is not None:
        lines.append("Traceback (most recent call last):\n")
        lines += traceback.format_tb(exc.__traceback__)
    lines.append(_headline(exc) + "\n")
    if isinstance(exc, BaseExceptionGroup):
        for number, sub in enumerate(exc.exceptions, start=1):
            lines.append(f"+---------------- {number} ----------------\n")
            text = "".join(_exception_lines(sub, seen))
            lines += [f"| {line}" for line in text.splitlines(keepends=True)]
    return lines


def redacted_traceback(exc_info: ExcInfo) -> str:
    """The traceback a log line carries: every type and frame, the messages only
    of ``TELLING_EXCEPTIONS`` (module docstring), no notes."""
    exc = exc_info[1]
    if exc is None:
        return "NoneType: None"
    return "".join(_exception_lines(exc, set())).rstrip("\n")


def event_of(record: logging.LogRecord) -> str:
    """The record's message; of asyncio's own lines the first line only."""
    message = record.getMessage()
    if record.name == "asyncio" or record.name.startswith("asyncio."):
        return message.partition("\n")[0]
    return message


class _Formatter(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        return redacted_traceback(ei)


class JsonFormatter(_Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": event_of(record),
        }
        line.update(fields(record))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(_Formatter):
    """``TIME LEVEL logger: message key=value ...``, then any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        extra = fields(record)
        if record.name == "uvicorn.access":
            # The message already says it all; its fields would only repeat it.
            extra = {k: v for k, v in extra.items() if k not in _ACCESS_FIELDS}
        tail = "".join(f" {key}={value}" for key, value in extra.items())
        line = f"{_time(record)} {record.levelname:<7} {record.name}: {event_of(record)}{tail}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def level_number(level: str) -> int:
    """``--log-level``'s names (uvicorn's, with ``trace``) as a logging level."""
    return LOG_LEVELS[level.lower()]


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` for the process (also uvicorn's ``log_config``)."""
    if log_format not in FORMATS:
        raise BadLogFormat(f"log format {log_format!r}: use json or text")
    number = level_number(level)
    uvicorn_filters = ["without_identities"]
    # uvicorn's and websockets' own debug and trace lines are written below the
    # filters' reach: every request header of a handshake (X-Forwarded-For with a
    # phone's address, User-Agent), each ASGI message with its query string (the
    # join token), frames as hex.  They are never logged: --log-level debug and
    # trace lower kleur's loggers only.
    library_level = max(number, logging.INFO)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "connection_context": {"()": f"{__name__}.ConnectionContext"},
            "without_identities": {"()": "server.access_log.WithoutIdentities"},
        },
        "formatters": {
            "json": {"()": f"{__name__}.JsonFormatter"},
            "text": {"()": f"{__name__}.TextFormatter"},
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": log_format,
                "filters": ["connection_context"],
            }
        },
        # Everything ends at the root's one handler: kleur's, uvicorn's, and
        # other libraries' warnings (asyncio's "Task exception was never retrieved").
        "root": {"handlers": ["stdout"], "level": logging.WARNING},
        "loggers": {
            "kleur": {"level": number},
            STARTUP_LOGGER: {"level": min(number, logging.INFO)},
            "uvicorn": {"level": library_level},
            "uvicorn.error": {"level": library_level, "filters": uvicorn_filters},
            "uvicorn.access": {"level": library_level, "filters": uvicorn_filters},
            "uvicorn.asgi": {"level": library_level},
            "websockets": {"level": library_level},
        },
    }


def configure(log_format: str, level: str) -> None:
    """Apply ``logging_config`` now (uvicorn applies it again when it starts: the same)."""
    logging.addLevelName(LOG_LEVELS["trace"], "TRACE")
    logging.config.dictConfig(logging_config(log_format, level))
