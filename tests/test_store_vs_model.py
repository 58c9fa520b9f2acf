"""The Lua scripts on a real Redis against the pure room model, step by step.

A hypothesis state machine sends the same random commands (several
participants, two facilitator windows, every phase, fresh seqs, replays and
old seqs) to ``server.store.RoomStore`` and to ``agenda.room_model.apply``,
and after every step requires the same outcome and the same state: every key
of the room field for field (secrets and per-participant keys included), the
room as ``RoomStore.read_room`` reads it, and a TTL on every key.  The model
is the oracle; a difference is a bug in one of them.

The limits are made small (participants, notes, groups, agenda items) so that
a run reaches them.  ``test_a_planted_difference_is_found`` shows the machine
fails when one rule of one script is changed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from agenda import room_model
from agenda.phases import ALLOWED_PHASES, TRANSITIONS, next_phase
from agenda.room_model import commands as c
from agenda.room_model import heal
from agenda.room_model.state import ROOM_LOST, WENT_BACK, RoomState
from agenda.room_model.stored import JSON_HASHES, StoredValue, record, stored_form
from agenda.room_record import norm_key, room_data
from agenda.templates import load_builtin_templates
from agenda.views import PreviousData, RoomData
from protocol import limits
from protocol.errors import ProtocolError
from protocol.messages import AgendaItem, NormResult, NoteGroup, SessionInfo
from protocol.phases import DotVoting, FollowUpStatus, Question
from protocol.phases import Phase as RoomPhase
from protocol.wire import to_wire
from server import scripts
from server.embedded_redis import RedisServer
from server.keys import RoomKeys, token_hash
from server.scripts import Outcome, PhaseConflict, refusal
from server.store import RoomStore

T = TypeVar("T")
#: What a step leaves in Redis: the room's keys, their TTLs, and the room as read.
Observed = tuple[dict[str, StoredValue], dict[str, int], RoomData | None]

TEMPLATE = load_builtin_templates()["team-health"]  # it asks a second question
NORMS = tuple(norm.id for norm in TEMPLATE.norms[:2])
ORGS = tuple(org.id for org in TEMPLATE.org_types[:2])
PIDS = ("p-anna", "p-bert", "p-cora", "p-dirk")
DEVICES = ("fac-window-a", "fac-window-b")
NOTE_IDS = ("note-0001", "note-0002", "note-0003", "note-0004")
GROUP_IDS = ("group-001", "group-002")
ITEM_IDS = ("item-0001", "item-0002", "item-0003")
TTL = 3600
#: Small enough to be reached in 50 steps.
SMALL_LIMITS = {
    "MAX_PARTICIPANTS_PER_ROOM": 3,
    "MAX_NOTES_PER_PARTICIPANT": 2,
    "MAX_NOTE_GROUPS": 1,
    "MAX_AGENDA_ITEMS": 2,
    "MAX_WAITING_DEVICES": 2,
}
#: Whether a command first walks the room to a phase that allows it (else
#: most commands meet the wrong phase, and the steps after them never happen).
STEER = st.sampled_from([True, False])
#: A seq choice: 0 the actor's next seq, 1 its last one again, 2+ an older one.
SEQ_BACK = st.sampled_from([0, 0, 0, 0, 0, 1, 2, 3])
PREVIOUS = PreviousData("OLDROOM", {NORMS[0]: 3.5}, (("bel de wethouder", "Anna", None),))
#: Every key matching ARGV[1]: {key, type, TTL, contents}.
DUMP = """
local out = {}
for _, key in ipairs(redis.call('KEYS', ARGV[1])) do
  local kind = redis.call('TYPE', key).ok
  local value
  if kind == 'hash' then value = redis.call('HGETALL', key)
  elseif kind == 'set' then value = redis.call('SMEMBERS', key)
  else value = {redis.call('GET', key)} end
  out[#out + 1] = {key, kind, redis.call('TTL', key), value}
end
return out
"""
SESSION = SessionInfo("Teamdag", "Noord", "2026-12-03")


class Harness:
    """A Redis client and a ``RoomStore`` on an event loop this test owns."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.url = url

        async def start() -> tuple[aioredis.Redis, RoomStore]:
            redis = aioredis.from_url(url, decode_responses=True)
            return redis, RoomStore(redis, room_ttl_seconds=TTL, sharded_pubsub=True)

        self.redis, self.store = self.run(start())
        self.dump_script = self.redis.register_script(DUMP)

    def run(self, coroutine: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coroutine)  # type: ignore[arg-type]

    def close(self) -> None:
        self.run(self.redis.aclose())
        self.loop.close()

    async def dump(self, code: str) -> tuple[dict[str, StoredValue], dict[str, int]]:
        """Every key of the room by its name within the room, and each key's TTL
        (one script call: the state after a step is read at one moment)."""
        prefix = RoomKeys(code).meta.removesuffix("meta")
        pattern = prefix.replace("{", "\\{").replace("}", "\\}") + "*"
        stored: dict[str, StoredValue] = {}
        ttls: dict[str, int] = {}
        for key, kind, ttl, value in await self.dump_script(args=[pattern]):
            name = key.removeprefix(prefix)
            if kind == "hash":
                stored[name] = dict(zip(value[::2], value[1::2], strict=True))
            elif kind == "set":
                stored[name] = frozenset(value)
            else:
                stored[name] = value[0]
            ttls[name] = ttl
        return stored, ttls


def decoded(stored: dict[str, StoredValue]) -> dict[str, Any]:
    """JSON fields decoded, so that the encoders' spelling does not matter."""
    return {
        name: {f: json.loads(v) for f, v in value.items()}
        if name in JSON_HASHES and isinstance(value, dict)
        else value
        for name, value in stored.items()
    }


def status_of_model(status: str) -> str:
    """The model's status as the store reports it (its error code)."""
    if status in ("ok", "dup", "conflict"):
        return status
    return refusal(status).code.value


async def send(store: RoomStore, code: str, command: c.Command) -> str:
    """Run ``command`` through the store; its outcome as a status."""
    try:
        stored = await _call(store, code, command)
    except PhaseConflict:
        return "conflict"
    except ProtocolError as error:
        return error.code.value
    if stored is None or stored.outcome is Outcome.APPLIED:
        return "ok"
    return "dup"


async def _call(store: RoomStore, code: str, command: c.Command) -> Any:
    match command:
        case c.Join(pid=pid, join_token=token):
            await store.join_participant(code, pid, token or None, TEMPLATE)
            return None
        case c.SetExpectedPeople(expected=expected, seq=seq, device=device):
            return await store.set_expected_people(code, expected, seq, device)
        case c.SetAdmission(enabled=enabled, seq=seq, device=device):
            return await store.set_admission(code, enabled, seq, device)
        case c.Admit(code=device_code, seq=seq, device=device):
            return await store.admit(code, device_code, seq, device)
        case c.SetOrg(pid=pid, org=org, seq=seq):
            return await store.set_org_type(code, pid, org, seq)
        case c.Rate(pid=pid, norm=norm, value=value, seq=seq, round=round_):
            norm_id, second, _ = norm.partition(":")
            question = Question.SECOND if second else Question.CURRENT
            return await store.rate(
                code,
                pid,
                norm_id,
                value,
                seq,
                round_,
                question,
                reassert=command.reassert,
                epoch=command.epoch,
                seen_version=command.seen,
            )
        case c.PutNote(pid=pid, note_id=note_id, text=text, norm=norm, seq=seq):
            return await store.put_note(code, pid, note_id, text, norm, seq)
        case c.WithdrawNote(pid=pid, note_id=note_id, seq=seq):
            return await store.withdraw_note(code, pid, note_id, seq)
        case c.DotVote(pid=pid, item_id=item_id, dots=dots, seq=seq):
            return await store.dot_vote(code, pid, item_id, dots, seq)
        case c.SetPhase(expected=expected, phase=phase, round=round_, seq=seq, device=device):
            return await store.set_phase(code, expected, phase, round_, seq, device)
        case c.SetLock(locked=locked, seq=seq, device=device):
            return await store.set_lock(code, locked, seq, device)
        case c.SetTimer(ends_at=ends_at, seq=seq, device=device):
            return await store.set_timer(code, ends_at, seq, device)
        case c.SetModeration(enabled=enabled, seq=seq, device=device):
            return await store.set_moderation(code, enabled, seq, device)
        case c.HideNote(note_id=note_id, hidden=hidden, seq=seq, device=device):
            return await store.hide_note(code, note_id, hidden, seq, device)
        case c.PutNoteGroup(group_id=group_id, title=title, note_ids=ids, seq=seq, device=device):
            return await store.put_note_group(code, NoteGroup(group_id, title, ids), seq, device)
        case c.RemoveNoteGroup(group_id=group_id, seq=seq, device=device):
            return await store.remove_note_group(code, group_id, seq, device)
        case c.SetDotVoting(state=state, dots=dots, max_per_note=most, seq=seq, device=device):
            return await store.set_dot_voting(code, state, dots, most, seq, device)
        case c.PutAgendaItem():
            snapshot = None
            if command.snapshot is not None:
                fields = json.loads(command.snapshot)
                fields["counts"] = tuple(fields["counts"])
                snapshot = NormResult(**fields)
            item = AgendaItem(
                command.item_id, command.action, command.owner, command.deadline,
                command.norm, command.note, command.position, command.group,
                command.follow_up, snapshot,
            )  # fmt: skip
            return await store.put_agenda_item(code, item, command.seq, command.device)
        case c.RemoveAgendaItem(item_id=item_id, seq=seq, device=device):
            return await store.remove_agenda_item(code, item_id, seq, device)
        case c.SetFollowUpStatus(index=index, status=status, seq=seq, device=device):
            return await store.set_follow_up_status(code, index, status, seq, device)
    raise AssertionError(f"no store call for {command}")


class StoreVsModel(RuleBasedStateMachine):
    """One room per example, driven in the store and in the model alike."""

    harness: Harness

    def __init__(self) -> None:
        super().__init__()
        self.code = ""
        self.model: RoomState | None = None
        #: Highest seq each participant or facilitator device has used.
        self.seqs: dict[str, int] = {}
        self.sent: list[c.Command] = []
        self.join_token = ""
        #: The room after the last step: its keys, their TTLs, and ``read_room``.
        self.observed: Observed | None = None

    # -- running one command in both -------------------------------------
    def step(self, command: c.Command) -> None:
        expected, model = room_model.apply(self.model, command)
        before = time.time()
        got, self.observed = self.harness.run(self._send_and_read(command))
        assert got == status_of_model(expected), f"{command}: store {got}, model {expected}"
        self.model = model
        if expected == ROOM_LOST:
            # The store rebuilt the room (a new epoch and heal window): so does the model.
            self._renewed(c.Rebuild, before)
        if expected == WENT_BACK:
            assert isinstance(command, c.Rate)
            seen = command.epoch
            self._renewed(lambda new, now: c.NewEpoch(seen, new, now), before)
        self.sent = [*self.sent[-7:], command]

    def _renewed(self, build: Callable[[str, int], c.Command], before: float) -> None:
        """The model's side of a rebuild or new epoch the store made: with the
        epoch Redis now holds, and its heal window, which must have been opened
        by Redis's clock during the step."""
        assert self.observed is not None and self.model is not None
        meta = self.observed[0]["meta"]
        assert isinstance(meta, dict)
        if meta["epoch"] == self.model.meta.epoch:  # nothing was renewed
            _, self.model = room_model.apply(self.model, build(meta["epoch"], 0))
            return
        opened = int(meta["heal_until"]) - limits.HEAL_WINDOW_SECONDS
        assert int(before) - 1 <= opened <= time.time() + 1
        status, self.model = room_model.apply(self.model, build(meta["epoch"], opened))
        assert status == "ok"

    async def _send_and_read(self, command: c.Command) -> tuple[str, Observed]:
        """The store's outcome, then the room as stored and as read (one loop run)."""
        got = await send(self.harness.store, self.code, command)
        (stored, ttls), read = await asyncio.gather(
            self.harness.dump(self.code), self.harness.store.read_room(self.code)
        )
        return got, (stored, ttls, read)

    def seq(self, actor: str, back: int) -> int:
        last = self.seqs.get(actor, 0)
        if back == 0:
            self.seqs[actor] = last + 1
            return last + 1
        return max(1, last - back + 1)

    @property
    def room(self) -> RoomState:
        assert self.model is not None
        return self.model

    # -- the room ----------------------------------------------------------
    @initialize(
        start=st.sampled_from(
            [RoomPhase.RATING, RoomPhase.BRAINSTORM, RoomPhase.REVEAL, RoomPhase.AGENDA,
             RoomPhase.LOBBY]
        ),
        previous=st.booleans(),
        session=st.booleans(),
        moderation=st.booleans(),
        seed=st.booleans(),
        voting=st.booleans(),
        expected=st.integers(1, 4),
        early=st.integers(0, 3),
        admission=st.sampled_from([True, True, False]),
    )  # fmt: skip
    def create(
        self,
        start: RoomPhase,
        previous: bool,
        session: bool,
        moderation: bool,
        seed: bool,
        voting: bool,
        expected: int,
        early: int,
        admission: bool,
    ) -> None:
        """A new room, walked to a random phase, maybe with people and notes in it
        (so that 50 steps reach what needs several steps first)."""
        store = self.harness.store
        created = self.harness.run(
            store.create_room(
                TEMPLATE.id,
                PREVIOUS if previous else None,
                SESSION if session else None,
                expected_people=expected,
                admission=admission,
            )
        )
        self.code = created.code
        meta = self.harness.run(store.room_meta(created.code))
        assert meta is not None
        command = c.CreateRoom(
            TEMPLATE.id,
            fac=token_hash(created.facilitator_token),
            join=created.join_token,
            disp=created.display_token,
            epoch=meta.epoch,
            expected=expected,
            admission=admission,
            previous=json.dumps(dataclasses.asdict(PREVIOUS)) if previous else None,
            **(
                {"session_name": SESSION.name, "session_region": SESSION.region,
                 "session_date": SESSION.date} if session else {}
            ),
        )  # fmt: skip
        status, self.model = room_model.apply(None, command)
        assert status == "ok"
        self.join_token = created.join_token
        fac = DEVICES[0]
        if not moderation:
            self.step(c.SetModeration(False, self.seq(fac, 0), fac))
        for pid in PIDS[:early]:  # at the table before the first round (some may wait)
            self.step(self._join(pid))
        path = [RoomPhase.RATING, RoomPhase.REVEAL, RoomPhase.BRAINSTORM, RoomPhase.AGENDA]
        for target in path[: path.index(start) + 1 if start in path else 0]:
            self._move(target, fac, 0)
            if seed and target is RoomPhase.RATING:
                for pid, note_id in zip(PIDS[:3], NOTE_IDS, strict=False):
                    self.step(self._join(pid))
                    if pid in self.room.waiting:
                        self.step(c.Admit(self.room.waiting[pid], self.seq(fac, 0), fac))
                    seq = self.seq(pid, 0)
                    most = limits.MAX_NOTES_PER_PARTICIPANT
                    self.step(c.PutNote(pid, note_id, "meer overleg", None, seq, most))
                    self.step(c.HideNote(note_id, False, self.seq(fac, 0), fac))
        if voting and start in (RoomPhase.BRAINSTORM, RoomPhase.AGENDA):
            self.step(c.SetDotVoting(DotVoting.OPEN, 3, 2, self.seq(fac, 0), fac))

    @staticmethod
    def _join(pid: str, token: str = "") -> c.Join:
        return c.Join(pid, token, limits.MAX_PARTICIPANTS_PER_ROOM, limits.MAX_WAITING_DEVICES)

    def steer(self, message_type: str, steer: bool) -> None:
        """Move the room, the shortest way, to a phase in which ``message_type`` is
        allowed (never to closed)."""
        allowed = ALLOWED_PHASES[message_type]
        if not steer or self.room.meta.phase in allowed:
            return
        paths = {self.room.meta.phase: list[RoomPhase]()}
        queue = [self.room.meta.phase]
        while queue:
            here = queue.pop(0)
            for there in sorted(TRANSITIONS[here] - {RoomPhase.CLOSED} - set(paths)):
                paths[there] = [*paths[here], there]
                if there in allowed:
                    for target in paths[there]:
                        self._move(target, DEVICES[0], 0)
                        if self.room.meta.phase is not target:
                            return  # refused (in both): walk no further
                    return
                queue.append(there)

    def _move(
        self, target: RoomPhase, device: str, back: int, expected: RoomPhase | None = None
    ) -> None:
        expected = self.room.meta.phase if expected is None else expected
        change = next_phase(expected, target, self.room.meta.round)
        self.step(c.SetPhase(expected, change.phase, change.round, self.seq(device, back), device))

    @rule(
        stale=st.sampled_from([False, False, False, True]),
        pick=st.integers(0, 3),
        close=st.sampled_from([False] * 29 + [True]),
        device=st.sampled_from(DEVICES),
        back=SEQ_BACK,
    )
    def set_phase(self, stale: bool, pick: int, close: bool, device: str, back: int) -> None:
        expected = RoomPhase(list(RoomPhase)[pick]) if stale else self.room.meta.phase
        targets = sorted(t for t in TRANSITIONS[expected] if close or t is not RoomPhase.CLOSED)
        if targets:
            self._move(targets[pick % len(targets)], device, back, expected)

    @rule(pid=st.sampled_from(PIDS), token=st.sampled_from(["none", "right", "wrong"]))
    def join(self, pid: str, token: str) -> None:
        given = {"none": "", "right": self.join_token, "wrong": "not-the-token"}[token]
        self.step(self._join(pid, given))

    @rule(expected=st.integers(1, 4), device=st.sampled_from(DEVICES), back=SEQ_BACK)
    def set_expected_people(self, expected: int, device: str, back: int) -> None:
        self.step(c.SetExpectedPeople(expected, self.seq(device, back), device))

    @rule(
        enabled=st.sampled_from([True, True, False]),
        device=st.sampled_from(DEVICES),
        back=SEQ_BACK,
    )
    def set_admission(self, enabled: bool, device: str, back: int) -> None:
        self.step(c.SetAdmission(enabled, self.seq(device, back), device))

    @rule(
        pick=st.integers(0, 3),
        unknown=st.sampled_from([False] * 5 + [True]),
        device=st.sampled_from(DEVICES),
        back=SEQ_BACK,
    )
    def admit(self, pick: int, unknown: bool, device: str, back: int) -> None:
        """Mostly a device that waits; sometimes a code nobody has."""
        codes = sorted(self.room.waiting.values())
        code = "ZZZ" if unknown or not codes else codes[pick % len(codes)]
        self.step(c.Admit(code, self.seq(device, back), device))

    @rule(pid=st.sampled_from(PIDS), shift=st.sampled_from([1, 2, 0]), back=SEQ_BACK)
    def set_org(self, pid: str, shift: int, back: int) -> None:
        """Mostly another organisation type than the participant has (or none)."""
        choices = [*ORGS, None]
        person = self.room.people.get(pid)
        now = choices.index(person.org or None) if person else 0
        self.step(c.SetOrg(pid, choices[(now + shift) % len(choices)], self.seq(pid, back)))

    @rule(
        pid=st.sampled_from(PIDS),
        norm=st.sampled_from(NORMS),
        second=st.booleans(),
        value=st.sampled_from([1, 2, 3, None]),
        old_round=st.sampled_from([False] * 5 + [True]),
        back=SEQ_BACK,
        steer=STEER,
        reassert=st.sampled_from([False] * 4 + [True]),
        epoch=st.sampled_from(["", "", "current", "current", "current", "older"]),
        seen=st.sampled_from([None, None, None, 0, 1]),
    )
    def rate(
        self,
        pid: str,
        norm: str,
        second: bool,
        value: int | None,
        old_round: bool,
        back: int,
        steer: bool,
        reassert: bool,
        epoch: str,
        seen: int | None,
    ) -> None:
        """``seen``: the version the server's mirror has seen, this many ahead of the
        room's (1: Redis went back), or None."""
        self.steer("rate", steer)
        key = norm_key(norm, Question.SECOND if second else Question.CURRENT)
        round_ = self.room.meta.round - old_round
        joined_at = {"": "", "current": self.room.meta.epoch, "older": "an-older-epoch"}[epoch]
        seq = self.seq(pid, back)
        seen_version = None if seen is None else self.room.meta.version + seen
        now = int(time.time())
        self.step(c.Rate(pid, key, value, seq, round_, reassert, joined_at, now, seen_version))

    # -- faults and healing --------------------------------------------------
    @rule(which=st.sampled_from(["tally", "ballots", "both"]))
    def lose(self, which: str) -> None:
        """Redis loses the tally or the ballots hash (or both), as an eviction would."""
        names = ["tally", "ballots"] if which == "both" else [which]
        keys = RoomKeys(self.code)

        async def delete() -> Observed:
            await self.harness.redis.delete(*(getattr(keys, name) for name in names))
            stored, ttls = await self.harness.dump(self.code)
            return stored, ttls, await self.harness.store.read_room(self.code)

        self.observed = self.harness.run(delete())
        for name in names:
            self.model = heal.lose(self.room, name)

    @rule(seen=st.sampled_from(["current", "current", "other"]))
    def new_epoch(self, seen: str) -> None:
        """A mirror saw the room at a higher version (Redis came back older)."""
        epoch = self.room.meta.epoch if seen == "current" else "not-the-epoch"
        before = time.time()

        async def renew() -> Observed:
            await self.harness.store.renew_epoch(self.code, epoch)
            stored, ttls = await self.harness.dump(self.code)
            return stored, ttls, await self.harness.store.read_room(self.code)

        self.observed = self.harness.run(renew())
        self._renewed(lambda new, now: c.NewEpoch(epoch, new, now), before)

    @precondition(lambda self: self.model is not None and self.model.meta.heal_until is not None)
    @rule()
    def heal_window_ends(self) -> None:
        """The heal window is over (set back in Redis and the model alike)."""
        ended = int(time.time()) - 10

        async def end() -> Observed:
            await self.harness.redis.hset(RoomKeys(self.code).meta, "heal_until", ended)
            stored, ttls = await self.harness.dump(self.code)
            return stored, ttls, await self.harness.store.read_room(self.code)

        self.observed = self.harness.run(end())
        self.model = dataclasses.replace(
            self.room, meta=dataclasses.replace(self.room.meta, heal_until=ended)
        )

    @rule(
        pid=st.sampled_from(PIDS),
        note_id=st.sampled_from(NOTE_IDS),
        text=st.sampled_from(["meer overleg", "minder vergaderen"]),
        norm=st.sampled_from([*NORMS, None]),
        own=st.booleans(),
        back=SEQ_BACK,
        steer=STEER,
    )
    def put_note(
        self, pid: str, note_id: str, text: str, norm: str | None, own: bool, back: int, steer: bool
    ) -> None:
        self.steer("put_note", steer)
        if steer and self.room.meta.voting is DotVoting.OPEN:
            self.set_dot_voting(DotVoting.CLOSED, 3, 2, DEVICES[0], 0)
        mine = sorted(n for n, owner in self.room.owners.items() if owner == pid)
        if own and mine:  # one of its own notes again (an edit, or back after a withdrawal)
            note_id = mine[NOTE_IDS.index(note_id) % len(mine)]
        seq = self.seq(pid, back)
        self.step(c.PutNote(pid, note_id, text, norm, seq, limits.MAX_NOTES_PER_PARTICIPANT))

    @rule(
        pid=st.sampled_from(PIDS),
        note_id=st.sampled_from(NOTE_IDS),
        author=st.sampled_from([True, True, False]),
        back=SEQ_BACK,
        steer=STEER,
    )
    def withdraw_note(self, pid: str, note_id: str, author: bool, back: int, steer: bool) -> None:
        self.steer("withdraw_note", steer)
        if author:  # mostly the note's author (anyone else is refused)
            pid = self.room.owners.get(note_id, pid)
        self.step(c.WithdrawNote(pid, note_id, self.seq(pid, back)))

    @rule(
        pid=st.sampled_from(PIDS),
        item=st.sampled_from(NOTE_IDS + GROUP_IDS),
        dots=st.integers(0, 3),
        back=SEQ_BACK,
        steer=STEER,
    )
    def dot_vote(self, pid: str, item: str, dots: int, back: int, steer: bool) -> None:
        self.steer("dot_vote", steer)
        if self.room.meta.voting is not DotVoting.OPEN and back == 0:
            # Mostly while voting is open (a closed vote is refused at once).
            self.set_dot_voting(DotVoting.OPEN, 3, 2, DEVICES[0], 0)
        self.step(c.DotVote(pid, item, dots, self.seq(pid, back)))

    # What participants do is most of a session, and most rules need a few
    # steps before them: these rules are drawn more often (hypothesis draws
    # each rule of the class with the same chance, aliases included).
    rate_more = rate_again = rate
    put_note_more = put_note_again = put_note
    withdraw_note_more = withdraw_note
    dot_vote_more = dot_vote

    # -- the facilitator ---------------------------------------------------
    @rule(locked=st.booleans(), device=st.sampled_from(DEVICES), back=SEQ_BACK)
    def set_lock(self, locked: bool, device: str, back: int) -> None:
        self.step(c.SetLock(locked, self.seq(device, back), device))

    @rule(
        ends_at=st.sampled_from([1_800_000_000_000, None]),
        device=st.sampled_from(DEVICES),
        back=SEQ_BACK,
    )
    def set_timer(self, ends_at: int | None, device: str, back: int) -> None:
        self.step(c.SetTimer(ends_at, self.seq(device, back), device))

    @rule(enabled=st.booleans(), device=st.sampled_from(DEVICES), back=SEQ_BACK)
    def set_moderation(self, enabled: bool, device: str, back: int) -> None:
        self.step(c.SetModeration(enabled, self.seq(device, back), device))

    @rule(
        note_id=st.sampled_from(NOTE_IDS),
        hidden=st.booleans(),
        device=st.sampled_from(DEVICES),
        back=SEQ_BACK,
        steer=STEER,
    )
    def hide_note(self, note_id: str, hidden: bool, device: str, back: int, steer: bool) -> None:
        self.steer("hide_note", steer)
        self.step(c.HideNote(note_id, hidden, self.seq(device, back), device))

    @rule(
        group_id=st.sampled_from(GROUP_IDS),
        note_ids=st.lists(st.sampled_from(NOTE_IDS), min_size=1, max_size=3, unique=True),
        device=st.sampled_from(DEVICES),
        back=SEQ_BACK,
        steer=STEER,
    )
    def put_note_group(
        self, group_id: str, note_ids: list[str], device: str, back: int, steer: bool
    ) -> None:
        self.steer("put_note_group", steer)
        seq = self.seq(device, back)
        self.step(
            c.PutNoteGroup(group_id, "Samen", tuple(note_ids), seq, device, limits.MAX_NOTE_GROUPS)
        )

    @rule(group_id=st.sampled_from(GROUP_IDS), device=st.sampled_from(DEVICES), back=SEQ_BACK)
    def remove_note_group(self, group_id: str, device: str, back: int) -> None:
        self.step(c.RemoveNoteGroup(group_id, self.seq(device, back), device))

    @rule(
        state=st.sampled_from([DotVoting.OPEN, DotVoting.OPEN, DotVoting.CLOSED, DotVoting.SHOWN]),
        dots=st.integers(1, 4),
        most=st.integers(1, 3),
        device=st.sampled_from(DEVICES),
        back=SEQ_BACK,
    )
    def set_dot_voting(
        self, state: DotVoting, dots: int, most: int, device: str, back: int
    ) -> None:
        self.step(c.SetDotVoting(state, dots, most, self.seq(device, back), device))

    @rule(
        item_id=st.sampled_from(ITEM_IDS),
        norm=st.sampled_from([*NORMS, None]),
        link=st.sampled_from(["none", "note", "group"]),
        note_id=st.sampled_from(NOTE_IDS),
        group_id=st.sampled_from(GROUP_IDS),
        position=st.integers(0, 2),
        snapshot=st.booleans(),
        action=st.sampled_from(["bel de wethouder", "plan een werksessie"]),
        deadline=st.sampled_from([None, "2027-01-31"]),
        follow_up=st.sampled_from([None, "0"]),
        device=st.sampled_from(DEVICES),
        back=SEQ_BACK,
        steer=STEER,
    )
    def put_agenda_item(
        self, item_id: str, norm: str | None, link: str, note_id: str, group_id: str,
        position: int, snapshot: bool, action: str, deadline: str | None,
        follow_up: str | None, device: str, back: int, steer: bool,
    ) -> None:  # fmt: skip
        self.steer("put_agenda_item", steer)
        result = None
        if snapshot and norm is not None:
            wire = to_wire(NormResult(norm, 4, (1, 2, 1), 0, float(position) + 0.5))
            result = json.dumps(wire, sort_keys=True)
        self.step(
            c.PutAgendaItem(
                item_id,
                action,
                "Anna",
                deadline,
                norm,
                note_id if link == "note" else None,
                group_id if link == "group" else None,
                follow_up,
                position,
                result,
                self.seq(device, back),
                device,
                limits.MAX_AGENDA_ITEMS,
            )
        )

    @rule(
        item_id=st.sampled_from(ITEM_IDS),
        device=st.sampled_from(DEVICES),
        back=SEQ_BACK,
        steer=STEER,
    )
    def remove_agenda_item(self, item_id: str, device: str, back: int, steer: bool) -> None:
        self.steer("remove_agenda_item", steer)
        if steer and self.room.agenda:  # an item there is (maybe removed already)
            item_id = sorted(self.room.agenda)[ITEM_IDS.index(item_id) % len(self.room.agenda)]
        self.step(c.RemoveAgendaItem(item_id, self.seq(device, back), device))

    @rule(
        index=st.integers(0, 2),
        status=st.sampled_from(list(FollowUpStatus)),
        device=st.sampled_from(DEVICES),
        back=SEQ_BACK,
    )
    def set_follow_up_status(
        self, index: int, status: FollowUpStatus, device: str, back: int
    ) -> None:
        self.step(c.SetFollowUpStatus(index, status, self.seq(device, back), device))

    @precondition(lambda self: bool(self.sent))
    @rule(which=st.integers(0, 7))
    def replay(self, which: int) -> None:
        """A command sent again, exactly (a phone resending its outbox)."""
        self.step(self.sent[-1 - which % len(self.sent)])

    # -- after every step --------------------------------------------------
    @invariant()
    def same_state(self) -> None:
        if self.model is None or self.observed is None:
            return
        stored, ttls, read = self.observed
        assert decoded(stored) == decoded(stored_form(self.model))
        without_ttl = sorted(name for name, ttl in ttls.items() if not 0 < ttl <= TTL)
        assert not without_ttl, f"keys without the room's TTL: {without_ttl}"
        assert read == room_data(record(self.model))

    def teardown(self) -> None:
        """Every room ends closed (closing stops a timer, and most examples never
        close their room on their own)."""
        if self.model is not None and self.model.meta.phase is not RoomPhase.CLOSED:
            self._move(RoomPhase.CLOSED, DEVICES[1], 0)
            self.same_state()


@pytest.fixture
def harness(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    for name, value in SMALL_LIMITS.items():
        monkeypatch.setattr(limits, name, value)
    running = Harness(redis_server.url)
    try:
        yield running
    finally:
        running.close()


def machine(harness: Harness) -> type[StoreVsModel]:
    return type("Run", (StoreVsModel,), {"harness": harness})


def test_the_store_does_what_the_model_says(harness: Harness) -> None:
    run_state_machine_as_test(
        machine(harness),
        settings=settings(
            max_examples=80,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def _plant(tmp_path: Path, script: str, old: str, new: str) -> Path:
    copy = tmp_path / "lua"
    shutil.copytree(scripts.LUA_DIR, copy)
    path = copy / script
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {script}"
    path.write_text(text.replace(old, new))
    return copy


PLANTED = [
    # A replayed rating is applied again (answers 'ok' instead of 'dup').
    ("rate.lua", "old_seq >= seq", "old_seq > seq"),
    # A rebuild without ballots keeps the participants' seqs (their phones would
    # not re-send what the room lost).
    ("rebuild.lua", "redis.call('HSET', seqs, pid, 0)", "redis.call('HGET', seqs, pid)"),
    # (A re-asserted rating counting after the heal window is planted against
    # tests/test_client_reassert.py instead: the machine found it in a file run
    # but not in every full-suite run.)
]


@pytest.mark.parametrize(("script", "old", "new"), PLANTED)
def test_a_planted_difference_is_found(
    harness: Harness,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    script: str,
    old: str,
    new: str,
) -> None:
    """One rule of one script changed: the machine must notice.  400 examples:
    with 200 the heal-window plant went unnoticed once in a full suite run."""
    monkeypatch.setattr(scripts, "LUA_DIR", _plant(tmp_path, script, old, new))
    planted = machine(Harness(harness.url))
    try:
        with pytest.raises(AssertionError):
            run_state_machine_as_test(
                planted,
                settings=settings(
                    max_examples=400,
                    stateful_step_count=50,
                    deadline=None,
                    derandomize=True,
                    database=None,
                    phases=[Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow],
                    print_blob=False,
                ),
            )
    finally:
        planted.harness.close()


# -- the TTL bugs the machine found, pinned down ----------------------------


def _room_in(harness: Harness, *phases: RoomPhase) -> str:
    store = harness.store
    code = harness.run(store.create_room(TEMPLATE.id)).code
    # Joined in the lobby: a device new after the first round waits to be admitted.
    harness.run(store.join_participant(code, "p-anna", None, TEMPLATE))
    previous, round_ = RoomPhase.LOBBY, 1
    for seq, phase in enumerate(phases, start=1):
        change = next_phase(previous, phase, round_)
        harness.run(store.set_phase(code, previous, change.phase, change.round, seq, "fac"))
        previous, round_ = change.phase, change.round
    return code


def _keys_without_ttl(harness: Harness, code: str) -> list[str]:
    _, ttls = harness.run(harness.dump(code))
    return sorted(name for name, ttl in ttls.items() if ttl < 0)


def test_a_note_put_again_after_its_withdrawal_keeps_a_ttl_on_mine(harness: Harness) -> None:
    """Withdrawing one's only note empties ``mine:<pid>`` (Redis deletes it); putting
    the note again re-creates it, and it must expire with the room."""
    code = _room_in(harness, RoomPhase.RATING)
    store = harness.store
    harness.run(store.put_note(code, "p-anna", "note-0001", "eerste", None, 1))
    harness.run(store.withdraw_note(code, "p-anna", "note-0001", 2))
    assert "mine:p-anna" not in harness.run(harness.dump(code))[0]
    harness.run(store.put_note(code, "p-anna", "note-0001", "weer terug", None, 3))
    assert _keys_without_ttl(harness, code) == []


def test_a_note_put_again_after_its_withdrawal_comes_last_on_the_wall(harness: Harness) -> None:
    """It is a new note on the wall: ``created`` is the room's version now, not 0
    (which put it before every other note)."""
    code = _room_in(harness, RoomPhase.RATING)
    store = harness.store
    harness.run(store.put_note(code, "p-anna", "note-0001", "eerste", None, 1))
    harness.run(store.put_note(code, "p-anna", "note-0002", "tweede", None, 2))
    harness.run(store.withdraw_note(code, "p-anna", "note-0001", 3))
    harness.run(store.put_note(code, "p-anna", "note-0001", "weer terug", None, 4))
    room = harness.run(store.read_room(code))
    assert room is not None
    assert [note.note_id for note in room.notes] == ["note-0002", "note-0001"]


def test_votes_made_after_a_first_vote_of_zero_dots_keep_a_ttl(harness: Harness) -> None:
    """A first dot_vote of 0 creates no ``votes`` hash; the next vote creates it."""
    code = _room_in(harness, RoomPhase.RATING)
    store = harness.store
    harness.run(store.put_note(code, "p-anna", "note-0001", "eerste", None, 1))
    harness.run(store.set_moderation(code, False, 10, "fac"))
    for seq, phase in ((11, RoomPhase.REVEAL), (12, RoomPhase.BRAINSTORM)):
        meta = harness.run(store.room_meta(code))
        assert meta is not None
        harness.run(store.set_phase(code, meta.phase, phase, meta.round, seq, "fac"))
    harness.run(store.set_dot_voting(code, DotVoting.OPEN, 3, 3, 13, "fac"))
    harness.run(store.dot_vote(code, "p-anna", "note-0001", 0, 2))
    assert "votes" not in harness.run(harness.dump(code))[0]
    harness.run(store.dot_vote(code, "p-anna", "note-0001", 2, 3))
    assert harness.run(harness.dump(code))[0]["votes"] == {"note-0001": "2"}
    assert _keys_without_ttl(harness, code) == []
