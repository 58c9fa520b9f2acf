"""The Redis store: the single source of truth for every room.

Every change is one Lua script (``server/lua``) that checks the phase, applies
the change idempotently by sequence number, moves the tallies with it and
bumps the room's version, atomically.  An acknowledgement is sent only after
the script returned, i.e. after Redis has the write.

All of a room's keys share the hash tag ``{CODE}``, so Redis Cluster keeps a
room on one shard.  No key or value holds a name, address, user agent or
timestamp; a participant is a pseudonym (a hash of its device token).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from agenda.insights import Vote
from agenda.phases import ALLOWED_PHASES
from agenda.templates import Norm, Template
from agenda.views import PreviousData, RoomData
from protocol import limits
from protocol.errors import ErrorCode, ProtocolError
from protocol.messages import (
    AgendaItem,
    NormResult,
    NoteGroup,
    OwnDots,
    OwnNote,
    OwnRating,
    SessionInfo,
    WallNote,
)
from protocol.phases import DotVoting, FollowUpStatus, Phase, Question
from protocol.wire import from_fields, to_wire
from server.batching import ScriptBatcher
from server.redis_client import RedisClient

LUA_DIR = Path(__file__).with_name("lua")
DONT_KNOW = "dk"

#: Errors that mean "Redis is not reachable right now".
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"


class PhaseConflict(Exception):
    """Another process changed the phase between our read and our write."""


def participant_id(code: str, token: str) -> str:
    """The pseudonym under which a participant's answers are stored."""
    return hashlib.sha256(f"{code}:{token}".encode()).hexdigest()[:24]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def new_room_code() -> str:
    alphabet = limits.ROOM_CODE_ALPHABET
    return "".join(secrets.choice(alphabet) for _ in range(limits.ROOM_CODE_LENGTH))


def _allowed(message_type: str) -> str:
    return "," + ",".join(sorted(p.value for p in ALLOWED_PHASES[message_type])) + ","


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
        ]


@dataclass(frozen=True, slots=True)
class RoomMeta:
    template_id: str
    phase: Phase
    round: int
    locked: bool
    version: int
    facilitator_hash: str
    join_token: str
    #: Highest command ``seq`` applied, per facilitator device.
    facilitator_seqs: dict[str, int]
    #: The presenter view's read-only token ('' for rooms made before it existed).
    display_token: str = ""


@dataclass(frozen=True, slots=True)
class CreatedRoom:
    code: str
    facilitator_token: str
    join_token: str
    display_token: str = ""


@dataclass(frozen=True, slots=True)
class JoinResult:
    phase: Phase
    round: int
    locked: bool
    version: int
    org_type: str | None
    ratings: tuple[OwnRating, ...]
    notes: tuple[OwnNote, ...]
    dots: tuple[OwnDots, ...]
    max_seq: int


#: Appended to a norm id in ballot and tally fields for answers to the
#: template's second question; ":" never occurs in a norm id (a slug).
SECOND_QUESTION_SUFFIX = ":second"


def norm_key(norm_id: str, question: Question) -> str:
    """The norm's name in ballot and tally fields: one per (norm, question)."""
    return norm_id + SECOND_QUESTION_SUFFIX if question is Question.SECOND else norm_id


def _value_out(raw: str) -> int | None:
    return None if raw == DONT_KNOW else int(raw)


def _split_seq(raw: str) -> tuple[int, str]:
    seq, _, rest = raw.partition("|")
    return int(seq), rest


def _pairs(flat: list[str]) -> dict[str, str]:
    """A Lua HGETALL reply (key, value, key, value...) as a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def _questions_asked(template: Template) -> list[tuple[Norm, Question]]:
    """Every (norm, question) a participant of this template answers, in order."""
    questions = [Question.CURRENT]
    if template.second_question is not None:
        questions.append(Question.SECOND)
    return [(norm, question) for question in questions for norm in template.norms]


class RoomStore:
    def __init__(self, redis: RedisClient, *, room_ttl_seconds: int) -> None:
        # decode_responses=True: every reply is str.
        self.redis = redis
        self.ttl = room_ttl_seconds
        prelude = (LUA_DIR / "_prelude.lua").read_text()
        sources = {
            path.stem: prelude + "\n" + path.read_text()
            for path in sorted(LUA_DIR.glob("[a-z]*.lua"))
        }
        #: Script name -> SHA1 of its text (what EVALSHA names it by).
        self._shas = {name: _sha1(text) for name, text in sources.items()}
        self._batcher = ScriptBatcher(
            redis, {self._shas[name]: text for name, text in sources.items()}
        )

    async def _run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self._batcher.call(self._shas[name], keys, args)
        except UNAVAILABLE as exc:
            raise ProtocolError(
                ErrorCode.STORE_UNAVAILABLE, "storage unreachable; nothing was stored"
            ) from exc

    async def _status(
        self,
        name: str,
        keys: list[str],
        args: list[Any],
        details: Mapping[str, str] | None = None,
    ) -> Outcome:
        """Run a write script; a refusal becomes a ``ProtocolError`` whose detail
        is ``details[status]`` when the command has a more specific one."""
        status = await self._run(name, keys, args)
        if status == "ok":
            return Outcome.APPLIED
        if status == "dup":
            return Outcome.DUPLICATE
        if status == "conflict":
            raise PhaseConflict
        detail = (details or {}).get(status) or _STATUS_DETAIL.get(status, status)
        raise ProtocolError(ErrorCode(_STATUS_CODE.get(status, status)), detail)

    # -- rooms -------------------------------------------------------------
    async def create_room(
        self,
        template_id: str,
        previous: PreviousData | None = None,
        session: SessionInfo | None = None,
    ) -> CreatedRoom:
        facilitator_token, join_token, display_token = new_token(), new_token(), new_token()
        for _ in range(20):
            code = new_room_code()
            keys = RoomKeys(code)
            status = await self._run(
                "create_room",
                [keys.meta, keys.previous],
                [
                    template_id,
                    token_hash(facilitator_token),
                    join_token,
                    self.ttl,
                    limits.DEFAULT_DOTS_PER_PARTICIPANT,
                    "" if previous is None else json.dumps(dataclasses.asdict(previous)),
                    *(("", "", "") if session is None else dataclasses.astuple(session)),
                    display_token,
                ],
            )
            if status == "ok":
                return CreatedRoom(code, facilitator_token, join_token, display_token)
        raise ProtocolError(ErrorCode.INTERNAL, "no free room code found")

    async def room_meta(self, code: str) -> RoomMeta | None:
        try:
            raw: dict[str, str] = await self.redis.hgetall(RoomKeys(code).meta)  # type: ignore[assignment]
        except UNAVAILABLE as exc:
            raise ProtocolError(ErrorCode.STORE_UNAVAILABLE, "storage unreachable") from exc
        if not raw:
            return None
        return RoomMeta(
            template_id=raw["template"],
            phase=Phase(raw["phase"]),
            round=int(raw["round"]),
            locked=raw["locked"] == "1",
            version=int(raw["version"]),
            facilitator_hash=raw["fac"],
            join_token=raw["join"],
            facilitator_seqs={
                field.removeprefix("fseq:"): int(value)
                for field, value in raw.items()
                if field.startswith("fseq:")
            },
            display_token=raw.get("disp", ""),
        )

    # -- participants ------------------------------------------------------
    async def is_participant(self, code: str, pid: str) -> bool:
        """Has this pseudonym joined the room (a device token's proof, for HTTP routes)?"""
        try:
            return bool(await self.redis.hexists(RoomKeys(code).people, pid))
        except UNAVAILABLE as exc:
            raise ProtocolError(ErrorCode.STORE_UNAVAILABLE, "storage unreachable") from exc

    async def join_participant(
        self, code: str, pid: str, join_token: str | None, template: Template
    ) -> JoinResult:
        keys = RoomKeys(code)
        asked = _questions_asked(template)
        reply = await self._run(
            "join",
            [
                keys.meta,
                keys.people,
                keys.ballots,
                keys.notes,
                keys.mine(pid),
                keys.dots(pid),
                keys.seqs,
            ]
            + [
                k
                for k in keys.fixed
                if k not in (keys.meta, keys.people, keys.ballots, keys.notes, keys.seqs)
            ],
            [pid, join_token or "", limits.MAX_PARTICIPANTS_PER_ROOM, self.ttl]
            + [norm_key(norm.id, question) for norm, question in asked],
        )
        status = reply[0]
        if status != "ok":
            raise ProtocolError(ErrorCode(status), _STATUS_DETAIL.get(status, status))
        (_, phase, round_, locked, version, person, ballot, note_ids, note_blobs, dot_pairs,
         last_seq) = reply  # fmt: skip
        org_seq, org = _split_seq(person)
        ratings = []
        for (norm, question), stored in zip(asked, ballot, strict=True):
            if stored is not None:
                seq, value = _split_seq(stored)
                ratings.append(OwnRating(norm.id, _value_out(value), seq, question))
        notes = []
        for note_id, blob in zip(note_ids, note_blobs, strict=True):
            if blob is None:
                continue
            note = json.loads(blob)
            notes.append(
                OwnNote(
                    note_id,
                    note["text"],
                    note["norm"] or None,
                    bool(note["hidden"]),
                    int(note["seq"]),
                    bool(note.get("pending")),
                )
            )
        dots = []
        for note_id, stored in zip(dot_pairs[::2], dot_pairs[1::2], strict=True):
            seq, count = _split_seq(stored)
            dots.append(OwnDots(note_id, int(count), seq))
        max_seq = max(
            [org_seq, int(last_seq)]
            + [r.seq for r in ratings]
            + [n.seq for n in notes]
            + [d.seq for d in dots]
        )
        return JoinResult(
            phase=Phase(phase),
            round=int(round_),
            locked=locked == "1",
            version=int(version),
            org_type=org or None,
            ratings=tuple(ratings),
            notes=tuple(sorted(notes, key=lambda n: n.note_id)),
            dots=tuple(sorted(dots, key=lambda d: d.note_id)),
            max_seq=max_seq,
        )

    async def rate(
        self,
        code: str,
        pid: str,
        norm_id: str,
        value: int | None,
        seq: int,
        round_: int,
        question: Question = Question.CURRENT,
    ) -> Outcome:
        keys = RoomKeys(code)
        stored = DONT_KNOW if value is None else str(value)
        return await self._status(
            "rate",
            [keys.meta, keys.ballots, keys.tally, keys.seqs],
            [pid, norm_key(norm_id, question), stored, seq, self.ttl, round_],
        )

    async def set_org_type(self, code: str, pid: str, org_type: str | None, seq: int) -> Outcome:
        keys = RoomKeys(code)
        return await self._status(
            "set_org",
            [keys.meta, keys.people, keys.orgs, keys.seqs],
            [pid, org_type or "", seq, _allowed("set_org_type"), self.ttl],
        )

    async def put_note(
        self, code: str, pid: str, note_id: str, text: str, norm_id: str | None, seq: int
    ) -> Outcome:
        keys = RoomKeys(code)
        return await self._status(
            "put_note",
            [keys.meta, keys.notes, keys.owners, keys.mine(pid), keys.seqs],
            [
                pid,
                note_id,
                seq,
                text,
                norm_id or "",
                _allowed("put_note"),
                limits.MAX_NOTES_PER_PARTICIPANT,
                self.ttl,
            ],
        )

    async def withdraw_note(self, code: str, pid: str, note_id: str, seq: int) -> Outcome:
        keys = RoomKeys(code)
        return await self._status(
            "withdraw_note",
            [keys.meta, keys.notes, keys.owners, keys.mine(pid), keys.seqs],
            [pid, note_id, seq, _allowed("withdraw_note")],
        )

    async def dot_vote(self, code: str, pid: str, note_id: str, dots: int, seq: int) -> Outcome:
        keys = RoomKeys(code)
        return await self._status(
            "dot_vote",
            [keys.meta, keys.notes, keys.votes, keys.dots(pid), keys.seqs, keys.groups],
            [note_id, dots, seq, _allowed("dot_vote"), self.ttl, pid],
        )

    # -- facilitator -------------------------------------------------------
    async def set_dot_voting(
        self, code: str, state: DotVoting, dots: int, max_per_note: int, seq: int, device: str
    ) -> Outcome:
        return await self._status(
            "set_dot_voting",
            [RoomKeys(code).meta],
            [state.value, dots, max_per_note, seq, _allowed("set_dot_voting"), device],
        )

    async def put_note_group(self, code: str, group: NoteGroup, seq: int, device: str) -> Outcome:
        keys = RoomKeys(code)
        blob = json.dumps({"title": group.title, "notes": list(group.note_ids)})
        return await self._status(
            "put_note_group",
            [keys.meta, keys.groups, keys.notes],
            [
                group.group_id,
                seq,
                blob,
                _allowed("put_note_group"),
                limits.MAX_NOTE_GROUPS,
                self.ttl,
                device,
            ],
            {"unknown_item": "a note in this group does not exist or was withdrawn"},
        )

    async def remove_note_group(self, code: str, group_id: str, seq: int, device: str) -> Outcome:
        keys = RoomKeys(code)
        return await self._status(
            "remove_note_group",
            [keys.meta, keys.groups],
            [group_id, seq, _allowed("remove_note_group"), device],
        )

    async def set_timer(self, code: str, ends_at_ms: int | None, seq: int, device: str) -> Outcome:
        return await self._status(
            "set_timer",
            [RoomKeys(code).meta],
            ["" if ends_at_ms is None else ends_at_ms, seq, _allowed("set_timer"), device],
        )

    async def set_phase(
        self, code: str, expected: Phase, phase: Phase, round_: int, seq: int, device: str
    ) -> Outcome:
        keys = RoomKeys(code)
        return await self._status(
            "set_phase", keys.fixed, [expected.value, phase.value, round_, seq, self.ttl, device]
        )

    async def set_lock(self, code: str, locked: bool, seq: int, device: str) -> Outcome:
        return await self._status(
            "set_lock",
            [RoomKeys(code).meta],
            ["1" if locked else "0", seq, _allowed("set_lock"), device],
        )

    async def hide_note(
        self, code: str, note_id: str, hidden: bool, seq: int, device: str
    ) -> Outcome:
        keys = RoomKeys(code)
        return await self._status(
            "hide_note",
            [keys.meta, keys.notes],
            [note_id, "1" if hidden else "0", seq, _allowed("hide_note"), device],
        )

    async def set_moderation(self, code: str, enabled: bool, seq: int, device: str) -> Outcome:
        keys = RoomKeys(code)
        return await self._status(
            "set_moderation",
            [keys.meta, keys.notes],
            ["1" if enabled else "0", seq, _allowed("set_moderation"), device],
        )

    async def put_agenda_item(self, code: str, item: AgendaItem, seq: int, device: str) -> Outcome:
        keys = RoomKeys(code)
        blob = json.dumps(
            {
                "action": item.action,
                "owner": item.owner,
                "deadline": item.deadline,
                "norm": item.norm_id,
                "note": item.note_id,
                "group": item.group_id,
                "follow_up": item.follow_up,
                "position": item.position,
                "snapshot": None if item.snapshot is None else to_wire(item.snapshot),
                "removed": False,
            }
        )
        return await self._status(
            "put_agenda_item",
            [keys.meta, keys.agenda, keys.notes, keys.groups],
            [
                item.item_id,
                seq,
                blob,
                _allowed("put_agenda_item"),
                limits.MAX_AGENDA_ITEMS,
                self.ttl,
                device,
            ],
            {
                "unknown_item": "the note or note group this item is promoted from does not"
                " exist (or the note was withdrawn)"
            },
        )

    async def set_follow_up_status(
        self, code: str, index: int, status: FollowUpStatus, seq: int, device: str
    ) -> Outcome:
        keys = RoomKeys(code)
        return await self._status(
            "set_follow_up_status",
            [keys.meta, keys.followup],
            [index, status.value, seq, _allowed("set_follow_up_status"), self.ttl, device],
        )

    async def remove_agenda_item(self, code: str, item_id: str, seq: int, device: str) -> Outcome:
        keys = RoomKeys(code)
        return await self._status(
            "remove_agenda_item",
            [keys.meta, keys.agenda],
            [item_id, seq, _allowed("remove_agenda_item"), device],
        )

    # -- reading -----------------------------------------------------------
    async def read_votes(self, code: str, round_: int, template: Template) -> list[Vote]:
        """Every participant's ratings of ``round_`` with its organisation type.

        The pseudonym is used here only to put a participant's ratings together
        and is dropped: the result is a list of anonymous vectors, sorted.
        """
        keys = RoomKeys(code)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hgetall(keys.ballots)
                pipe.hgetall(keys.people)
                ballots, people = await pipe.execute()
        except UNAVAILABLE as exc:
            raise ProtocolError(ErrorCode.STORE_UNAVAILABLE, "storage unreachable") from exc
        index = {norm.id: i for i, norm in enumerate(template.norms)}
        prefix = f"{round_}|"
        ratings: dict[str, list[int | None]] = {}
        for field, stored in ballots.items():
            if not field.startswith(prefix):
                continue
            _, pid, norm = field.split("|")
            if norm in index:
                row = ratings.setdefault(pid, [None] * len(index))
                row[index[norm]] = _value_out(_split_seq(stored)[1])
        votes = [
            Vote(_split_seq(people.get(pid, "0|"))[1] or None, tuple(row))
            for pid, row in ratings.items()
        ]
        return sorted(
            votes, key=lambda v: (v.org_type or "", [(-1 if x is None else x) for x in v.ratings])
        )

    async def read_room(self, code: str) -> RoomData | None:
        """One consistent read (a read-only script) of everything the views need."""
        keys = RoomKeys(code)
        reply = await self._run(
            "read_room",
            [
                keys.meta,
                keys.people,
                keys.orgs,
                keys.tally,
                keys.notes,
                keys.agenda,
                keys.groups,
                keys.votes,
                keys.previous,
                keys.followup,
            ],
            [],
        )
        if not reply:
            return None
        meta, people, orgs, tally, notes, agenda, groups, votes, previous, followup = reply
        data = parse_room(
            _pairs(meta),
            int(people),
            _pairs(orgs),
            _pairs(tally),
            _pairs(notes),
            _pairs(agenda),
            _pairs(groups),
            _pairs(votes),
        )
        if previous:
            raw = json.loads(previous)
            data = dataclasses.replace(
                data,
                previous=PreviousData(
                    raw["room"], raw["medians"], tuple(tuple(i) for i in raw["items"])
                ),
                follow_up={int(index): FollowUpStatus(s) for index, s in _pairs(followup).items()},
            )
        return data


def parse_room(
    meta: dict[str, str],
    people: int,
    orgs: dict[str, str],
    tally: dict[str, str],
    notes: dict[str, str],
    agenda: dict[str, str],
    groups: dict[str, str],
    votes: dict[str, str],
) -> RoomData:
    round_ = int(meta["round"])
    by_round: dict[int, dict[str, dict[int | None, int]]] = {}
    for field, count in tally.items():
        round_text, norm, value = field.split("|")
        if int(round_text) in (round_, round_ - 1) and count != "0":
            norms = by_round.setdefault(int(round_text), {})
            norms.setdefault(norm, {})[_value_out(value)] = int(count)
    # Answers to the second question are tallied apart under "norm:second".
    tallies: dict[str, dict[int | None, int]] = {}
    second_tallies: dict[str, dict[int | None, int]] = {}
    for norm, counts in by_round.get(round_, {}).items():
        if norm.endswith(SECOND_QUESTION_SUFFIX):
            second_tallies[norm.removesuffix(SECOND_QUESTION_SUFFIX)] = counts
        else:
            tallies[norm] = counts
    wall = []
    # In the order the notes were added (notes stored before ``created``
    # existed first, by id); the views that must not show it re-sort.
    stored_notes = sorted(
        ((note_id, json.loads(blob)) for note_id, blob in notes.items()),
        key=lambda entry: (int(entry[1].get("created") or 0), entry[0]),
    )
    for note_id, note in stored_notes:
        if not note["withdrawn"]:
            wall.append(
                WallNote(
                    note_id,
                    note["text"],
                    note["norm"] or None,
                    bool(note["hidden"]),
                    bool(note.get("pending")),
                )
            )
    items = []
    stored = ((item_id, json.loads(blob)) for item_id, blob in agenda.items())
    for item_id, item in sorted(stored, key=_agenda_order):
        if not item["removed"]:
            items.append(
                AgendaItem(
                    item_id,
                    item["action"],
                    item["owner"],
                    item["deadline"],
                    item["norm"],
                    item["note"],
                    int(item["position"]),
                    item.get("group"),
                    item.get("follow_up"),
                    from_fields(NormResult, item["snapshot"], "snapshot")
                    if item.get("snapshot")
                    else None,
                )
            )
    return RoomData(
        template_id=meta["template"],
        phase=Phase(meta["phase"]),
        round=round_,
        locked=meta["locked"] == "1",
        version=int(meta["version"]),
        participants=people,
        org_counts={org: int(n) for org, n in orgs.items() if int(n) > 0},
        tallies=tallies,
        second_tallies=second_tallies,
        previous_tallies=(
            {
                norm: counts
                for norm, counts in by_round.get(round_ - 1, {}).items()
                if not norm.endswith(SECOND_QUESTION_SUFFIX)
            }
            if round_ > 1
            else None
        ),
        notes=tuple(wall),
        agenda=tuple(items),
        groups=tuple(
            NoteGroup(group_id, group["title"], tuple(group["notes"]))
            for group_id, group in ((g, json.loads(blob)) for g, blob in groups.items())
        ),
        voting_state=DotVoting(meta["voting"]),
        dots_per_participant=int(meta["dots"]),
        max_per_note=int(meta["maxnote"]),
        dots_cast=int(meta["dots_cast"]),
        votes={note_id: int(n) for note_id, n in votes.items() if int(n) > 0},
        timer_ends_at=int(meta["timer"]) if meta["timer"] else None,
        session=_session(meta),
        moderation=meta.get("moderation") == "1",
    )


def _session(meta: dict[str, str]) -> SessionInfo | None:
    """The session's name, region and date; None for a room stored without them."""
    if not meta.get("session_date"):
        return None
    return SessionInfo(
        meta.get("session_name", ""), meta.get("session_region", ""), meta["session_date"]
    )


def _agenda_order(entry: tuple[str, dict[str, Any]]) -> tuple[int, int, str]:
    """Position, then the order the items were added in.

    ``created`` is the room's version when the item was first put (the item id
    is random, so it cannot order ties).  Items stored before ``created``
    existed come first among their position, by id.
    """
    item_id, item = entry
    return int(item["position"]), int(item.get("created") or 0), item_id


_STATUS_DETAIL = {
    "room_not_found": "this room does not exist (or has expired)",
    "room_locked": "the room is locked: use the link or QR code from the facilitator",
    "room_full": "the room is full",
    "wrong_phase": "not possible in the room's current phase",
    "not_joined": "join first",
    "unknown_item": "no such note or agenda item of yours",
    "too_many": "limit reached",
    "voting_open": "no new notes while dot voting is open",
    "in_group": "this note is part of a group: put your dots on the group",
}

#: Script statuses that are a more specific case of an error code.
_STATUS_CODE = {"voting_open": "wrong_phase", "in_group": "unknown_item"}
