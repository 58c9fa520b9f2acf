"""Notes on the wall, their moderation, and the facilitator's note groups.

(``put_note.lua``, ``withdraw_note.lua``, ``hide_note.lua``,
``set_moderation.lua``, ``put_note_group.lua``, ``remove_note_group.lua``.)
A note's author is known only to ``owners`` and ``mine``.
"""

from __future__ import annotations

import dataclasses

from agenda.room_model.commands import (
    HideNote,
    PutNote,
    PutNoteGroup,
    RemoveNoteGroup,
    SetModeration,
    WithdrawNote,
)
from agenda.room_model.state import (
    DUP,
    OK,
    TOO_MANY,
    UNKNOWN_ITEM,
    VOTING_OPEN,
    Group,
    Note,
    RoomState,
    admission_refusal,
    bump,
    change_meta,
    drop,
    facilitator_seq,
    participant_seq,
    phase_refusal,
    put,
)
from protocol.phases import DotVoting

Result = tuple[str, RoomState]


def put_note(state: RoomState, command: PutNote) -> Result:
    """Create or edit one's own note.

    With moderation on, a new note and an edit that changes the text wait for
    the facilitator (``pending``); a hidden note stays hidden and is not pending.
    ``created`` is the room's version when the note came on the wall; an edit
    keeps it.  A withdrawn note put again (its id is still the author's) comes
    back as a new note: at the end of the wall (``created`` now, not its first
    place, which the tombstone does not keep), pending again under moderation,
    and still hidden if the facilitator had hidden it.
    """
    refused = phase_refusal(state, "put_note") or admission_refusal(state, command.pid)
    if refused:
        return refused, state
    # Adding notes closes when dot voting opens: the wall people vote on stays put.
    if state.meta.voting is DotVoting.OPEN:
        return VOTING_OPEN, state
    owner = state.owners.get(command.note_id)
    if owner is not None and owner != command.pid:
        return UNKNOWN_ITEM, state
    moderated = state.meta.moderation
    hidden, pending, created = False, moderated, state.meta.version
    old = state.notes.get(command.note_id)
    if old is not None:
        if old.seq >= command.seq:
            return DUP, state
        hidden = old.hidden
        if not old.withdrawn:
            created = old.created or 0
            if old.text == command.text or not moderated:
                pending = bool(old.pending)
        if hidden:
            pending = False
    mine = state.mine.get(command.pid, frozenset())
    if command.note_id not in mine and len(mine) >= command.max_notes:
        return TOO_MANY, state
    if old is None and len(state.notes) >= command.max_room_notes:
        return TOO_MANY, state
    note = Note(command.text, command.norm or "", hidden, command.seq, False, pending, created)
    state = dataclasses.replace(
        state,
        notes=put(state.notes, command.note_id, note),
        owners=put(state.owners, command.note_id, command.pid),
        mine=put(state.mine, command.pid, mine | {command.note_id}),
    )
    return OK, bump(participant_seq(state, command.pid, command.seq))


def withdraw_note(state: RoomState, command: WithdrawNote) -> Result:
    """The note leaves the wall; a tombstone keeps its seq (and whether it was hidden),
    so a late replay of the put that created it cannot bring it back."""
    refused = phase_refusal(state, "withdraw_note")
    if refused:
        return refused, state
    if state.owners.get(command.note_id) != command.pid:
        return UNKNOWN_ITEM, state
    old = state.notes[command.note_id]
    if old.seq >= command.seq:
        return DUP, state
    tombstone = Note("", "", old.hidden, command.seq, True, None, None)
    mine = state.mine.get(command.pid, frozenset()) - {command.note_id}
    state = dataclasses.replace(
        state,
        notes=put(state.notes, command.note_id, tombstone),
        mine=put(state.mine, command.pid, mine) if mine else drop(state.mine, command.pid),
    )
    return OK, bump(participant_seq(state, command.pid, command.seq))


def hide_note(state: RoomState, command: HideNote) -> Result:
    """Hide a note or show it; either way it leaves the moderation queue (showing a
    pending note approves it)."""
    refused = phase_refusal(state, "hide_note")
    if refused:
        return refused, state
    note = state.notes.get(command.note_id)
    if note is None or note.withdrawn:
        return UNKNOWN_ITEM, state
    noted = facilitator_seq(state, command.device, command.seq)
    if noted is None:
        return DUP, state
    note = dataclasses.replace(note, hidden=command.hidden, pending=False)
    return OK, bump(dataclasses.replace(noted, notes=put(noted.notes, command.note_id, note)))


def set_moderation(state: RoomState, command: SetModeration) -> Result:
    """Off lets every note still waiting through: nothing stays stuck."""
    refused = phase_refusal(state, "set_moderation")
    if refused:
        return refused, state
    noted = facilitator_seq(state, command.device, command.seq)
    if noted is None:
        return DUP, state
    state = change_meta(noted, moderation=command.enabled)
    if not command.enabled:
        notes = {
            note_id: dataclasses.replace(note, pending=False) if note.pending else note
            for note_id, note in state.notes.items()
        }
        state = dataclasses.replace(state, notes=notes)
    return OK, bump(state)


def put_note_group(state: RoomState, command: PutNoteGroup) -> Result:
    """A group names only notes on the wall (hidden ones count, withdrawn ones not)."""
    refused = phase_refusal(state, "put_note_group")
    if refused:
        return refused, state
    if command.group_id not in state.groups and len(state.groups) >= command.max_groups:
        return TOO_MANY, state
    for note_id in command.note_ids:
        note = state.notes.get(note_id)
        if note is None or not note.live:
            return UNKNOWN_ITEM, state
    noted = facilitator_seq(state, command.device, command.seq)
    if noted is None:
        return DUP, state
    group = Group(command.title, command.note_ids)
    return OK, bump(dataclasses.replace(noted, groups=put(noted.groups, command.group_id, group)))


def remove_note_group(state: RoomState, command: RemoveNoteGroup) -> Result:
    refused = phase_refusal(state, "remove_note_group")
    if refused:
        return refused, state
    if command.group_id not in state.groups:
        return UNKNOWN_ITEM, state
    noted = facilitator_seq(state, command.device, command.seq)
    if noted is None:
        return DUP, state
    return OK, bump(dataclasses.replace(noted, groups=drop(noted.groups, command.group_id)))
