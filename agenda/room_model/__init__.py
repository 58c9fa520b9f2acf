"""The pure room model: a room's whole stored state, and what every command does to it.

``apply(state, command) -> (outcome, new state)``, no I/O.  The outcome is
the status the command's Lua script (``server/lua/``) returns: ``'ok'``,
``'dup'`` or a refusal.  The scripts are the atomic storage of the same
moves; ``tests/test_store_vs_model.py`` drives both with the same random
commands and requires the same outcome and the same stored state after every
step, so the model is the oracle for the scripts.

Which command is allowed in which phase comes from ``agenda.phases`` (the
one table); the phase move itself is computed there too (``next_phase``) and
arrives here as ``SetPhase(expected, phase, round)``, as the script gets it.

Modules: ``state`` (the values), ``commands``, ``room`` (create, phase, lock,
timer), ``admission`` (join, the waiting list), ``ratings``, ``notes`` (notes,
moderation, groups), ``dots``, ``agenda_items``, ``heal`` (lost hashes, the
rebuild, a new epoch), ``stored`` (the state as Redis's strings).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agenda.room_model import admission, agenda_items, dots, heal, notes, ratings, room
from agenda.room_model.commands import (
    Admit,
    Command,
    CreateRoom,
    DotVote,
    HideNote,
    Join,
    NewEpoch,
    PutAgendaItem,
    PutNote,
    PutNoteGroup,
    Rate,
    Rebuild,
    RemoveAgendaItem,
    RemoveNoteGroup,
    SetAdmission,
    SetDotVoting,
    SetExpectedPeople,
    SetFollowUpStatus,
    SetLock,
    SetModeration,
    SetOrg,
    SetPhase,
    SetTimer,
    WithdrawNote,
)
from agenda.room_model.state import ROOM_NOT_FOUND, RoomState

_STEPS: dict[type[Any], Callable[[RoomState, Any], tuple[str, RoomState]]] = {
    Join: admission.join,
    SetPhase: room.set_phase,
    SetLock: room.set_lock,
    SetTimer: room.set_timer,
    Rate: ratings.rate,
    SetOrg: ratings.set_org,
    PutNote: notes.put_note,
    WithdrawNote: notes.withdraw_note,
    HideNote: notes.hide_note,
    SetModeration: notes.set_moderation,
    PutNoteGroup: notes.put_note_group,
    RemoveNoteGroup: notes.remove_note_group,
    SetDotVoting: dots.set_dot_voting,
    DotVote: dots.dot_vote,
    PutAgendaItem: agenda_items.put_agenda_item,
    RemoveAgendaItem: agenda_items.remove_agenda_item,
    SetFollowUpStatus: agenda_items.set_follow_up_status,
    SetExpectedPeople: admission.set_expected_people,
    SetAdmission: admission.set_admission,
    Admit: admission.admit,
    Rebuild: heal.rebuild,
    NewEpoch: heal.new_epoch,
}


def apply(state: RoomState | None, command: Command) -> tuple[str, RoomState | None]:
    """The command's outcome and the room after it (None: there is no room).

    A refused or duplicate command returns the state it was given, unchanged.
    """
    if isinstance(command, CreateRoom):
        return room.create_room(state, command)
    if state is None:
        return ROOM_NOT_FOUND, None
    return _STEPS[type(command)](state, command)


__all__ = ["Command", "RoomState", "apply"]
