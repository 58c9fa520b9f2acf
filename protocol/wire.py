"""Turning message dataclasses into plain wire values and back, with checks.

Each message class is a frozen dataclass whose fields use a small set of
types: ``str``, ``int``, ``float``, ``bool``, ``X | None``, ``tuple[X, ...]``,
``dict[str, X]``, string enums and nested dataclasses.  From the type hints
we build, once per class, a list of converters that check an incoming value
and turn lists into tuples.  Anything else raises ``ProtocolError``; nothing
in here raises anything else for any input.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable
from enum import Enum
from functools import cache
from typing import Any

from protocol.errors import ErrorCode, ProtocolError
from protocol.limits import MAX_SEQ

#: Largest list or map accepted inside a message (a snapshot of 2,000 notes
#: is the biggest thing we send; clients never send lists).
MAX_ITEMS = 20_000

Converter = Callable[[object, str], object]


def invalid(path: str, why: str) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID_FIELD, f"{path}: {why}")


def _check_str(value: object, path: str) -> object:
    if not isinstance(value, str):
        raise invalid(path, "must be a string")
    try:
        # JSON can spell a lone surrogate ("\ud800"); such a string cannot be
        # encoded again (msgpack, Redis), so it must not get in.
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid(path, "not valid Unicode text") from None
    return value


def _check_int(value: object, path: str) -> object:
    # bool is a subclass of int in Python; on the wire it is not a number.
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid(path, "must be an integer")
    if not -MAX_SEQ <= value <= MAX_SEQ:
        raise invalid(path, "integer out of range")
    return value


def _check_float(value: object, path: str) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(path, "must be a number")
    try:
        number = float(value)  # a huge JSON integer overflows here
    except OverflowError:
        raise invalid(path, "number out of range") from None
    if not math.isfinite(number):
        raise invalid(path, "must be finite")
    return number


def _check_bool(value: object, path: str) -> object:
    if not isinstance(value, bool):
        raise invalid(path, "must be true or false")
    return value


def _check_none(value: object, path: str) -> object:
    if value is not None:
        raise invalid(path, "must be null")
    return None


def _optional(inner: Converter) -> Converter:
    def convert(value: object, path: str) -> object:
        return None if value is None else inner(value, path)

    return convert


def _tuple_of(inner: Converter) -> Converter:
    def convert(value: object, path: str) -> object:
        if not isinstance(value, list | tuple):
            raise invalid(path, "must be a list")
        if len(value) > MAX_ITEMS:
            raise invalid(path, "too many items")
        return tuple(inner(item, f"{path}[{i}]") for i, item in enumerate(value))

    return convert


def _dict_of(inner: Converter) -> Converter:
    def convert(value: object, path: str) -> object:
        if not isinstance(value, dict):
            raise invalid(path, "must be a map")
        if len(value) > MAX_ITEMS:
            raise invalid(path, "too many items")
        out: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise invalid(path, "map keys must be strings")
            out[key] = inner(item, f"{path}.{key}")
        return out

    return convert


def _enum(enum_type: type[Enum]) -> Converter:
    allowed = {member.value: member for member in enum_type}

    def convert(value: object, path: str) -> object:
        if isinstance(value, enum_type):
            return value
        if isinstance(value, str) and value in allowed:
            return allowed[value]
        raise invalid(path, f"must be one of {sorted(allowed)}")

    return convert


def _nested(cls: type[Any]) -> Converter:
    def convert(value: object, path: str) -> object:
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            raise invalid(path, "must be a map")
        return from_fields(cls, value, path)

    return convert


def _converter(hint: object) -> Converter:
    simple: dict[object, Converter] = {
        str: _check_str,
        int: _check_int,
        float: _check_float,
        bool: _check_bool,
        type(None): _check_none,
    }
    if hint in simple:
        return simple[hint]
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        others = [arg for arg in args if arg is not type(None)]
        if len(others) == 1 and len(args) == 2:
            return _optional(_converter(others[0]))
        raise TypeError(f"unsupported union {hint!r}")
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _tuple_of(_converter(args[0]))
    if origin is dict and args[0] is str:
        return _dict_of(_converter(args[1]))
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _nested(hint)
    raise TypeError(f"unsupported field type {hint!r}")


@cache
def field_converters(cls: Any) -> tuple[tuple[str, Converter, bool], ...]:
    """(name, converter, may be left out) for each field; a field with a default may."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (field.name, _converter(hints[field.name]), field.default is not dataclasses.MISSING)
        for field in dataclasses.fields(cls)
        if field.init
    )


def from_fields(cls: Any, data: dict[Any, Any], path: str) -> Any:
    """Build ``cls`` from a decoded map, checking names and types of every field."""
    converters = field_converters(cls)
    names = {name for name, _, _ in converters}
    extra = [key for key in data if key not in names]
    if extra:
        raise invalid(path, f"unknown field {str(extra[0])[:40]!r}")
    kwargs: dict[str, object] = {}
    for name, convert, optional in converters:
        if name not in data:
            if optional:
                continue
            raise invalid(f"{path}.{name}", "is missing")
        kwargs[name] = convert(data[name], f"{path}.{name}")
    return cls(**kwargs)


#: Types that go on the wire as they are.
_PLAIN: frozenset[type] = frozenset({type(None), bool, int, float, str})
#: Type -> how its values go on the wire, made once per type: encoding one
#: dashboard visits a few hundred small objects of a handful of classes, and
#: a snapshot is encoded for every room that changed, several times a second.
_ENCODERS: dict[type, Callable[[Any], object]] = {}


def to_wire(value: object) -> object:
    """A message (or part of one) as plain maps, lists and scalars."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    encoder = _ENCODERS.get(kind)
    if encoder is None:
        encoder = _ENCODERS[kind] = _encoder_for(kind)
    return encoder(value)


def _encoder_for(kind: type) -> Callable[[Any], object]:
    plain = _PLAIN

    def sequence(value: tuple[object, ...] | list[object]) -> list[object]:
        return [item if type(item) in plain else to_wire(item) for item in value]

    def mapping(value: dict[object, object]) -> dict[object, object]:
        return {key: item if type(item) in plain else to_wire(item) for key, item in value.items()}

    if issubclass(kind, Enum):
        return lambda value: value.value
    if issubclass(kind, tuple | list):
        return sequence
    if issubclass(kind, dict):
        return mapping
    if issubclass(kind, bool | int | float | str):  # a subclass of a plain type
        return lambda value: value
    if dataclasses.is_dataclass(kind):
        names = tuple(field.name for field in dataclasses.fields(kind))

        def record(value: object) -> dict[str, object]:
            wire = {}
            for name in names:
                item = getattr(value, name)
                wire[name] = item if type(item) in plain else to_wire(item)
            return wire

        return record
    return lambda value: value
