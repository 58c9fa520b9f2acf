"""The two codecs: msgpack (binary frames, canonical) and JSON (text frames).

A client picks one with the websocket subprotocol ``kleur.v1.msgpack`` or
``kleur.v1.json``.  ``decode_*`` turns any frame into a message or raises
``ProtocolError``; it never raises anything else, whatever the bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

import msgpack

from protocol.errors import ErrorCode, ProtocolError
from protocol.limits import MAX_FRAME_BYTES, MAX_SEQ
from protocol.messages import (
    CLIENT_MESSAGES,
    SERVER_MESSAGES,
    ClientMessage,
    Command,
    Message,
    ServerMessage,
    unknown_type,
)
from protocol.wire import from_fields, to_wire

MSGPACK_SUBPROTOCOL = "kleur.v1.msgpack"
JSON_SUBPROTOCOL = "kleur.v1.json"

M = TypeVar("M", bound=Message)


def _size(frame: bytes | str) -> int:
    """A frame's size in bytes (text is counted as UTF-8, as it travels)."""
    if isinstance(frame, bytes | bytearray):
        return len(frame)
    # Only long text can be over the limit; short text needs no encoding.
    if len(frame) * 4 <= MAX_FRAME_BYTES:
        return len(frame)
    return len(frame.encode("utf-8", "surrogatepass"))


def _raw_seq(cls: type, data: dict[Any, Any]) -> int | None:
    """The ``seq`` of a command that failed validation, read from the raw map,
    when it is itself valid: the refusal then names the command (section 5 of
    docs/protocol.md), so the client can drop it from its outbox."""
    if not issubclass(cls, Command):
        return None
    seq = data.get("seq")
    if type(seq) is int and 1 <= seq <= MAX_SEQ:
        return seq
    return None


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


@dataclass(frozen=True, slots=True)
class Codec:
    subprotocol: str
    #: True: binary frames; False: text frames.
    binary: bool

    # -- encoding ---------------------------------------------------------
    def encode(self, message: Message) -> bytes | str:
        payload: dict[str, Any] = {"type": message.TYPE}
        wire = to_wire(message)
        assert isinstance(wire, dict)
        payload.update(wire)
        if self.binary:
            packed: bytes = msgpack.packb(payload, use_bin_type=True)
            return packed
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    # -- decoding ---------------------------------------------------------
    def _load(self, frame: bytes | str, max_bytes: int | None) -> dict[Any, Any]:
        if self.binary and not isinstance(frame, bytes | bytearray):
            raise ProtocolError(ErrorCode.BAD_FRAME, "expected a binary frame (msgpack)")
        if not self.binary and not isinstance(frame, str):
            raise ProtocolError(ErrorCode.BAD_FRAME, "expected a text frame (JSON)")
        if max_bytes is not None and _size(frame) > max_bytes:
            raise ProtocolError(ErrorCode.BAD_FRAME, "frame too large")
        try:
            if self.binary:
                data = msgpack.unpackb(
                    frame,
                    raw=False,
                    strict_map_key=True,
                    use_list=True,
                )
            else:
                data = json.loads(frame, parse_constant=_reject_constant)
        except Exception as exc:  # msgpack raises many kinds; all mean "bad frame"
            raise ProtocolError(
                ErrorCode.BAD_FRAME, f"cannot decode: {type(exc).__name__}"
            ) from None
        if not isinstance(data, dict):
            raise ProtocolError(ErrorCode.BAD_FRAME, "a message must be a map")
        return data

    def _decode(self, frame: bytes | str, registry: dict[str, type[M]], max_bytes: int | None) -> M:
        data = self._load(frame, max_bytes)
        tag = data.pop("type", None)
        if not isinstance(tag, str):
            raise ProtocolError(ErrorCode.BAD_FRAME, "a message needs a string 'type'")
        cls = registry.get(tag)
        if cls is None:
            raise unknown_type(tag)
        try:
            message: M = from_fields(cls, data, tag)
        except ProtocolError as error:
            error.seq = _raw_seq(cls, data)
            raise
        except (TypeError, ValueError) as exc:  # a constructor check we did not foresee
            raise ProtocolError(
                ErrorCode.INVALID_FIELD, f"{tag}: {exc}", _raw_seq(cls, data)
            ) from None
        return message

    def decode_client(self, frame: bytes | str) -> ClientMessage:
        return self._decode(frame, CLIENT_MESSAGES, MAX_FRAME_BYTES)

    def decode_server(self, frame: bytes | str) -> ServerMessage:
        # Server frames are not bound by the client's limit: a dashboard of a
        # hall with many notes is larger, and comes from a trusted peer.
        return self._decode(frame, SERVER_MESSAGES, None)


MSGPACK = Codec(MSGPACK_SUBPROTOCOL, binary=True)
JSON = Codec(JSON_SUBPROTOCOL, binary=False)
CODECS: dict[str, Codec] = {MSGPACK.subprotocol: MSGPACK, JSON.subprotocol: JSON}


def choose_codec(offered: list[str]) -> Codec | None:
    """The codec for the first subprotocol the client offered that we speak."""
    for name in offered:
        codec = CODECS.get(name)
        if codec is not None:
            return codec
    return None
