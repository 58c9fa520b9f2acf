"""Note groups and agenda items only link what is in the room, and agenda
items with the same position keep the order they were added in."""

from __future__ import annotations

import json

import httpx
import pytest
import redis

from agenda.room_record import RoomRecord, room_data
from client.kleur_client import CommandRefused, KleurClient, new_id
from protocol.errors import ErrorCode
from protocol.phases import Phase, Role
from server.keys import RoomKeys
from tests.support import ServerProcess

#: Item ids that sort the other way round from the order the items are added in,
#: so that a tie broken by id would show.
IDS_AGAINST_CREATION = ("item-zzzzzz", "item-mmmmmm", "item-aaaaaa")


def stored(redis_url: str, key: str) -> dict[str, str]:
    """A room hash as Redis holds it."""
    return redis.Redis.from_url(redis_url, decode_responses=True).hgetall(key)  # type: ignore[return-value]


async def brainstorm_room(kleur: ServerProcess) -> tuple[str, str, KleurClient, KleurClient]:
    """A room in the brainstorm phase: code, facilitator token, facilitator, one participant."""
    room = kleur.create_room()
    code, token = room["code"], room["facilitator_token"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=token)
    await facilitator.connect()
    person = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    await person.connect()
    for phase in (Phase.RATING, Phase.REVEAL, Phase.BRAINSTORM):
        await facilitator.set_phase(phase)
    await person.wait_for(lambda c: c.state is not None and c.state.phase is Phase.BRAINSTORM)
    return code, token, facilitator, person


async def test_a_group_names_only_notes_on_the_wall(kleur: ServerProcess) -> None:
    code, _, facilitator, person = await brainstorm_room(kleur)
    kept = await person.put_note("Stagebank voor de hele regio")
    gone = await person.put_note("eerste versie")
    await person.withdraw_note(gone)

    with pytest.raises(CommandRefused) as unknown:
        await facilitator.put_note_group("Stagebank", (kept, new_id()))
    assert unknown.value.error.code is ErrorCode.UNKNOWN_ITEM
    assert "note" in unknown.value.error.detail
    with pytest.raises(CommandRefused) as withdrawn:
        await facilitator.put_note_group("Stagebank", (kept, gone))
    assert withdrawn.value.error.code is ErrorCode.UNKNOWN_ITEM
    assert stored(kleur.redis_url, RoomKeys(code).groups) == {}

    # The same facilitator connection goes on: a group of notes on the wall is stored.
    group = await facilitator.put_note_group("Stagebank", (kept,))
    dashboard = await facilitator.wait_dashboard(lambda d: len(d.groups) == 1)
    assert [(g.group_id, g.note_ids) for g in dashboard.groups] == [(group, (kept,))]
    for client in (facilitator, person):
        await client.close()


async def test_an_agenda_item_links_only_what_is_in_the_room(kleur: ServerProcess) -> None:
    code, _, facilitator, person = await brainstorm_room(kleur)
    note = await person.put_note("Vaste contactpersoon bij UWV")
    gone = await person.put_note("eerste versie")
    await person.withdraw_note(gone)

    for source in ({"group_id": new_id()}, {"note_id": new_id()}, {"note_id": gone}):
        with pytest.raises(CommandRefused) as refused:
            await facilitator.put_agenda_item("Een loket", **source)
        assert refused.value.error.code is ErrorCode.UNKNOWN_ITEM, source
    assert stored(kleur.redis_url, RoomKeys(code).agenda) == {}

    group = await facilitator.put_note_group("UWV", (note,))
    item = await facilitator.put_agenda_item("Een loket", group_id=group, note_id=note)
    await facilitator.wait_dashboard(lambda d: len(d.agenda) == 1)
    # Once linked, the item stays editable after its group is removed.
    await facilitator.remove_note_group(group)
    await facilitator.put_agenda_item("Eén loket", item_id=item, group_id=group, note_id=note)
    edited = await facilitator.wait_dashboard(lambda d: d.agenda[0].action == "Eén loket")
    assert (edited.agenda[0].group_id, edited.agenda[0].note_id) == (group, note)
    # But linking another item to the removed group is refused.
    with pytest.raises(CommandRefused) as removed:
        await facilitator.put_agenda_item("Nog een loket", group_id=group)
    assert removed.value.error.code is ErrorCode.UNKNOWN_ITEM
    for client in (facilitator, person):
        await client.close()


async def add_tied_items(facilitator: KleurClient) -> list[str]:
    """An item at position 1, then three at position 0; returns the actions in
    the order the agenda should show them, after the first tied one is edited."""
    await facilitator.put_agenda_item("Later", position=1)
    for action, item_id in zip(("Eerste", "Tweede", "Derde"), IDS_AGAINST_CREATION, strict=True):
        await facilitator.put_agenda_item(action, item_id=item_id, position=0)
    await facilitator.put_agenda_item(
        "Eerste, aangepast", item_id=IDS_AGAINST_CREATION[0], owner="Gemeente", position=0
    )
    return ["Eerste, aangepast", "Tweede", "Derde", "Later"]


async def test_equal_positions_keep_the_order_of_adding(kleur: ServerProcess) -> None:
    _, _, facilitator, person = await brainstorm_room(kleur)
    expected = await add_tied_items(facilitator)
    dashboard = await facilitator.wait_dashboard(
        lambda d: any(i.owner == "Gemeente" for i in d.agenda)
    )
    assert [item.action for item in dashboard.agenda] == expected
    assert [item.item_id for item in dashboard.agenda[:3]] == list(IDS_AGAINST_CREATION)
    for client in (facilitator, person):
        await client.close()


async def test_the_json_export_lists_equal_positions_in_the_order_of_adding(
    kleur: ServerProcess,
) -> None:
    code, token, facilitator, person = await brainstorm_room(kleur)
    expected = await add_tied_items(facilitator)
    await facilitator.wait_dashboard(lambda d: any(i.owner == "Gemeente" for i in d.agenda))
    export = httpx.get(
        f"{kleur.http_url}/api/rooms/{code}/export.json",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    for client in (facilitator, person):
        await client.close()
    # A follow-up scan refers to these items by their index in this list.
    assert [row["action"] for row in export["agenda"]] == expected


def test_items_stored_before_the_creation_stamp_come_first_by_id() -> None:
    def blob(position: int, created: int | None) -> str:
        item = {
            "action": "a", "owner": "", "deadline": None, "norm": None, "note": None,
            "group": None, "follow_up": None, "position": position, "snapshot": None,
            "removed": False,
        }  # fmt: skip
        return json.dumps(item if created is None else {**item, "created": created})

    meta = {
        "template": "participatiescan", "phase": "agenda", "round": "1", "locked": "0",
        "version": "9", "voting": "closed", "dots": "3", "maxnote": "3", "dots_cast": "0",
        "timer": "",
    }  # fmt: skip
    agenda = {
        "new-b-item": blob(0, 5),
        "new-a-item": blob(0, 7),
        "old-z-item": blob(0, None),
        "old-a-item": blob(0, None),
        "top-of-1-x": blob(1, 2),
    }
    data = room_data(RoomRecord(meta, hashes={"agenda": agenda}))
    assert [item.item_id for item in data.agenda] == [
        "old-a-item",
        "old-z-item",
        "new-b-item",
        "new-a-item",
        "top-of-1-x",
    ]
