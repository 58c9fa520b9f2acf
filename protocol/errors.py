"""Error codes sent in ``error`` messages, and the exception that carries them.

A client can act on the code alone; ``detail`` is for people and logs.  The
table in ``docs/protocol.md`` lists when each is sent.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    #: The frame could not be decoded (bad msgpack/JSON, wrong frame type for
    #: the negotiated codec, not a map, no ``type``).
    BAD_FRAME = "bad_frame"
    #: The ``type`` is not a message this side accepts.
    UNKNOWN_TYPE = "unknown_type"
    #: A field is missing, extra, of the wrong type or out of its bounds.
    INVALID_FIELD = "invalid_field"
    #: A free text that is empty, shows nothing (only spaces or invisible
    #: characters such as a zero-width space) or holds a character that is not
    #: text (a noncharacter such as U+FFFE, a lone surrogate).
    INVALID_TEXT = "invalid_text"
    #: ``join`` was expected first, or sent twice.
    NOT_JOINED = "not_joined"
    ALREADY_JOINED = "already_joined"
    #: The room does not exist (or has expired).
    ROOM_NOT_FOUND = "room_not_found"
    #: The room is locked and the join token is missing or wrong.
    ROOM_LOCKED = "room_locked"
    #: The room is full.
    ROOM_FULL = "room_full"
    #: A facilitator or participant token that does not match.
    BAD_TOKEN = "bad_token"
    #: The sender's role may not send this message.
    FORBIDDEN = "forbidden"
    #: The message is not allowed in the room's current phase.
    WRONG_PHASE = "wrong_phase"
    #: The phase change is not in the transition table.
    BAD_TRANSITION = "bad_transition"
    #: A rating outside the template's scale.
    OUT_OF_SCALE = "out_of_scale"
    #: A norm or organisation type the template does not have.
    UNKNOWN_NORM = "unknown_norm"
    UNKNOWN_ORG_TYPE = "unknown_org_type"
    #: A note or agenda item that does not exist (or is not the sender's).
    UNKNOWN_ITEM = "unknown_item"
    #: The device waits for the facilitator to admit it (more devices than
    #: people expected, or it came after the first rating round opened): it may
    #: not rate, write notes or put dots yet.
    NOT_ADMITTED = "not_admitted"
    #: Organisation types are fixed once the first rating round opened (a
    #: device that has none may still pick one, once).
    ORG_TYPE_FIXED = "org_type_fixed"
    #: Too many notes or agenda items.
    TOO_MANY = "too_many"
    #: Sending faster than the sender's rate limit (kept across reconnects); retry later.
    RATE_LIMITED = "rate_limited"
    #: Redis could not be reached: nothing was stored, retry (the client keeps
    #: the message in its outbox).
    STORE_UNAVAILABLE = "store_unavailable"
    #: The room's state in Redis was lost (or found damaged) and is being
    #: restored or rebuilt: nothing was stored, keep the command and send it
    #: again after the next ``welcome`` (docs/reliability.md, "Rooms that heal").
    ROOM_LOST = "room_lost"
    INTERNAL = "internal"


#: Codes after which resending the same message later may succeed.
RETRYABLE_ERRORS = frozenset(
    {ErrorCode.RATE_LIMITED, ErrorCode.STORE_UNAVAILABLE, ErrorCode.ROOM_LOST}
)


class ProtocolError(Exception):
    """A message or frame was refused; carries the code sent to the client.

    ``seq`` is the refused command's ``seq`` when the decoder could read one
    from a frame that failed validation, so that the ``error`` names it.
    """

    def __init__(self, code: ErrorCode, detail: str, seq: int | None = None) -> None:
        super().__init__(f"{code.value}: {detail}")
        self.code = code
        self.detail = detail
        self.seq = seq
