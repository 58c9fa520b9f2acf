"""The protocol as data, for the browser pages: generated, never hand-kept.

``GET /api/protocol`` serves ``protocol_schema()``; the pages read message
types, field names, error codes, close codes and limits from it, and a test
fails if the page code uses a type or limit that is not in here.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from protocol import limits
from protocol.close_codes import CloseCode, should_reconnect
from protocol.codec import CODECS
from protocol.errors import RETRYABLE_ERRORS, ErrorCode
from protocol.messages import CLIENT_MESSAGES, SERVER_MESSAGES
from protocol.phases import DotVoting, FollowUpStatus, Phase, Question, Role

#: Bump when a message, field or meaning changes incompatibly.
PROTOCOL_VERSION = 1


def _type_name(hint: object) -> str:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(arg) for arg in args)
    if origin is tuple:
        return f"list[{_type_name(args[0])}]"
    if origin is dict:
        return f"map[{_type_name(args[1])}]"
    if hint is type(None):
        return "null"
    return getattr(hint, "__name__", str(hint))


def _fields(cls: Any) -> dict[str, str]:
    hints = typing.get_type_hints(cls)
    return {f.name: _type_name(hints[f.name]) for f in dataclasses.fields(cls)}


def _nested_types() -> list[Any]:
    """Every dataclass used inside a message, in a stable order."""
    seen: dict[str, Any] = {}
    pending: list[Any] = [*CLIENT_MESSAGES.values(), *SERVER_MESSAGES.values()]
    while pending:
        cls = pending.pop()
        for hint in typing.get_type_hints(cls).values():
            for candidate in (hint, *typing.get_args(hint), *_inner_args(hint)):
                is_new_type = (
                    isinstance(candidate, type)
                    and dataclasses.is_dataclass(candidate)
                    and candidate.__name__ not in seen
                )
                if is_new_type:
                    seen[candidate.__name__] = candidate
                    pending.append(candidate)
    return [seen[name] for name in sorted(seen)]


def _inner_args(hint: object) -> list[object]:
    return [inner for arg in typing.get_args(hint) for inner in typing.get_args(arg)]


def protocol_schema() -> dict[str, Any]:
    return {
        "version": PROTOCOL_VERSION,
        "subprotocols": sorted(CODECS),
        "phases": [phase.value for phase in Phase],
        "roles": [role.value for role in Role],
        # The values of every enum a message field may hold, so pages never copy them.
        "enums": {
            enum.__name__: [member.value for member in enum]
            for enum in (Phase, Role, Question, DotVoting, FollowUpStatus)
        },
        "client_messages": {
            tag: {"fields": _fields(cls), "senders": sorted(r.value for r in cls.SENDERS)}
            for tag, cls in CLIENT_MESSAGES.items()
        },
        "server_messages": {tag: {"fields": _fields(cls)} for tag, cls in SERVER_MESSAGES.items()},
        "types": {cls.__name__: {"fields": _fields(cls)} for cls in _nested_types()},
        "errors": {code.value: {"retry": code in RETRYABLE_ERRORS} for code in ErrorCode},
        "close_codes": {
            code.name.lower(): {"code": int(code), "reconnect": should_reconnect(code)}
            for code in CloseCode
        },
        "limits": {
            name.lower(): value
            for name, value in vars(limits).items()
            if name.isupper() and isinstance(value, int | float | str)
        },
    }
