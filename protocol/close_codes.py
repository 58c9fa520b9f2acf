"""Websocket close codes and whether a client should reconnect after each.

Ranges, after Centrifuge: 4000-4499 means "do not reconnect, something is
wrong with what you sent or where you went"; 4500-4999 means "reconnect (with
back-off) and resync".  The standard codes the websocket stack itself sends
(1009 for a frame over ``MAX_FRAME_BYTES``, 1011, 1012 on server restart) are
listed here too so that clients have one table.
"""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001
    #: Sent by the websocket stack for a frame larger than MAX_FRAME_BYTES.
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012

    # -- do not reconnect --------------------------------------------------
    #: No ``join`` within JOIN_TIMEOUT_SECONDS, or the first message was not a join.
    JOIN_EXPECTED = 4000
    #: The client offered no subprotocol the server speaks.
    UNSUPPORTED_SUBPROTOCOL = 4002
    #: The room code is not open for joining: no such room (or it expired),
    #: the room is locked and no valid join token was given, or the
    #: facilitator or display token is wrong.  One code for all of these, so
    #: that a guesser learns nothing about which room codes exist.
    ROOM_NOT_FOUND = 4004
    #: The room is full.
    ROOM_FULL = 4006
    #: Too many protocol errors: the client is broken or hostile.
    PROTOCOL_VIOLATION = 4008
    #: Too many failed joins from this address (guessing room codes).
    TOO_MANY_FAILED_JOINS = 4029

    # -- reconnect with back-off ----------------------------------------------
    #: The server is shutting down; another process will take the connection.
    SERVER_SHUTDOWN = 4500
    #: The connection could not keep up with its updates; resync on reconnect.
    SLOW_CONSUMER = 4501
    #: Redis was unreachable for too long.
    STORE_UNAVAILABLE = 4502
    #: The room's state was rebuilt (a new epoch: keys lost or damaged, or
    #: Redis came back older than what was acknowledged): join again and
    #: re-send every acknowledged answer whose seq is above welcome's max_seq.
    ROOM_REBUILT = 4503
    #: The room disappeared from Redis and waits for the facilitator to
    #: restore it: keep every answer and try again with back-off.
    ROOM_LOST = 4504
    #: Sustained flooding past the rate limit; reconnect later.
    RATE_LIMITED = 4529
    #: This client address has too many connections open (or too many that
    #: have not joined); sent before anything else.  Reconnect later.
    TOO_MANY_CONNECTIONS = 4530


#: Longest close reason, in UTF-8 bytes: a close frame carries at most 125
#: bytes, two of them the code (RFC 6455, 5.5).  A longer reason makes the
#: websocket stack raise instead of closing.
MAX_CLOSE_REASON_BYTES = 123


def close_reason(text: str) -> str:
    """``text`` cut to ``MAX_CLOSE_REASON_BYTES`` of UTF-8 on a character boundary
    (a lone surrogate, which UTF-8 cannot carry, becomes "?")."""
    encoded = text.encode("utf-8", "replace")
    if len(encoded) <= MAX_CLOSE_REASON_BYTES:
        return encoded.decode("utf-8")
    # "ignore" drops the bytes of a character the cut split in two.
    return encoded[:MAX_CLOSE_REASON_BYTES].decode("utf-8", "ignore")


def should_reconnect(code: int) -> bool:
    """Whether a client should reconnect (with back-off) after this close code."""
    if 4500 <= code <= 4999:
        return True
    if 4000 <= code <= 4499:
        return False
    # Standard codes: a policy/size violation will happen again; the rest
    # (network loss, restarts, server errors) are worth another try.
    return code not in (CloseCode.NORMAL, 1002, 1003, 1007, 1008, CloseCode.MESSAGE_TOO_BIG)
