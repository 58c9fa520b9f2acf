"""The kleur wire protocol: messages, codecs, errors, close codes and limits. No I/O."""

from protocol.close_codes import CloseCode, should_reconnect
from protocol.codec import CODECS, JSON, MSGPACK, Codec, choose_codec
from protocol.errors import RETRYABLE_ERRORS, ErrorCode, ProtocolError
from protocol.messages import *  # noqa: F403  (the message classes are the protocol)
from protocol.messages import CLIENT_MESSAGES, SERVER_MESSAGES
from protocol.phases import Phase, Role

__all__ = [
    "CLIENT_MESSAGES",
    "CODECS",
    "JSON",
    "MSGPACK",
    "RETRYABLE_ERRORS",
    "SERVER_MESSAGES",
    "CloseCode",
    "Codec",
    "ErrorCode",
    "Phase",
    "ProtocolError",
    "Role",
    "choose_codec",
    "should_reconnect",
]
