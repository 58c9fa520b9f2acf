"""Finalize, then anonymise (issue 11, acceptance 2): after a room closes, no Redis key
links a participant to a rating, an organisation type, a note or a dot.

A real session through the real server (real Redis, real websocket clients): six
participants in two organisation types, ratings in two rounds, notes (one withdrawn),
dot votes, a note group and an agenda item.  Then the room closes, and every key of the
room is read back, whatever its type, and searched for anything of a participant.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from agenda.room_record import MARKER
from agenda.templates import load_builtin_templates
from client.kleur_client import KleurClient
from protocol.phases import DotVoting, Phase, Role
from server.embedded_redis import RedisServer
from server.keys import issued_here, participant_id, participant_token, token_hash
from tests.support import ServerProcess

SCAN = load_builtin_templates()["participatiescan"]
ORGS = [SCAN.org_types[0].id, SCAN.org_types[1].id]
NORMS = [norm.id for norm in SCAN.norms[:10]]
RETENTION = 3600
FORMATS = ("md", "csv", "json", "docx", "pdf")


@pytest.fixture
def retaining(redis_server: RedisServer, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server whose closed rooms keep their aggregates an hour (the room TTL is 2 days)."""
    server = ServerProcess(
        redis_server.url, tmp_path / "kleur.log", closed_room_retention_seconds=str(RETENTION)
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def every_key(redis_url: str, code: str) -> dict[str, tuple[str, object, int]]:
    """Every key of the room: its type, its whole value and its TTL."""
    found: dict[str, tuple[str, object, int]] = {}
    with redis.Redis.from_url(redis_url, decode_responses=True) as plain:
        for key in plain.scan_iter(match=f"kleur:{{{code}}}:*"):
            kind = plain.type(key)
            value: object
            if kind == "hash":
                value = plain.hgetall(key)
            elif kind == "set":
                value = sorted(plain.smembers(key))
            elif kind == "string":
                value = plain.get(key)
            elif kind == "list":
                value = plain.lrange(key, 0, -1)
            elif kind == "zset":
                value = plain.zrange(key, 0, -1, withscores=True)
            elif kind == "stream":
                value = plain.xrange(key)
            else:
                raise AssertionError(f"{key}: a type this test does not read: {kind}")
            found[key.split(":", 2)[2]] = (kind, value, plain.ttl(key))
    return found


def texts_of(value: object) -> Iterator[str]:
    """Every string in a value, keys and members included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from texts_of(k)
            yield from texts_of(v)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from texts_of(item)


async def session(kleur: ServerProcess, room: dict[str, str]) -> dict[str, object]:
    """The session; what it left to look for, and the exports just before closing."""
    code = room["code"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    people = [KleurClient(kleur.ws_url, code, Role.PARTICIPANT) for _ in range(6)]
    await facilitator.connect()
    for person in people:
        await person.connect()
    try:
        for i, person in enumerate(people):
            await person.set_org_type(ORGS[i % 2])
        await facilitator.set_phase(Phase.RATING)
        for i, person in enumerate(people):
            for j, norm in enumerate(NORMS):
                await person.rate(norm, None if (i + j) % 7 == 0 else (i * 3 + j) % 11)
        await facilitator.set_phase(Phase.REVEAL)
        await facilitator.set_phase(Phase.RATING)  # round 2
        for person in people:
            await person.wait_for(lambda c: c.round == 2)
        for i, person in enumerate(people):
            for j, norm in enumerate(NORMS):
                # Two camps (2 against 9): the analysis finds opinion groups.
                await person.rate(norm, (2 if i < 3 else 9) + (i + j) % 2)
        await facilitator.set_phase(Phase.REVEAL)
        await facilitator.set_phase(Phase.BRAINSTORM)
        notes = [await person.put_note(f"Idee van nummer {i}") for i, person in enumerate(people)]
        gone = await people[0].put_note("Toch niet")
        await people[0].withdraw_note(gone)
        for note in notes:
            await facilitator.hide_note(note, hidden=False)  # approved (moderation is on)
        await facilitator.put_note_group("Samen", (notes[4], notes[5]))
        await facilitator.set_dot_voting(DotVoting.OPEN)
        for i, person in enumerate(people):
            await person.dot_vote(notes[(i + 1) % 4], 1)
        await facilitator.set_phase(Phase.AGENDA)
        await facilitator.put_agenda_item("Stagebank opzetten", owner="Gemeente", note_id=notes[1])
        dashboard = await facilitator.wait_dashboard(
            lambda d: d.phase is Phase.AGENDA and d.analysis is not None and bool(d.agenda)
        )
        headers = {"authorization": f"Bearer {room['facilitator_token']}"}
        async with httpx.AsyncClient() as http:
            before = {
                fmt: await http.get(
                    f"{kleur.http_url}/api/rooms/{code}/export.{fmt}", headers=headers
                )
                for fmt in FORMATS
            }
        await facilitator.set_phase(Phase.CLOSED)
        tokens = [person.token for person in people]
        assert all(tokens)
        return {"tokens": tokens, "before": before, "analysis": dashboard.analysis}
    finally:
        for person in people:
            await person.close()
        await facilitator.close()


def test_closing_leaves_no_link_from_a_participant_to_an_answer(retaining: ServerProcess) -> None:
    kleur = retaining
    room = kleur.create_room()
    code = room["code"]
    left = asyncio.run(session(kleur, room))
    tokens = [str(t) for t in left["tokens"]]  # type: ignore[attr-defined]
    secrets = {
        *tokens,
        *(participant_id(code, token) for token in tokens),
        *(token_hash(token) for token in tokens),
    }

    def assert_anonymous() -> dict[str, tuple[str, object, int]]:
        keys = every_key(kleur.redis_url, code)
        # The per-participant structures are gone as a whole.
        assert not {"people", "ballots", "owners", "seqs"} & set(keys), sorted(keys)
        assert not [k for k in keys if k.startswith(("mine:", "dots:"))], sorted(keys)
        for name, (_, value, ttl) in keys.items():
            for text in texts_of(value):
                for secret in secrets:
                    assert secret not in text, f"{name} still holds a participant's {secret!r}"
            # Aggregates live for the retention, not the room's two days.
            assert 0 < ttl <= RETENTION, f"{name}: TTL {ttl}"
        # Notes keep their text, not their author's device counter or a tombstone.
        _, notes, _ = keys["notes"]
        assert isinstance(notes, dict)
        assert len(notes) == 6
        assert {json.loads(blob)["seq"] for blob in notes.values()} == {"0"}
        return keys

    keys = assert_anonymous()
    # What stays: tallies of both rounds, organisation counts, dots, agenda, analysis.
    _, tally, _ = keys["tally"]
    assert isinstance(tally, dict)
    assert {field.split("|")[0] for field in tally if field != MARKER} == {"1", "2"}
    assert keys["orgs"][1] == {ORGS[0]: "3", ORGS[1]: "3"}
    assert keys["meta"][1]["participants"] == "6"  # type: ignore[index]
    assert "analysis" in keys and "agenda" in keys and "votes" in keys

    # The exports are as they were just before closing, but for the phase.
    headers = {"authorization": f"Bearer {room['facilitator_token']}"}
    before: dict[str, httpx.Response] = left["before"]  # type: ignore[assignment]
    after = {
        fmt: httpx.get(f"{kleur.http_url}/api/rooms/{code}/export.{fmt}", headers=headers)
        for fmt in FORMATS
    }
    for fmt in FORMATS:
        assert (before[fmt].status_code, after[fmt].status_code) == (200, 200), fmt
    was, now = before["json"].json(), after["json"].json()
    assert (was.pop("phase"), now.pop("phase")) == ("agenda", "closed")
    assert now == was
    assert now["opinion_groups"]["outcome"] == "groups" and now["participants"] == 6
    assert after["csv"].content == before["csv"].content

    async def come_back() -> None:
        # The dashboard and the presenter view still build; a participant who comes
        # back with its token sees the closed room and nothing of its own.
        facilitator = KleurClient(
            kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"]
        )
        presenter = KleurClient(
            kleur.ws_url, code, Role.PRESENTER, token=room["display_url"].partition("#")[2]
        )
        back = KleurClient(kleur.ws_url, code, Role.PARTICIPANT, token=tokens[0])
        stranger = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
        try:
            await facilitator.connect()
            dashboard = await facilitator.wait_dashboard(lambda d: d.phase is Phase.CLOSED)
            # The analysis kept at closing is the one the dashboard showed before.
            assert dashboard.analysis == left["analysis"] and dashboard.participants == 6
            await presenter.connect()
            await presenter.wait_presenter(lambda p: p.phase is Phase.CLOSED)
            welcome = await back.connect()
            assert welcome.state is not None and welcome.state.phase is Phase.CLOSED
            assert (welcome.org_type, welcome.ratings, welcome.notes, welcome.dots) == (
                None, (), (), ()
            )  # fmt: skip
            await stranger.connect()
            # The device that came back still proves it took part (the agenda PDF).
            pdf = httpx.get(
                f"{kleur.http_url}/api/rooms/{code}/agenda.pdf",
                headers={"authorization": f"Bearer {tokens[0]}"},
            )
            assert pdf.status_code == 200, pdf.text
        finally:
            for client in (stranger, back, presenter, facilitator):
                await client.close()

    asyncio.run(come_back())
    keys_after = assert_anonymous()
    assert keys_after["meta"][1]["participants"] == "6"  # type: ignore[index]


def test_a_participant_token_proves_only_the_room_that_issued_it() -> None:
    token = participant_token("ABCDEF", "room-secret")
    assert issued_here("ABCDEF", "room-secret", token)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    for code, secret, given in [
        ("ABCDEG", "room-secret", token),  # another room
        ("ABCDEF", "other-secret", token),  # another room's secret
        ("ABCDEF", "room-secret", forged),
        ("ABCDEF", "room-secret", token[:22]),
        ("ABCDEF", "", token),  # a room without a secret proves nothing
        ("ABCDEF", "room-secret", "é" * 44),  # any text a Bearer header may hold
    ]:
        assert not issued_here(code, secret, given), (code, secret, given)
