"""The wire protocol without a socket: messages, both codecs, errors and close codes.

Strategies below build a valid instance of every message class; the codecs
must give each back unchanged.  Arbitrary bytes, text and near-valid maps
must decode to a message or raise ``ProtocolError``, never anything else.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import typing
import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar

import msgpack
import pytest
from hypothesis import HealthCheck, example, find, given, settings
from hypothesis import Phase as HypothesisPhase
from hypothesis import strategies as st

from protocol import limits
from protocol.close_codes import CloseCode, should_reconnect
from protocol.codec import CODECS, JSON, MSGPACK, Codec, choose_codec
from protocol.errors import RETRYABLE_ERRORS, ErrorCode, ProtocolError
from protocol.messages import (
    CLIENT_MESSAGES,
    SERVER_MESSAGES,
    Ack,
    Admit,
    AgendaItem,
    Analysis,
    BreakdownEntry,
    ClientMessage,
    Command,
    Dashboard,
    DotVote,
    DraftItem,
    Error,
    GroupInsight,
    HideNote,
    Join,
    Message,
    NormInsight,
    NormProgress,
    NormResult,
    NoteGroup,
    NoteVotes,
    OrgCount,
    OwnDots,
    OwnNote,
    OwnRating,
    Presenter,
    PreviousItem,
    PreviousNorm,
    PreviousScan,
    PutAgendaItem,
    PutNote,
    PutNoteGroup,
    Rate,
    RatingProgress,
    RemoveAgendaItem,
    RemoveNoteGroup,
    RoomAgendaItem,
    RoomState,
    ServerMessage,
    SessionInfo,
    SetAdmission,
    SetDotVoting,
    SetExpectedPeople,
    SetFollowUpStatus,
    SetLock,
    SetModeration,
    SetOrgType,
    SetPhase,
    SetTimer,
    ThemeInsight,
    Voting,
    WallNote,
    Welcome,
    WithdrawNote,
    _shows_something,
    check_text,
    normalize_room_code,
    normalize_text,
)
from protocol.phases import DotVoting, FollowUpStatus, Phase, Question, Role
from protocol.wire import to_wire

T = TypeVar("T")

#: Enough examples to find the edges, few enough for CI.
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROUND_TRIP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BOTH = pytest.mark.parametrize("codec", [MSGPACK, JSON], ids=["msgpack", "json"])

# ------------------------------------------------------------------ strategies

_URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
_SLUG_FIRST = "abcdefghijklmnopqrstuvwxyz0123456789"
#: What ``check_text`` refuses: C0 controls except tab and newline, DEL and C1.
_CONTROL_CHARS = "".join(
    chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))
)

client_ids = st.text(_URL_SAFE, min_size=limits.ID_MIN_CHARS, max_size=limits.ID_MAX_CHARS)
tokens = st.text(_URL_SAFE, min_size=limits.TOKEN_MIN_CHARS, max_size=limits.TOKEN_MAX_CHARS)
slugs = st.builds(
    str.__add__, st.sampled_from(_SLUG_FIRST), st.text(_SLUG_FIRST + "-", max_size=31)
)
room_codes = st.text(
    limits.ROOM_CODE_ALPHABET, min_size=limits.ROOM_CODE_LENGTH, max_size=limits.ROOM_CODE_LENGTH
)
device_codes = st.text(
    limits.DEVICE_CODE_ALPHABET,
    min_size=limits.DEVICE_CODE_LENGTH,
    max_size=limits.DEVICE_CODE_LENGTH,
)
expected_people = st.integers(limits.MIN_EXPECTED_PEOPLE, limits.MAX_EXPECTED_PEOPLE)
seqs = st.integers(1, limits.MAX_SEQ)
#: Any integer the wire carries (``wire._check_int``), and counts and versions.
wire_ints = st.integers(-limits.MAX_SEQ, limits.MAX_SEQ)
counts = st.integers(0, limits.MAX_SEQ)
iso_dates = st.dates().map(lambda d: d.isoformat())
# Unassigned code points (category Cn) hold the noncharacters, which check_text refuses.
_text_chars = st.characters(
    codec="utf-8", exclude_characters=_CONTROL_CHARS, exclude_categories=("Cn",)
)


def free_text(max_chars: int, *, allow_empty: bool = False) -> st.SearchStrategy[str]:
    """NFC text without control characters (tab and newline allowed), as check_text wants."""
    text = (
        st.text(_text_chars, max_size=max_chars)
        .map(lambda t: unicodedata.normalize("NFC", t))
        .filter(lambda t: len(t) <= max_chars)
    )
    # Text must show something: not only spaces and invisible characters.
    shows = text.filter(lambda t: not t.strip() or _shows_something(t))
    return shows if allow_empty else shows.filter(lambda t: bool(t.strip()))


def small(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[tuple[T, ...]]:
    return st.lists(strategy, max_size=4).map(tuple)


phases = st.sampled_from(Phase)
roles = st.sampled_from(Role)
any_text = st.text(_text_chars, max_size=60)

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
norm_results = st.builds(
    NormResult,
    norm_id=slugs,
    received=counts,
    counts=st.none() | small(counts),
    dont_know=st.none() | counts,
    median=st.none() | finite_floats,
)
org_counts = st.builds(OrgCount, org_type=slugs, count=counts)
norm_progresses = st.builds(NormProgress, norm_id=slugs, at_least=counts)
rating_progresses = st.builds(
    RatingProgress, people=counts, complete=counts, norms=small(norm_progresses)
)
session_infos = st.builds(
    SessionInfo,
    name=free_text(limits.MAX_SESSION_NAME_CHARS, allow_empty=True),
    region=free_text(limits.MAX_SESSION_REGION_CHARS, allow_empty=True),
    date=iso_dates,
)
wall_notes = st.builds(
    WallNote,
    note_id=client_ids,
    text=free_text(limits.MAX_NOTE_CHARS),
    norm_id=st.none() | slugs,
    hidden=st.booleans(),
    pending=st.booleans(),
)
agenda_items = st.builds(
    AgendaItem,
    item_id=client_ids,
    action=free_text(limits.MAX_AGENDA_TEXT_CHARS),
    owner=free_text(limits.MAX_AGENDA_OWNER_CHARS, allow_empty=True),
    deadline=st.none() | iso_dates,
    norm_id=st.none() | slugs,
    note_id=st.none() | client_ids,
    position=st.integers(0, limits.MAX_AGENDA_ITEMS),
    group_id=st.none() | client_ids,
    follow_up=st.none() | iso_dates,
    snapshot=st.none() | norm_results,
)
room_agenda_items = st.builds(
    RoomAgendaItem,
    action=free_text(limits.MAX_AGENDA_TEXT_CHARS),
    owner=free_text(limits.MAX_AGENDA_OWNER_CHARS, allow_empty=True),
    deadline=st.none() | iso_dates,
    norm_id=st.none() | slugs,
)
own_ratings = st.builds(
    OwnRating,
    norm_id=slugs,
    value=st.none() | wire_ints,
    seq=seqs,
    question=st.sampled_from(Question),
)
own_notes = st.builds(
    OwnNote,
    note_id=client_ids,
    text=free_text(limits.MAX_NOTE_CHARS),
    norm_id=st.none() | slugs,
    hidden=st.booleans(),
    seq=seqs,
    pending=st.booleans(),
)
own_dots = st.builds(
    OwnDots, note_id=client_ids, dots=st.integers(0, limits.MAX_DOTS_PER_PARTICIPANT), seq=seqs
)
note_groups = st.builds(
    NoteGroup,
    group_id=client_ids,
    title=free_text(limits.MAX_GROUP_TITLE_CHARS),
    note_ids=small(client_ids),
)
note_votes = st.builds(NoteVotes, note_id=client_ids, dots=counts)
votings = st.builds(
    Voting,
    state=st.sampled_from(DotVoting),
    dots_per_participant=st.integers(1, limits.MAX_DOTS_PER_PARTICIPANT),
    max_per_note=st.integers(1, limits.MAX_DOTS_PER_PARTICIPANT),
    dots_cast=counts,
    results=st.none() | small(note_votes),
)
optional_floats = st.none() | finite_floats
norm_insights = st.builds(
    NormInsight,
    norm_id=slugs,
    n=counts,
    median=optional_floats,
    q1=optional_floats,
    q3=optional_floats,
    mean=optional_floats,
    consensus=optional_floats,
    split=st.booleans(),
    median_low=st.none() | wire_ints,
    median_high=st.none() | wire_ints,
    rank=counts,
    contested=st.booleans(),
    median_delta=optional_floats,
    consensus_delta=optional_floats,
    n_before=st.none() | counts,
    second_median=optional_floats,
    gap=optional_floats,
    most_low=st.none() | wire_ints,
    most_high=st.none() | wire_ints,
)
theme_insights = st.builds(
    ThemeInsight,
    theme_id=slugs,
    n=counts,
    median=optional_floats,
    consensus=optional_floats,
    mean_of_medians=optional_floats,
    gap=optional_floats,
)
group_insights = st.builds(GroupInsight, size=counts, medians=small(optional_floats))
breakdown_entries = st.builds(
    BreakdownEntry, org_type=slugs, norm_id=slugs, n=counts, median=optional_floats
)
draft_items = st.builds(
    DraftItem,
    norm_id=slugs,
    reasons=small(st.sampled_from(["low_score", "contested"])),
    note_ids=small(client_ids),
)
analyses = st.builds(
    Analysis,
    norms=small(norm_insights),
    themes=small(theme_insights),
    ranking=small(slugs),
    groups_outcome=st.sampled_from(["groups", "no_clear_groups", "too_few_participants"]),
    groups=small(group_insights),
    separating_norms=small(slugs),
    breakdown=small(breakdown_entries),
    draft=small(draft_items),
)
previous_norms = st.builds(
    PreviousNorm, norm_id=slugs, median_before=optional_floats, median_change=optional_floats
)
previous_items = st.builds(
    PreviousItem,
    index=st.integers(0, limits.MAX_AGENDA_ITEMS - 1),
    action=free_text(limits.MAX_AGENDA_TEXT_CHARS),
    owner=free_text(limits.MAX_AGENDA_OWNER_CHARS, allow_empty=True),
    deadline=st.none() | iso_dates,
    status=st.sampled_from(FollowUpStatus),
)
previous_scans = st.builds(
    PreviousScan, room=room_codes, norms=small(previous_norms), items=small(previous_items)
)
#: Milliseconds since the epoch, as the server's clock gives them.
epoch_ms = st.integers(0, 2**45)
#: A room state's epoch (``server.keys.new_epoch``: 12 hex digits).
room_epochs = st.text("0123456789abcdef", max_size=12)
room_states = st.builds(
    RoomState,
    phase=phases,
    round=st.integers(1, limits.MAX_SEQ),
    locked=st.booleans(),
    results=st.none() | small(norm_results),
    voting=votings,
    notes=st.none() | small(wall_notes),
    second_results=st.none() | small(norm_results),
    timer_ends_at=st.none() | epoch_ms,
    groups=st.none() | small(note_groups),
    agenda=st.none() | small(room_agenda_items),
    hidden_notes=small(client_ids),
    pending_notes=small(client_ids),
    epoch=room_epochs,
    version=counts,
    waiting=small(device_codes),
)


@st.composite
def set_dot_votings(draw: st.DrawFn) -> SetDotVoting:
    dots = draw(st.integers(1, limits.MAX_DOTS_PER_PARTICIPANT))
    per_note = draw(st.integers(1, dots))
    return SetDotVoting(draw(seqs), draw(st.sampled_from(DotVoting)), dots, per_note)


@st.composite
def joins(draw: st.DrawFn) -> Join:
    role = draw(roles)
    needs_token = role in (Role.FACILITATOR, Role.PRESENTER)
    token = draw(tokens) if needs_token else draw(st.none() | tokens)
    return Join(
        draw(room_codes), role, token, draw(st.none() | tokens), device=draw(st.none() | client_ids)
    )


#: One strategy per message class; ``test_every_message_class_has_a_strategy`` keeps it complete.
MESSAGE_STRATEGIES: dict[type[Message], st.SearchStrategy[Any]] = {
    Join: joins(),
    Rate: st.builds(
        Rate,
        seq=seqs,
        norm_id=slugs,
        value=st.none() | wire_ints,
        round=st.integers(1, 1000),
        question=st.sampled_from(Question),
        reassert=st.booleans(),
    ),
    SetOrgType: st.builds(SetOrgType, seq=seqs, org_type=st.none() | slugs),
    PutNote: st.builds(
        PutNote,
        seq=seqs,
        note_id=client_ids,
        text=free_text(limits.MAX_NOTE_CHARS),
        norm_id=st.none() | slugs,
    ),
    WithdrawNote: st.builds(WithdrawNote, seq=seqs, note_id=client_ids),
    SetPhase: st.builds(SetPhase, seq=seqs, phase=phases),
    SetLock: st.builds(SetLock, seq=seqs, locked=st.booleans()),
    HideNote: st.builds(HideNote, seq=seqs, note_id=client_ids, hidden=st.booleans()),
    SetModeration: st.builds(SetModeration, seq=seqs, enabled=st.booleans()),
    SetExpectedPeople: st.builds(SetExpectedPeople, seq=seqs, expected=expected_people),
    SetAdmission: st.builds(SetAdmission, seq=seqs, enabled=st.booleans()),
    Admit: st.builds(Admit, seq=seqs, code=device_codes),
    PutAgendaItem: st.builds(
        PutAgendaItem,
        seq=seqs,
        item_id=client_ids,
        action=free_text(limits.MAX_AGENDA_TEXT_CHARS),
        owner=free_text(limits.MAX_AGENDA_OWNER_CHARS, allow_empty=True),
        deadline=st.none() | iso_dates,
        norm_id=st.none() | slugs,
        note_id=st.none() | client_ids,
        position=st.integers(0, limits.MAX_AGENDA_ITEMS),
        group_id=st.none() | client_ids,
        follow_up=st.none() | iso_dates,
    ),
    RemoveAgendaItem: st.builds(RemoveAgendaItem, seq=seqs, item_id=client_ids),
    SetDotVoting: set_dot_votings(),
    DotVote: st.builds(
        DotVote,
        seq=seqs,
        note_id=client_ids,
        dots=st.integers(0, limits.MAX_DOTS_PER_PARTICIPANT),
    ),
    PutNoteGroup: st.builds(
        PutNoteGroup,
        seq=seqs,
        group_id=client_ids,
        title=free_text(limits.MAX_GROUP_TITLE_CHARS),
        note_ids=st.lists(client_ids, max_size=limits.MAX_NOTES_PER_GROUP).map(tuple),
    ),
    RemoveNoteGroup: st.builds(RemoveNoteGroup, seq=seqs, group_id=client_ids),
    SetTimer: st.builds(
        SetTimer, seq=seqs, seconds=st.none() | st.integers(1, limits.MAX_TIMER_SECONDS)
    ),
    SetFollowUpStatus: st.builds(
        SetFollowUpStatus,
        seq=seqs,
        index=st.integers(0, limits.MAX_AGENDA_ITEMS - 1),
        status=st.sampled_from(FollowUpStatus),
    ),
    Welcome: st.builds(
        Welcome,
        role=roles,
        room=room_codes,
        template_id=slugs,
        participant_token=st.none() | tokens,
        org_type=st.none() | slugs,
        ratings=small(own_ratings),
        notes=small(own_notes),
        dots=small(own_dots),
        max_seq=st.integers(0, limits.MAX_SEQ),
        server_time=epoch_ms,
        state=room_states,
        admitted=st.booleans(),
        device_code=st.just("") | device_codes,
        org_type_fixed=st.booleans(),
    ),
    Ack: st.builds(Ack, seq=seqs, duplicate=st.booleans()),
    Error: st.builds(Error, code=st.sampled_from(ErrorCode), detail=any_text, seq=st.none() | seqs),
    RoomState: room_states,
    Dashboard: st.builds(
        Dashboard,
        session=st.none() | session_infos,
        version=counts,
        phase=phases,
        round=st.integers(1, limits.MAX_SEQ),
        locked=st.booleans(),
        revealed=st.booleans(),
        participants=counts,
        org_counts=small(org_counts),
        norms=small(norm_results),
        notes=small(wall_notes),
        groups=small(note_groups),
        voting=votings,
        agenda=small(agenda_items),
        timer_ends_at=st.none() | epoch_ms,
        server_time=epoch_ms,
        analysis=st.none() | analyses,
        previous=st.none() | previous_scans,
        suggestions=small(note_groups),
        second_norms=st.none() | small(norm_results),
        moderation=st.booleans(),
        epoch=room_epochs,
        progress=st.none() | rating_progresses,
        expected_people=expected_people,
        admission=st.booleans(),
        waiting=small(device_codes),
    ),
    Presenter: st.builds(
        Presenter,
        version=counts,
        phase=phases,
        round=st.integers(1, limits.MAX_SEQ),
        locked=st.booleans(),
        revealed=st.booleans(),
        participants=counts,
        org_counts=small(org_counts),
        norms=small(norm_results),
        notes=small(wall_notes),
        groups=small(note_groups),
        voting=votings,
        agenda=small(agenda_items),
        timer_ends_at=st.none() | epoch_ms,
        server_time=epoch_ms,
        analysis=st.none() | analyses,
        previous=st.none() | previous_scans,
        second_norms=st.none() | small(norm_results),
        epoch=room_epochs,
        progress=st.none() | rating_progresses,
        expected_people=expected_people,
    ),
}

#: One strategy per dataclass used inside a message (kept complete by a test, too).
PART_STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    NormResult: norm_results,
    OrgCount: org_counts,
    NormProgress: norm_progresses,
    RatingProgress: rating_progresses,
    WallNote: wall_notes,
    AgendaItem: agenda_items,
    RoomAgendaItem: room_agenda_items,
    OwnRating: own_ratings,
    OwnNote: own_notes,
    OwnDots: own_dots,
    NoteGroup: note_groups,
    NoteVotes: note_votes,
    Voting: votings,
    RoomState: room_states,
    NormInsight: norm_insights,
    ThemeInsight: theme_insights,
    GroupInsight: group_insights,
    BreakdownEntry: breakdown_entries,
    Analysis: analyses,
    DraftItem: draft_items,
    PreviousNorm: previous_norms,
    PreviousItem: previous_items,
    PreviousScan: previous_scans,
    SessionInfo: session_infos,
}

client_messages: st.SearchStrategy[ClientMessage] = st.one_of(
    *(MESSAGE_STRATEGIES[cls] for cls in CLIENT_MESSAGES.values())
)
server_messages: st.SearchStrategy[ServerMessage] = st.one_of(
    *(MESSAGE_STRATEGIES[cls] for cls in SERVER_MESSAGES.values())
)


def decoder(codec: Codec, message: Message) -> Callable[[bytes | str], Message]:
    return codec.decode_client if isinstance(message, ClientMessage) else codec.decode_server


def refused(call: Callable[..., object], *args: object) -> ErrorCode:
    """The code of the ProtocolError ``call(*args)`` raises (fails if it raises none)."""
    with pytest.raises(ProtocolError) as error:
        call(*args)
    return error.value.code


def envelope(message: Message) -> dict[str, Any]:
    """A message as the map that travels: ``{"type": TAG, **fields}``."""
    wire = to_wire(message)
    assert isinstance(wire, dict)
    return {"type": message.TYPE, **wire}


def utf8_size(frame: bytes | str) -> int:
    return len(frame.encode() if isinstance(frame, str) else frame)


# Hand-built server messages for the specific cases: one place to follow the classes.
CLOSED_VOTING = Voting(DotVoting.CLOSED, limits.DEFAULT_DOTS_PER_PARTICIPANT, 1, 0, None)


def a_room_state(**changes: Any) -> RoomState:
    fields: dict[str, Any] = {
        "phase": Phase.LOBBY,
        "round": 1,
        "locked": False,
        "results": None,
        "voting": CLOSED_VOTING,
        "notes": None,
        "timer_ends_at": None,
    }
    return RoomState(**{**fields, **changes})


def a_dashboard(**changes: Any) -> Dashboard:
    fields: dict[str, Any] = {
        "version": 1,
        "phase": Phase.LOBBY,
        "round": 1,
        "locked": False,
        "revealed": False,
        "participants": 0,
        "org_counts": (),
        "norms": (),
        "notes": (),
        "groups": (),
        "voting": CLOSED_VOTING,
        "agenda": (),
        "timer_ends_at": None,
        "server_time": 1_700_000_000_000,
        "analysis": None,
        "previous": None,
    }
    return Dashboard(**{**fields, **changes})


def a_welcome(**changes: Any) -> Welcome:
    fields: dict[str, Any] = {
        "role": Role.PARTICIPANT,
        "room": "ABC234",
        "template_id": "participatiescan",
        "participant_token": "t" * limits.TOKEN_MIN_CHARS,
        "org_type": None,
        "ratings": (),
        "notes": (),
        "dots": (),
        "max_seq": 0,
        "server_time": 1_700_000_000_000,
        "state": a_room_state(),
    }
    return Welcome(**{**fields, **changes})


def test_hand_built_messages_are_complete() -> None:
    for message in (a_room_state(), a_dashboard(), a_welcome()):
        for codec in (MSGPACK, JSON):
            assert codec.decode_server(codec.encode(message)) == message


# ------------------------------------------------------------------ registries


def _concrete_subclasses(base: type[Message]) -> set[type[Message]]:
    """Every class below ``base`` with its own ``TYPE``, as its module names it.

    (``dataclass(slots=True)`` replaces each class; the discarded originals
    linger in ``__subclasses__`` until collected.)
    """
    found: set[type[Message]] = set()
    for sub in base.__subclasses__():
        if "TYPE" in vars(sub) and getattr(sys.modules[sub.__module__], sub.__name__, None) is sub:
            found.add(sub)
        found |= _concrete_subclasses(sub)
    return found


def test_registries_hold_every_message_class_under_its_tag() -> None:
    assert set(CLIENT_MESSAGES.values()) == _concrete_subclasses(ClientMessage)
    assert set(SERVER_MESSAGES.values()) == _concrete_subclasses(ServerMessage)
    for registry in (CLIENT_MESSAGES, SERVER_MESSAGES):
        assert all(tag == cls.TYPE for tag, cls in registry.items())
    assert not set(CLIENT_MESSAGES) & set(SERVER_MESSAGES)


def nested_types() -> set[type]:
    """Every dataclass used inside a message, however deep."""
    found: set[type] = set()
    pending: list[type] = [*CLIENT_MESSAGES.values(), *SERVER_MESSAGES.values()]
    while pending:
        for hint in typing.get_type_hints(pending.pop()).values():
            for part in _type_parts(hint):
                if dataclasses.is_dataclass(part) and isinstance(part, type) and part not in found:
                    found.add(part)
                    pending.append(part)
    return found


def _type_parts(hint: object) -> list[object]:
    return [hint, *(part for arg in typing.get_args(hint) for part in _type_parts(arg))]


def test_every_message_class_has_a_strategy() -> None:
    registered = set(CLIENT_MESSAGES.values()) | set(SERVER_MESSAGES.values())
    assert set(MESSAGE_STRATEGIES) == registered
    assert set(PART_STRATEGIES) == nested_types()


ALL_STRATEGIES = {**PART_STRATEGIES, **MESSAGE_STRATEGIES}


@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (cls, field.name)
        for cls in ALL_STRATEGIES
        for field in dataclasses.fields(cls)
        if field.default is not dataclasses.MISSING
    ],
    ids=lambda x: getattr(x, "__name__", x),
)
def test_strategies_set_the_fields_that_have_a_default(cls: type, name: str) -> None:
    """``st.builds`` leaves a defaulted field at its default unless told: tell it."""
    default = next(f.default for f in dataclasses.fields(cls) if f.name == name)
    found = find(
        ALL_STRATEGIES[cls],
        lambda m: getattr(m, name) != default,
        # The first example found will do: shrinking long texts costs seconds.
        settings=settings(
            max_examples=500, deadline=None, database=None, phases=[HypothesisPhase.generate]
        ),
    )
    assert getattr(found, name) != default


def test_senders_and_commands() -> None:
    for cls in CLIENT_MESSAGES.values():
        assert cls.SENDERS, cls
        assert issubclass(cls, Command) or cls is Join, cls
    assert frozenset(Role) == Join.SENDERS


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize(
    "cls",
    [*CLIENT_MESSAGES.values(), *SERVER_MESSAGES.values()],
    ids=lambda cls: cls.TYPE,
)
@ROUND_TRIP
@given(data=st.data())
def test_every_message_round_trips_through_both_codecs(
    cls: type[Message], data: st.DataObject
) -> None:
    message = data.draw(MESSAGE_STRATEGIES[cls])
    assert type(message) is cls
    for codec in (MSGPACK, JSON):
        frame = codec.encode(message)
        assert isinstance(frame, bytes if codec.binary else str)
        assert decoder(codec, message)(frame) == message


@FUZZ
@given(message=client_messages)
def test_every_valid_client_message_fits_in_a_frame(message: ClientMessage) -> None:
    # Else the server would refuse (1009) a message its own classes call valid.
    for codec in (MSGPACK, JSON):
        assert utf8_size(codec.encode(message)) <= limits.MAX_FRAME_BYTES


#: A character that takes four bytes in UTF-8.
_WIDE = "\U0001f600"


@pytest.mark.parametrize(
    "message",
    [
        PutNote(limits.MAX_SEQ, "n" * limits.ID_MAX_CHARS, _WIDE * limits.MAX_NOTE_CHARS, "s" * 32),
        PutAgendaItem(
            limits.MAX_SEQ, "i" * limits.ID_MAX_CHARS, _WIDE * limits.MAX_AGENDA_TEXT_CHARS,
            _WIDE * limits.MAX_AGENDA_OWNER_CHARS, "2025-12-31", "s" * 32,
            "n" * limits.ID_MAX_CHARS, limits.MAX_AGENDA_ITEMS,
        ),
        PutNoteGroup(
            limits.MAX_SEQ, "g" * limits.ID_MAX_CHARS, _WIDE * limits.MAX_GROUP_TITLE_CHARS,
            tuple(f"{i:032d}" for i in range(limits.MAX_NOTES_PER_GROUP)),
        ),
        PutNote(1, "note-0001", '"\\' * (limits.MAX_NOTE_CHARS // 2), None),  # JSON escapes
    ],
    ids=["note", "agenda-item", "note-group", "escapes"],
)  # fmt: skip
def test_the_largest_client_messages_fit_in_a_frame(message: ClientMessage) -> None:
    for codec in (MSGPACK, JSON):
        assert utf8_size(codec.encode(message)) <= limits.MAX_FRAME_BYTES


@BOTH
def test_a_large_dashboard_round_trips(codec: Codec) -> None:
    """Server messages are not bound by the client's frame limit.

    A dashboard with 50 long notes is over 16 KiB; the client (which reads
    with ``max_size=None``) must still decode it.
    """
    notes = tuple(WallNote(f"note-{i:05d}", "x" * 400, None, False) for i in range(50))
    dashboard = a_dashboard(phase=Phase.BRAINSTORM, revealed=True, participants=60, notes=notes)
    frame = codec.encode(dashboard)
    assert utf8_size(frame) > limits.MAX_FRAME_BYTES
    assert codec.decode_server(frame) == dashboard


def test_wire_form_is_the_tagged_envelope() -> None:
    message = Rate(3, "norm-a", None)
    expected = {
        "type": "rate",
        "seq": 3,
        "norm_id": "norm-a",
        "value": None,
        "round": 1,
        "question": "current",
        "reassert": False,
    }
    assert msgpack.unpackb(MSGPACK.encode(message)) == expected
    frame = JSON.encode(message)
    assert isinstance(frame, str) and json.loads(frame) == expected
    assert " " not in frame  # compact separators


def test_choose_codec_takes_the_first_known_subprotocol() -> None:
    assert choose_codec(["x", "kleur.v1.json", "kleur.v1.msgpack"]) is JSON
    assert choose_codec(["kleur.v1.msgpack", "kleur.v1.json"]) is MSGPACK
    assert choose_codec(["kleur.v2.msgpack", "json"]) is None
    assert choose_codec([]) is None
    assert CODECS == {"kleur.v1.msgpack": MSGPACK, "kleur.v1.json": JSON}
    assert MSGPACK.binary and not JSON.binary


# ------------------------------------------------------------------ fuzzing


def _accepts_or_refuses(codec: Codec, frame: bytes | str, side: str) -> None:
    """Decode ``frame``; only ProtocolError may escape, and what decodes is valid."""
    decode = codec.decode_client if side == "client" else codec.decode_server
    registry: dict[str, Any] = CLIENT_MESSAGES if side == "client" else SERVER_MESSAGES
    try:
        message = decode(frame)
    except ProtocolError as error:
        assert isinstance(error.code, ErrorCode)
        return
    assert type(message) in registry.values()
    for other in (MSGPACK, JSON):  # a decoded message is as good as a constructed one
        again = other.decode_client if side == "client" else other.decode_server
        assert again(other.encode(message)) == message


SIDES = pytest.mark.parametrize("side", ["client", "server"])


@SIDES
@FUZZ
@given(frame=st.binary(max_size=200) | st.text(max_size=200))
def test_arbitrary_frames_raise_only_protocol_error(side: str, frame: bytes | str) -> None:
    for codec in (MSGPACK, JSON):
        _accepts_or_refuses(codec, frame, side)


ALL_TAGS = sorted({*CLIENT_MESSAGES, *SERVER_MESSAGES})


def _field_names() -> list[str]:
    names: set[str] = set()
    for cls in (*CLIENT_MESSAGES.values(), *SERVER_MESSAGES.values(), *nested_types()):
        names |= {field.name for field in dataclasses.fields(cls)}
    return sorted(names)


FIELD_NAMES = _field_names()

_leaves = (
    st.none()
    | st.booleans()
    | st.floats()  # NaN and infinities (JSON: NaN/Infinity tokens)
    | st.sampled_from([0, 1, -1, limits.MAX_SEQ, limits.MAX_SEQ + 1, 0.5, True, False])
    | st.text(max_size=24)
    | st.sampled_from(ALL_TAGS + [p.value for p in Phase] + [r.value for r in Role])
    | room_codes
    | client_ids
    | slugs
)
_json_leaves = _leaves | st.integers(-(2**70), 2**70)
_msgpack_leaves = (
    _leaves
    | st.integers(-(2**63), 2**64 - 1)  # what msgpack can carry
    | st.binary(max_size=24)
    | st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=8))
    | st.builds(msgpack.Timestamp, st.integers(0, 2**32 - 1), st.integers(0, 999_999_999))
)


def _trees(leaves: st.SearchStrategy[Any], keys: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=12,
    )


_json_keys = st.sampled_from(FIELD_NAMES) | st.text(max_size=10)
_msgpack_keys = _json_keys | st.binary(max_size=6) | st.integers(-3, 3)
json_values = _trees(_json_leaves, _json_keys)
msgpack_values = _trees(_msgpack_leaves, _msgpack_keys)


@st.composite
def envelopes(draw: st.DrawFn, values: st.SearchStrategy[Any], keys: st.SearchStrategy[Any]) -> Any:
    """A map with a real (or random) ``type`` and random fields, or anything at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(values)
    tag = draw(st.sampled_from(ALL_TAGS) | values)
    fields = draw(st.dictionaries(keys, values, max_size=10))
    return {**fields, "type": tag}


@st.composite
def mutated_messages(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> dict[str, Any]:
    """A valid message's wire form with one place (maybe nested) replaced, dropped or added."""
    message = draw(st.one_of(*MESSAGE_STRATEGIES.values()))
    tree = envelope(message)
    places: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in list(items):
            places.append((node, key))
            if isinstance(child, dict | list):
                walk(child)

    walk(tree)
    container, key = draw(st.sampled_from(places))
    action = draw(st.sampled_from(["replace", "drop", "add"]))
    if action == "replace":
        container[key] = draw(values)
    elif action == "drop":
        del container[key]
    elif isinstance(container, dict):
        container[draw(st.sampled_from(FIELD_NAMES) | st.text(max_size=8))] = draw(values)
    else:
        container.append(draw(values))
    return tree


def _packb(value: Any) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


@SIDES
@FUZZ
@given(
    tree=envelopes(msgpack_values, _msgpack_keys) | mutated_messages(msgpack_values),
)
def test_random_msgpack_maps_raise_only_protocol_error(side: str, tree: Any) -> None:
    _accepts_or_refuses(MSGPACK, _packb(tree), side)


@SIDES
@FUZZ
@given(tree=envelopes(json_values, _json_keys) | mutated_messages(json_values))
def test_random_json_maps_raise_only_protocol_error(side: str, tree: Any) -> None:
    _accepts_or_refuses(JSON, json.dumps(tree), side)


@FUZZ
@given(message=client_messages | server_messages, data=st.data())
def test_truncated_frames_raise_only_protocol_error(message: Message, data: st.DataObject) -> None:
    side = "client" if isinstance(message, ClientMessage) else "server"
    for codec in (MSGPACK, JSON):
        frame = codec.encode(message)
        cut = data.draw(st.integers(0, max(0, len(frame) - 1)))
        _accepts_or_refuses(codec, frame[:cut], side)


def test_a_huge_json_integer_in_a_float_field_is_refused() -> None:
    """An integer too large for a float is refused, not an OverflowError."""
    state = a_room_state(phase=Phase.REVEAL, results=(NormResult("a", 1, (1,), 0, 0.5),))
    valid = JSON.encode(state)
    assert isinstance(valid, str) and valid.count('"median":0.5') == 1
    frame = valid.replace('"median":0.5', '"median":1' + "0" * 400)
    assert refused(JSON.decode_server, frame) is ErrorCode.INVALID_FIELD


# ------------------------------------------------------------------ specific frames

RATE = {"type": "rate", "seq": 1, "norm_id": "norm-a", "value": 5}
NOTE = {"type": "put_note", "seq": 1, "note_id": "note-0001", "text": "hallo", "norm_id": None}
ITEM = {
    "type": "put_agenda_item",
    "seq": 2,
    "item_id": "item-0001",
    "action": "Stagebank opzetten",
    "owner": "Gemeente",
    "deadline": "2025-06-30",
    "norm_id": None,
    "note_id": None,
    "position": 0,
}
JOIN = {"type": "join", "room": "ABC234", "role": "participant", "token": None, "join_token": None}
DOTS = {"type": "set_dot_voting", "seq": 3, "state": "open", "dots_per_participant": 3,
        "max_per_note": 2}  # fmt: skip
VOTE = {"type": "dot_vote", "seq": 4, "note_id": "note-0001", "dots": 2}
GROUP = {"type": "put_note_group", "seq": 5, "group_id": "group-001", "title": "Stages",
         "note_ids": ["note-0001", "note-0002"]}  # fmt: skip
TIMER = {"type": "set_timer", "seq": 6, "seconds": 300}


def frame_for(codec: Codec, value: Any) -> bytes | str:
    return _packb(value) if codec.binary else json.dumps(value, ensure_ascii=False)


def test_a_json_text_frame_on_the_msgpack_codec_is_a_bad_frame() -> None:
    assert refused(MSGPACK.decode_client, json.dumps(RATE)) is ErrorCode.BAD_FRAME


def test_a_binary_frame_on_the_json_codec_is_a_bad_frame() -> None:
    assert refused(JSON.decode_client, _packb(RATE)) is ErrorCode.BAD_FRAME
    # Even when the bytes are valid JSON: the frame type decides.
    assert refused(JSON.decode_client, json.dumps(RATE).encode()) is ErrorCode.BAD_FRAME


@BOTH
@pytest.mark.parametrize(
    ("value", "code"),
    [
        ([RATE], ErrorCode.BAD_FRAME),  # not a map
        ("rate", ErrorCode.BAD_FRAME),
        (None, ErrorCode.BAD_FRAME),
        ({"seq": 1, "norm_id": "norm-a", "value": 5}, ErrorCode.BAD_FRAME),  # no type
        ({**RATE, "type": 7}, ErrorCode.BAD_FRAME),  # type not a string
        ({**RATE, "type": None}, ErrorCode.BAD_FRAME),
        ({**RATE, "type": "launch_missiles"}, ErrorCode.UNKNOWN_TYPE),
        ({**RATE, "type": "RATE"}, ErrorCode.UNKNOWN_TYPE),  # tags are case-sensitive
        ({"type": "ack", "seq": 1, "duplicate": False}, ErrorCode.UNKNOWN_TYPE),  # server's
        ({**RATE, "extra": 1}, ErrorCode.INVALID_FIELD),
        ({k: v for k, v in RATE.items() if k != "value"}, ErrorCode.INVALID_FIELD),  # missing
        ({**RATE, "seq": True}, ErrorCode.INVALID_FIELD),  # bool is not an int
        ({**RATE, "value": False}, ErrorCode.INVALID_FIELD),
        ({**RATE, "seq": 1.0}, ErrorCode.INVALID_FIELD),  # a float is not an int
        ({**RATE, "value": "7"}, ErrorCode.INVALID_FIELD),
        ({**RATE, "seq": 0}, ErrorCode.INVALID_FIELD),
        ({**RATE, "seq": -1}, ErrorCode.INVALID_FIELD),
        ({**RATE, "seq": limits.MAX_SEQ + 1}, ErrorCode.INVALID_FIELD),
        ({**RATE, "value": limits.MAX_SEQ + 1}, ErrorCode.INVALID_FIELD),
        ({**RATE, "round": 0}, ErrorCode.INVALID_FIELD),
        ({**RATE, "round": 1001}, ErrorCode.INVALID_FIELD),
        ({**RATE, "round": "1"}, ErrorCode.INVALID_FIELD),
        ({**RATE, "round": None}, ErrorCode.INVALID_FIELD),
        ({**RATE, "norm_id": "Norm-A"}, ErrorCode.INVALID_FIELD),
        ({**RATE, "norm_id": "-norm"}, ErrorCode.INVALID_FIELD),
        ({**RATE, "norm_id": "n" * 33}, ErrorCode.INVALID_FIELD),
        ({"type": "set_lock", "seq": 1, "locked": 1}, ErrorCode.INVALID_FIELD),  # int as bool
        ({"type": "set_phase", "seq": 1, "phase": "intermission"}, ErrorCode.INVALID_FIELD),
        ({"type": "set_phase", "seq": 1, "phase": "REVEAL"}, ErrorCode.INVALID_FIELD),
        ({**JOIN, "room": "abc234"}, ErrorCode.INVALID_FIELD),  # codes are upper case
        ({**JOIN, "room": "ABC10O"}, ErrorCode.INVALID_FIELD),  # no look-alikes
        ({**JOIN, "room": "ABC2345"}, ErrorCode.INVALID_FIELD),
        ({**JOIN, "role": "admin"}, ErrorCode.INVALID_FIELD),
        ({**JOIN, "role": "facilitator"}, ErrorCode.INVALID_FIELD),  # no token
        ({**JOIN, "token": "short"}, ErrorCode.INVALID_FIELD),
        ({**JOIN, "token": "a" * 21}, ErrorCode.INVALID_FIELD),
        ({**JOIN, "token": "a" * 65}, ErrorCode.INVALID_FIELD),
        ({**JOIN, "join_token": "a/" * 16}, ErrorCode.INVALID_FIELD),
        ({**JOIN, "device": "tab"}, ErrorCode.INVALID_FIELD),
        ({**NOTE, "note_id": "a" * 7}, ErrorCode.INVALID_FIELD),
        ({**NOTE, "note_id": "a" * 33}, ErrorCode.INVALID_FIELD),
        ({**NOTE, "note_id": "note.0001"}, ErrorCode.INVALID_FIELD),
        ({**NOTE, "text": ""}, ErrorCode.INVALID_TEXT),
        ({**NOTE, "text": " \n\t "}, ErrorCode.INVALID_TEXT),
        ({**NOTE, "text": "\u200b\u200d\ufeff\u2060 "}, ErrorCode.INVALID_TEXT),  # invisible only
        ({**NOTE, "text": "\u3164\u2800"}, ErrorCode.INVALID_TEXT),  # fillers only
        ({**NOTE, "text": "idee \ufffe"}, ErrorCode.INVALID_TEXT),  # noncharacters
        ({**NOTE, "text": "idee \uffff"}, ErrorCode.INVALID_TEXT),
        ({**NOTE, "text": "idee \ufdd0"}, ErrorCode.INVALID_TEXT),
        ({**NOTE, "text": "idee \U0010fffe"}, ErrorCode.INVALID_TEXT),
        ({**ITEM, "action": "actie \ufffe"}, ErrorCode.INVALID_TEXT),
        ({**ITEM, "owner": "\u200b"}, ErrorCode.INVALID_TEXT),
        ({**ITEM, "action": "\ufeff"}, ErrorCode.INVALID_TEXT),
        ({**NOTE, "text": "x" * (limits.MAX_NOTE_CHARS + 1)}, ErrorCode.INVALID_FIELD),
        ({**NOTE, "text": "e\u0301"}, ErrorCode.INVALID_FIELD),  # not NFC
        ({**NOTE, "text": "bel\x07"}, ErrorCode.INVALID_FIELD),
        ({**NOTE, "text": "cr\r\nlf"}, ErrorCode.INVALID_FIELD),
        ({**NOTE, "text": "c1\x85"}, ErrorCode.INVALID_FIELD),
        ({**NOTE, "text": ["list"]}, ErrorCode.INVALID_FIELD),
        ({**ITEM, "deadline": "2025-02-30"}, ErrorCode.INVALID_FIELD),
        ({**ITEM, "deadline": "20250630"}, ErrorCode.INVALID_FIELD),
        ({**ITEM, "deadline": "30-06-2025"}, ErrorCode.INVALID_FIELD),
        ({**ITEM, "action": " "}, ErrorCode.INVALID_TEXT),
        ({**ITEM, "owner": "o" * (limits.MAX_AGENDA_OWNER_CHARS + 1)}, ErrorCode.INVALID_FIELD),
        ({**ITEM, "position": -1}, ErrorCode.INVALID_FIELD),
        ({**ITEM, "position": limits.MAX_AGENDA_ITEMS + 1}, ErrorCode.INVALID_FIELD),
        ({**ITEM, "note_id": "x"}, ErrorCode.INVALID_FIELD),
        ({**DOTS, "state": "maybe"}, ErrorCode.INVALID_FIELD),
        ({**DOTS, "dots_per_participant": 0, "max_per_note": 0}, ErrorCode.INVALID_FIELD),
        ({**DOTS, "dots_per_participant": limits.MAX_DOTS_PER_PARTICIPANT + 1},
         ErrorCode.INVALID_FIELD),
        ({**DOTS, "max_per_note": 4}, ErrorCode.INVALID_FIELD),  # more than the dots
        ({**DOTS, "max_per_note": 0}, ErrorCode.INVALID_FIELD),
        ({**VOTE, "dots": -1}, ErrorCode.INVALID_FIELD),
        ({**VOTE, "dots": limits.MAX_DOTS_PER_PARTICIPANT + 1}, ErrorCode.INVALID_FIELD),
        ({**VOTE, "dots": True}, ErrorCode.INVALID_FIELD),
        ({**GROUP, "title": ""}, ErrorCode.INVALID_TEXT),
        ({**GROUP, "title": "t" * (limits.MAX_GROUP_TITLE_CHARS + 1)}, ErrorCode.INVALID_FIELD),
        ({**GROUP, "note_ids": "note-0001"}, ErrorCode.INVALID_FIELD),  # not a list
        ({**GROUP, "note_ids": ["short"]}, ErrorCode.INVALID_FIELD),
        ({**GROUP, "note_ids": [f"note-{i:04d}" for i in range(limits.MAX_NOTES_PER_GROUP + 1)]},
         ErrorCode.INVALID_FIELD),
        ({**TIMER, "seconds": 0}, ErrorCode.INVALID_FIELD),
        ({**TIMER, "seconds": limits.MAX_TIMER_SECONDS + 1}, ErrorCode.INVALID_FIELD),
        ({**TIMER, "seconds": 1.5}, ErrorCode.INVALID_FIELD),
    ],
)  # fmt: skip
def test_refused_frames_carry_the_documented_code(
    codec: Codec, value: Any, code: ErrorCode
) -> None:
    assert refused(codec.decode_client, frame_for(codec, value)) is code


def test_a_lone_surrogate_in_a_text_is_refused() -> None:
    # Only JSON can carry one ("\\ud800"); msgpack's strings are UTF-8.  The
    # decoder refuses it in any string; check_text, which texts from HTTP
    # (a session's name) meet too, refuses it as text.
    frame = json.dumps({**NOTE, "text": "idee \ud800"})
    assert refused(JSON.decode_client, frame) is ErrorCode.INVALID_FIELD
    with pytest.raises(ProtocolError) as error:
        check_text("idee \ud800", "text", 500)
    assert error.value.code is ErrorCode.INVALID_TEXT


@BOTH
@pytest.mark.parametrize(
    "value",
    [
        RATE,
        {**RATE, "value": None},
        {**RATE, "seq": limits.MAX_SEQ},
        {**RATE, "norm_id": "n" * 32},
        {**RATE, "round": 1000},
        JOIN,
        {**JOIN, "role": "facilitator", "token": "F" * 22},
        {**JOIN, "token": "a" * 64, "join_token": "_-" * 11},
        {**JOIN, "role": "facilitator", "token": "F" * 22, "device": "tab-0001"},
        {**NOTE, "text": "x" * limits.MAX_NOTE_CHARS},
        {**NOTE, "text": "regel één\n\tregel twee", "norm_id": "0"},
        {**NOTE, "note_id": "a" * 8},
        {**NOTE, "note_id": "Z_-" * 10 + "zz"},
        ITEM,
        {**ITEM, "owner": "", "deadline": None, "position": limits.MAX_AGENDA_ITEMS},
        {**ITEM, "deadline": "2024-02-29"},
        DOTS,
        {**DOTS, "state": "shown", "dots_per_participant": 1, "max_per_note": 1},
        {**DOTS, "dots_per_participant": limits.MAX_DOTS_PER_PARTICIPANT, "max_per_note": 10},
        {**VOTE, "dots": 0},
        {**VOTE, "dots": limits.MAX_DOTS_PER_PARTICIPANT},
        GROUP,
        {**GROUP, "note_ids": []},
        {**GROUP, "note_ids": [f"note-{i:04d}" for i in range(limits.MAX_NOTES_PER_GROUP)]},
        TIMER,
        {**TIMER, "seconds": None},
        {**TIMER, "seconds": 1},
        {**TIMER, "seconds": limits.MAX_TIMER_SECONDS},
    ],
)
def test_boundary_frames_are_accepted(codec: Codec, value: Any) -> None:
    message = codec.decode_client(frame_for(codec, value))
    # Fields with a default may be left out; the others come back as sent.
    assert {k: v for k, v in envelope(message).items() if k in value} == value


@BOTH
def test_a_rating_without_its_round_is_for_round_one(codec: Codec) -> None:
    assert codec.decode_client(frame_for(codec, RATE)) == Rate(1, "norm-a", 5, 1)
    with_round = codec.decode_client(frame_for(codec, {**RATE, "round": 2}))
    assert with_round == Rate(1, "norm-a", 5, 2)


@pytest.mark.parametrize(
    "cls",
    [*CLIENT_MESSAGES.values(), *SERVER_MESSAGES.values()],
    ids=lambda cls: cls.TYPE,
)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_only_fields_with_a_default_may_be_left_out(
    cls: type[Message], data: st.DataObject
) -> None:
    message = data.draw(MESSAGE_STRATEGIES[cls])
    wire = envelope(message)
    for field in dataclasses.fields(message):
        partial = {k: v for k, v in wire.items() if k != field.name}
        for codec in (MSGPACK, JSON):
            frame = frame_for(codec, partial)
            decode = decoder(codec, message)
            if field.default is dataclasses.MISSING:
                assert refused(decode, frame) is ErrorCode.INVALID_FIELD
            else:
                assert getattr(decode(frame), field.name) == field.default


@pytest.mark.parametrize(
    "frame",
    [
        '{"type":"rate","seq":1,"norm_id":"norm-a","value":NaN}',
        '{"type":"rate","seq":1,"norm_id":"norm-a","value":Infinity}',
        '{"type":"rate","seq":1,"norm_id":"norm-a","value":-Infinity}',
        '{"type":"rate","seq":1,"norm_id":"norm-a","value":5',  # truncated
        '{"type":"rate","seq":1,"norm_id":"norm-a","value":5}}',  # trailing data
        "{'type':'rate'}",
        "",
        "\ufeff" + json.dumps(RATE),  # a byte order mark is not JSON
    ],
)
def test_json_that_is_not_strict_json_is_a_bad_frame(frame: str) -> None:
    assert refused(JSON.decode_client, frame) is ErrorCode.BAD_FRAME


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\xc1",  # never used in msgpack
        _packb(RATE)[:-1],
        _packb(RATE) + b"\x00",  # trailing data
        _packb({1: "int key", "type": "rate"}),
        _packb({b"type": b"rate"}),  # bytes, not strings
        _packb(msgpack.ExtType(1, b"x")),
    ],
)
def test_bad_msgpack_is_a_bad_frame(frame: bytes) -> None:
    assert refused(MSGPACK.decode_client, frame) is ErrorCode.BAD_FRAME


def test_nan_and_infinity_in_a_msgpack_float_field_are_invalid() -> None:
    state = envelope(a_room_state(phase=Phase.REVEAL))
    result = {"norm_id": "a", "received": 1, "counts": [1], "dont_know": 0}
    for bad in (math.nan, math.inf, -math.inf):
        frame = _packb({**state, "results": [{**result, "median": bad}]})
        assert refused(MSGPACK.decode_server, frame) is ErrorCode.INVALID_FIELD
    # An integer is a number: it comes back as a float.
    frame = _packb({**state, "results": [{**result, "median": 3}]})
    decoded = MSGPACK.decode_server(frame)
    assert isinstance(decoded, RoomState) and decoded.results is not None
    assert decoded.results[0].median == 3.0 and isinstance(decoded.results[0].median, float)


def test_bytes_where_a_string_belongs_are_invalid() -> None:
    frame = _packb({**NOTE, "text": b"hallo"})
    assert refused(MSGPACK.decode_client, frame) is ErrorCode.INVALID_FIELD


def test_nested_maps_are_checked_like_messages() -> None:
    wire = envelope(a_welcome())
    for state in (
        {**wire["state"], "extra": 1},
        {k: v for k, v in wire["state"].items() if k != "round"},
        {**wire["state"], "phase": "nope"},
        [wire["state"]],
        "lobby",
    ):
        for codec in (MSGPACK, JSON):
            frame = frame_for(codec, {**wire, "state": state})
            assert refused(codec.decode_server, frame) is ErrorCode.INVALID_FIELD


@BOTH
def test_a_frame_over_the_limit_is_a_bad_frame(codec: Codec) -> None:
    if codec.binary:
        frame: bytes | str = _packb({**NOTE, "text": "x" * limits.MAX_FRAME_BYTES})
    else:
        frame = json.dumps(RATE) + " " * limits.MAX_FRAME_BYTES
    assert len(frame) > limits.MAX_FRAME_BYTES
    assert refused(codec.decode_client, frame) is ErrorCode.BAD_FRAME


def test_a_json_frame_of_exactly_the_limit_is_decoded() -> None:
    text = json.dumps(RATE)
    frame = text + " " * (limits.MAX_FRAME_BYTES - len(text))
    assert len(frame) == limits.MAX_FRAME_BYTES
    assert JSON.decode_client(frame) == Rate(1, "norm-a", 5)


# -- regressions: each of these was accepted once --


@BOTH
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("note_id", "abcdefgh\n"),
        ("norm_id", "norm-a\n"),
    ],
)
def test_a_trailing_newline_does_not_slip_past_the_id_patterns(
    codec: Codec, field: str, value: str
) -> None:
    """``re.match`` with ``$`` also matches before a final newline: use ``fullmatch``."""
    frame = frame_for(codec, {**NOTE, field: value})
    assert refused(codec.decode_client, frame) is ErrorCode.INVALID_FIELD


@BOTH
def test_a_trailing_newline_does_not_slip_past_room_and_token_patterns(codec: Codec) -> None:
    for join in ({**JOIN, "room": "ABC234\n"}, {**JOIN, "token": "a" * 22 + "\n"}):
        frame = frame_for(codec, join)
        assert refused(codec.decode_client, frame) is ErrorCode.INVALID_FIELD


@pytest.mark.parametrize("field", ["deadline", "follow_up"])
@pytest.mark.parametrize(
    "value", ["2025-W01-1", "2025-001", "+2025-01-01", "\uff12\uff10\uff12\uff15-01-01"]
)
def test_only_a_calendar_date_is_a_date(field: str, value: str) -> None:
    """``date.fromisoformat`` (3.11) takes "2025-W01-1", which is ten characters long."""
    frame = json.dumps({**ITEM, field: value})
    assert refused(JSON.decode_client, frame) is ErrorCode.INVALID_FIELD


def test_a_lone_surrogate_in_json_text_is_refused() -> None:
    r"""JSON can spell a lone surrogate ("\ud800"); it cannot be encoded again.

    Once accepted: the note then failed in Redis (INTERNAL), and an agenda item
    (stored JSON-escaped) broke every later msgpack dashboard of the room.
    """
    for frame in (
        json.dumps({**NOTE, "text": "a\ud800"}),
        json.dumps({**ITEM, "action": "b\udfff"}),
        json.dumps({**ITEM, "owner": "\ud83d"}),
        json.dumps({**GROUP, "title": "\udc00x"}),
        json.dumps({**ITEM, "note_id": "\ud800" * 8}),
    ):
        assert refused(JSON.decode_client, frame) is ErrorCode.INVALID_FIELD


# ------------------------------------------------------------------ text helpers


@FUZZ
@given(typed=st.text(limits.ROOM_CODE_ALPHABET.lower() + " \t", max_size=12))
def test_normalize_room_code(typed: str) -> None:
    code = normalize_room_code(typed)
    assert code == "".join(typed.split()).upper()
    assert not any(ch.isspace() for ch in code)


#: Letters, combining marks, controls and spaces: where normalising goes wrong.
_messy_chars = st.sampled_from("ae\u00e9 \t\n\r\x00\x07\x85\u0301\u0308")


@FUZZ
@given(text=st.text(_messy_chars, max_size=12) | st.text(max_size=40))
@example(text="e\x00\u0301")
def test_normalize_text_gives_what_check_text_accepts(text: str) -> None:
    """Dropping a control character after NFC could leave non-NFC text
    ("e\x00\u0301" became "e\u0301"), which ``check_text`` then refused."""
    cleaned = normalize_text(text)
    if cleaned and len(cleaned) <= limits.MAX_NOTE_CHARS:
        check_text(cleaned, "text", limits.MAX_NOTE_CHARS)


def test_normalize_text_example() -> None:
    assert normalize_text("  Cafe\u0301\x00 \n") == "Café"


# ------------------------------------------------------------------ errors and close codes


def test_error_codes_are_distinct_snake_case() -> None:
    values = [code.value for code in ErrorCode]
    assert len(values) == len(set(values))
    assert all(value.islower() and " " not in value for value in values)
    retryable = {ErrorCode.RATE_LIMITED, ErrorCode.STORE_UNAVAILABLE, ErrorCode.ROOM_LOST}
    assert retryable == RETRYABLE_ERRORS


def test_protocol_error_carries_its_code() -> None:
    error = ProtocolError(ErrorCode.TOO_MANY, "limit reached")
    assert (error.code, error.detail, str(error)) == (
        ErrorCode.TOO_MANY,
        "limit reached",
        "too_many: limit reached",
    )


@pytest.mark.parametrize("code", list(CloseCode), ids=lambda c: c.name)
def test_should_reconnect_follows_the_documented_ranges(code: CloseCode) -> None:
    if 4000 <= code <= 4499:
        assert should_reconnect(code) is False
    elif 4500 <= code <= 4999:
        assert should_reconnect(code) is True
    else:
        # Standard codes: only "normal" and "too big" (it would happen again) stop the client.
        assert code < 3000
        expected = code not in (CloseCode.NORMAL, CloseCode.MESSAGE_TOO_BIG)
        assert should_reconnect(code) is expected


@given(code=st.integers(4000, 4999))
def test_should_reconnect_for_every_private_code(code: int) -> None:
    assert should_reconnect(code) is (code >= 4500)


@pytest.mark.parametrize("code", [1002, 1003, 1007, 1008])
def test_should_not_reconnect_after_a_policy_violation(code: int) -> None:
    assert should_reconnect(code) is False


def test_close_code_table() -> None:
    no = {c for c in CloseCode if 4000 <= c <= 4499}
    yes = {c for c in CloseCode if 4500 <= c <= 4999}
    assert {c.name for c in no} == {
        "JOIN_EXPECTED",
        "UNSUPPORTED_SUBPROTOCOL",
        "ROOM_NOT_FOUND",
        "ROOM_FULL",
        "PROTOCOL_VIOLATION",
        "TOO_MANY_FAILED_JOINS",
    }
    assert {c.name for c in yes} == {
        "SERVER_SHUTDOWN",
        "SLOW_CONSUMER",
        "STORE_UNAVAILABLE",
        "ROOM_REBUILT",
        "ROOM_LOST",
        "RATE_LIMITED",
        "TOO_MANY_CONNECTIONS",
    }


@pytest.mark.parametrize(
    "text",
    ["", "kort", "a" * 200, "é" * 100, "€" * 50, "😀" * 40, "a😀" * 30, "x\ud800" * 70],
)
def test_close_reason_is_cut_by_bytes_on_a_character_boundary(text: str) -> None:
    from protocol.close_codes import MAX_CLOSE_REASON_BYTES, close_reason

    reason = close_reason(text)
    encoded = reason.encode("utf-8")  # strict: no lone surrogate is left
    assert len(encoded) <= MAX_CLOSE_REASON_BYTES
    expected = text.encode("utf-8", "replace")
    assert expected.startswith(encoded)
    # Cut as late as a character boundary allows: at most 3 bytes short.
    assert len(encoded) >= min(len(expected), MAX_CLOSE_REASON_BYTES - 3)


def test_the_json_size_check_counts_bytes_not_characters() -> None:
    # Under MAX_FRAME_BYTES in characters, over it in UTF-8 bytes.
    text = "€" * (limits.MAX_FRAME_BYTES // 3 + 10)
    frame = json.dumps({**NOTE, "text": text}, ensure_ascii=False)
    assert len(frame) < limits.MAX_FRAME_BYTES < len(frame.encode())
    with pytest.raises(ProtocolError) as error:
        JSON.decode_client(frame)
    assert (error.value.code, error.value.detail) == (ErrorCode.BAD_FRAME, "frame too large")
    # The same number of ASCII characters is within the limit (then refused for its length).
    ascii_frame = json.dumps({**NOTE, "text": "e" * len(text)})
    assert len(ascii_frame.encode()) < limits.MAX_FRAME_BYTES
    with pytest.raises(ProtocolError) as ascii_error:
        JSON.decode_client(ascii_frame)
    assert ascii_error.value.detail != "frame too large"


# -------------------------------------------------------------- admission


@pytest.mark.parametrize("codec", [MSGPACK, JSON], ids=["msgpack", "json"])
def test_admission_commands_check_their_fields(codec: Codec) -> None:
    admit = Admit(seq=3, code="K7Q")
    assert codec.decode_client(codec.encode(admit)) == admit
    for bad in ("k7q", "K7", "K7QQ", "O0I"):  # lower case, length, letters never used
        with pytest.raises(ProtocolError) as caught:
            Admit(seq=1, code=bad)
        assert caught.value.code is ErrorCode.INVALID_FIELD
    for number in (limits.MIN_EXPECTED_PEOPLE - 1, limits.MAX_EXPECTED_PEOPLE + 1):
        with pytest.raises(ProtocolError):
            SetExpectedPeople(seq=1, expected=number)
    assert {Role.FACILITATOR} == SetAdmission(seq=1, enabled=False).SENDERS


def test_a_welcome_says_whether_the_device_waits() -> None:
    welcome = a_welcome(admitted=False, device_code="K7Q")
    for codec in (MSGPACK, JSON):
        assert codec.decode_server(codec.encode(welcome)) == welcome
