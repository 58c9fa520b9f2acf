"""The room state as Redis stores it: key -> field -> string, and its public record.

``stored_form`` gives every key of the room by its name within the room
(``meta``, ``tally``, ``mine:<pid>``...): a hash as a dict of strings, a set as
a frozenset, a string as a str.  Empty hashes and sets are left out, as Redis
deletes them.  Notes, agenda items and groups are JSON; compare them decoded
(field order and number formatting are the encoder's).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agenda.room_model.state import AgendaRecord, Meta, Note, RoomState
from agenda.room_record import MARKER, RoomRecord, public_meta, without_marker
from protocol.phases import Phase

StoredValue = str | dict[str, str] | frozenset[str]

#: The keys whose fields hold JSON.
JSON_HASHES = frozenset({"notes", "agenda", "groups"})


def _flag(value: bool) -> str:
    return "1" if value else "0"


def meta_fields(meta: Meta) -> dict[str, str]:
    fields = {
        "template": meta.template,
        "phase": meta.phase.value,
        "round": str(meta.round),
        "locked": _flag(meta.locked),
        "version": str(meta.version),
        "fac": meta.fac,
        "join": meta.join,
        "disp": meta.disp,
        "voting": meta.voting.value,
        "dots": str(meta.dots),
        "maxnote": str(meta.maxnote),
        "dots_cast": str(meta.dots_cast),
        "timer": "" if meta.timer is None else str(meta.timer),
        "session_name": meta.session_name,
        "session_region": meta.session_region,
        "session_date": meta.session_date,
        "moderation": _flag(meta.moderation),
        "epoch": meta.epoch,
        "expected": str(meta.expected),
        "admission": _flag(meta.admission),
    }
    fields.update({f"fseq:{device}": str(seq) for device, seq in meta.fseq.items()})
    if meta.participants is not None:
        fields["participants"] = str(meta.participants)
    if meta.heal_until is not None:
        fields["heal_until"] = str(meta.heal_until)
    return fields


def note_json(note: Note) -> str:
    fields: dict[str, Any] = {
        "text": note.text,
        "norm": note.norm,
        "hidden": note.hidden,
        # The seq is stored as the string the script was given.
        "seq": str(note.seq),
        "withdrawn": note.withdrawn,
    }
    if note.pending is not None:
        fields["pending"] = note.pending
    if note.created is not None:
        fields["created"] = note.created
    return json.dumps(fields)


def agenda_json(item: AgendaRecord) -> str:
    fields: dict[str, Any] = {
        "action": item.action,
        "owner": item.owner,
        "deadline": item.deadline,
        "norm": item.norm,
        "note": item.note,
        "group": item.group,
        "follow_up": item.follow_up,
        "position": item.position,
        "snapshot": None if item.snapshot is None else json.loads(item.snapshot),
        "removed": item.removed,
    }
    if item.created is not None:
        fields["created"] = item.created
    return json.dumps(fields)


def _counts(mapping: Mapping[tuple[Any, ...], int]) -> dict[str, str]:
    return {"|".join(str(part) for part in key): str(n) for key, n in mapping.items()}


def stored_form(state: RoomState) -> dict[str, StoredValue]:
    """Every key Redis holds of the room, by its name within the room."""
    keys: dict[str, StoredValue] = {
        "meta": meta_fields(state.meta),
        "people": {pid: f"{p.seq}|{p.org}" for pid, p in state.people.items()},
        "waiting": dict(state.waiting),
        "orgs": {org: str(n) for org, n in state.orgs.items()},
        "ballots": {
            f"{r}|{pid}|{norm}": f"{b.seq}|{b.value}" for (r, pid, norm), b in state.ballots.items()
        },
        "tally": _counts(state.tally),
        "notes": {note_id: note_json(note) for note_id, note in state.notes.items()},
        "owners": dict(state.owners),
        "agenda": {item_id: agenda_json(item) for item_id, item in state.agenda.items()},
        "votes": {item: str(n) for item, n in state.votes.items()},
        "groups": {
            group_id: json.dumps({"title": group.title, "notes": list(group.notes)})
            for group_id, group in state.groups.items()
        },
        "followup": {str(index): status for index, status in state.followup.items()},
        "seqs": {pid: str(seq) for pid, seq in state.seqs.items()},
    }
    for name in state.markers:
        keys[name] = {MARKER: "1"} | keys[name]  # type: ignore[operator]
    for pid, ids in state.mine.items():
        keys[f"mine:{pid}"] = frozenset(ids)
    for pid, items in state.dots.items():
        keys[f"dots:{pid}"] = {item: f"{d.seq}|{d.value}" for item, d in items.items()}
    if state.previous is not None:
        keys["previous"] = state.previous
    if state.analysis is not None:
        keys["analysis"] = state.analysis
    return {name: value for name, value in keys.items() if value}


def record(state: RoomState) -> RoomRecord:
    """The room's public part, as ``read_room.lua`` (or a mirror) holds it."""
    stored = stored_form(state)

    def hash_of(name: str) -> dict[str, str]:
        value = stored.get(name, {})
        assert isinstance(value, dict)
        return value

    return RoomRecord(
        meta=public_meta(meta_fields(state.meta)),
        people=len(state.people) if state.meta.participants is None else state.meta.participants,
        hashes={
            name: without_marker(hash_of(name))
            for name in ("orgs", "tally", "notes", "agenda", "groups", "votes", "followup")
        }
        # The waiting list by device code only: no pseudonym in a record.
        | {"waiting": {code: "1" for code in state.waiting.values()}},
        previous=state.previous,
        lost=state.lost and state.meta.phase is not Phase.CLOSED,
    )
