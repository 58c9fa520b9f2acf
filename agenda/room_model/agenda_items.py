"""The agenda: items the facilitator puts, edits and removes, and follow-up statuses.

(``put_agenda_item.lua``, ``remove_agenda_item.lua``, ``set_follow_up_status.lua``.)
A removed item keeps its record (``removed``), so it may come back.
"""

from __future__ import annotations

import dataclasses
import json

from agenda.room_model.commands import PutAgendaItem, RemoveAgendaItem, SetFollowUpStatus
from agenda.room_model.state import (
    DUP,
    OK,
    TOO_MANY,
    UNKNOWN_ITEM,
    AgendaRecord,
    RoomState,
    bump,
    facilitator_seq,
    phase_refusal,
    put,
)

Result = tuple[str, RoomState]


def _source_refusal(
    state: RoomState, current: AgendaRecord | None, command: PutAgendaItem
) -> str | None:
    """The note or group an item is promoted from must be in the room when the link is
    made; an edit that keeps the link is not checked again (the group may have been
    removed since, and the item must stay editable)."""
    if command.note is not None and not (current and current.note == command.note):
        note = state.notes.get(command.note)
        if note is None or not note.live:
            return UNKNOWN_ITEM
    if (
        command.group is not None
        and not (current and current.group == command.group)
        and command.group not in state.groups
    ):
        return UNKNOWN_ITEM
    return None


def put_agenda_item(state: RoomState, command: PutAgendaItem) -> Result:
    """Add an item, edit it, or bring back a removed one.

    The distribution snapshot is taken when an item is first promoted: a later
    put keeps the stored one (a removed item brought back too) unless the item
    now addresses another norm.  ``created`` (the room's version when the item
    was added; an edit keeps it) orders items of equal position.
    """
    refused = phase_refusal(state, "put_agenda_item")
    if refused:
        return refused, state
    before = state.agenda.get(command.item_id)
    fresh = before is None or before.removed
    if fresh:
        live = sum(1 for item in state.agenda.values() if not item.removed)
        if live >= command.max_items:
            return TOO_MANY, state
    current = None if fresh else before
    refused = _source_refusal(state, current, command)
    if refused:
        return refused, state
    noted = facilitator_seq(state, command.device, command.seq)
    if noted is None:
        return DUP, state
    snapshot = command.snapshot
    if before is not None and before.snapshot is not None and before.norm == command.norm:
        snapshot = before.snapshot
    state = bump(noted)
    item = AgendaRecord(
        command.action,
        command.owner,
        command.deadline,
        command.norm,
        command.note,
        command.group,
        command.follow_up,
        command.position,
        snapshot,
        removed=False,
        created=current.created if current is not None else state.meta.version,
    )
    return OK, dataclasses.replace(state, agenda=put(state.agenda, command.item_id, item))


def remove_agenda_item(state: RoomState, command: RemoveAgendaItem) -> Result:
    refused = phase_refusal(state, "remove_agenda_item")
    if refused:
        return refused, state
    item = state.agenda.get(command.item_id)
    if item is None:
        return UNKNOWN_ITEM, state
    noted = facilitator_seq(state, command.device, command.seq)
    if noted is None:
        return DUP, state
    if item.removed:
        # Already gone: acknowledged (its seq used up), nothing changes.
        return OK, noted
    removed = dataclasses.replace(item, removed=True)
    return OK, bump(dataclasses.replace(noted, agenda=put(noted.agenda, command.item_id, removed)))


def _earlier_items(state: RoomState) -> int:
    """How many agenda items the earlier scan this room follows up had (0: none)."""
    if not state.previous:
        return 0
    items = json.loads(state.previous).get("items") or ()
    return len(items)


def set_follow_up_status(state: RoomState, command: SetFollowUpStatus) -> Result:
    """A status for one of the earlier scan's agenda items, by its index: refused
    for an index it did not have (or in a room that follows up no scan)."""
    refused = phase_refusal(state, "set_follow_up_status")
    if refused:
        return refused, state
    if command.index >= _earlier_items(state):
        return UNKNOWN_ITEM, state
    noted = facilitator_seq(state, command.device, command.seq)
    if noted is None:
        return DUP, state
    followup = put(noted.followup, command.index, command.status.value)
    return OK, bump(dataclasses.replace(noted, followup=followup))
