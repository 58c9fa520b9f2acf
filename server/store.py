"""The Redis store: the single source of truth for every room.

``RoomStore`` is the API the server uses: one method per command (each one
Lua script, ``server/scripts.py``), and the reads.  Key names live in
``server/keys.py``; the stored field formats and how they read as ``RoomData``
in ``agenda/room_record.py``.  An acknowledgement is sent only after the
script returned, i.e. after Redis has the write.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from agenda.insights import Vote
from agenda.room_model.admission import device_codes
from agenda.room_record import (
    DONT_KNOW,
    MARKER,
    RoomRecord,
    norm_key,
    public_meta,
    room_data,
    split_seq,
    value_out,
    without_marker,
)
from agenda.templates import Norm, Template
from agenda.views import PreviousData, RoomData
from protocol import limits
from protocol.errors import ErrorCode, ProtocolError
from protocol.messages import (
    AgendaItem,
    Analysis,
    NoteGroup,
    OwnDots,
    OwnNote,
    OwnRating,
    SessionInfo,
)
from protocol.phases import DotVoting, FollowUpStatus, Phase, Question
from protocol.wire import from_fields, to_wire
from server.keys import RoomKeys, new_epoch, new_room_code, new_token, token_hash
from server.redis_client import RedisClient
from server.restore import RoomSecrets, RoomSnapshot
from server.scripts import (
    UNAVAILABLE,
    Outcome,
    RoomLost,
    Scripts,
    Stored,
    WentBack,
    allowed_phases,
    refusal,
)

_allowed = allowed_phases

#: Computes the analysis to keep at closing, as JSON, given how to read the
#: participants' anonymous rating vectors for a template.
Analyse = Callable[[Callable[[Template], list[Vote]]], Awaitable[str]]


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
    #: The room state's epoch (see ``server.keys.new_epoch``).
    epoch: str = ""


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
    #: The room's change when this join added a participant (the count moved).
    change: str | None = None
    #: False while the device waits for the facilitator to admit it.
    admitted: bool = True
    #: The waiting device's code (shown on its phone and to the facilitator), or ''.
    device_code: str = ""


def _questions_asked(template: Template) -> list[tuple[Norm, Question]]:
    """Every (norm, question) a participant of this template answers, in order."""
    questions = [Question.CURRENT]
    if template.second_question is not None:
        questions.append(Question.SECOND)
    return [(norm, question) for question in questions for norm in template.norms]


class RoomStore:
    def __init__(
        self,
        redis: RedisClient,
        *,
        room_ttl_seconds: int,
        sharded_pubsub: bool = True,
        closed_retention_seconds: int | None = None,
    ) -> None:
        # decode_responses=True: every reply is str.
        self.redis = redis
        self.ttl = room_ttl_seconds
        #: How long a closed room's aggregates live (the room's TTL at closing).
        self.retention = (
            room_ttl_seconds if closed_retention_seconds is None else (closed_retention_seconds)
        )
        self.scripts = Scripts(redis, sharded_pubsub=sharded_pubsub)
        self._run = self.scripts.run
        self._status = self.scripts.write

    # -- rooms -------------------------------------------------------------
    async def create_room(
        self,
        template_id: str,
        previous: PreviousData | None = None,
        session: SessionInfo | None = None,
        expected_people: int = limits.DEFAULT_EXPECTED_PEOPLE,
        admission: bool = True,
    ) -> CreatedRoom:
        facilitator_token, join_token, display_token = new_token(), new_token(), new_token()
        for _ in range(20):
            code = new_room_code()
            keys = RoomKeys(code)
            status = await self._run(
                "create_room",
                [keys.meta, keys.previous, keys.ballots, keys.tally],
                [
                    template_id,
                    token_hash(facilitator_token),
                    join_token,
                    self.ttl,
                    limits.DEFAULT_DOTS_PER_PARTICIPANT,
                    "" if previous is None else json.dumps(dataclasses.asdict(previous)),
                    *(("", "", "") if session is None else dataclasses.astuple(session)),
                    display_token,
                    new_epoch(),
                    expected_people,
                    "1" if admission else "0",
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
            epoch=raw.get("epoch", ""),
        )

    # -- participants ------------------------------------------------------
    async def is_participant(self, code: str, pid: str) -> bool:
        """Has this pseudonym joined the room (a device token's proof, for HTTP routes)?"""
        try:
            return bool(await self.redis.hexists(RoomKeys(code).people, pid))
        except UNAVAILABLE as exc:
            raise ProtocolError(ErrorCode.STORE_UNAVAILABLE, "storage unreachable") from exc

    async def join_participant(
        self,
        code: str,
        pid: str,
        join_token: str | None,
        template: Template,
        *,
        issued: bool = False,
    ) -> JoinResult:
        """``issued``: the room made the device's token (``server.keys.issued_here``);
        in a restored room such a device is admitted again (``join.lua``)."""
        keys = RoomKeys(code)
        asked = _questions_asked(template)
        codes = device_codes(pid)
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
                keys.waiting,
            ]
            + [
                k
                for k in keys.fixed
                if k
                not in (keys.meta, keys.people, keys.ballots, keys.notes, keys.seqs, keys.waiting)
            ],
            [
                pid,
                join_token or "",
                limits.MAX_PARTICIPANTS_PER_ROOM,
                self.ttl,
                limits.MAX_WAITING_DEVICES,
                "1" if issued else "0",
                len(codes),
                *codes,
            ]
            + [norm_key(norm.id, question) for norm, question in asked],
        )
        status = reply[0]
        if status != "ok":
            raise refusal(status)
        (_, phase, round_, locked, version, person, ballot, note_ids, note_blobs, dot_pairs,
         last_seq, change, waiting_code) = reply  # fmt: skip
        org_seq, org = split_seq(person)
        ratings = []
        for (norm, question), stored in zip(asked, ballot, strict=True):
            if stored is not None:
                seq, value = split_seq(stored)
                ratings.append(OwnRating(norm.id, value_out(value), seq, question))
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
            seq, count = split_seq(stored)
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
            change=str(change) if change else None,
            admitted=not waiting_code,
            device_code=str(waiting_code or ""),
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
        *,
        reassert: bool = False,
        epoch: str = "",
        seen_version: int | None = None,
    ) -> Stored:
        """``reassert``: a rating re-sent because the room healed (it may count in
        a later phase of its round during the heal window); ``epoch``: the one the
        participant's connection joined at ('' for any): from an older one the
        rating is refused as ``room_lost`` (the phone re-sends it after its new welcome);
        ``seen_version``: the room's version this process has seen at ``epoch``: a
        room older than that is refused too and gets a new epoch (Redis went back)."""
        keys = RoomKeys(code)
        stored = DONT_KNOW if value is None else str(value)
        return await self._healing(
            code,
            self._status(
                "rate",
                [keys.meta, keys.ballots, keys.tally, keys.seqs, keys.people],
                [
                    pid,
                    norm_key(norm_id, question),
                    stored,
                    seq,
                    self.ttl,
                    round_,
                    _allowed("rate"),
                    "1" if reassert else "0",
                    epoch,
                    "" if seen_version is None else seen_version,
                ],
            ),
            epoch,
        )

    async def set_org_type(self, code: str, pid: str, org_type: str | None, seq: int) -> Stored:
        keys = RoomKeys(code)
        return await self._status(
            "set_org",
            [keys.meta, keys.people, keys.orgs, keys.seqs, keys.waiting],
            [pid, org_type or "", seq, _allowed("set_org_type"), self.ttl],
        )

    async def put_note(
        self, code: str, pid: str, note_id: str, text: str, norm_id: str | None, seq: int
    ) -> Stored:
        keys = RoomKeys(code)
        return await self._status(
            "put_note",
            [keys.meta, keys.notes, keys.owners, keys.mine(pid), keys.seqs, keys.people],
            [
                pid,
                note_id,
                seq,
                text,
                norm_id or "",
                _allowed("put_note"),
                limits.MAX_NOTES_PER_PARTICIPANT,
                self.ttl,
                limits.MAX_NOTES_PER_ROOM,
            ],
        )

    async def withdraw_note(self, code: str, pid: str, note_id: str, seq: int) -> Stored:
        keys = RoomKeys(code)
        return await self._status(
            "withdraw_note",
            [keys.meta, keys.notes, keys.owners, keys.mine(pid), keys.seqs],
            [pid, note_id, seq, _allowed("withdraw_note")],
        )

    async def dot_vote(self, code: str, pid: str, note_id: str, dots: int, seq: int) -> Stored:
        keys = RoomKeys(code)
        return await self._status(
            "dot_vote",
            [
                keys.meta,
                keys.notes,
                keys.votes,
                keys.dots(pid),
                keys.seqs,
                keys.groups,
                keys.people,
            ],
            [note_id, dots, seq, _allowed("dot_vote"), self.ttl, pid],
        )

    # -- facilitator -------------------------------------------------------
    async def set_dot_voting(
        self, code: str, state: DotVoting, dots: int, max_per_note: int, seq: int, device: str
    ) -> Stored:
        return await self._status(
            "set_dot_voting",
            [RoomKeys(code).meta],
            [state.value, dots, max_per_note, seq, _allowed("set_dot_voting"), device],
        )

    async def put_note_group(self, code: str, group: NoteGroup, seq: int, device: str) -> Stored:
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

    async def remove_note_group(self, code: str, group_id: str, seq: int, device: str) -> Stored:
        keys = RoomKeys(code)
        return await self._status(
            "remove_note_group",
            [keys.meta, keys.groups],
            [group_id, seq, _allowed("remove_note_group"), device],
        )

    async def set_timer(self, code: str, ends_at_ms: int | None, seq: int, device: str) -> Stored:
        return await self._status(
            "set_timer",
            [RoomKeys(code).meta],
            ["" if ends_at_ms is None else ends_at_ms, seq, _allowed("set_timer"), device],
        )

    async def set_phase(
        self,
        code: str,
        expected: Phase,
        phase: Phase,
        round_: int,
        seq: int,
        device: str,
        analyse: Analyse | None = None,
    ) -> Stored:
        """The phase move; closing also anonymises the room (``set_phase.lua``).

        Before closing, the analysis (which needs every participant's rating
        vector) is computed by ``analyse`` from the ballots as they are now and
        stored as its result; the script refuses with ``conflict`` (and the
        server tries again) when the room changed since this read.
        """
        keys = RoomKeys(code)
        if phase is not Phase.CLOSED:
            return await self._healing(
                code,
                self._status(
                    "set_phase",
                    keys.fixed,
                    [expected.value, phase.value, round_, seq, self.ttl, "", "", device],
                ),
            )
        version, ballots, people, pids = await self._closing_read(code)
        blob = ""
        if analyse is not None:
            blob = await analyse(lambda template: _votes(ballots, people, round_, template))
        own_keys = [key for pid in sorted(pids) for key in (keys.mine(pid), keys.dots(pid))]
        return await self._healing(
            code,
            self._status(
                "set_phase",
                keys.fixed + own_keys,
                [expected.value, phase.value, round_, seq, self.retention, blob, version, device],
            ),
        )

    async def _closing_read(
        self, code: str
    ) -> tuple[str, dict[str, str], dict[str, str], set[str]]:
        """In one transaction: the room's version, ballots and people, and every
        pseudonym that may own keys (whoever joined or had a command applied)."""
        keys = RoomKeys(code)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hget(keys.meta, "version")
                pipe.hgetall(keys.ballots)
                pipe.hgetall(keys.people)
                pipe.hkeys(keys.seqs)
                version, ballots, people, seen = await pipe.execute()
        except UNAVAILABLE as exc:
            raise ProtocolError(ErrorCode.STORE_UNAVAILABLE, "storage unreachable") from exc
        return version or "", ballots, people, set(people) | set(seen)

    async def closed_analysis(self, code: str) -> Analysis | None:
        """The analysis a closed room kept at closing (None for a room closed without one)."""
        try:
            raw = await self.redis.get(RoomKeys(code).analysis)
        except UNAVAILABLE as exc:
            raise ProtocolError(ErrorCode.STORE_UNAVAILABLE, "storage unreachable") from exc
        return None if not raw else from_fields(Analysis, json.loads(raw), "analysis")

    async def set_lock(self, code: str, locked: bool, seq: int, device: str) -> Stored:
        return await self._status(
            "set_lock",
            [RoomKeys(code).meta],
            ["1" if locked else "0", seq, _allowed("set_lock"), device],
        )

    # -- admission ---------------------------------------------------------
    async def set_expected_people(self, code: str, expected: int, seq: int, device: str) -> Stored:
        return await self._status(
            "set_expected_people",
            [RoomKeys(code).meta],
            [expected, seq, _allowed("set_expected_people"), device],
        )

    async def set_admission(self, code: str, enabled: bool, seq: int, device: str) -> Stored:
        keys = RoomKeys(code)
        return await self._status(
            "set_admission",
            [keys.meta, keys.people, keys.waiting],
            ["1" if enabled else "0", seq, _allowed("set_admission"), self.ttl, device],
        )

    async def admit(self, code: str, device_code: str, seq: int, device: str) -> Stored:
        keys = RoomKeys(code)
        return await self._status(
            "admit",
            [keys.meta, keys.people, keys.waiting],
            [device_code, seq, _allowed("admit"), self.ttl, device],
            {"unknown_item": "no device with this code is waiting"},
        )

    async def hide_note(
        self, code: str, note_id: str, hidden: bool, seq: int, device: str
    ) -> Stored:
        keys = RoomKeys(code)
        return await self._status(
            "hide_note",
            [keys.meta, keys.notes],
            [note_id, "1" if hidden else "0", seq, _allowed("hide_note"), device],
        )

    async def set_moderation(self, code: str, enabled: bool, seq: int, device: str) -> Stored:
        keys = RoomKeys(code)
        return await self._status(
            "set_moderation",
            [keys.meta, keys.notes],
            ["1" if enabled else "0", seq, _allowed("set_moderation"), device],
        )

    async def put_agenda_item(self, code: str, item: AgendaItem, seq: int, device: str) -> Stored:
        keys = RoomKeys(code)
        blob = _agenda_blob(item)
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
    ) -> Stored:
        keys = RoomKeys(code)
        return await self._status(
            "set_follow_up_status",
            [keys.meta, keys.followup, keys.previous],
            [index, status.value, seq, _allowed("set_follow_up_status"), self.ttl, device],
        )

    async def remove_agenda_item(self, code: str, item_id: str, seq: int, device: str) -> Stored:
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
        return _votes(ballots, people, round_, template)

    async def read_record(self, code: str) -> RoomRecord | None:
        """One consistent read (a read-only script) of the room's public state."""
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
                keys.waiting,
                keys.ballots,
            ],
            [],
        )
        if not reply:
            return None
        (meta, people, orgs, tally, notes, agenda, groups, votes, previous, followup, waiting,
         lost) = reply  # fmt: skip
        return RoomRecord(
            meta=public_meta(_pairs(meta)),
            people=int(people),
            hashes={
                "orgs": _pairs(orgs),
                "tally": without_marker(_pairs(tally)),
                "notes": _pairs(notes),
                "agenda": _pairs(agenda),
                "groups": _pairs(groups),
                "votes": _pairs(votes),
                "followup": _pairs(followup),
                "waiting": dict.fromkeys(waiting, "1"),
            },
            previous=previous or None,
            lost=lost == "1",
        )

    async def read_room(self, code: str) -> RoomData | None:
        """The room as the views read it, straight from Redis (not from a mirror)."""
        record = await self.read_record(code)
        return None if record is None else room_data(record)

    # -- healing (docs/protocol.md section 14) -----------------------------
    async def _healing(self, code: str, write: Awaitable[Stored], epoch: str = "") -> Stored:
        """A write that may find the room's tally or ballots lost: on ``room_lost``
        the room is rebuilt (``rebuild``) and the command still answers
        ``room_lost`` (retryable: the phone keeps it and re-sends it after its
        next welcome; a facilitator's phase move is retried by the server)."""
        try:
            return await write
        except RoomLost:
            await self.rebuild(code)
            raise
        except WentBack:
            await self.renew_epoch(code, epoch)
            raise

    async def rebuild(self, code: str) -> str | None:
        """Rebuild a room whose tally or ballots hash is missing (``rebuild.lua``):
        its new epoch and heal window; the stream message, or None when there
        was nothing to rebuild (another process did it first)."""
        keys = RoomKeys(code)
        reply = await self._run(
            "rebuild",
            [keys.meta, keys.ballots, keys.tally, keys.seqs],
            [new_epoch(), limits.HEAL_WINDOW_SECONDS, self.ttl],
        )
        return str(reply[1]) if isinstance(reply, list) else None

    async def renew_epoch(self, code: str, seen_epoch: str) -> str | None:
        """A new epoch (and heal window) for a room that Redis gave back older
        than a mirror had seen it at ``seen_epoch`` (``new_epoch.lua``); the stream
        message, or None when another process renewed it already."""
        reply = await self._run(
            "new_epoch",
            [RoomKeys(code).meta],
            [seen_epoch, new_epoch(), limits.HEAL_WINDOW_SECONDS],
        )
        return str(reply[1]) if isinstance(reply, list) else None

    # -- lost rooms and their restore (docs/protocol.md section 14) ---------
    async def mark_lost(self, code: str, secrets: RoomSecrets, ttl: int) -> bool:
        """Write the room's lost marker unless one is there (``mark_lost.lua``);
        False when the room exists after all (restored meanwhile)."""
        keys = RoomKeys(code)
        status = await self._run("mark_lost", [keys.meta, keys.lost], [secrets.to_json(), ttl])
        return bool(status != "exists")

    async def lost_marker(self, code: str) -> RoomSecrets | None:
        """The room's lost marker, if it has one."""
        try:
            raw = await self.redis.get(RoomKeys(code).lost)
        except UNAVAILABLE as exc:
            raise ProtocolError(ErrorCode.STORE_UNAVAILABLE, "storage unreachable") from exc
        return None if not raw else RoomSecrets.from_json(str(raw))

    async def rooms_missing(self, codes: list[str]) -> list[str]:
        """Which of these rooms Redis no longer has: one pipelined EXISTS per room's meta."""
        if not codes:
            return []
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for code in codes:
                    pipe.exists(RoomKeys(code).meta)
                found = await pipe.execute()
        except UNAVAILABLE as exc:
            raise ProtocolError(ErrorCode.STORE_UNAVAILABLE, "storage unreachable") from exc
        return [code for code, exists in zip(codes, found, strict=True) if not exists]

    async def restore_room(
        self, code: str, secrets: RoomSecrets, snapshot: RoomSnapshot
    ) -> Stored | None:
        """Write a lost room back from its control view's snapshot (``restore_room.lua``),
        with a new epoch and the heal window open; None when the room exists."""
        keys = RoomKeys(code)
        session = snapshot.session or SessionInfo("", "", "")
        agenda = {
            item.item_id: _agenda_blob(item, created=i + 1)
            for i, item in enumerate(snapshot.agenda)
        }
        groups = {
            group.group_id: json.dumps({"title": group.title, "notes": list(group.note_ids)})
            for group in snapshot.groups
        }
        reply = await self._run(
            "restore_room",
            [keys.meta, keys.tally, keys.ballots, keys.agenda, keys.groups, keys.lost],
            [
                secrets.template_id,
                secrets.facilitator_hash,
                secrets.join_token,
                secrets.display_token,
                self.ttl,
                new_epoch(),
                limits.HEAL_WINDOW_SECONDS,
                snapshot.people,
                snapshot.phase.value,
                snapshot.round,
                "1" if snapshot.locked else "0",
                snapshot.expected_people,
                "1" if snapshot.admission else "0",
                "1" if snapshot.moderation else "0",
                session.name,
                session.region,
                session.date,
                snapshot.voting_state.value,
                snapshot.dots_per_participant,
                snapshot.max_per_note,
                snapshot.version,
                json.dumps(agenda) if agenda else "{}",
                json.dumps(groups) if groups else "{}",
            ],
        )
        if reply in ("exists", "not_lost"):
            return None
        return Stored(Outcome.APPLIED, str(reply[1]))


def _agenda_blob(item: AgendaItem, *, created: int | None = None) -> str:
    """An agenda item as ``agenda`` stores it.  ``put_agenda_item.lua`` adds
    ``created`` (the order of items at the same position) itself; a restore
    writes it here."""
    fields: dict[str, object] = {
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
    if created is not None:
        fields["created"] = created
    return json.dumps(fields)


def _votes(
    ballots: dict[str, str], people: dict[str, str], round_: int, template: Template
) -> list[Vote]:
    """Every participant's ratings of ``round_`` with its organisation type, as
    anonymous vectors: the pseudonym only puts a participant's ratings together."""
    index = {norm.id: i for i, norm in enumerate(template.norms)}
    prefix = f"{round_}|"
    ratings: dict[str, list[int | None]] = {}
    for field, stored in ballots.items():
        if field == MARKER or not field.startswith(prefix):
            continue
        _, pid, norm = field.split("|")
        if norm in index:
            row = ratings.setdefault(pid, [None] * len(index))
            row[index[norm]] = value_out(split_seq(stored)[1])
    # Only the room's people: a device waiting to be admitted is not counted
    # (it cannot rate either; this keeps the breakdown right if it ever had).
    votes = [
        Vote(split_seq(people[pid])[1] or None, tuple(row))
        for pid, row in ratings.items()
        if pid in people
    ]
    return sorted(
        votes, key=lambda v: (v.org_type or "", [(-1 if x is None else x) for x in v.ratings])
    )


def _pairs(flat: list[str]) -> dict[str, str]:
    """A Lua HGETALL reply (key, value, key, value...) as a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))
