"""The room's whole stored state as immutable values, and the steps every command shares.

One ``RoomState`` holds everything Redis holds of a room, secrets and
per-participant hashes included (``server/keys.py`` names the keys), with typed
values instead of strings.  Its mappings are never changed once built: a
command makes new ones (``put``, ``drop``) and a new state
(``dataclasses.replace``), so a state can be kept, compared and replayed.

A command's outcome is the status its Lua script returns: ``OK``, ``DUP`` (seen
before: acknowledged, nothing changed), or a refusal (an ``ErrorCode`` value,
or one of the scripts' more specific statuses below).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, TypeVar

from agenda.phases import check_allowed
from protocol import limits
from protocol.errors import ErrorCode, ProtocolError
from protocol.phases import DotVoting, Phase

OK: Final = "ok"
DUP: Final = "dup"
#: put_note while dot voting is open (the server sends it as ``wrong_phase``).
VOTING_OPEN: Final = "voting_open"
#: dot_vote adding dots to a note that is part of a group (sent as ``unknown_item``).
IN_GROUP: Final = "in_group"
#: set_phase found another phase than the one it was computed from.
CONFLICT: Final = "conflict"
#: create_room with a code that is taken.
EXISTS: Final = "exists"
ROOM_NOT_FOUND: Final = ErrorCode.ROOM_NOT_FOUND.value
WRONG_PHASE: Final = ErrorCode.WRONG_PHASE.value
UNKNOWN_ITEM: Final = ErrorCode.UNKNOWN_ITEM.value
TOO_MANY: Final = ErrorCode.TOO_MANY.value
NOT_JOINED: Final = ErrorCode.NOT_JOINED.value
ROOM_LOCKED: Final = ErrorCode.ROOM_LOCKED.value
ROOM_FULL: Final = ErrorCode.ROOM_FULL.value
NOT_ADMITTED: Final = ErrorCode.NOT_ADMITTED.value
ORG_TYPE_FIXED: Final = ErrorCode.ORG_TYPE_FIXED.value
#: A script found the tally or ballots hash lost (its marker gone): nothing
#: was written, the server rebuilds the room.
ROOM_LOST: Final = ErrorCode.ROOM_LOST.value
#: A rating from a connection that joined at an older epoch (sent as ``room_lost``).
STALE_EPOCH: Final = "stale_epoch"
#: A rating to a room older than the server has seen it at that epoch (Redis
#: came back without its last writes; sent as ``room_lost``, the room gets a new epoch).
WENT_BACK: Final = "went_back"
#: The hashes that hold a marker field from the room's creation.
MARKED: Final = frozenset({"tally", "ballots"})

#: A "don't know" rating, as stored.
DONT_KNOW: Final = "dk"

K = TypeVar("K")
V = TypeVar("V")


def put(mapping: Mapping[K, V], key: K, value: V) -> dict[K, V]:
    """A copy of ``mapping`` with ``key`` set."""
    return {**mapping, key: value}


def drop(mapping: Mapping[K, V], key: K) -> dict[K, V]:
    """A copy of ``mapping`` without ``key``."""
    return {k: v for k, v in mapping.items() if k != key}


def add(mapping: Mapping[K, int], key: K, by: int) -> dict[K, int]:
    """A counter moved by ``by`` (HINCRBY: a count that falls to 0 stays, as 0)."""
    return put(mapping, key, mapping.get(key, 0) + by)


@dataclass(frozen=True, slots=True)
class Meta:
    """``meta``: the room's settings, its phase and version, and its secrets."""

    template: str
    phase: Phase = Phase.LOBBY
    round: int = 1
    locked: bool = False
    version: int = 1
    #: The facilitator token's hash, the join token and the presenter's token.
    fac: str = ""
    join: str = ""
    disp: str = ""
    voting: DotVoting = DotVoting.CLOSED
    dots: int = 3
    maxnote: int = 3
    dots_cast: int = 0
    #: When the countdown ends (server ms), or None.
    timer: int | None = None
    session_name: str = ""
    session_region: str = ""
    session_date: str = ""
    moderation: bool = True
    epoch: str = ""
    #: People the facilitator expects; devices beyond it wait (with admission on).
    expected: int = limits.DEFAULT_EXPECTED_PEOPLE
    #: Whether new devices beyond ``expected``, or after the first rating round
    #: opened, wait for the facilitator to admit them.
    admission: bool = True
    #: Highest command seq applied, per facilitator device.
    fseq: Mapping[str, int] = field(default_factory=dict)
    #: How many participants a closed room had (its ``people`` are deleted at
    #: closing); None while open.
    participants: int | None = None
    #: Until when (unix seconds) the room heals after a rebuild or a new epoch:
    #: re-asserted ratings count in a later phase of their round; None: never rebuilt.
    heal_until: int | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """``people``: a participant's organisation type ('' for none) and its seq."""

    seq: int = 0
    org: str = ""


@dataclass(frozen=True, slots=True)
class Stamped:
    """A participant's answer with the seq that set it: a ballot (value '1'..,
    'dk'), or the dots it put on one item (value: the number)."""

    seq: int
    value: str


@dataclass(frozen=True, slots=True)
class Note:
    """A note on the wall, or a withdrawn note's tombstone (``withdrawn``; no text).

    ``pending`` and ``created`` are None where the stored note has no such
    field (a tombstone has neither).
    """

    text: str
    norm: str
    hidden: bool
    seq: int
    withdrawn: bool = False
    pending: bool | None = False
    #: The room's version when the note was put on the wall (the wall's order).
    created: int | None = None

    @property
    def live(self) -> bool:
        """On the wall: not withdrawn (hidden still counts: hiding can be undone)."""
        return not self.withdrawn

    @property
    def counts_for_dots(self) -> bool:
        """Whether dots on it count against the participant's budget."""
        return not (self.withdrawn or self.hidden)


@dataclass(frozen=True, slots=True)
class Group:
    title: str
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AgendaRecord:
    """An agenda item as stored; ``snapshot`` is the linked norm's distribution
    when the item was first promoted, as canonical JSON (sorted keys), or None."""

    action: str
    owner: str
    deadline: str | None
    norm: str | None
    note: str | None
    group: str | None
    follow_up: str | None
    position: int
    snapshot: str | None
    removed: bool = False
    #: The room's version when the item was first put (orders equal positions).
    created: int | None = None


@dataclass(frozen=True, slots=True)
class RoomState:
    """Everything Redis holds of one room."""

    meta: Meta
    #: pid -> its organisation type: the admitted devices, the only ones counted.
    people: Mapping[str, Person] = field(default_factory=dict)
    #: pid -> its device code: devices waiting for the facilitator to admit them.
    waiting: Mapping[str, str] = field(default_factory=dict)
    #: organisation type -> participants who chose it.
    orgs: Mapping[str, int] = field(default_factory=dict)
    #: (round, pid, norm key) -> the participant's rating.
    ballots: Mapping[tuple[int, str, str], Stamped] = field(default_factory=dict)
    #: (round, norm key, value) -> ratings with that value.
    tally: Mapping[tuple[int, str, str], int] = field(default_factory=dict)
    notes: Mapping[str, Note] = field(default_factory=dict)
    #: note id -> its author's pid (kept after a withdrawal: the id stays the author's).
    owners: Mapping[str, str] = field(default_factory=dict)
    #: pid -> the ids of its notes that are not withdrawn.
    mine: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: pid -> item id (note or group) -> the dots it put there.
    dots: Mapping[str, Mapping[str, Stamped]] = field(default_factory=dict)
    #: item id -> dots on it.
    votes: Mapping[str, int] = field(default_factory=dict)
    groups: Mapping[str, Group] = field(default_factory=dict)
    agenda: Mapping[str, AgendaRecord] = field(default_factory=dict)
    #: follow-up index (of the earlier scan's agenda) -> status.
    followup: Mapping[int, str] = field(default_factory=dict)
    #: pid -> highest seq applied for it (returned on join).
    seqs: Mapping[str, int] = field(default_factory=dict)
    #: The earlier scan this room follows up (JSON), or None.
    previous: str | None = None
    #: The analysis a closed room kept at closing (JSON), or None.
    analysis: str | None = None
    #: Of ``MARKED``, the hashes that hold their marker: one that lost it was
    #: lost from Redis (a closed room's ballots are deleted, marker and all).
    markers: frozenset[str] = MARKED

    @property
    def lost(self) -> bool:
        """Whether the tally or ballots hash was lost (scripts refuse with ``room_lost``)."""
        return self.markers != MARKED


def change_meta(state: RoomState, **changes: object) -> RoomState:
    return dataclasses.replace(state, meta=dataclasses.replace(state.meta, **changes))  # type: ignore[arg-type]


def bump(state: RoomState) -> RoomState:
    """The room's next version: once per command that changed what the room shows."""
    return change_meta(state, version=state.meta.version + 1)


def phase_refusal(state: RoomState, message_type: str) -> str | None:
    """``wrong_phase`` when ``agenda.phases`` does not allow the command now."""
    try:
        check_allowed(message_type, state.meta.phase)
    except ProtocolError as error:
        return error.code.value
    return None


def admission_refusal(state: RoomState, pid: str) -> str | None:
    """``not_admitted`` for a device that is not (yet) one of the room's people:
    a waiting device may not rate, write notes or put dots."""
    return None if pid in state.people else NOT_ADMITTED


def facilitator_seq(state: RoomState, device: str, seq: int) -> RoomState | None:
    """The state with ``seq`` noted for ``device``, or None when it is a replay
    (a facilitator device's commands apply in its seq order)."""
    if seq <= state.meta.fseq.get(device, 0):
        return None
    return change_meta(state, fseq=put(state.meta.fseq, device, seq))


def participant_seq(state: RoomState, pid: str, seq: int) -> RoomState:
    """``seqs`` raised to ``seq`` for ``pid`` (never lowered)."""
    if seq <= state.seqs.get(pid, seq - 1):
        return state
    return dataclasses.replace(state, seqs=put(state.seqs, pid, seq))
