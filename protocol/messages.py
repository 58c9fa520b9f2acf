"""Every message of the kleur protocol, as frozen dataclasses.

A message travels as a map ``{"type": TAG, **fields}``.  Each class checks its
own fields when constructed, so an instance is always valid: the server
cannot send, and the decoder cannot return, a malformed message.

``seq`` (on every command a client sends after ``join``) is the client's own
sequence number for that participant or facilitator.  It makes every command
idempotent: the server stores, per thing changed (a rating, a note, an agenda
item), the highest ``seq`` applied, and acknowledges a replay without applying
it again.  See ``docs/protocol.md``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from protocol import limits
from protocol.errors import ErrorCode, ProtocolError
from protocol.phases import DotVoting, FollowUpStatus, Phase, Question, Role
from protocol.wire import invalid

_CLIENT_ID = re.compile(rf"[A-Za-z0-9_-]{{{limits.ID_MIN_CHARS},{limits.ID_MAX_CHARS}}}")
_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{limits.TOKEN_MIN_CHARS},{limits.TOKEN_MAX_CHARS}}}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_ROOM_CODE = re.compile(rf"[{limits.ROOM_CODE_ALPHABET}]{{{limits.ROOM_CODE_LENGTH}}}")
_DEVICE_CODE = re.compile(rf"[{limits.DEVICE_CODE_ALPHABET}]{{{limits.DEVICE_CODE_LENGTH}}}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: Patterns are used with ``fullmatch``: ``$`` would let a trailing newline through.
#: Control characters other than newline and tab are refused in free text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def normalize_room_code(typed: str) -> str:
    """What a person typed ("abc 23x") as a room code ("ABC23X"), unchecked."""
    return "".join(typed.split()).upper()


def _check(condition: bool, path: str, why: str) -> None:
    if not condition:
        raise invalid(path, why)


def check_room_code(value: str, path: str = "room") -> None:
    _check(bool(_ROOM_CODE.fullmatch(value)), path, "not a room code")


def check_device_code(value: str, path: str) -> None:
    _check(bool(_DEVICE_CODE.fullmatch(value)), path, "not a device code")


def check_client_id(value: str, path: str) -> None:
    _check(bool(_CLIENT_ID.fullmatch(value)), path, "must be 8-32 characters A-Z a-z 0-9 _ -")


def check_slug(value: str, path: str) -> None:
    _check(bool(_SLUG.fullmatch(value)), path, "not a known identifier")


def check_date(value: str | None, path: str) -> None:
    if value is None:
        return
    # fromisoformat alone also takes week dates ("2025-W01-1").
    _check(bool(_ISO_DATE.fullmatch(value)), path, "must be a date YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise invalid(path, "must be a date YYYY-MM-DD") from None


def check_seq(value: int) -> None:
    _check(1 <= value <= limits.MAX_SEQ, "seq", "must be a positive integer")


#: Lone surrogates (JSON's "\\ud800" decodes to one; UTF-8 and msgpack cannot
#: carry it) and Unicode's 66 noncharacters (U+FDD0..U+FDEF and the last two
#: code points of every plane: U+FFFE, U+FFFF, U+1FFFE, ...), which are for a
#: program's internal use, never for interchange (an ``export.docx`` with one
#: is not valid XML).
_NOT_FOR_TEXT = re.compile(
    "[\ud800-\udfff\ufdd0-\ufdef"
    + "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
    + "]"
)
#: Characters that show nothing although they are not whitespace: fillers
#: (Hangul, braille blank, Mongolian vowel separator).  Format characters
#: (category Cf: zero-width space and joiners, BOM, soft hyphen, bidi marks)
#: are found by category.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


def _shows_something(value: str) -> bool:
    return any(
        not char.isspace() and char not in _BLANK_LOOKING and unicodedata.category(char) != "Cf"
        for char in value
    )


def check_text(value: str, path: str, max_chars: int, *, allow_empty: bool = False) -> None:
    """The one check of every free text a client sends (notes, agenda actions
    and owners, group titles, a session's name and region)."""
    if _NOT_FOR_TEXT.search(value):
        raise ProtocolError(
            ErrorCode.INVALID_TEXT, f"{path}: contains a character that is not text"
        )
    _check(unicodedata.is_normalized("NFC", value), path, "must be NFC-normalised text")
    _check(len(value) <= max_chars, path, f"longer than {max_chars} characters")
    _check(not _CONTROL.search(value), path, "contains control characters")
    if allow_empty and not value.strip():
        return  # only whitespace counts as empty here
    if not _shows_something(value):
        raise ProtocolError(
            ErrorCode.INVALID_TEXT,
            f"{path}: must show something (not only spaces or invisible characters)",
        )


def normalize_text(value: str) -> str:
    """Text as a client should send it: control characters and characters that
    are not text dropped, NFC, trimmed; "" when nothing visible is left.

    Dropping comes first: removing a character between a letter and its
    combining mark after NFC would leave text that is not NFC.
    """
    kept = _NOT_FOR_TEXT.sub("", _CONTROL.sub("", value))
    cleaned = unicodedata.normalize("NFC", kept).strip()
    # A text that shows nothing (zero-width characters only) is empty.
    return cleaned if _shows_something(cleaned) else ""


# ---------------------------------------------------------------- base classes


@dataclass(frozen=True, slots=True)
class Message:
    """Base of all messages.  ``TYPE`` is the wire tag."""

    TYPE: ClassVar[str]


@dataclass(frozen=True, slots=True)
class ClientMessage(Message):
    #: Roles allowed to send this message (checked by the server, not here).
    SENDERS: ClassVar[frozenset[Role]]


@dataclass(frozen=True, slots=True)
class Command(ClientMessage):
    """A client message that changes state; carries ``seq`` for idempotency."""

    seq: int

    def __post_init__(self) -> None:
        check_seq(self.seq)


@dataclass(frozen=True, slots=True)
class ServerMessage(Message):
    pass


PARTICIPANT = frozenset({Role.PARTICIPANT})
FACILITATOR = frozenset({Role.FACILITATOR})
ANYONE = frozenset(Role)

# ------------------------------------------------------------ client -> server


@dataclass(frozen=True, slots=True)
class Join(ClientMessage):
    """First message on every connection.

    Participants send their device ``token`` (or ``None`` the first time; the
    server then issues one in ``welcome``) and the ``join_token`` from the QR
    link, which is needed once the room is locked.  The facilitator sends the
    facilitator token here, never in a URL.
    """

    TYPE: ClassVar[str] = "join"
    SENDERS: ClassVar[frozenset[Role]] = ANYONE
    room: str
    role: Role
    token: str | None
    join_token: str | None
    #: A facilitator window's own id (random, per browser tab or client), so
    #: that two windows keep separate sequence numbers; optional on the wire.
    device: str | None = None

    def __post_init__(self) -> None:
        check_room_code(self.room)
        if self.device is not None:
            check_client_id(self.device, "device")
        if self.token is not None:
            _check(bool(_TOKEN.fullmatch(self.token)), "token", "malformed token")
        if self.join_token is not None:
            _check(bool(_TOKEN.fullmatch(self.join_token)), "join_token", "malformed token")
        if self.role is Role.FACILITATOR:
            _check(self.token is not None, "token", "the facilitator must send its token")
        if self.role is Role.PRESENTER:
            _check(self.token is not None, "token", "the presenter must send the display token")


@dataclass(frozen=True, slots=True)
class Rate(Command):
    """Set this participant's rating of one norm in ``round``; ``value`` None is "don't know"."""

    TYPE: ClassVar[str] = "rate"
    SENDERS: ClassVar[frozenset[Role]] = PARTICIPANT
    norm_id: str
    value: int | None
    #: The round the participant rated in: a rating resent after the next
    #: round started is refused (wrong_phase), never counted in the new round.
    #: May be left out on the wire (then 1): such a rating is refused in round 2.
    round: int = 1
    #: The norm's main question, or the template's second one (when it has one).
    question: Question = Question.CURRENT
    #: An acknowledged rating sent again because the room was rebuilt (close
    #: 4503, or welcome's ``max_seq`` below its seq): while the room heals
    #: (``HEAL_WINDOW_SECONDS`` after a restore or rebuild) it is accepted in a
    #: later phase of the same round too, but only where the ballot holds no
    #: newer answer.  May be left out on the wire (then false).
    reassert: bool = False

    def __post_init__(self) -> None:
        check_seq(self.seq)
        check_slug(self.norm_id, "norm_id")
        _check(1 <= self.round <= 1000, "round", "must be a positive round number")


@dataclass(frozen=True, slots=True)
class SetOrgType(Command):
    """Choose (or clear, with None) the participant's organisation type."""

    TYPE: ClassVar[str] = "set_org_type"
    SENDERS: ClassVar[frozenset[Role]] = PARTICIPANT
    org_type: str | None

    def __post_init__(self) -> None:
        check_seq(self.seq)
        if self.org_type is not None:
            check_slug(self.org_type, "org_type")


@dataclass(frozen=True, slots=True)
class PutNote(Command):
    """Create or edit one of the participant's own notes (``note_id`` chosen by the client)."""

    TYPE: ClassVar[str] = "put_note"
    SENDERS: ClassVar[frozenset[Role]] = PARTICIPANT
    note_id: str
    text: str
    norm_id: str | None

    def __post_init__(self) -> None:
        check_seq(self.seq)
        check_client_id(self.note_id, "note_id")
        check_text(self.text, "text", limits.MAX_NOTE_CHARS)
        if self.norm_id is not None:
            check_slug(self.norm_id, "norm_id")


@dataclass(frozen=True, slots=True)
class WithdrawNote(Command):
    TYPE: ClassVar[str] = "withdraw_note"
    SENDERS: ClassVar[frozenset[Role]] = PARTICIPANT
    note_id: str

    def __post_init__(self) -> None:
        check_seq(self.seq)
        check_client_id(self.note_id, "note_id")


@dataclass(frozen=True, slots=True)
class SetPhase(Command):
    TYPE: ClassVar[str] = "set_phase"
    SENDERS: ClassVar[frozenset[Role]] = FACILITATOR
    phase: Phase


@dataclass(frozen=True, slots=True)
class SetLock(Command):
    """Lock the room: new participants then need the join token from the QR link."""

    TYPE: ClassVar[str] = "set_lock"
    SENDERS: ClassVar[frozenset[Role]] = FACILITATOR
    locked: bool


@dataclass(frozen=True, slots=True)
class SetExpectedPeople(Command):
    """How many people the facilitator expects: devices beyond it wait to be admitted."""

    TYPE: ClassVar[str] = "set_expected_people"
    SENDERS: ClassVar[frozenset[Role]] = FACILITATOR
    expected: int

    def __post_init__(self) -> None:
        check_seq(self.seq)
        _check(
            limits.MIN_EXPECTED_PEOPLE <= self.expected <= limits.MAX_EXPECTED_PEOPLE,
            "expected",
            f"must be {limits.MIN_EXPECTED_PEOPLE} to {limits.MAX_EXPECTED_PEOPLE}",
        )


@dataclass(frozen=True, slots=True)
class SetAdmission(Command):
    """Admission on (default): new devices beyond the expected number, and any new
    device once the first rating round opened, wait.  Off: all waiting are admitted."""

    TYPE: ClassVar[str] = "set_admission"
    SENDERS: ClassVar[frozenset[Role]] = FACILITATOR
    enabled: bool


@dataclass(frozen=True, slots=True)
class Admit(Command):
    """Admit the waiting device whose phone shows ``code``."""

    TYPE: ClassVar[str] = "admit"
    SENDERS: ClassVar[frozenset[Role]] = FACILITATOR
    code: str

    def __post_init__(self) -> None:
        check_seq(self.seq)
        check_device_code(self.code, "code")


@dataclass(frozen=True, slots=True)
class HideNote(Command):
    """Moderation: hide a note from the wall, or show it (``hidden`` false).

    Showing a note also approves it: a note waiting in the moderation queue
    (``WallNote.pending``) reaches the presenter view and the phones only
    once the facilitator shows it; hiding it takes it out of the queue too.
    """

    TYPE: ClassVar[str] = "hide_note"
    SENDERS: ClassVar[frozenset[Role]] = FACILITATOR
    note_id: str
    hidden: bool

    def __post_init__(self) -> None:
        check_seq(self.seq)
        check_client_id(self.note_id, "note_id")


@dataclass(frozen=True, slots=True)
class SetModeration(Command):
    """Switch the moderation queue on (the default) or off.

    On: a new or edited note waits for the facilitator (``hide_note`` with
    ``hidden`` false approves it).  Off: new notes go on the wall at once, and
    the notes still waiting are let through.
    """

    TYPE: ClassVar[str] = "set_moderation"
    SENDERS: ClassVar[frozenset[Role]] = FACILITATOR
    enabled: bool


@dataclass(frozen=True, slots=True)
class PutAgendaItem(Command):
    """Create or edit an agenda item (``item_id`` chosen by the client).

    ``note_id`` links the note it was promoted from, ``norm_id`` the norm it
    addresses; ``deadline`` is an ISO date (``YYYY-MM-DD``).
    """

    TYPE: ClassVar[str] = "put_agenda_item"
    SENDERS: ClassVar[frozenset[Role]] = FACILITATOR
    item_id: str
    action: str
    owner: str
    deadline: str | None
    norm_id: str | None
    note_id: str | None
    position: int
    #: Promoted from a note group (optional on the wire).
    group_id: str | None = None
    #: When the table checks progress, an ISO date (optional on the wire).
    follow_up: str | None = None

    def __post_init__(self) -> None:
        check_seq(self.seq)
        check_client_id(self.item_id, "item_id")
        check_text(self.action, "action", limits.MAX_AGENDA_TEXT_CHARS)
        check_text(self.owner, "owner", limits.MAX_AGENDA_OWNER_CHARS, allow_empty=True)
        check_date(self.deadline, "deadline")
        check_date(self.follow_up, "follow_up")
        if self.norm_id is not None:
            check_slug(self.norm_id, "norm_id")
        if self.note_id is not None:
            check_client_id(self.note_id, "note_id")
        if self.group_id is not None:
            check_client_id(self.group_id, "group_id")
        _check(0 <= self.position <= limits.MAX_AGENDA_ITEMS, "position", "out of range")


@dataclass(frozen=True, slots=True)
class RemoveAgendaItem(Command):
    TYPE: ClassVar[str] = "remove_agenda_item"
    SENDERS: ClassVar[frozenset[Role]] = FACILITATOR
    item_id: str

    def __post_init__(self) -> None:
        check_seq(self.seq)
        check_client_id(self.item_id, "item_id")


@dataclass(frozen=True, slots=True)
class SetDotVoting(Command):
    """Open or close dot voting on the notes, or show its results.

    ``dots_per_participant`` dots each, at most ``max_per_note`` on one note.
    """

    TYPE: ClassVar[str] = "set_dot_voting"
    SENDERS: ClassVar[frozenset[Role]] = FACILITATOR
    state: DotVoting
    dots_per_participant: int
    max_per_note: int

    def __post_init__(self) -> None:
        check_seq(self.seq)
        _check(
            1 <= self.dots_per_participant <= limits.MAX_DOTS_PER_PARTICIPANT,
            "dots_per_participant",
            f"must be 1 to {limits.MAX_DOTS_PER_PARTICIPANT}",
        )
        _check(
            1 <= self.max_per_note <= self.dots_per_participant,
            "max_per_note",
            "must be 1 to dots_per_participant",
        )


@dataclass(frozen=True, slots=True)
class DotVote(Command):
    """Put ``dots`` of the participant's dots on a note (0 takes them all back)."""

    TYPE: ClassVar[str] = "dot_vote"
    SENDERS: ClassVar[frozenset[Role]] = PARTICIPANT
    note_id: str
    dots: int

    def __post_init__(self) -> None:
        check_seq(self.seq)
        check_client_id(self.note_id, "note_id")
        _check(0 <= self.dots <= limits.MAX_DOTS_PER_PARTICIPANT, "dots", "out of range")


@dataclass(frozen=True, slots=True)
class PutNoteGroup(Command):
    """Merge notes into a named group (create or replace it)."""

    TYPE: ClassVar[str] = "put_note_group"
    SENDERS: ClassVar[frozenset[Role]] = FACILITATOR
    group_id: str
    title: str
    note_ids: tuple[str, ...]

    def __post_init__(self) -> None:
        check_seq(self.seq)
        check_client_id(self.group_id, "group_id")
        check_text(self.title, "title", limits.MAX_GROUP_TITLE_CHARS)
        _check(len(self.note_ids) <= limits.MAX_NOTES_PER_GROUP, "note_ids", "too many notes")
        for i, note_id in enumerate(self.note_ids):
            check_client_id(note_id, f"note_ids[{i}]")


@dataclass(frozen=True, slots=True)
class RemoveNoteGroup(Command):
    TYPE: ClassVar[str] = "remove_note_group"
    SENDERS: ClassVar[frozenset[Role]] = FACILITATOR
    group_id: str

    def __post_init__(self) -> None:
        check_seq(self.seq)
        check_client_id(self.group_id, "group_id")


@dataclass(frozen=True, slots=True)
class SetTimer(Command):
    """Start a countdown of ``seconds`` shown on every screen, or stop it (None)."""

    TYPE: ClassVar[str] = "set_timer"
    SENDERS: ClassVar[frozenset[Role]] = FACILITATOR
    seconds: int | None

    def __post_init__(self) -> None:
        check_seq(self.seq)
        if self.seconds is not None:
            _check(1 <= self.seconds <= limits.MAX_TIMER_SECONDS, "seconds", "out of range")


@dataclass(frozen=True, slots=True)
class SetFollowUpStatus(Command):
    """Record how far an agenda item of the earlier (imported) scan got."""

    TYPE: ClassVar[str] = "set_follow_up_status"
    SENDERS: ClassVar[frozenset[Role]] = FACILITATOR
    index: int
    status: FollowUpStatus

    def __post_init__(self) -> None:
        check_seq(self.seq)
        _check(0 <= self.index < limits.MAX_AGENDA_ITEMS, "index", "out of range")


# ------------------------------------------------------------ server -> client


@dataclass(frozen=True, slots=True)
class OwnRating:
    norm_id: str
    value: int | None
    seq: int
    question: Question = Question.CURRENT


@dataclass(frozen=True, slots=True)
class OwnNote:
    note_id: str
    text: str
    norm_id: str | None
    hidden: bool
    seq: int
    #: Waiting for the facilitator's approval (moderation on).
    pending: bool = False


@dataclass(frozen=True, slots=True)
class NormResult:
    """The distribution of one norm's ratings in the current round.

    ``counts[i]`` is the number of ratings ``scale_min + i``; ``dont_know`` the
    number of "don't know" answers, kept apart from the scale.  Before the
    reveal, ``counts``/``dont_know``/``median`` are None and only ``received``
    (how many participants answered) is known.
    """

    norm_id: str
    received: int
    counts: tuple[int, ...] | None
    dont_know: int | None
    median: float | None


@dataclass(frozen=True, slots=True)
class NormProgress:
    """One norm's answers before the reveal, in steps (``at_least`` is a multiple
    of ``RATING_PROGRESS_STEP``: 0 means "fewer than one step")."""

    norm_id: str
    at_least: int


@dataclass(frozen=True, slots=True)
class RatingProgress:
    """How far the rating round is, before the reveal (``agenda/progress.py``).

    ``complete`` is the answers in, counted in whole people: the number of
    answers divided by the number of norms, rounded down, at most ``people``.
    One rating on one norm changes it only when it completes a whole
    person's worth, so the projector never tells which norm was just answered.
    ``norms`` (the facilitator's control view only; empty on the presenter)
    gives each norm's answers in steps.
    """

    people: int
    complete: int
    norms: tuple[NormProgress, ...] = ()


@dataclass(frozen=True, slots=True)
class OrgCount:
    org_type: str
    count: int


@dataclass(frozen=True, slots=True)
class WallNote:
    """A note as the wall shows it: never with its author."""

    note_id: str
    text: str
    norm_id: str | None
    hidden: bool
    #: Waiting in the moderation queue: only the facilitator sees it.
    pending: bool = False


@dataclass(frozen=True, slots=True)
class OwnDots:
    note_id: str
    dots: int
    seq: int


@dataclass(frozen=True, slots=True)
class NoteGroup:
    group_id: str
    title: str
    note_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NoteVotes:
    note_id: str
    dots: int


@dataclass(frozen=True, slots=True)
class Voting:
    """Dot voting as everyone sees it; ``results`` only once shown."""

    state: DotVoting
    dots_per_participant: int
    max_per_note: int
    #: Dots cast so far, in all (progress without results).
    dots_cast: int
    results: tuple[NoteVotes, ...] | None


@dataclass(frozen=True, slots=True)
class AgendaItem:
    item_id: str
    action: str
    owner: str
    deadline: str | None
    norm_id: str | None
    note_id: str | None
    position: int
    group_id: str | None = None
    follow_up: str | None = None
    #: The linked norm's distribution when the item was first promoted.
    snapshot: NormResult | None = None


@dataclass(frozen=True, slots=True)
class RoomAgendaItem:
    """An agenda item as the whole room may see it (participants' ``room_state``):
    no ids, no link to the note it came from, no snapshot."""

    action: str
    #: Who pulls it (the *trekker*); "" when nobody was named yet.
    owner: str
    #: An ISO date (``YYYY-MM-DD``).
    deadline: str | None
    norm_id: str | None


@dataclass(frozen=True, slots=True)
class PreviousNorm:
    """A norm in the earlier scan this room follows up, and the change since."""

    norm_id: str
    median_before: float | None
    #: Median now minus median then (None until both exist and are revealed).
    median_change: float | None


@dataclass(frozen=True, slots=True)
class PreviousItem:
    """An agenda item of the earlier scan, and how far it got."""

    index: int
    action: str
    owner: str
    deadline: str | None
    status: FollowUpStatus


@dataclass(frozen=True, slots=True)
class PreviousScan:
    room: str
    norms: tuple[PreviousNorm, ...]
    items: tuple[PreviousItem, ...]


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What the facilitator named the session when creating the room.

    ``name`` and ``region`` may be empty (not asked, or left blank); ``date`` is
    the session's day (ISO ``YYYY-MM-DD``, by default the day the room was
    created).  Exports print all three.
    """

    name: str
    region: str
    date: str

    def __post_init__(self) -> None:
        check_text(self.name, "name", limits.MAX_SESSION_NAME_CHARS, allow_empty=True)
        check_text(self.region, "region", limits.MAX_SESSION_REGION_CHARS, allow_empty=True)
        _check(isinstance(self.date, str), "date", "must be a date YYYY-MM-DD")
        check_date(self.date, "date")


@dataclass(frozen=True, slots=True)
class NormInsight:
    """Where the table stands on one norm (after the reveal).

    ``rank`` orders the norms by where to talk first (low score, low
    consensus); ``contested`` flags a split table or low consensus; the
    ``*_delta`` fields compare with the previous round (Delphi), when any.
    """

    norm_id: str
    n: int
    median: float | None
    q1: float | None
    q3: float | None
    mean: float | None
    consensus: float | None
    split: bool
    median_low: int | None
    median_high: int | None
    rank: int
    contested: bool
    median_delta: float | None
    consensus_delta: float | None
    n_before: int | None
    #: Median answer to the template's second question (importance or ideal
    #: level), and that median minus ``median``: None without a second question.
    second_median: float | None = None
    gap: float | None = None
    #: ``q1`` and ``q3`` as the screens write them on a scale of whole numbers,
    #: rounded outward (``agenda.stats.shown_range``): "most scores 3–7" for
    #: 3.5 and 6.5, "most scores are 3" when both are 3; None without ratings.
    most_low: int | None = None
    most_high: int | None = None


@dataclass(frozen=True, slots=True)
class ThemeInsight:
    theme_id: str
    n: int
    median: float | None
    consensus: float | None
    mean_of_medians: float | None
    #: Mean of the theme's norms' gaps (see ``NormInsight.gap``).
    gap: float | None = None


@dataclass(frozen=True, slots=True)
class GroupInsight:
    """An opinion group: its size and its medians (template norm order); no members."""

    size: int
    medians: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class BreakdownEntry:
    """One organisation type's median on one norm (only groups that may be shown)."""

    org_type: str
    norm_id: str
    n: int
    median: float | None


@dataclass(frozen=True, slots=True)
class DraftItem:
    """A proposed agenda item: a norm to address, why, and candidate actions (note ids)."""

    norm_id: str
    #: "low_score" and/or "contested".
    reasons: tuple[str, ...]
    note_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Analysis:
    norms: tuple[NormInsight, ...]
    themes: tuple[ThemeInsight, ...]
    #: Norm ids, where the table should talk first first.
    ranking: tuple[str, ...]
    #: "groups", "no_clear_groups" or "too_few_participants".
    groups_outcome: str
    groups: tuple[GroupInsight, ...]
    separating_norms: tuple[str, ...]
    breakdown: tuple[BreakdownEntry, ...]
    #: A proposed agenda from the analysis and the notes (see agenda.draft).
    draft: tuple[DraftItem, ...] = ()


@dataclass(frozen=True, slots=True)
class RoomState(ServerMessage):
    """What every participant sees of the room; sent on join and on change."""

    TYPE: ClassVar[str] = "room_state"
    phase: Phase
    round: int
    locked: bool
    #: Distributions, only once the facilitator revealed them.
    results: tuple[NormResult, ...] | None
    voting: Voting
    #: The visible notes, while dot voting is open or its results shown.
    notes: tuple[WallNote, ...] | None
    #: End of the facilitator's countdown, in server milliseconds since the epoch.
    timer_ends_at: int | None
    #: The answers to the template's second question, like ``results`` (None
    #: before the reveal, or when the template asks no second question).
    second_results: tuple[NormResult, ...] | None = None
    #: The note groups (with only their visible notes) while dot voting is open
    #: or its results shown: a group is one item to vote on.
    groups: tuple[NoteGroup, ...] | None = None
    #: The improvement agenda by position, in the agenda and closed phases
    #: (None in the others; optional on the wire).
    agenda: tuple[RoomAgendaItem, ...] | None = None
    #: Ids of the notes the facilitator hid, and of those waiting for approval.
    #: Note ids are random and chosen by the author's client, so only the
    #: author can tell which are its own: its phone marks them at once.
    hidden_notes: tuple[str, ...] = ()
    pending_notes: tuple[str, ...] = ()
    #: The room's epoch and version this state was built at: a reconnecting
    #: client whose last state has the same pair is up to date.  Sent only when
    #: the state's content changed, so the version may skip.
    epoch: str = ""
    version: int = 0
    #: The codes of the devices waiting to be admitted: a waiting phone knows it
    #: is in once its code is gone (codes are unique among waiting devices).
    waiting: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Welcome(ServerMessage):
    """Reply to ``join``: who you are and, for a participant, your own answers."""

    TYPE: ClassVar[str] = "welcome"
    role: Role
    room: str
    template_id: str
    #: The participant's device token (issued now if it sent none).
    participant_token: str | None
    org_type: str | None
    ratings: tuple[OwnRating, ...]
    notes: tuple[OwnNote, ...]
    #: The participant's own dot votes.
    dots: tuple[OwnDots, ...]
    #: Highest ``seq`` the server has applied for this participant.
    max_seq: int
    #: The server's clock (ms since the epoch), to show countdowns right.
    server_time: int
    state: RoomState
    #: False while this device waits for the facilitator to admit it.
    admitted: bool = True
    #: The code this waiting device shows (and the facilitator admits it by), or ''.
    device_code: str = ""
    #: Organisation types are fixed (the first rating round opened): one that
    #: has none may still pick one, once.
    org_type_fixed: bool = False


@dataclass(frozen=True, slots=True)
class Ack(ServerMessage):
    """The command ``seq`` is stored in Redis (``duplicate``: it already was)."""

    TYPE: ClassVar[str] = "ack"
    seq: int
    duplicate: bool


@dataclass(frozen=True, slots=True)
class Error(ServerMessage):
    TYPE: ClassVar[str] = "error"
    code: ErrorCode
    detail: str
    #: The ``seq`` of the command refused, when there was one.
    seq: int | None


@dataclass(frozen=True, slots=True)
class Dashboard(ServerMessage):
    """The facilitator's full view of the room, coalesced (a few per second at most).

    ``version`` grows with every change stored; a snapshot replaces the
    previous one whole, so a dashboard that missed some is never wrong.
    ``org_counts`` lists only organisation types with at least the minimum
    group size, with complementary suppression applied.
    """

    TYPE: ClassVar[str] = "dashboard"
    version: int
    phase: Phase
    round: int
    locked: bool
    revealed: bool
    participants: int
    org_counts: tuple[OrgCount, ...]
    norms: tuple[NormResult, ...]
    notes: tuple[WallNote, ...]
    groups: tuple[NoteGroup, ...]
    voting: Voting
    agenda: tuple[AgendaItem, ...]
    timer_ends_at: int | None
    server_time: int
    #: Statistics, disagreement and opinion groups; only after the reveal.
    analysis: Analysis | None
    #: The earlier scan this room follows up, if one was imported.
    previous: PreviousScan | None
    #: Groups of similar notes the facilitator may merge (computed, not applied).
    suggestions: tuple[NoteGroup, ...] = ()
    #: The template's second question per norm, like ``norms``; None when the
    #: template asks none.
    second_norms: tuple[NormResult, ...] | None = None
    #: The session's name, region and date (None for a room created without).
    session: SessionInfo | None = None
    #: Whether new notes wait for approval (``set_moderation``).
    moderation: bool = False
    #: The room state's epoch: new when the room was rebuilt in Redis (with
    #: ``version``, a client tells "up to date" from "resynchronise").
    epoch: str = ""
    #: Before the reveal: answers in, in whole people, and per norm in steps
    #: (what the control view shows; ``norms`` keeps the exact counts for the
    #: facilitator's own tools).  None after the reveal.
    progress: RatingProgress | None = None
    #: People the facilitator expects (``participants``: the devices admitted).
    expected_people: int = limits.DEFAULT_EXPECTED_PEOPLE
    #: Whether new devices beyond that, or after the first round opened, wait.
    admission: bool = True
    #: The codes of the devices waiting to be admitted (never anything else of them).
    waiting: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Presenter(ServerMessage):
    """The projector's view: only what the whole room may see, coalesced like ``dashboard``.

    Before the reveal ``norms`` and ``second_norms`` are empty and
    ``progress`` says only how many people's worth of answers are in, so a
    count on the big screen never ticks up right after one tap; ``notes`` are
    the approved, not hidden ones; ``groups`` list only those notes;
    ``voting.results`` only once shown; ``analysis`` only after the reveal
    and without the draft agenda.  Never a pending or hidden note, never a
    suggestion.
    """

    TYPE: ClassVar[str] = "presenter"
    version: int
    phase: Phase
    round: int
    locked: bool
    revealed: bool
    participants: int
    org_counts: tuple[OrgCount, ...]
    norms: tuple[NormResult, ...]
    notes: tuple[WallNote, ...]
    groups: tuple[NoteGroup, ...]
    voting: Voting
    agenda: tuple[AgendaItem, ...]
    timer_ends_at: int | None
    server_time: int
    analysis: Analysis | None
    previous: PreviousScan | None
    second_norms: tuple[NormResult, ...] | None = None
    #: As in ``Dashboard``.
    epoch: str = ""
    #: As in ``Dashboard``, without the per-norm steps.
    progress: RatingProgress | None = None
    expected_people: int = limits.DEFAULT_EXPECTED_PEOPLE


CLIENT_MESSAGES: dict[str, type[ClientMessage]] = {
    cls.TYPE: cls
    for cls in (
        Join,
        Rate,
        SetOrgType,
        PutNote,
        WithdrawNote,
        SetPhase,
        SetLock,
        HideNote,
        SetModeration,
        PutAgendaItem,
        RemoveAgendaItem,
        SetDotVoting,
        DotVote,
        PutNoteGroup,
        RemoveNoteGroup,
        SetTimer,
        SetFollowUpStatus,
        SetExpectedPeople,
        SetAdmission,
        Admit,
    )
}

SERVER_MESSAGES: dict[str, type[ServerMessage]] = {
    cls.TYPE: cls for cls in (Welcome, Ack, Error, RoomState, Dashboard, Presenter)
}


def unknown_type(tag: object) -> ProtocolError:
    return ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {str(tag)[:40]!r}")
