"""The restore request's body (server/restore.py): what the control view sends, checked."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from protocol import limits
from protocol.errors import ErrorCode, ProtocolError
from protocol.phases import DotVoting, Phase
from server.restore import RestoreBody, RoomSecrets, parse_restore

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = frozenset({"participatiescan"})


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "template": "participatiescan",
        "phase": "brainstorm",
        "round": 2,
        "locked": True,
        "participants": 40,
        "agenda": [
            {
                "item_id": "item0001",
                "action": "Samen oppakken",
                "owner": "Team",
                "deadline": None,
                "norm_id": None,
                "note_id": None,
                "position": 0,
                "group_id": "group001",
                "follow_up": None,
                "snapshot": None,
            }
        ],
        "groups": [
            {"group_id": "group001", "title": "Samen", "note_ids": ["note0001", "note0002"]}
        ],
        "session": {"name": "Regio", "region": "Noord", "date": "2027-01-15"},
        "expected_people": 40,
        "admission": True,
        "moderation": False,
        "voting": {
            "state": "open",
            "dots_per_participant": 5,
            "max_per_note": 2,
            "dots_cast": 17,
            "results": None,
        },
        "version": 412,
    }
    return base | changes


def test_a_dashboards_fields_are_taken() -> None:
    snapshot = parse_restore(body(), TEMPLATES)
    assert (snapshot.phase, snapshot.round, snapshot.locked) == (Phase.BRAINSTORM, 2, True)
    assert snapshot.people == 40 and snapshot.version == 412
    assert [g.note_ids for g in snapshot.groups] == [("note0001", "note0002")]
    assert snapshot.agenda[0].group_id == "group001"
    assert (snapshot.voting_state, snapshot.dots_per_participant, snapshot.max_per_note) == (
        DotVoting.OPEN,
        5,
        2,
    )
    assert snapshot.session is not None and snapshot.session.region == "Noord"


def test_optional_fields_default_as_for_a_new_room() -> None:
    given = body()
    for key in ("session", "expected_people", "admission", "moderation", "voting", "version"):
        del given[key]
    snapshot = parse_restore(given, TEMPLATES)
    assert snapshot.session is None and snapshot.admission and snapshot.moderation
    assert snapshot.voting_state is DotVoting.CLOSED
    assert snapshot.dots_per_participant == limits.DEFAULT_DOTS_PER_PARTICIPANT


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"template": "other"}, ErrorCode.INVALID_FIELD),
        ({"phase": "closed"}, ErrorCode.WRONG_PHASE),
        ({"phase": "later"}, ErrorCode.INVALID_FIELD),
        ({"round": 0}, ErrorCode.INVALID_FIELD),
        ({"participants": limits.MAX_PARTICIPANTS_PER_ROOM + 1}, ErrorCode.INVALID_FIELD),
        ({"expected_people": 0}, ErrorCode.INVALID_FIELD),
        ({"notes": []}, ErrorCode.INVALID_FIELD),  # a field the restore does not take
        (
            {"agenda": [body()["agenda"][0]] * (limits.MAX_AGENDA_ITEMS + 1)},
            ErrorCode.INVALID_FIELD,
        ),
        ({"locked": "yes"}, ErrorCode.INVALID_FIELD),
        # The commands' own rules hold for what a restore writes back.
        ({"agenda": [body()["agenda"][0] | {"action": "\u200b "}]}, ErrorCode.INVALID_TEXT),
        ({"agenda": [body()["agenda"][0] | {"action": "x" * 501}]}, ErrorCode.INVALID_FIELD),
        ({"agenda": [body()["agenda"][0] | {"deadline": "morgen"}]}, ErrorCode.INVALID_FIELD),
        (
            {"groups": [{"group_id": "group001", "title": "", "note_ids": []}]},
            ErrorCode.INVALID_TEXT,
        ),
        ({"session": {"name": "x" * 121, "region": "", "date": ""}}, ErrorCode.INVALID_FIELD),
        ({"version": 2**31 + 1}, ErrorCode.INVALID_FIELD),
    ],
)
def test_a_bad_body_is_refused(changes: dict[str, Any], code: ErrorCode) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_restore(body(**changes), TEMPLATES)
    assert refused.value.code is code


def test_not_an_object() -> None:
    with pytest.raises(ProtocolError):
        parse_restore([1, 2], TEMPLATES)


def test_the_marker_round_trips() -> None:
    secrets = RoomSecrets("hash", "join", "disp", "participatiescan")
    assert RoomSecrets.from_json(secrets.to_json()) == secrets


def test_the_control_view_sends_every_field_the_restore_takes() -> None:
    """client/static/dashboard/restore.js keeps the fields RestoreBody names (one list each
    side: a field added to one and not the other would be dropped or refused)."""
    source = (ROOT / "client" / "static" / "dashboard" / "restore.js").read_text()
    found = re.search(r"const KEPT_FIELDS = \[([^\]]*)\]", source)
    assert found, "KEPT_FIELDS not found in restore.js"
    kept = set(re.findall(r'"(\w+)"', found.group(1)))
    assert kept == {f.name for f in dataclasses.fields(RestoreBody)} - {"template"}
