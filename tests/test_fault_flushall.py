"""FLUSHALL mid-session, then the facilitator restores the room (docs/protocol.md section 14).

A real ``kleur serve`` and Redis: phones rate in a burst, Redis is emptied,
the phones are closed with 4504 and keep their answers, the facilitator
restores the room over HTTP from its last dashboard snapshot, and the phones
join again as the people they were and re-send: every acknowledged rating
counts once.  Joins to the lost room meanwhile do not make the hall's one
address a guesser.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from websockets.exceptions import ConnectionClosed

from agenda.templates import load_builtin_templates
from client.kleur_client import JoinRefused, KleurClient
from protocol import limits
from protocol.close_codes import CloseCode
from protocol.errors import ErrorCode
from protocol.messages import Dashboard
from protocol.phases import Phase, Role
from protocol.wire import to_wire
from server.keys import RoomKeys
from tests.faults import Fleet, converge
from tests.support import ServerProcess

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

TEMPLATE = "participatiescan"
NORMS = [norm.id for norm in load_builtin_templates()[TEMPLATE].norms]
PHONES = 60


class Phones(Fleet):
    async def rate_once(self, client: KleurClient, norm: str, value: int | None) -> None:
        # A send that meets the 4504 close: the rating stays in the outbox.
        with contextlib.suppress(ConnectionClosed):
            await super().rate_once(client, norm, value)


def restore_body(template_id: str, dashboard: Dashboard) -> dict[str, Any]:
    """What the control view sends: the template and these fields of its last dashboard."""
    wire = to_wire(dashboard)
    assert isinstance(wire, dict)
    fields = ("phase", "round", "locked", "participants", "agenda", "groups", "session")
    more = ("expected_people", "admission", "moderation", "voting", "version")
    return {"template": template_id} | {key: wire[key] for key in fields + more}


def restore(server: ServerProcess, code: str, token: str, body: object) -> httpx.Response:
    return httpx.post(
        f"{server.http_url}/api/rooms/{code}/restore",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


async def test_flushall_then_restore_counts_every_acknowledged_rating_once(
    kleur: ServerProcess,
) -> None:
    room = kleur.create_room(TEMPLATE, admission=True, expected_people=PHONES)
    code, token = room["code"], room["facilitator_token"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=token)
    await facilitator.connect()
    fleet = Phones([kleur.ws_url], code)
    await fleet.join(PHONES)
    for phone in fleet.clients:
        phone.auto_reconnect = True  # as a phone does: back with jittered back-off
    for phone in fleet.clients[:6]:  # a group big enough to be shown
        await phone.set_org_type("gemeente")
    await facilitator.set_phase(Phase.RATING)
    await facilitator.set_lock(True)
    await facilitator.set_moderation(False)
    # What the control view last saw, with every phone in.
    last = await facilitator.wait_dashboard(
        lambda d: d.participants == PHONES and d.locked and not d.moderation
    )

    # A burst of ratings, and Redis emptied in the middle of it.
    r = aioredis.Redis.from_url(kleur.redis_url, decode_responses=True)
    burst = asyncio.create_task(fleet.burst(NORMS[:10], 600, rng=random.Random(12)))
    await asyncio.sleep(0.3)
    await r.flushall()
    await asyncio.wait_for(burst, 60)
    lost_at = time.monotonic()
    assert await facilitator.wait_closed(10) == CloseCode.ROOM_LOST
    marker = await r.get(RoomKeys(code).lost)
    assert marker is not None and room["join_url"].split("t=")[1] in marker
    # Phones were closed with 4504 and keep trying; none gave up.
    assert any(p.close_code == CloseCode.ROOM_LOST for p in fleet.clients)

    # The hall's address keeps joining the lost room (reloads, the retrying
    # phones): 4504 every time, and never the guessers' throttle.
    # Its phones show their tokens; a scan of the QR code shows the join token.
    join_token = room["join_url"].split("t=")[1]
    refusals = []
    for i in range(limits.MAX_FAILED_JOINS_PER_MINUTE + 5):
        if i % 2:
            rejoin = KleurClient(kleur.ws_url, code, Role.PARTICIPANT, join_token=join_token)
        else:
            own = fleet.clients[i % len(fleet.clients)].token
            rejoin = KleurClient(kleur.ws_url, code, Role.PARTICIPANT, token=own)
        with pytest.raises(JoinRefused) as refused:
            await rejoin.connect()
        refusals.append((refused.value.code, refused.value.close_code))
    assert set(refusals) == {(ErrorCode.ROOM_LOST, CloseCode.ROOM_LOST)}
    # A join that shows nothing the lost room vouches for is a guess: the one
    # answer, so nobody learns which codes were lost.
    with pytest.raises(JoinRefused) as guess:
        await KleurClient(kleur.ws_url, code, Role.PARTICIPANT, token="y" * 44).connect()
    assert (guess.value.code, guess.value.close_code) == (
        ErrorCode.ROOM_NOT_FOUND,
        CloseCode.ROOM_NOT_FOUND,
    )
    other = kleur.create_room(TEMPLATE)
    newcomer = KleurClient(kleur.ws_url, other["code"], Role.PARTICIPANT)
    await newcomer.connect()  # not 4029: the address is no guesser
    await newcomer.close()

    # Refused: a wrong token, and a room that exists.
    body = restore_body(TEMPLATE, last)
    # A wrong token, a room that exists, a code never used: one answer.
    wrong = restore(kleur, code, "x" * 32, body)
    existing = restore(kleur, other["code"], "x" * 32, body)
    unused = restore(kleur, "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY", "x" * 32, body)
    assert {(r.status_code, r.text) for r in (wrong, existing, unused)} == {(404, wrong.text)}
    # The room's own facilitator learns that its room is there.
    taken = restore(kleur, other["code"], other["facilitator_token"], body)
    assert taken.status_code == 409, taken.text

    # The facilitator restores from its last snapshot; the links stay the same.
    restored = restore(kleur, code, token, body)
    restored_at = time.monotonic()
    assert restored.status_code == 200, restored.text
    assert restored.json()["join_url"].endswith(room["join_url"].split("/j/")[1])
    assert restored.json()["tokens_kept"] is True
    assert await r.get(RoomKeys(code).lost) is None
    again = restore(kleur, code, token, body)
    assert again.status_code == 409  # restored once; now it exists

    # The phones join again as the people they were and re-send their answers.
    result = await converge(kleur.redis_url, code, fleet.clients, since=restored_at, timeout=45)
    print(f"\nFLUSHALL, restore: {result.line()} after the restore")
    print(f"from the end of the burst to converged: {time.monotonic() - lost_at:.1f} s")
    assert result.ok, result.line()
    assert all(p.welcome is not None and p.welcome.admitted for p in fleet.clients)

    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=token)
    await facilitator.connect()
    back = await facilitator.wait_dashboard(lambda d: d.participants == PHONES)
    assert (back.phase, back.round, back.locked, back.moderation) == (Phase.RATING, 1, True, False)
    assert back.admission and back.expected_people == PHONES
    assert back.epoch != last.epoch and back.version > last.version
    assert [(o.org_type, o.count) for o in back.org_counts] == [("gemeente", 6)]
    # A device the room never issued a token to waits (admission on, rating open).
    join_token = room["join_url"].split("t=")[1]
    stranger = KleurClient(kleur.ws_url, code, Role.PARTICIPANT, join_token=join_token)
    assert not (await stranger.connect()).admitted
    await stranger.close()

    await facilitator.close()
    await fleet.close()
    await r.aclose()


async def test_without_a_marker_nobody_restores(kleur: ServerProcess) -> None:
    """No process saw the room go (or the marker expired): nothing proves whose
    room it was, so even its own facilitator token cannot claim the code."""
    room = kleur.create_room(TEMPLATE)
    code, token = room["code"], room["facilitator_token"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=token)
    await facilitator.connect()
    last = await facilitator.wait_dashboard(lambda d: True)
    await facilitator.close()
    r = aioredis.Redis.from_url(kleur.redis_url, decode_responses=True)
    await r.flushall()
    await r.aclose()
    response = restore(kleur, code, token, restore_body(TEMPLATE, last))
    assert response.status_code == 404, response.text
    bad = restore(kleur, code, token, {"template": "nope"})
    assert bad.status_code == 400


async def test_an_idle_room_is_noticed_by_the_periodic_check(kleur: ServerProcess) -> None:
    """No command hits the hole: the process's existence check finds the room gone."""
    room = kleur.create_room(TEMPLATE)
    code = room["code"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    r = aioredis.Redis.from_url(kleur.redis_url, decode_responses=True)
    await r.flushall()
    started = time.monotonic()
    assert await facilitator.wait_closed(10) == CloseCode.ROOM_LOST
    print(f"\nidle room noticed lost in {time.monotonic() - started:.1f} s")
    assert await r.ttl(RoomKeys(code).lost) > 3600
    await r.aclose()


async def test_agenda_groups_and_notes_come_back(kleur: ServerProcess) -> None:
    """In the ideas phase: the agenda and the note groups come back from the
    snapshot, the notes from the phones that wrote them."""
    room = kleur.create_room(TEMPLATE)
    code, token = room["code"], room["facilitator_token"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=token)
    await facilitator.connect()
    phones = [KleurClient(kleur.ws_url, code, Role.PARTICIPANT, auto_reconnect=True)]
    phones.append(KleurClient(kleur.ws_url, code, Role.PARTICIPANT, auto_reconnect=True))
    for phone in phones:
        await phone.connect()
    await facilitator.set_moderation(False)
    for phase in (Phase.RATING, Phase.REVEAL, Phase.BRAINSTORM):
        await facilitator.set_phase(phase)
    notes = [await phone.put_note(f"idee {i}", NORMS[0]) for i, phone in enumerate(phones)]
    group = await facilitator.put_note_group("Samen", tuple(notes))
    item = await facilitator.put_agenda_item("Samen oppakken", group_id=group, owner="Team")
    last = await facilitator.wait_dashboard(lambda d: len(d.agenda) == 1 and len(d.groups) == 1)

    r = aioredis.Redis.from_url(kleur.redis_url, decode_responses=True)
    await r.flushall()
    await r.aclose()
    assert await facilitator.wait_closed(10) == CloseCode.ROOM_LOST
    response = restore(kleur, code, token, restore_body(TEMPLATE, last))
    assert response.status_code == 200, response.text

    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=token)
    await facilitator.connect()
    back = await facilitator.wait_dashboard(lambda d: len(d.notes) == 2, timeout=30)
    assert back.phase is Phase.BRAINSTORM
    assert [(a.item_id, a.action, a.owner, a.group_id) for a in back.agenda] == [
        (item, "Samen oppakken", "Team", group)
    ]
    assert [(g.group_id, g.title, set(g.note_ids)) for g in back.groups] == [
        (group, "Samen", set(notes))
    ]
    assert {n.note_id for n in back.notes} == set(notes)
    for client in (facilitator, *phones):
        await client.close()


async def test_two_processes_both_close_and_both_take_the_phones_back(
    kleur_pair: tuple[ServerProcess, ServerProcess],
) -> None:
    """Phones on two processes: each notices the loss on its own (one marker),
    the restore goes through one of them, the phones come back on both."""
    one, two = kleur_pair
    room = one.create_room(TEMPLATE)
    code, token = room["code"], room["facilitator_token"]
    facilitator = KleurClient(one.ws_url, code, Role.FACILITATOR, token=token)
    await facilitator.connect()
    fleet = Phones([one.ws_url, two.ws_url], code)
    await fleet.join(40)
    for phone in fleet.clients:
        phone.auto_reconnect = True
    await facilitator.set_phase(Phase.RATING)
    last = await facilitator.wait_dashboard(
        lambda d: d.participants == 40 and d.phase is Phase.RATING
    )
    await fleet.burst(NORMS[:5], 100, rng=random.Random(7))

    r = aioredis.Redis.from_url(one.redis_url, decode_responses=True)
    await r.flushall()
    assert await facilitator.wait_closed(10) == CloseCode.ROOM_LOST
    # The phones on the other process are closed too (by its own check).
    deadline = time.monotonic() + 10
    while any(p.close_code != CloseCode.ROOM_LOST for p in fleet.clients):
        assert time.monotonic() < deadline, [p.close_code for p in fleet.clients]
        await asyncio.sleep(0.1)
    restored = restore(two, code, token, restore_body(TEMPLATE, last))
    assert restored.status_code == 200, restored.text
    restored_at = time.monotonic()
    result = await converge(one.redis_url, code, fleet.clients, since=restored_at, timeout=45)
    print(f"\nFLUSHALL, two processes, restore: {result.line()} after the restore")
    assert result.ok, result.line()
    await fleet.close()
    await r.aclose()
