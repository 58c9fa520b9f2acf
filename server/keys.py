"""Where a room lives in Redis: key names, pseudonyms and tokens.

All of a room's keys share the hash tag ``{CODE}``, so Redis Cluster keeps a
room (and its stream channel) on one shard.  No key or value holds a name,
address, user agent or timestamp; a participant is a pseudonym (a hash of its
device token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from protocol import limits


def participant_id(code: str, token: str) -> str:
    """The pseudonym under which a participant's answers are stored."""
    return hashlib.sha256(f"{code}:{token}".encode()).hexdigest()[:24]


def participant_token(code: str, room_secret: str) -> str:
    """A new participant token that proves by itself that this room issued it.

    A random part and its MAC under the room's secret (the facilitator token's
    hash, which never leaves the server): after closing the room keeps no
    record of its participants, yet a device can still show that it took part
    (``issued_here``), e.g. to download the closed room's agenda.
    """
    nonce = secrets.token_urlsafe(16)  # 128 bits, 22 characters
    return nonce + _token_mac(code, room_secret, nonce)


def issued_here(code: str, room_secret: str, token: str) -> bool:
    """Was ``token`` made by ``participant_token`` for this room?"""
    # A Bearer header may hold any text; compare_digest takes ASCII strings only.
    if not room_secret or not token.isascii():
        return False
    nonce, mac = token[:22], token[22:]
    return hmac.compare_digest(mac, _token_mac(code, room_secret, nonce))


def _token_mac(code: str, room_secret: str, nonce: str) -> str:
    digest = hmac.new(room_secret.encode(), f"{code}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def new_epoch() -> str:
    """A room state's epoch: new whenever the room is (re)built in Redis."""
    return secrets.token_hex(6)


def new_room_code() -> str:
    alphabet = limits.ROOM_CODE_ALPHABET
    return "".join(secrets.choice(alphabet) for _ in range(limits.ROOM_CODE_LENGTH))


@dataclass(frozen=True, slots=True)
class RoomKeys:
    code: str

    def _key(self, name: str) -> str:
        return f"kleur:{{{self.code}}}:{name}"

    @property
    def meta(self) -> str:
        return self._key("meta")

    @property
    def people(self) -> str:
        return self._key("people")

    @property
    def orgs(self) -> str:
        return self._key("orgs")

    @property
    def ballots(self) -> str:
        return self._key("ballots")

    @property
    def tally(self) -> str:
        return self._key("tally")

    @property
    def notes(self) -> str:
        return self._key("notes")

    @property
    def owners(self) -> str:
        return self._key("owners")

    @property
    def agenda(self) -> str:
        return self._key("agenda")

    @property
    def votes(self) -> str:
        return self._key("votes")

    @property
    def groups(self) -> str:
        return self._key("groups")

    @property
    def previous(self) -> str:
        """The earlier scan this room follows up (a string of JSON)."""
        return self._key("previous")

    @property
    def followup(self) -> str:
        """Index of an earlier agenda item -> its status."""
        return self._key("followup")

    @property
    def seqs(self) -> str:
        """pid -> highest seq applied for that participant."""
        return self._key("seqs")

    @property
    def waiting(self) -> str:
        """pid -> device code: devices waiting for the facilitator to admit them."""
        return self._key("waiting")

    @property
    def stream(self) -> str:
        """The room's pub/sub channel: every stored change, with its version."""
        return self._key("stream")

    @property
    def analysis(self) -> str:
        """The closed room's analysis (a string of JSON), computed at close from
        the ballots that closing deletes."""
        return self._key("analysis")

    @property
    def lost(self) -> str:
        """The marker of a room that disappeared from Redis (a string of JSON:
        its facilitator token's hash, join and display tokens and template), so
        that its facilitator can restore it and its phones are not taken for
        guessers.  Not in ``fixed``: it outlives the room it marks."""
        return self._key("lost")

    def mine(self, pid: str) -> str:
        return self._key(f"mine:{pid}")

    def dots(self, pid: str) -> str:
        return self._key(f"dots:{pid}")

    @property
    def fixed(self) -> list[str]:
        """Every key of the room except the per-participant ones."""
        return [
            self.meta,
            self.people,
            self.orgs,
            self.ballots,
            self.tally,
            self.notes,
            self.owners,
            self.agenda,
            self.votes,
            self.groups,
            self.seqs,
            self.previous,
            self.followup,
            self.analysis,
            self.waiting,
        ]
