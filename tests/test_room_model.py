"""The pure room model, rule by rule (no Redis: ``tests/test_store_vs_model.py``
holds the scripts to the same rules)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from agenda import room_model
from agenda.phases import next_phase
from agenda.room_model import commands as c
from agenda.room_model import heal
from agenda.room_model.state import RoomState
from agenda.room_model.stored import record, stored_form
from agenda.room_record import room_data
from protocol.errors import ProtocolError
from protocol.limits import HEAL_WINDOW_SECONDS
from protocol.phases import DotVoting, FollowUpStatus, Phase

FAC = "fac-window"


def apply(state: RoomState | None, command: c.Command) -> tuple[str, RoomState]:
    status, after = room_model.apply(state, command)
    assert after is not None
    return status, after


def ok(state: RoomState | None, command: c.Command) -> RoomState:
    status, after = apply(state, command)
    assert status == "ok", f"{command}: {status}"
    return after


def refused(state: RoomState, command: c.Command, expected: str) -> None:
    """Refused (or a duplicate) with ``expected``, and nothing changed."""
    status, after = apply(state, command)
    assert status == expected
    assert after == state


class Room:
    """A room and the seqs of its actors, for short tests."""

    def __init__(self, phase: Phase = Phase.LOBBY, *, moderation: bool = False) -> None:
        self.seqs: dict[str, int] = {}
        self.state = ok(None, c.CreateRoom("team-health", "fachash", "jointoken", "disp", "e1"))
        if not moderation:
            self.do(c.SetModeration(False, self.seq(FAC), FAC))
        if phase is not Phase.LOBBY:
            # The people at the table come in before the first round (later
            # ones wait to be admitted: see the admission tests).
            self.join("p1", "p2")
        self.to(phase)

    def seq(self, actor: str) -> int:
        self.seqs[actor] = self.seqs.get(actor, 0) + 1
        return self.seqs[actor]

    def do(self, command: c.Command) -> RoomState:
        self.state = ok(self.state, command)
        return self.state

    def to(self, phase: Phase) -> None:
        """Walk on (lobby, rating, reveal, brainstorm, agenda) to ``phase``, or close."""
        path = [Phase.LOBBY, Phase.RATING, Phase.REVEAL, Phase.BRAINSTORM, Phase.AGENDA]
        here = path.index(self.state.meta.phase)
        targets = (
            [Phase.CLOSED] if phase is Phase.CLOSED else path[here + 1 : path.index(phase) + 1]
        )
        for target in targets:
            meta = self.state.meta
            change = next_phase(meta.phase, target, meta.round)
            self.do(c.SetPhase(meta.phase, change.phase, change.round, self.seq(FAC), FAC))

    def join(self, *pids: str) -> None:
        """Join, and admit whoever has to wait (the facilitator's click)."""
        for pid in pids:
            self.do(c.Join(pid))
            code = self.state.waiting.get(pid)
            if code is not None:
                self.do(c.Admit(code, self.seq(FAC), FAC))

    def note(self, pid: str, note_id: str, text: str = "meer overleg") -> RoomState:
        return self.do(c.PutNote(pid, note_id, text, None, self.seq(pid)))


# -- the room --------------------------------------------------------------


def test_a_new_room_is_in_the_lobby_at_version_1_and_a_taken_code_is_refused() -> None:
    state = ok(None, c.CreateRoom("team-health", "h", "j", "d", "e1", dots=4))
    meta = state.meta
    assert (meta.phase, meta.round, meta.version, meta.dots, meta.maxnote) == (
        Phase.LOBBY,
        1,
        1,
        4,
        4,
    )
    assert meta.moderation and meta.voting is DotVoting.CLOSED and not meta.locked
    assert room_model.apply(state, c.CreateRoom("x", "h", "j", "d", "e2")) == ("exists", state)


def test_every_command_on_a_missing_room_is_room_not_found() -> None:
    assert room_model.apply(None, c.Join("p1")) == ("room_not_found", None)
    assert room_model.apply(None, c.SetLock(True, 1, FAC)) == ("room_not_found", None)


def test_joining_counts_a_new_participant_once() -> None:
    room = Room()
    version = room.state.meta.version
    room.join("p1")
    assert room.state.meta.version == version + 1 and set(room.state.people) == {"p1"}
    status, again = apply(room.state, c.Join("p1"))
    assert status == "ok" and again == room.state  # back again: nothing moves


def test_a_locked_room_wants_its_join_token_and_a_full_room_no_one_new() -> None:
    room = Room()
    room.do(c.SetLock(True, room.seq(FAC), FAC))
    refused(room.state, c.Join("p1"), "room_locked")
    refused(room.state, c.Join("p1", "wrong"), "room_locked")
    room.do(c.Join("p1", "jointoken"))
    refused(room.state, c.Join("p2", "jointoken", max_participants=1), "room_full")
    room.do(c.Join("p1", max_participants=1))  # someone known may always come back


def test_a_facilitator_device_acts_in_its_seq_order_and_each_device_apart() -> None:
    room = Room()
    room.do(c.SetTimer(123, 10, "a"))
    refused(room.state, c.SetTimer(456, 10, "a"), "dup")
    refused(room.state, c.SetTimer(456, 9, "a"), "dup")
    room.do(c.SetTimer(456, 1, "b"))  # another window has its own counter
    assert room.state.meta.timer == 456 and dict(room.state.meta.fseq) == {FAC: 1, "a": 10, "b": 1}


def test_set_phase_is_a_compare_and_set_that_keeps_its_seq_on_a_conflict() -> None:
    room = Room()
    refused(room.state, c.SetPhase(Phase.RATING, Phase.REVEAL, 1, 5, FAC), "conflict")
    room.do(c.SetPhase(Phase.LOBBY, Phase.RATING, 1, 5, FAC))  # seq 5 still free
    refused(room.state, c.SetPhase(Phase.RATING, Phase.REVEAL, 1, 5, FAC), "dup")


def test_closing_the_room_stops_its_timer() -> None:
    room = Room(Phase.RATING)
    room.do(c.SetTimer(999, room.seq(FAC), FAC))
    room.to(Phase.CLOSED)
    assert room.state.meta.timer is None and room.state.meta.phase is Phase.CLOSED


def test_closing_keeps_aggregates_and_nothing_that_links_a_participant_to_an_answer() -> None:
    room = Room(Phase.LOBBY)
    room.join("p-anna", "p-bob", "p-cas")
    for pid, org in (("p-anna", "gemeente"), ("p-bob", "onderwijs")):
        room.do(c.SetOrg(pid, org, room.seq(pid)))
    room.to(Phase.RATING)
    for value, pid in enumerate(("p-anna", "p-bob", "p-cas")):
        room.do(c.Rate(pid, "norm-a", value, room.seq(pid), 1))
    room.note("p-anna", "n1", "een stagebank")
    room.note("p-bob", "n2", "weg ermee")
    room.do(c.WithdrawNote("p-bob", "n2", room.seq("p-bob")))
    room.to(Phase.BRAINSTORM)
    room.do(c.SetDotVoting(DotVoting.OPEN, 3, 2, room.seq(FAC), FAC))
    room.do(c.DotVote("p-cas", "n1", 2, room.seq("p-cas")))
    before = room.state
    meta = before.meta
    closed = ok(before, c.SetPhase(meta.phase, Phase.CLOSED, meta.round, room.seq(FAC), FAC, "{}"))
    stored = stored_form(closed)
    # Nothing per participant: no key, field or value holds a pseudonym.
    # (The ballots go, marker and all: a closed room has none by design.)
    assert set(stored) == {"meta", "orgs", "tally", "notes", "votes", "analysis"}
    assert "p-" not in json.dumps({k: sorted(v) if isinstance(v, frozenset) else v
                                   for k, v in stored.items()})  # fmt: skip
    # The aggregates stay, and the room reads as before but for its phase.
    assert (stored["tally"], stored["orgs"], stored["votes"]) == (
        stored_form(before)["tally"], stored_form(before)["orgs"], stored_form(before)["votes"]
    )  # fmt: skip
    assert {n: note.text for n, note in closed.notes.items()} == {"n1": "een stagebank"}
    assert closed.notes["n1"].seq == 0 and closed.analysis == "{}"
    was, now = room_data(record(before)), room_data(record(closed))
    assert now.participants == was.participants == 3
    assert (now.tallies, now.org_counts, now.votes, now.notes) == (
        was.tallies, was.org_counts, was.votes, was.notes
    )  # fmt: skip
    # Coming back records no one; a closed room never opens again.
    assert apply(closed, c.Join("p-anna")) == ("ok", closed)
    assert apply(closed, c.Join("p-new")) == ("ok", closed)
    with pytest.raises(ProtocolError):
        next_phase(Phase.CLOSED, Phase.RATING, closed.meta.round)


def test_the_phase_table_decides_what_is_allowed() -> None:
    room = Room(Phase.CLOSED)
    refused(room.state, c.SetLock(True, 99, FAC), "wrong_phase")
    refused(room.state, c.SetOrg("p1", "product", 1), "wrong_phase")
    room = Room()
    refused(room.state, c.PutNote("p1", "n1", "x", None, 1), "wrong_phase")


# -- ratings ---------------------------------------------------------------


def test_a_rating_moves_the_tally_and_a_re_vote_moves_it_again() -> None:
    room = Room(Phase.RATING)
    room.join("p1")
    room.do(c.Rate("p1", "speed", 3, 1, 1))
    room.do(c.Rate("p1", "speed", None, 2, 1))  # 'weet niet'
    assert dict(room.state.tally) == {(1, "speed", "3"): 0, (1, "speed", "dk"): 1}
    assert room.state.ballots[(1, "p1", "speed")].value == "dk"
    assert room.state.seqs["p1"] == 2


def test_a_replayed_or_older_rating_is_a_duplicate() -> None:
    room = Room(Phase.RATING)
    room.do(c.Rate("p1", "speed", 3, 5, 1))
    refused(room.state, c.Rate("p1", "speed", 4, 5, 1), "dup")
    refused(room.state, c.Rate("p1", "speed", 4, 4, 1), "dup")


def test_the_same_answer_again_notes_its_seq_without_a_new_version() -> None:
    room = Room(Phase.RATING)
    before = room.do(c.Rate("p1", "speed", 3, 1, 1))
    after = room.do(c.Rate("p1", "speed", 3, 2, 1))
    assert after.meta.version == before.meta.version and after.tally == before.tally
    assert after.ballots[(1, "p1", "speed")].seq == 2


def test_a_rating_for_another_round_or_outside_rating_is_refused() -> None:
    room = Room(Phase.RATING)
    refused(room.state, c.Rate("p1", "speed", 3, 1, 2), "wrong_phase")
    room.to(Phase.REVEAL)
    refused(room.state, c.Rate("p1", "speed", 3, 2, 1), "wrong_phase")
    room.do(c.SetPhase(Phase.REVEAL, Phase.RATING, 2, room.seq(FAC), FAC))  # a second round
    refused(room.state, c.Rate("p1", "speed", 3, 3, 1), "wrong_phase")  # a late resend
    room.do(c.Rate("p1", "speed", 3, 3, 2))
    assert set(room.state.ballots) == {(2, "p1", "speed")}


def test_an_org_type_needs_a_join_and_moves_the_counts() -> None:
    room = Room()
    refused(room.state, c.SetOrg("p1", "product", 1), "not_joined")
    room.join("p1")
    room.do(c.SetOrg("p1", "product", 1))
    room.do(c.SetOrg("p1", "design", 2))
    assert dict(room.state.orgs) == {"product": 0, "design": 1}
    refused(room.state, c.SetOrg("p1", None, 2), "dup")
    version = room.state.meta.version
    room.do(c.SetOrg("p1", "design", 3))  # the same type: no new version
    assert room.state.meta.version == version
    room.do(c.SetOrg("p1", None, 4))
    assert dict(room.state.orgs) == {"product": 0, "design": 0}


# -- rooms that heal --------------------------------------------------------

NOW = 1_800_000_000


def _rated() -> Room:
    """Round 1 rated by p1 (speed 3, then 4: one change) and p2 (speed 2)."""
    room = Room(Phase.RATING)
    room.do(c.Rate("p1", "speed", 3, room.seq("p1"), 1))
    room.do(c.Rate("p1", "speed", 4, room.seq("p1"), 1))
    room.do(c.Rate("p2", "speed", 2, room.seq("p2"), 1))
    return room


def test_a_rating_into_a_lost_tally_is_refused_and_the_rebuild_recounts_it() -> None:
    room = _rated()
    counted = {k: n for k, n in room.state.tally.items() if n}
    lost = heal.lose(room.state, "tally")
    # No guess from a missing hash: nothing written (without the marker a rating
    # would subtract from counts that are not there).
    refused(lost, c.Rate("p1", "speed", 5, room.seq("p1"), 1), "room_lost")
    meta = lost.meta
    refused(lost, c.SetPhase(meta.phase, Phase.REVEAL, 1, room.seq(FAC), FAC), "room_lost")
    rebuilt = ok(lost, c.Rebuild("e2", NOW))
    assert dict(rebuilt.tally) == counted == {(1, "speed", "4"): 1, (1, "speed", "2"): 1}
    assert rebuilt.ballots == room.state.ballots and rebuilt.seqs == room.state.seqs
    assert (rebuilt.meta.epoch, rebuilt.meta.heal_until) == ("e2", NOW + HEAL_WINDOW_SECONDS)
    assert rebuilt.meta.version == lost.meta.version + 1 and not rebuilt.lost
    # A second rebuild (another process heard room_lost too) changes nothing.
    assert apply(rebuilt, c.Rebuild("e3", NOW)) == ("ok", rebuilt)


def test_a_rebuild_without_ballots_empties_tally_and_seqs_and_reasserts_count_once() -> None:
    room = _rated()
    lost = heal.lose(room.state, "ballots")
    rebuilt = ok(lost, c.Rebuild("e2", NOW))
    assert (rebuilt.ballots, rebuilt.tally) == ({}, {})
    assert dict(rebuilt.seqs) == {"p1": 0, "p2": 0}  # welcome's max_seq: 0, re-send all
    # The phones re-send their last acknowledged answers: each counts once.
    state = ok(rebuilt, c.Rate("p1", "speed", 4, 2, 1, reassert=True, epoch="e2", now=NOW))
    state = ok(state, c.Rate("p2", "speed", 2, 1, 1, reassert=True, epoch="e2", now=NOW))
    refused(state, c.Rate("p2", "speed", 2, 1, 1, reassert=True, epoch="e2", now=NOW), "dup")
    assert {k: n for k, n in state.tally.items() if n} == {
        (1, "speed", "4"): 1,
        (1, "speed", "2"): 1,
    }


def test_a_connection_of_an_older_epoch_may_not_rate() -> None:
    room = _rated()
    rebuilt = ok(heal.lose(room.state, "ballots"), c.Rebuild("e2", NOW))
    refused(rebuilt, c.Rate("p1", "speed", 1, room.seq("p1"), 1, epoch="e1"), "stale_epoch")
    ok(rebuilt, c.Rate("p1", "speed", 1, room.seq("p1"), 1, epoch="e2"))


def test_a_reassert_counts_in_a_later_phase_of_its_round_only_while_healing() -> None:
    room = _rated()
    room.to(Phase.BRAINSTORM)
    rebuilt = ok(heal.lose(room.state, "ballots"), c.Rebuild("e2", NOW))
    late = c.Rate("p1", "speed", 4, 2, 1, reassert=True, now=NOW + 60)
    # In the window: counted although the room is past rating.
    assert ok(rebuilt, late).tally == {(1, "speed", "4"): 1}
    # Not a re-assert, after the window, or another round: as always, refused.
    refused(rebuilt, dataclasses.replace(late, reassert=False), "wrong_phase")
    refused(rebuilt, dataclasses.replace(late, now=NOW + HEAL_WINDOW_SECONDS), "wrong_phase")
    refused(rebuilt, dataclasses.replace(late, round=2), "wrong_phase")
    # Never over a newer answer (the ballot's seq decides, as for every rating).
    newer = ok(rebuilt, dataclasses.replace(late, seq=7, value=1))
    refused(newer, late, "dup")


def test_a_closed_room_takes_no_reassert() -> None:
    room = _rated()
    room.to(Phase.REVEAL)
    rebuilt = ok(heal.lose(room.state, "tally"), c.Rebuild("e2", NOW))
    meta = rebuilt.meta
    closed = ok(rebuilt, c.SetPhase(meta.phase, Phase.CLOSED, 1, room.seq(FAC), FAC))
    refused(closed, c.Rate("p1", "speed", 4, 9, 1, reassert=True, now=NOW), "wrong_phase")
    # Its ballots are gone by design, not lost: nothing to rebuild.
    assert apply(closed, c.Rebuild("e3", NOW)) == ("ok", closed)


def test_a_rating_to_a_room_older_than_the_server_saw_it_is_refused() -> None:
    """Redis came back without its last writes: a new seq stored now would hide
    the lost answers below the phone's max_seq, so nothing is written."""
    room = _rated()
    seen = room.state.meta.version
    rate = c.Rate("p1", "speed", 1, room.seq("p1"), 1, epoch="e1", seen=seen + 1)
    refused(room.state, rate, "went_back")
    ok(room.state, dataclasses.replace(rate, seen=seen))
    ok(room.state, dataclasses.replace(rate, seen=None))


def test_a_new_epoch_once_per_room_that_went_back() -> None:
    room = _rated()
    renewed = ok(room.state, c.NewEpoch("e1", "e2", NOW))
    assert (renewed.meta.epoch, renewed.meta.heal_until) == ("e2", NOW + HEAL_WINDOW_SECONDS)
    assert renewed.tally == room.state.tally and renewed.meta.version == room.state.meta.version + 1
    # A second process that saw the same old epoch: one new epoch is enough.
    assert apply(renewed, c.NewEpoch("e1", "e3", NOW)) == ("ok", renewed)


# -- notes -----------------------------------------------------------------


def test_a_note_is_its_authors_and_an_edit_keeps_its_place() -> None:
    room = Room(Phase.RATING)
    created = room.note("p1", "n1").notes["n1"].created
    room.note("p2", "n2")
    refused(room.state, c.PutNote("p2", "n1", "mine now", None, 9), "unknown_item")
    room.note("p1", "n1", "beter verwoord")
    assert room.state.notes["n1"].created == created
    assert room.state.owners == {"n1": "p1", "n2": "p2"}
    assert room.state.mine == {"p1": frozenset({"n1"}), "p2": frozenset({"n2"})}


def test_a_participant_has_at_most_max_notes() -> None:
    room = Room(Phase.RATING)
    room.do(c.PutNote("p1", "n1", "a", None, 1, max_notes=1))
    refused(room.state, c.PutNote("p1", "n2", "b", None, 2, max_notes=1), "too_many")
    room.do(c.PutNote("p1", "n1", "a, beter", None, 3, max_notes=1))  # an edit is no new note


def test_a_room_has_at_most_max_room_notes_withdrawn_ones_included() -> None:
    room = Room(Phase.RATING)
    room.join("p3")
    room.do(c.PutNote("p1", "n1", "a", None, 1, max_room_notes=2))
    room.do(c.PutNote("p2", "n2", "b", None, 1, max_room_notes=2))
    refused(room.state, c.PutNote("p3", "n3", "c", None, 1, max_room_notes=2), "too_many")
    room.do(c.PutNote("p1", "n1", "a, beter", None, 2, max_room_notes=2))  # an edit is no new note
    room.do(c.WithdrawNote("p2", "n2", 2))
    # A tombstone keeps its place: withdrawing does not make room for a new id.
    refused(room.state, c.PutNote("p3", "n3", "c", None, 1, max_room_notes=2), "too_many")
    room.do(c.PutNote("p2", "n2", "b weer", None, 3, max_room_notes=2))  # put again: same id


def test_moderation_holds_new_notes_and_changed_texts() -> None:
    room = Room(Phase.RATING, moderation=True)
    assert room.note("p1", "n1").notes["n1"].pending
    room.do(c.HideNote("n1", False, room.seq(FAC), FAC))  # approved
    assert not room.note("p1", "n1").notes["n1"].pending  # the same text: still approved
    assert room.note("p1", "n1", "iets anders").notes["n1"].pending
    room.do(c.SetModeration(False, room.seq(FAC), FAC))  # off: nothing stays stuck
    assert not room.state.notes["n1"].pending


def test_a_hidden_note_stays_hidden_when_edited_and_is_never_pending() -> None:
    room = Room(Phase.RATING, moderation=True)
    room.note("p1", "n1")
    room.do(c.HideNote("n1", True, room.seq(FAC), FAC))
    note = room.note("p1", "n1", "nieuwe tekst").notes["n1"]
    assert note.hidden and not note.pending


def test_no_new_notes_while_dot_voting_is_open() -> None:
    room = Room(Phase.BRAINSTORM)
    room.do(c.SetDotVoting(DotVoting.OPEN, 3, 3, room.seq(FAC), FAC))
    refused(room.state, c.PutNote("p1", "n1", "x", None, 1), "voting_open")


def test_a_withdrawn_note_leaves_a_tombstone_that_stops_old_replays() -> None:
    room = Room(Phase.RATING)
    room.do(c.PutNote("p1", "n1", "x", None, 1))
    refused(room.state, c.WithdrawNote("p2", "n1", 2), "unknown_item")
    room.do(c.WithdrawNote("p1", "n1", 2))
    note = room.state.notes["n1"]
    assert note.withdrawn and note.text == "" and note.seq == 2 and note.created is None
    assert "p1" not in room.state.mine
    refused(room.state, c.PutNote("p1", "n1", "x", None, 1), "dup")
    refused(room.state, c.WithdrawNote("p1", "n1", 2), "dup")
    refused(room.state, c.HideNote("n1", True, 99, FAC), "unknown_item")


def test_a_withdrawn_note_put_again_is_a_new_note_at_the_end_of_the_wall() -> None:
    room = Room(Phase.RATING, moderation=True)
    room.note("p1", "n1")
    room.do(c.HideNote("n1", False, room.seq(FAC), FAC))
    room.note("p1", "n2")
    room.do(c.WithdrawNote("p1", "n1", room.seq("p1")))
    version = room.state.meta.version
    note = room.note("p1", "n1").notes["n1"]
    assert note.created == version and note.pending  # new: last, and waiting again
    assert [n.note_id for n in room_data(record(room.state)).notes] == ["n2", "n1"]


def test_hiding_takes_a_note_out_of_the_queue_either_way() -> None:
    room = Room(Phase.RATING, moderation=True)
    refused(room.state, c.HideNote("n1", True, 50, FAC), "unknown_item")
    room.note("p1", "n1")
    room.do(c.HideNote("n1", True, room.seq(FAC), FAC))
    assert room.state.notes["n1"].hidden and not room.state.notes["n1"].pending


# -- groups and dots -------------------------------------------------------


def test_a_group_names_only_notes_on_the_wall_and_groups_are_limited() -> None:
    room = Room(Phase.RATING)
    room.note("p1", "n1")
    room.note("p1", "n2")
    room.do(c.WithdrawNote("p1", "n2", room.seq("p1")))
    room.to(Phase.REVEAL)
    refused(room.state, c.PutNoteGroup("g1", "G", ("n1", "n2"), 90, FAC), "unknown_item")
    refused(room.state, c.PutNoteGroup("g1", "G", ("nx",), 90, FAC), "unknown_item")
    room.do(c.PutNoteGroup("g1", "G", ("n1",), room.seq(FAC), FAC, max_groups=1))
    refused(room.state, c.PutNoteGroup("g2", "H", ("n1",), 90, FAC, max_groups=1), "too_many")
    room.do(c.PutNoteGroup("g1", "G2", ("n1",), room.seq(FAC), FAC, max_groups=1))  # an edit
    room.do(c.RemoveNoteGroup("g1", room.seq(FAC), FAC))
    refused(room.state, c.RemoveNoteGroup("g1", 99, FAC), "unknown_item")
    assert room.state.groups == {}


def voting_room() -> Room:
    room = Room(Phase.RATING)
    room.join("p9")
    for note_id in ("n1", "n2", "n3"):
        room.note("p9", note_id)
    room.to(Phase.BRAINSTORM)
    room.do(c.SetDotVoting(DotVoting.OPEN, 3, 2, room.seq(FAC), FAC))
    return room


def test_dots_only_while_voting_is_open() -> None:
    room = Room(Phase.RATING)
    room.note("p1", "n1")
    room.to(Phase.BRAINSTORM)
    refused(room.state, c.DotVote("p1", "n1", 1, 1), "wrong_phase")


def test_dots_are_set_not_added_and_move_the_totals() -> None:
    room = voting_room()
    room.do(c.DotVote("p1", "n1", 2, 1))
    room.do(c.DotVote("p1", "n1", 1, 2))
    refused(room.state, c.DotVote("p1", "n1", 2, 2), "dup")
    assert room.state.votes == {"n1": 1} and room.state.meta.dots_cast == 1


def test_the_budget_and_the_most_per_item_hold() -> None:
    room = voting_room()
    refused(room.state, c.DotVote("p1", "n1", 3, 1), "too_many")  # at most 2 on one note
    room.do(c.DotVote("p1", "n1", 2, 1))
    refused(room.state, c.DotVote("p1", "n2", 2, 2), "too_many")  # 3 in all
    room.do(c.DotVote("p1", "n2", 1, 2))


def test_dots_on_a_hidden_note_no_longer_count_and_can_be_taken_back() -> None:
    room = voting_room()
    room.do(c.DotVote("p1", "n1", 2, 1))
    room.do(c.HideNote("n1", True, room.seq(FAC), FAC))
    refused(room.state, c.DotVote("p1", "n1", 1, 2), "unknown_item")
    room.do(c.DotVote("p1", "n2", 2, 3))  # the hidden note's 2 dots are free again
    room.do(c.DotVote("p1", "n3", 1, 4))
    room.do(c.DotVote("p1", "n1", 0, 5))
    assert room.state.votes == {"n1": 0, "n2": 2, "n3": 1}


def test_no_dots_on_a_note_waiting_for_approval() -> None:
    room = Room(Phase.RATING, moderation=True)
    room.note("p1", "n1")
    room.to(Phase.BRAINSTORM)
    room.do(c.SetDotVoting(DotVoting.OPEN, 3, 2, room.seq(FAC), FAC))
    refused(room.state, c.DotVote("p1", "n1", 1, 1), "unknown_item")


def test_a_group_is_one_item_and_its_notes_take_no_new_dots() -> None:
    room = voting_room()
    room.do(c.DotVote("p1", "n1", 1, 1))
    room.do(c.PutNoteGroup("g1", "Samen", ("n1", "n2"), room.seq(FAC), FAC))
    refused(room.state, c.DotVote("p1", "n1", 2, 2), "in_group")
    room.do(c.DotVote("p1", "n1", 0, 3))  # taking back is fine
    room.do(c.DotVote("p1", "g1", 2, 4))
    refused(room.state, c.DotVote("p1", "gx", 1, 5), "unknown_item")
    room.do(c.RemoveNoteGroup("g1", room.seq(FAC), FAC))
    room.do(c.DotVote("p1", "n3", 2, 6))  # the removed group's dots are free again
    refused(room.state, c.DotVote("p1", "g1", 1, 7), "unknown_item")
    room.do(c.DotVote("p1", "n1", 1, 8))  # no longer in a group
    assert room.state.votes == {"n1": 1, "g1": 2, "n3": 2}


# -- the agenda ------------------------------------------------------------


def snapshot(norm: str, received: int) -> str:
    fields = {
        "norm_id": norm,
        "received": received,
        "counts": [1, 1],
        "dont_know": 0,
        "median": 2.5,
    }
    return json.dumps(fields, sort_keys=True)


def item(item_id: str = "i1", seq: int = 1, **changes: object) -> c.PutAgendaItem:
    fields: dict[str, object] = {
        "item_id": item_id, "action": "bel", "owner": "Anna", "deadline": None, "norm": "speed",
        "note": None, "group": None, "follow_up": None, "position": 0,
        "snapshot": snapshot("speed", 2), "seq": seq, "device": FAC,
    }  # fmt: skip
    fields.update(changes)
    return c.PutAgendaItem(**fields)  # type: ignore[arg-type]


def test_an_agenda_item_keeps_its_first_snapshot_and_its_place_while_edited() -> None:
    room = Room(Phase.REVEAL)
    room.do(item(seq=room.seq(FAC)))
    first = room.state.agenda["i1"]
    assert first.created == room.state.meta.version  # the version of its own put
    room.do(item(seq=room.seq(FAC), action="bel morgen", snapshot=snapshot("speed", 9)))
    edited = room.state.agenda["i1"]
    assert edited.snapshot == first.snapshot and edited.created == first.created
    room.do(item(seq=room.seq(FAC), norm="quality", snapshot=snapshot("quality", 9)))
    assert room.state.agenda["i1"].snapshot == snapshot("quality", 9)  # another norm: a new one


def test_agenda_items_are_limited_and_a_removed_one_can_come_back() -> None:
    room = Room(Phase.AGENDA)
    room.do(item("i1", room.seq(FAC), max_items=1))
    refused(room.state, item("i2", 90, max_items=1), "too_many")
    room.do(c.RemoveAgendaItem("i1", room.seq(FAC), FAC))
    version = room.state.meta.version
    room.do(c.RemoveAgendaItem("i1", room.seq(FAC), FAC))  # gone already: ok, no version
    assert room.state.meta.version == version
    refused(room.state, c.RemoveAgendaItem("ix", 99, FAC), "unknown_item")
    room.do(item("i2", room.seq(FAC), max_items=1))
    assert [i.item_id for i in room_data(record(room.state)).agenda] == ["i2"]


def test_an_item_is_promoted_only_from_a_note_or_group_in_the_room() -> None:
    room = Room(Phase.RATING)
    room.note("p1", "n1")
    room.to(Phase.REVEAL)
    refused(room.state, item(seq=90, note="nx"), "unknown_item")
    refused(room.state, item(seq=90, group="gx"), "unknown_item")
    room.do(c.PutNoteGroup("g1", "G", ("n1",), room.seq(FAC), FAC))
    room.do(item(seq=room.seq(FAC), group="g1"))
    room.do(c.RemoveNoteGroup("g1", room.seq(FAC), FAC))
    room.do(item(seq=room.seq(FAC), group="g1", action="nog steeds"))  # a kept link: editable


def test_follow_up_statuses_are_set_per_index() -> None:
    room = Room()
    earlier = {
        "room": "OLDROOM",
        "medians": {},
        "items": [["bellen", "", None], ["mailen", "", None]],
    }
    room.state = dataclasses.replace(room.state, previous=json.dumps(earlier))
    room.do(c.SetFollowUpStatus(0, FollowUpStatus.DONE, room.seq(FAC), FAC))
    room.do(c.SetFollowUpStatus(0, FollowUpStatus.DROPPED, room.seq(FAC), FAC))
    room.do(c.SetFollowUpStatus(1, FollowUpStatus.DONE, room.seq(FAC), FAC))
    assert room.state.followup == {0: "dropped", 1: "done"}
    # Beyond the earlier scan's items: refused, and nothing stored.
    refused(
        room.state, c.SetFollowUpStatus(2, FollowUpStatus.DONE, room.seq(FAC), FAC), "unknown_item"
    )


def test_follow_up_status_needs_an_earlier_scan() -> None:
    room = Room()
    refused(
        room.state, c.SetFollowUpStatus(0, FollowUpStatus.DONE, room.seq(FAC), FAC), "unknown_item"
    )


# -- the stored form -------------------------------------------------------


def test_the_stored_form_names_every_key_and_leaves_out_empty_ones() -> None:
    room = Room(Phase.RATING)
    room.join("p1")
    room.note("p1", "n1")
    stored = stored_form(room.state)
    # The tally and ballots hold their markers from the start (an empty hash would
    # not exist in Redis, and a lost one could not be told from it).
    assert set(stored) == {"meta", "people", "notes", "owners", "seqs", "mine:p1", "tally",
                           "ballots"}  # fmt: skip
    assert stored["tally"] == stored["ballots"] == {"_": "1"}
    assert stored["people"] == {"p1": "0|", "p2": "0|"} and stored["mine:p1"] == frozenset({"n1"})
    assert json.loads(stored["notes"]["n1"])["seq"] == "1"  # type: ignore[index]


@pytest.mark.parametrize("phase", [Phase.LOBBY, Phase.RATING, Phase.AGENDA, Phase.CLOSED])
def test_the_record_reads_as_the_views_read_a_room(phase: Phase) -> None:
    room = Room(phase)
    data = room_data(record(room.state))
    assert data.phase is phase and data.version == room.state.meta.version
    assert data.moderation is False and data.voting_state is DotVoting.CLOSED


# -- admission -------------------------------------------------------------


def expecting(n: int) -> Room:
    room = Room()
    room.do(c.SetExpectedPeople(n, room.seq(FAC), FAC))
    return room


def test_devices_beyond_the_expected_number_wait_and_are_not_counted() -> None:
    room = expecting(2)
    for pid in ("p1", "p2", "p3"):
        room.do(c.Join(pid))
    assert set(room.state.people) == {"p1", "p2"} and set(room.state.waiting) == {"p3"}
    version = room.state.meta.version
    room.do(c.Join("p3"))  # coming back while waiting: still waiting, nothing changed
    assert set(room.state.waiting) == {"p3"} and room.state.meta.version == version
    assert room_data(record(room.state)).participants == 2
    assert room_data(record(room.state)).waiting == (room.state.waiting["p3"],)


def test_every_new_device_waits_once_the_first_round_opened() -> None:
    room = Room(Phase.RATING)  # p1 and p2 came in the lobby; 12 expected
    room.do(c.Join("p3"))
    assert "p3" in room.state.waiting and "p3" not in room.state.people


def test_a_waiting_device_may_not_rate_write_or_pick_a_type() -> None:
    room = Room(Phase.RATING)
    room.do(c.Join("p3"))
    refused(room.state, c.Rate("p3", "speed", 10, 1, 1), "not_admitted")
    refused(room.state, c.PutNote("p3", "n1", "nep", None, 1), "not_admitted")
    refused(room.state, c.SetOrg("p3", "design", 1), "not_admitted")
    refused(room.state, c.SetOrg("p404", "design", 1), "not_joined")


def test_the_facilitator_admits_one_device_by_its_code() -> None:
    room = Room(Phase.RATING)
    room.do(c.Join("p3"))
    room.do(c.Join("p4"))
    code = room.state.waiting["p3"]
    assert len(code) == 3 and code != room.state.waiting["p4"]
    seq = room.seq(FAC)
    room.do(c.Admit(code, seq, FAC))
    assert "p3" in room.state.people and set(room.state.waiting) == {"p4"}
    refused(room.state, c.Admit(code, seq, FAC), "dup")  # resent after a reconnect
    refused(room.state, c.Admit("ZZZ", room.seq(FAC), FAC), "unknown_item")
    room.do(c.Rate("p3", "speed", 7, 1, 1))


def test_admission_off_admits_everyone_waiting_and_lets_new_devices_in() -> None:
    room = expecting(1)
    room.join("p1")
    room.do(c.Join("p2"))
    assert "p2" in room.state.waiting
    room.do(c.SetAdmission(False, room.seq(FAC), FAC))
    assert set(room.state.people) == {"p1", "p2"} and not room.state.waiting
    room.do(c.Join("p3"))
    assert "p3" in room.state.people
    room.do(c.SetAdmission(True, room.seq(FAC), FAC))
    room.do(c.Join("p4"))
    assert "p4" in room.state.waiting


def test_the_waiting_list_is_bounded() -> None:
    room = expecting(1)
    room.join("p1")
    room.do(c.Join("p2", max_waiting=1))
    refused(room.state, c.Join("p3", max_waiting=1), "room_full")


def test_org_types_are_fixed_when_the_first_round_opens() -> None:
    room = Room()
    room.join("p1", "p2")
    room.do(c.SetOrg("p1", "design", room.seq("p1")))
    room.to(Phase.RATING)
    refused(room.state, c.SetOrg("p1", "product", room.seq("p1")), "org_type_fixed")
    refused(room.state, c.SetOrg("p1", None, room.seq("p1")), "org_type_fixed")
    room.do(c.SetOrg("p1", "design", room.seq("p1")))  # the same type again is no change
    # One who has none (say admitted late, by the facilitator) may pick one, once.
    room.do(c.SetOrg("p2", "product", room.seq("p2")))
    refused(room.state, c.SetOrg("p2", "design", room.seq("p2")), "org_type_fixed")
    assert room.state.orgs == {"design": 1, "product": 1}


def test_a_device_code_comes_from_the_pseudonym_alone() -> None:
    from agenda.room_model.admission import device_codes

    assert device_codes("p1") == device_codes("p1") != device_codes("p2")
    assert all(len(code) == 3 for code in device_codes("p1"))
