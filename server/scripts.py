"""The Lua scripts of ``server/lua``: loaded, run (batched), and their replies read.

Every change is one script that checks the phase, applies the change
idempotently by sequence number, moves the tallies with it, bumps the room's
version and publishes the change on the room's stream, atomically.  A write
script answers ``'ok'``, ``{'ok', stream message}``, ``'dup'`` or an error
status; ``Scripts.write`` turns that into a ``Stored`` or a ``ProtocolError``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Final

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from agenda.phases import ALLOWED_PHASES
from protocol.errors import ErrorCode, ProtocolError
from server.batching import ScriptBatcher
from server.redis_client import RedisClient

LUA_DIR: Final = Path(__file__).with_name("lua")

#: Errors that mean "Redis is not reachable right now".
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Stored:
    """A command the store accepted; ``change`` when it changed the room.

    The change is the stream message as the script published it, unparsed:
    this process usually hears it on the stream too, and whichever copy comes
    second is dropped on its version alone (``Hub.apply``).
    """

    outcome: Outcome
    change: str | None = None


class RoomLost(ProtocolError):
    """A script found the room's tally or ballots hash missing (``room_lost``):
    the store rebuilds the room; the client is told ``room_lost``."""


class WentBack(ProtocolError):
    """The room in Redis is older than the server had seen it (``went_back``):
    the store gives it a new epoch; the client is told ``room_lost``."""


class PhaseConflict(Exception):
    """Another process changed the phase between our read and our write."""


def allowed_phases(message_type: str) -> str:
    """A command's allowed phases as the scripts test them: ``",a,b,"``."""
    return "," + ",".join(sorted(p.value for p in ALLOWED_PHASES[message_type])) + ","


def script_sources(*, sharded_pubsub: bool) -> dict[str, str]:
    """Script name -> full text (the prelude, then the script).

    ``sharded_pubsub``: publish with SPUBLISH (Redis 7+: the message stays on
    the room's shard in a cluster) instead of PUBLISH.
    """
    publish = "SPUBLISH" if sharded_pubsub else "PUBLISH"
    prelude = f"local PUBLISH_COMMAND = '{publish}'\n" + (LUA_DIR / "_prelude.lua").read_text()
    return {
        path.stem: prelude + "\n" + path.read_text() for path in sorted(LUA_DIR.glob("[a-z]*.lua"))
    }


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


_STATUS_DETAIL: Final = {
    "room_not_found": "this room does not exist (or has expired)",
    "room_locked": "the room is locked: use the link or QR code from the facilitator",
    "room_full": "the room is full",
    "wrong_phase": "not possible in the room's current phase",
    "not_joined": "join first",
    "unknown_item": "no such note or agenda item of yours",
    "too_many": "limit reached",
    "voting_open": "no new notes while dot voting is open",
    "in_group": "this note is part of a group: put your dots on the group",
    "not_admitted": "wait until the facilitator lets this device in",
    "org_type_fixed": "the organisation type is fixed once the first round has opened",
    "room_lost": "the room's state was lost and is being rebuilt: send it again after welcome",
    "stale_epoch": "the room was rebuilt since this connection joined: join again and re-send",
    "went_back": "the room came back older than it was: join again and re-send",
}

#: Script statuses that are a more specific case of an error code.
_STATUS_CODE: Final = {
    "voting_open": "wrong_phase",
    "in_group": "unknown_item",
    "stale_epoch": "room_lost",
    "went_back": "room_lost",
}


def refusal(status: str, details: Mapping[str, str] | None = None) -> ProtocolError:
    """The error for a script's refusal; ``details[status]`` when a command has its own text."""
    detail = (details or {}).get(status) or _STATUS_DETAIL.get(status, status)
    return ProtocolError(ErrorCode(_STATUS_CODE.get(status, status)), detail)


class Scripts:
    """Runs the scripts by name over one Redis client, batched (``ScriptBatcher``)."""

    def __init__(self, redis: RedisClient, *, sharded_pubsub: bool) -> None:
        sources = script_sources(sharded_pubsub=sharded_pubsub)
        #: Script name -> SHA1 of its text (what EVALSHA names it by).
        self._shas = {name: _sha1(text) for name, text in sources.items()}
        self._batcher = ScriptBatcher(
            redis, {self._shas[name]: text for name, text in sources.items()}
        )

    async def run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self._batcher.call(self._shas[name], keys, args)
        except UNAVAILABLE as exc:
            raise ProtocolError(
                ErrorCode.STORE_UNAVAILABLE, "storage unreachable; nothing was stored"
            ) from exc

    async def write(
        self,
        name: str,
        keys: list[str],
        args: list[Any],
        details: Mapping[str, str] | None = None,
    ) -> Stored:
        """Run a write script; a refusal becomes a ``ProtocolError``."""
        reply = await self.run(name, keys, args)
        if isinstance(reply, list):  # ['ok', stream message]
            return Stored(Outcome.APPLIED, str(reply[1]))
        if reply == "ok":
            return Stored(Outcome.APPLIED)
        if reply == "dup":
            return Stored(Outcome.DUPLICATE)
        if reply == "conflict":
            raise PhaseConflict
        if reply == "room_lost":
            raise RoomLost(ErrorCode.ROOM_LOST, _STATUS_DETAIL["room_lost"])
        if reply == "went_back":
            raise WentBack(ErrorCode.ROOM_LOST, _STATUS_DETAIL["went_back"])
        raise refusal(reply, details)
