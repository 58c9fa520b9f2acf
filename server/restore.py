"""A lost room, and what its control view sends to restore it (docs/protocol.md 13 and 14).

No I/O here: the marker a process writes when a room it serves is gone from
Redis (``RoomSecrets``), and the restore request's body, checked
(``parse_restore``).  ``server.store`` writes both, ``server.routes`` serves
``POST /api/rooms/{code}/restore``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from protocol import limits
from protocol.errors import ErrorCode, ProtocolError
from protocol.messages import (
    AgendaItem,
    NoteGroup,
    PutAgendaItem,
    PutNoteGroup,
    SessionInfo,
    Voting,
)
from protocol.phases import DotVoting, Phase
from protocol.wire import from_fields, invalid

#: Highest snapshot version a restore takes: Redis's HINCRBY must still count
#: on from it (a float-formatted number would stop every later write).
MAX_RESTORED_VERSION = 2**31


@dataclass(frozen=True, slots=True)
class RoomSecrets:
    """What a process keeps of each room it serves, from the room's meta at a
    join, because a mirror holds no secrets: with them it can mark the room
    lost (``kleur:{CODE}:lost``) when Redis no longer has it."""

    facilitator_hash: str
    join_token: str
    display_token: str
    template_id: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "fac": self.facilitator_hash,
                "join": self.join_token,
                "disp": self.display_token,
                "template": self.template_id,
            }
        )

    @classmethod
    def from_json(cls, raw: str) -> RoomSecrets:
        data = json.loads(raw)
        return cls(data["fac"], data["join"], data["disp"], data["template"])


@dataclass(frozen=True, slots=True)
class RestoreBody:
    """The restore request as it comes: the template (the control view has it
    from its welcome) and these fields of its last ``dashboard`` message, under
    the names that message gives them."""

    template: str
    phase: Phase
    round: int
    locked: bool
    participants: int
    agenda: tuple[AgendaItem, ...]
    groups: tuple[NoteGroup, ...]
    session: SessionInfo | None = None
    expected_people: int = limits.DEFAULT_EXPECTED_PEOPLE
    admission: bool = True
    moderation: bool = True
    voting: Voting | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class RoomSnapshot:
    """What a restore writes back (tallies, ballots and notes come from the phones)."""

    template_id: str
    phase: Phase
    round: int
    locked: bool
    #: The people the room had: this many phones with a token it issued are admitted again.
    people: int
    agenda: tuple[AgendaItem, ...]
    groups: tuple[NoteGroup, ...]
    session: SessionInfo | None
    expected_people: int
    admission: bool
    moderation: bool
    voting_state: DotVoting
    dots_per_participant: int
    max_per_note: int
    #: The snapshot's version: the restored room starts above it.
    version: int


def parse_restore(body: object, templates: set[str] | frozenset[str]) -> RoomSnapshot:
    """The restore request's body, checked; ``ProtocolError`` (invalid_field) if not."""
    if not isinstance(body, dict):
        raise invalid("body", "must be an object")
    given = from_fields(RestoreBody, body, "body")
    if given.template not in templates:
        raise invalid("body.template", f"must be one of {sorted(templates)}")
    if given.phase is Phase.CLOSED:
        # A closed room keeps only aggregates, which no phone holds.
        raise ProtocolError(ErrorCode.WRONG_PHASE, "a closed room cannot be restored")
    if not 1 <= given.round <= limits.MAX_SEQ:
        raise invalid("body.round", "must be 1 or more")
    if not 0 <= given.participants <= limits.MAX_PARTICIPANTS_PER_ROOM:
        raise invalid("body.participants", f"must be 0 to {limits.MAX_PARTICIPANTS_PER_ROOM}")
    low, high = limits.MIN_EXPECTED_PEOPLE, limits.MAX_EXPECTED_PEOPLE
    if not low <= given.expected_people <= high:
        raise invalid("body.expected_people", f"must be {low} to {high}")
    if len(given.agenda) > limits.MAX_AGENDA_ITEMS:
        raise invalid("body.agenda", f"at most {limits.MAX_AGENDA_ITEMS} items")
    if len(given.groups) > limits.MAX_NOTE_GROUPS:
        raise invalid("body.groups", f"at most {limits.MAX_NOTE_GROUPS} groups")
    # The same checks as the commands that made them: a restore body is no
    # way around the text, date and size rules (the projector shows them).
    for item in given.agenda:
        PutAgendaItem(
            1, item.item_id, item.action, item.owner, item.deadline, item.norm_id,
            item.note_id, item.position, item.group_id, item.follow_up,
        )  # fmt: skip
    for group in given.groups:
        PutNoteGroup(1, group.group_id, group.title, group.note_ids)
    if not 0 <= given.version <= MAX_RESTORED_VERSION:
        raise invalid("body.version", f"must be 0 to {MAX_RESTORED_VERSION}")
    voting = given.voting
    if voting is not None and not (
        0 <= voting.max_per_note <= voting.dots_per_participant <= limits.MAX_DOTS_PER_PARTICIPANT
    ):
        raise invalid("body.voting", "dots out of range")
    dots = limits.DEFAULT_DOTS_PER_PARTICIPANT
    return RoomSnapshot(
        template_id=given.template,
        phase=given.phase,
        round=given.round,
        locked=given.locked,
        people=given.participants,
        agenda=given.agenda,
        groups=given.groups,
        session=given.session,
        expected_people=given.expected_people,
        admission=given.admission,
        moderation=given.moderation,
        voting_state=DotVoting.CLOSED if voting is None else voting.state,
        dots_per_participant=dots if voting is None else voting.dots_per_participant,
        max_per_note=dots if voting is None else voting.max_per_note,
        version=max(0, given.version),
    )
