"""The room as stored: its public fields, the changes the stream carries, and how they read.

A room lives in Redis as a few hashes (``server/keys.py`` names them).  The
part anyone may see (meta without secrets, organisation counts, tallies,
notes without authors, agenda, groups, dots, follow-up statuses, the number
of participants) is a ``RoomRecord``: the same field names and string values
as in Redis.  Every stored change comes with a ``StreamMessage`` (the room's
new version, its epoch and the fields written, in order), made by the Lua
script that stored it (``server/lua/_prelude.lua``), so a process's in-memory
mirror applies exactly what Redis did and never needs a Redis read per update.

``room_data`` is the one reading of a record as ``RoomData``: which round's
tallies count, withdrawn notes left out, agenda items in their order.  It has
no I/O; the full read from Redis (``read_room.lua``) and a mirror fed by the
stream give the same record, hence the same views.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from agenda.views import PreviousData, RoomData
from protocol.limits import DEFAULT_EXPECTED_PEOPLE
from protocol.messages import AgendaItem, NormResult, NoteGroup, SessionInfo, WallNote
from protocol.phases import DotVoting, FollowUpStatus, Phase, Question
from protocol.wire import from_fields

#: A "don't know" answer, as stored in ballots and tally fields.
DONT_KNOW: Final = "dk"
#: Appended to a norm id in ballot and tally fields for answers to the
#: template's second question; ":" never occurs in a norm id (a slug).
SECOND_QUESTION_SUFFIX: Final = ":second"
#: The hashes a record mirrors (the key's last part in Redis).
MIRRORED: Final = (
    "meta", "orgs", "tally", "notes", "agenda", "groups", "votes", "followup", "waiting"
)  # fmt: skip
#: The pseudo-field a delta uses for the number of participants.
PEOPLE: Final = "people"
#: The field every room's tally and ballots hashes hold from its creation
#: (``create_room.lua``): Redis deletes an empty hash, so only the marker tells
#: a lost hash from an empty one.  It is no count and no ballot: readers skip it.
MARKER: Final = "_"


def without_marker(fields: Mapping[str, str]) -> dict[str, str]:
    """A tally or ballots hash as read, without its marker field."""
    return {key: value for key, value in fields.items() if key != MARKER}


def norm_key(norm_id: str, question: Question) -> str:
    """The norm's name in ballot and tally fields: one per (norm, question)."""
    return norm_id + SECOND_QUESTION_SUFFIX if question is Question.SECOND else norm_id


def value_out(raw: str) -> int | None:
    return None if raw == DONT_KNOW else int(raw)


def split_seq(raw: str) -> tuple[int, str]:
    """``"seq|rest"`` -> (seq, rest)."""
    seq, _, rest = raw.partition("|")
    return int(seq), rest


class StreamError(ValueError):
    """A stream message that does not parse: the mirror reads the room anew."""


@dataclass(frozen=True, slots=True)
class StreamMessage:
    """One stored change of a room: its new version and the fields written."""

    version: int
    epoch: str
    #: (hash name, field, new value or None when the field was deleted), in order.
    writes: tuple[tuple[str, str, str | None], ...]

    @classmethod
    def parse(cls, raw: str) -> StreamMessage:
        """``"version|epoch|[[hash, field, value or false], ...]"``."""
        version, epoch, writes = split_header(raw)
        try:
            # cjson encodes an empty Lua table as {}: no writes.
            decoded = json.loads(writes) or ()
            return cls(
                version,
                epoch,
                tuple(
                    (str(name), str(key), None if value is False else str(value))
                    for name, key, value in decoded
                ),
            )
        except (ValueError, TypeError) as exc:
            raise StreamError(f"malformed stream message: {exc}") from exc


def split_header(raw: str) -> tuple[int, str, str]:
    """A stream message's version, epoch and (unparsed) writes: the version is
    all a subscriber needs to drop a message it already has."""
    version, _, rest = raw.partition("|")
    epoch, bar, writes = rest.partition("|")
    if not bar or not version.isdigit():
        raise StreamError("malformed stream message: no version|epoch| header")
    return int(version), epoch, writes


@dataclass(slots=True)
class RoomRecord:
    """The public part of a stored room, field for field (mutable: a mirror applies deltas)."""

    #: Meta without secrets (``fac``, ``join``, ``disp``, ``fseq:*``); holds ``version``, ``epoch``.
    meta: dict[str, str]
    people: int = 0
    hashes: dict[str, dict[str, str]] = field(
        default_factory=lambda: {name: {} for name in MIRRORED if name != "meta"}
    )
    #: The earlier scan a follow-up room compares with (JSON), or None.
    previous: str | None = None
    #: Read with its tally or ballots hash lost (no marker): to be rebuilt, not shown.
    lost: bool = False
    #: The tally parsed: (round, norm key) -> value -> count, kept current by
    #: ``apply`` (a rating moves two cells; parsing the whole tally for every
    #: refresh cost more than building the dashboard).
    _tally_index: dict[tuple[int, str], dict[int | None, int]] | None = None

    @property
    def version(self) -> int:
        return int(self.meta.get("version", "0"))

    @property
    def epoch(self) -> str:
        return self.meta.get("epoch", "")

    def apply(self, message: StreamMessage) -> None:
        """The writes of one change, in the order the script made them."""
        for name, key, value in message.writes:
            if name == PEOPLE:
                self.people = int(value or 0)
                continue
            target = self.meta if name == "meta" else self.hashes.setdefault(name, {})
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
            if name == "tally" and self._tally_index is not None:
                _index_cell(self._tally_index, key, value)
        self.meta["version"] = str(message.version)

    def tally_index(self) -> dict[tuple[int, str], dict[int | None, int]]:
        if self._tally_index is None:
            self._tally_index = {}
            for key, count in self.hashes.get("tally", {}).items():
                _index_cell(self._tally_index, key, count)
        return self._tally_index


def _index_cell(
    index: dict[tuple[int, str], dict[int | None, int]], key: str, count: str | None
) -> None:
    """One tally field (``round|norm key|value`` -> count) into the parsed tally."""
    if key == MARKER:
        return
    round_text, norm, value = key.split("|")
    cell = index.setdefault((int(round_text), norm), {})
    if count is None or count == "0":
        cell.pop(value_out(value), None)
    else:
        cell[value_out(value)] = int(count)


def room_data(record: RoomRecord) -> RoomData:
    """What the views read of a room: current and previous round, live notes, agenda in order."""
    meta, hashes = record.meta, record.hashes
    data = _parse(
        meta,
        record.people,
        hashes.get("orgs", {}),
        record.tally_index(),
        hashes.get("notes", {}),
        hashes.get("agenda", {}),
        hashes.get("groups", {}),
        hashes.get("votes", {}),
        hashes.get("waiting", {}),
    )
    if record.previous:
        raw = json.loads(record.previous)
        follow_up = hashes.get("followup", {})
        data = dataclasses.replace(
            data,
            previous=PreviousData(
                raw["room"], raw["medians"], tuple(tuple(i) for i in raw["items"])
            ),
            follow_up={int(index): FollowUpStatus(s) for index, s in follow_up.items()},
        )
    return data


def _tallies_by_round(
    tally: Mapping[tuple[int, str], Mapping[int | None, int]], round_: int
) -> dict[int, dict[str, dict[int | None, int]]]:
    """This round's and the previous round's counts (zero counts left out)."""
    by_round: dict[int, dict[str, dict[int | None, int]]] = {}
    for (tally_round, norm), counts in tally.items():
        if counts and tally_round in (round_, round_ - 1):
            by_round.setdefault(tally_round, {})[norm] = dict(counts)
    return by_round


def _parse(
    meta: Mapping[str, str],
    people: int,
    orgs: Mapping[str, str],
    tally: Mapping[tuple[int, str], Mapping[int | None, int]],
    notes: Mapping[str, str],
    agenda: Mapping[str, str],
    groups: Mapping[str, str],
    votes: Mapping[str, str],
    waiting: Mapping[str, str],
) -> RoomData:
    round_ = int(meta["round"])
    by_round = _tallies_by_round(tally, round_)
    # Answers to the second question are tallied apart under "norm:second".
    tallies: dict[str, dict[int | None, int]] = {}
    second_tallies: dict[str, dict[int | None, int]] = {}
    for norm, counts in by_round.get(round_, {}).items():
        if norm.endswith(SECOND_QUESTION_SUFFIX):
            second_tallies[norm.removesuffix(SECOND_QUESTION_SUFFIX)] = counts
        else:
            tallies[norm] = counts
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
        notes=_wall(notes),
        agenda=_agenda(agenda),
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
        epoch=meta.get("epoch", ""),
        # A room stored before admission existed lets everyone in, as it did.
        expected_people=int(meta.get("expected") or DEFAULT_EXPECTED_PEOPLE),
        admission=meta.get("admission") == "1",
        waiting=tuple(sorted(waiting)),
    )


def _wall(notes: Mapping[str, str]) -> tuple[WallNote, ...]:
    """Live notes in the order they were added (notes stored before ``created``
    existed first, by id); the views that must not show that order re-sort."""
    stored = sorted(
        ((note_id, json.loads(blob)) for note_id, blob in notes.items()),
        key=lambda entry: (int(entry[1].get("created") or 0), entry[0]),
    )
    return tuple(
        WallNote(
            note_id,
            note["text"],
            note["norm"] or None,
            bool(note["hidden"]),
            bool(note.get("pending")),
        )
        for note_id, note in stored
        if not note["withdrawn"]
    )


def _agenda(agenda: Mapping[str, str]) -> tuple[AgendaItem, ...]:
    stored = ((item_id, json.loads(blob)) for item_id, blob in agenda.items())
    return tuple(
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
            from_fields(NormResult, item["snapshot"], "snapshot") if item.get("snapshot") else None,
        )
        for item_id, item in sorted(stored, key=_agenda_order)
        if not item["removed"]
    )


def _session(meta: Mapping[str, str]) -> SessionInfo | None:
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


def public_meta(meta: Mapping[str, str]) -> dict[str, str]:
    """Meta without what no mirror may hold: token hashes, the join token, device seqs."""
    return {
        key: value
        for key, value in meta.items()
        if key not in ("fac", "join", "disp") and not key.startswith("fseq:")
    }
