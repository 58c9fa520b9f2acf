"""The commands the room model applies: one per Lua script that writes, with its arguments.

They carry what the script receives (``server/store.py`` marshals the same
values): the participant's pid or the facilitator's device, the seq, and the
limits the script is given, so a test can run the model with smaller ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import limits
from protocol.phases import DotVoting, FollowUpStatus, Phase


@dataclass(frozen=True, slots=True)
class CreateRoom:
    template: str
    fac: str
    join: str
    disp: str
    epoch: str
    dots: int = limits.DEFAULT_DOTS_PER_PARTICIPANT
    #: The earlier scan this room follows up (JSON), or None.
    previous: str | None = None
    session_name: str = ""
    session_region: str = ""
    session_date: str = ""
    expected: int = limits.DEFAULT_EXPECTED_PEOPLE
    admission: bool = True


@dataclass(frozen=True, slots=True)
class Join:
    pid: str
    #: The join token the participant gave ('' for none).
    join_token: str = ""
    max_participants: int = limits.MAX_PARTICIPANTS_PER_ROOM
    max_waiting: int = limits.MAX_WAITING_DEVICES


@dataclass(frozen=True, slots=True)
class SetExpectedPeople:
    expected: int
    seq: int
    device: str


@dataclass(frozen=True, slots=True)
class SetAdmission:
    """Admission on: new devices beyond the expected number, or after the first
    rating round opened, wait.  Off: every waiting device is admitted."""

    enabled: bool
    seq: int
    device: str


@dataclass(frozen=True, slots=True)
class Admit:
    """Admit the waiting device with this code."""

    code: str
    seq: int
    device: str


@dataclass(frozen=True, slots=True)
class SetOrg:
    pid: str
    org: str | None
    seq: int


@dataclass(frozen=True, slots=True)
class Rate:
    pid: str
    #: The norm's key: its id, with ``:second`` for the second question.
    norm: str
    #: None: don't know.
    value: int | None
    seq: int
    round: int
    #: Re-sent because the room healed: counts in a later phase of its round
    #: while the heal window is open (``Meta.heal_until`` after ``now``).
    reassert: bool = False
    #: The epoch the participant's connection joined at ('' = any).
    epoch: str = ""
    #: Redis's clock (unix seconds) when the script runs.
    now: int = 0
    #: The room's version the server has seen at ``epoch`` (None: none).
    seen: int | None = None


@dataclass(frozen=True, slots=True)
class PutNote:
    pid: str
    note_id: str
    text: str
    norm: str | None
    seq: int
    max_notes: int = limits.MAX_NOTES_PER_PARTICIPANT
    #: Note ids a room may hold (withdrawn ones included).
    max_room_notes: int = limits.MAX_NOTES_PER_ROOM


@dataclass(frozen=True, slots=True)
class WithdrawNote:
    pid: str
    note_id: str
    seq: int


@dataclass(frozen=True, slots=True)
class DotVote:
    pid: str
    #: A note or a note group.
    item_id: str
    dots: int
    seq: int


@dataclass(frozen=True, slots=True)
class SetPhase:
    """The move as the server computed it from ``expected`` (``agenda.phases.next_phase``)."""

    expected: Phase
    phase: Phase
    round: int
    seq: int
    device: str
    #: On closing: the analysis the room keeps (JSON, computed by the server
    #: from the ballots closing deletes); '' for none.
    analysis: str = ""


@dataclass(frozen=True, slots=True)
class SetLock:
    locked: bool
    seq: int
    device: str


@dataclass(frozen=True, slots=True)
class SetTimer:
    #: When the countdown ends (server ms), or None.
    ends_at: int | None
    seq: int
    device: str


@dataclass(frozen=True, slots=True)
class SetModeration:
    enabled: bool
    seq: int
    device: str


@dataclass(frozen=True, slots=True)
class HideNote:
    note_id: str
    hidden: bool
    seq: int
    device: str


@dataclass(frozen=True, slots=True)
class PutNoteGroup:
    group_id: str
    title: str
    note_ids: tuple[str, ...]
    seq: int
    device: str
    max_groups: int = limits.MAX_NOTE_GROUPS


@dataclass(frozen=True, slots=True)
class RemoveNoteGroup:
    group_id: str
    seq: int
    device: str


@dataclass(frozen=True, slots=True)
class SetDotVoting:
    state: DotVoting
    dots: int
    max_per_note: int
    seq: int
    device: str


@dataclass(frozen=True, slots=True)
class PutAgendaItem:
    item_id: str
    action: str
    owner: str
    deadline: str | None
    norm: str | None
    note: str | None
    group: str | None
    follow_up: str | None
    position: int
    #: The linked norm's distribution now, as canonical JSON, or None.
    snapshot: str | None
    seq: int
    device: str
    max_items: int = limits.MAX_AGENDA_ITEMS


@dataclass(frozen=True, slots=True)
class RemoveAgendaItem:
    item_id: str
    seq: int
    device: str


@dataclass(frozen=True, slots=True)
class SetFollowUpStatus:
    index: int
    status: FollowUpStatus
    seq: int
    device: str


@dataclass(frozen=True, slots=True)
class Rebuild:
    """Rebuild a room whose tally or ballots hash was lost (``rebuild.lua``)."""

    epoch: str
    #: Redis's clock (unix seconds) when the script runs.
    now: int
    window: int = limits.HEAL_WINDOW_SECONDS


@dataclass(frozen=True, slots=True)
class NewEpoch:
    """A new epoch for a room Redis gave back older than a mirror saw it at
    ``seen`` (``new_epoch.lua``)."""

    seen: str
    epoch: str
    now: int
    window: int = limits.HEAL_WINDOW_SECONDS


Command = (
    CreateRoom | Join | SetOrg | Rate | PutNote | WithdrawNote | DotVote | SetPhase | SetLock
    | SetTimer | SetModeration | HideNote | PutNoteGroup | RemoveNoteGroup | SetDotVoting
    | PutAgendaItem | RemoveAgendaItem | SetFollowUpStatus | SetExpectedPeople | SetAdmission
    | Admit | Rebuild | NewEpoch
)  # fmt: skip
