"""A whole scan session over real websockets, a real uvicorn and a real redis-server."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections import Counter

import httpx
import pytest
import redis
import segno

from agenda.room_record import without_marker
from agenda.templates import load_builtin_templates
from client.kleur_client import JoinRefused, KleurClient
from protocol.close_codes import CloseCode
from protocol.codec import JSON, MSGPACK
from protocol.errors import ErrorCode
from protocol.messages import Dashboard, Rate, RoomState
from protocol.phases import Phase, Role
from server.embedded_redis import RedisServer
from server.keys import RoomKeys
from tests.scrape import scrape
from tests.support import ServerProcess

TEMPLATE = load_builtin_templates()["participatiescan"]
NORMS = [norm.id for norm in TEMPLATE.norms]

#: Ground truth: participant index -> norm -> value (None = "weet niet").
Ballots = dict[int, dict[str, int | None]]


def expected_tallies(ballots: Ballots) -> dict[str, Counter[int | None]]:
    tallies: dict[str, Counter[int | None]] = {norm: Counter() for norm in NORMS}
    for ballot in ballots.values():
        for norm, value in ballot.items():
            tallies[norm][value] += 1
    return tallies


def stored_tallies(redis_url: str, code: str, round_: int = 1) -> dict[str, Counter[int | None]]:
    """The tallies as Redis holds them, read straight from the hash."""
    raw = without_marker(
        redis.Redis.from_url(redis_url, decode_responses=True).hgetall(RoomKeys(code).tally)
    )
    tallies: dict[str, Counter[int | None]] = {norm: Counter() for norm in NORMS}
    for field, count in raw.items():
        r, norm, value = field.split("|")
        if int(r) == round_ and int(count):
            tallies[norm][None if value == "dk" else int(value)] = int(count)
    return tallies


def qr_matrix(svg: str) -> list[list[bool]]:
    """The modules of a segno SVG (one path of 'h'/'v'/'m' moves), as rows of booleans."""
    path = re.search(r' d="([^"]+)"', svg)
    assert path is not None
    scale = float(re.search(r'<path transform="scale\(([0-9.]+)\)"', svg).group(1))  # type: ignore[union-attr]
    size = int(float(re.search(r'width="([0-9.]+)"', svg).group(1)) / scale)  # type: ignore[union-attr]
    grid = [[False] * size for _ in range(size)]
    x = y = 0.0
    for op, number in re.findall(r"([MmHhVv])\s*(-?[0-9.]+(?:[ ,]-?[0-9.]+)?)", path.group(1)):
        if op in "Mm":
            dx, dy = (float(v) for v in re.split(r"[ ,]", number))
            x, y = (x + dx, y + dy) if op == "m" else (dx, dy)
        elif op == "h":
            for step in range(int(float(number))):
                grid[int(y)][int(x) + step] = True
            x += float(number)
        elif op == "v":
            y += float(number)
    border = 2
    return [row[border : size - border] for row in grid[border : size - border]]


def received(dashboard: Dashboard) -> dict[str, int]:
    return {result.norm_id: result.received for result in dashboard.norms}


def distributions(dashboard: Dashboard) -> dict[str, Counter[int | None]]:
    out: dict[str, Counter[int | None]] = {}
    for result in dashboard.norms:
        assert result.counts is not None and result.dont_know is not None
        counter: Counter[int | None] = Counter(
            {TEMPLATE.scale.min + i: n for i, n in enumerate(result.counts) if n}
        )
        if result.dont_know:
            counter[None] = result.dont_know
        out[result.norm_id] = counter
    return out


async def join_participants(server: ServerProcess, code: str, n: int) -> list[KleurClient]:
    clients = [
        KleurClient(server.ws_url, code, Role.PARTICIPANT, codec=JSON if i % 2 else MSGPACK)
        for i in range(n)
    ]
    await asyncio.gather(*(client.connect() for client in clients))
    return clients


async def rate_all(clients: list[KleurClient], ballots: Ballots, changes: Ballots) -> None:
    async def one(i: int) -> None:
        for norm, value in changes.get(i, {}).items():
            ack = await clients[i].rate(norm, value)
            assert not ack.duplicate
            ballots.setdefault(i, {})[norm] = value

    await asyncio.gather(*(one(i) for i in changes))


async def test_scripted_session_matches_ground_truth(kleur: ServerProcess) -> None:
    """Acceptance 1 and 2: 12 participants, both codecs, re-rates and "weet niet"."""
    rng = random.Random(20261123)
    room = kleur.create_room()
    code = room["code"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    people = await join_participants(kleur, code, 12)
    await facilitator.wait_dashboard(lambda d: d.participants == 12)
    await facilitator.set_phase(Phase.RATING)
    await asyncio.gather(*(p.wait_for(lambda c: c.state.phase is Phase.RATING) for p in people))

    ballots: Ballots = {}
    steps: list[Ballots] = [
        # Everyone rates every norm.
        {i: {norm: rng.randint(0, 10) for norm in NORMS} for i in range(12)},
        # Four change their mind on a few norms (a re-vote moves a count).
        {i: {norm: rng.randint(0, 10) for norm in rng.sample(NORMS, 5)} for i in range(4)},
        # Three answer "weet niet" on some norms, one of them on a norm it re-rated.
        {i: {norm: None for norm in rng.sample(NORMS, 3)} for i in range(3, 6)},
    ]
    for step in steps:
        await rate_all(people, ballots, step)
        truth = expected_tallies(ballots)
        assert stored_tallies(kleur.redis_url, code) == truth
        dashboard = await facilitator.wait_dashboard(
            lambda d, t=truth: received(d) == {n: sum(c.values()) for n, c in t.items()}
        )
        # Blind: the facilitator sees how many answered, not what.
        assert all(r.counts is None and r.median is None for r in dashboard.norms)
        assert dashboard.revealed is False

    # Participants never got a distribution before the reveal.
    for person in people:
        states = [m for m in person.received if isinstance(m, RoomState)]
        assert person.welcome is not None and person.welcome.state.results is None
        assert all(state.results is None for state in states)

    await facilitator.set_phase(Phase.REVEAL)
    dashboard = await facilitator.wait_dashboard(lambda d: d.revealed)
    assert distributions(dashboard) == {n: c for n, c in expected_tallies(ballots).items()}
    for person in people:
        await person.wait_for(lambda c: c.state is not None and c.state.results is not None)
        assert person.state is not None and person.state.results == dashboard.norms

    # Ratings are refused once the round is closed, and change nothing.
    with pytest.raises(Exception, match="wrong_phase"):
        await people[0].rate(NORMS[0], 3)
    assert stored_tallies(kleur.redis_url, code) == expected_tallies(ballots)
    for client in [facilitator, *people]:
        await client.close()


async def test_two_processes_share_one_room(
    kleur_pair: tuple[ServerProcess, ServerProcess],
) -> None:
    """Acceptance 3: participants on both processes; the facilitator on one sees all."""
    one, two = kleur_pair
    room = one.create_room()
    code = room["code"]
    facilitator = KleurClient(one.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    people = await join_participants(one, code, 6) + await join_participants(two, code, 6)
    await facilitator.wait_dashboard(lambda d: d.participants == 12)
    await facilitator.set_phase(Phase.RATING)
    # The phase change made on process one reaches the participants on process two.
    await asyncio.gather(*(p.wait_for(lambda c: c.state.phase is Phase.RATING) for p in people))

    ballots: Ballots = {}
    await rate_all(
        people,
        ballots,
        {i: {norm: (i + j) % 11 for j, norm in enumerate(NORMS)} for i in range(12)},
    )
    truth = {n: sum(c.values()) for n, c in expected_tallies(ballots).items()}
    # Every rating, from either process, is on the facilitator's dashboard within 1 s.
    await facilitator.wait_dashboard(lambda d: received(d) == truth, timeout=1.0)
    await facilitator.set_phase(Phase.REVEAL)
    dashboard = await facilitator.wait_dashboard(lambda d: d.revealed)
    assert distributions(dashboard) == expected_tallies(ballots)
    # A participant on process two sees the reveal made on process one.
    await people[-1].wait_for(lambda c: c.state.results is not None)
    for client in [facilitator, *people]:
        await client.close()


async def test_reconnect_returns_own_ballot_and_replays_apply_once(kleur: ServerProcess) -> None:
    """Acceptance 4."""
    room = kleur.create_room()
    code = room["code"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    await facilitator.set_phase(Phase.RATING)
    phone = KleurClient(kleur.ws_url, code, Role.PARTICIPANT, codec=JSON)
    await phone.connect()
    await phone.rate(NORMS[0], 8)
    await phone.rate(NORMS[1], None)
    await phone.rate(NORMS[0], 9)
    note_id = await phone.put_note("Meer stageplekken bij kleine werkgevers", NORMS[3])
    token = phone.token
    await phone.drop()

    again = KleurClient(kleur.ws_url, code, Role.PARTICIPANT, token=token, codec=MSGPACK)
    welcome = await again.connect()
    assert {(r.norm_id, r.value) for r in welcome.ratings} == {(NORMS[0], 9), (NORMS[1], None)}
    assert [(n.note_id, n.text) for n in welcome.notes] == [
        (note_id, "Meer stageplekken bij kleine werkgevers")
    ]
    assert welcome.max_seq == 4
    assert welcome.participant_token == token

    # The same message, sent three times: acknowledged three times, applied once.
    frame = again.codec.encode(Rate(seq=10, norm_id=NORMS[2], value=4))
    for _ in range(3):
        await again.send_raw(frame)
    await again.wait_for(lambda c: sum(1 for m in c.received if getattr(m, "seq", None) == 10) == 3)
    acks = [m for m in again.received if getattr(m, "seq", None) == 10]
    assert [getattr(a, "duplicate", None) for a in acks] == [False, True, True]
    assert stored_tallies(kleur.redis_url, code)[NORMS[2]] == Counter({4: 1})
    # An older message arriving late (seq 2 < the stored 3) does not overwrite a newer one.
    assert (await again.send_command(Rate(seq=2, norm_id=NORMS[0], value=1))).duplicate
    assert stored_tallies(kleur.redis_url, code)[NORMS[0]] == Counter({9: 1})

    # A fresh join without the token is somebody else, with an empty ballot.
    stranger = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    assert (await stranger.connect()).ratings == ()
    dashboard = await facilitator.wait_dashboard(lambda d: d.participants == 2)
    assert dashboard.participants == 2
    for client in (facilitator, again, stranger):
        await client.close()


async def test_notes_agenda_and_exports(kleur: ServerProcess) -> None:
    """Note (anonymous) -> wall without author -> agenda item -> JSON and Markdown export."""
    room = kleur.create_room()
    code, token = room["code"], room["facilitator_token"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=token)
    await facilitator.connect()
    people = await join_participants(kleur, code, 3)
    await facilitator.set_phase(Phase.RATING)
    for i, person in enumerate(people):
        await person.wait_for(lambda c: c.state.phase is Phase.RATING)
        await person.rate("duidelijke-regie", 3 + i)
    await facilitator.set_phase(Phase.REVEAL)
    await facilitator.set_phase(Phase.BRAINSTORM)
    await people[0].wait_for(lambda c: c.state.phase is Phase.BRAINSTORM)
    idea = await people[0].put_note("Eén regisseur per jongere, ook na 18", "duidelijke-regie")
    spam = await people[1].put_note("koffie?")
    draft = await people[2].put_note("eerste versie")
    await people[2].withdraw_note(draft)

    wall = await facilitator.wait_dashboard(lambda d: len(d.notes) == 2)
    assert {n.text for n in wall.notes} == {"Eén regisseur per jongere, ook na 18", "koffie?"}
    # The wall carries no author: the note has exactly these fields.
    wire = json.loads(JSON.encode(wall))
    assert set(wire["notes"][0]) == {"note_id", "text", "norm_id", "hidden", "pending"}
    # Someone else's note cannot be edited or withdrawn.
    with pytest.raises(Exception, match="unknown_item"):
        await people[1].put_note("overgenomen", note_id=idea)
    await facilitator.hide_note(spam)
    await facilitator.hide_note(idea, hidden=False)  # approved: moderation is on by default
    await facilitator.wait_dashboard(
        lambda d: any(n.hidden for n in d.notes) and not any(n.pending for n in d.notes)
    )

    await facilitator.set_phase(Phase.AGENDA)
    await facilitator.put_agenda_item(
        "Eén regisseur per jongere, ook na 18",
        owner="Gemeente",
        deadline="2027-03-01",
        norm_id="duidelijke-regie",
        note_id=idea,
    )
    agenda = await facilitator.wait_dashboard(lambda d: len(d.agenda) == 1)
    assert agenda.agenda[0].owner == "Gemeente" and agenda.agenda[0].deadline == "2027-03-01"

    headers = {"Authorization": f"Bearer {token}"}
    export = httpx.get(f"{kleur.http_url}/api/rooms/{code}/export.json", headers=headers).json()
    assert export["agenda"] == [
        {"action": "Eén regisseur per jongere, ook na 18", "owner": "Gemeente",
         "deadline": "2027-03-01", "norm": "duidelijke-regie"}
    ]  # fmt: skip
    norm = next(n for t in export["themes"] for n in t["norms"] if n["id"] == "duidelijke-regie")
    assert norm["counts"][3:6] == [1, 1, 1] and norm["median"] == 4
    assert [n["text"] for n in export["notes"]] == ["Eén regisseur per jongere, ook na 18"]
    assert "token" not in json.dumps(export).lower()
    markdown = httpx.get(
        f"{kleur.http_url}/api/rooms/{code}/export.md?lang=en", headers=headers
    ).text
    # The English export names the norm in English (the template has both languages).
    regie = TEMPLATE.localized("en").norm("duidelijke-regie").title
    assert (
        f"| 1 | Eén regisseur per jongere, ook na 18 | Gemeente | 1 March 2027 | {regie} |"
        in markdown
    )
    assert "koffie" not in markdown  # hidden by the facilitator
    # Exports and the QR code need the facilitator token.
    assert httpx.get(f"{kleur.http_url}/api/rooms/{code}/export.json").status_code == 401
    assert httpx.get(f"{kleur.http_url}/api/rooms/{code}/qr.svg").status_code == 401
    qr = httpx.get(f"{kleur.http_url}/api/rooms/{code}/qr.svg", headers=headers)
    assert qr.status_code == 200 and qr.text.lstrip().startswith("<?xml")
    # The QR code holds exactly the join link (with its join token) that phones open.
    expected = segno.make(room["join_url"], error="m")
    assert qr_matrix(qr.text) == [[bool(cell) for cell in row] for row in expected.matrix]
    for client in [facilitator, *people]:
        await client.close()


async def test_locked_room_needs_the_join_token(kleur: ServerProcess) -> None:
    room = kleur.create_room()
    code = room["code"]
    join_token = room["join_url"].split("?t=")[1]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    early = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    await early.connect()
    await facilitator.set_lock(True)
    guesser = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    with pytest.raises(JoinRefused) as refused:
        await guesser.connect()
    # The same answer as a code that does not exist: a guesser cannot tell them apart.
    assert refused.value.code is ErrorCode.ROOM_NOT_FOUND
    assert refused.value.close_code == CloseCode.ROOM_NOT_FOUND
    nowhere = KleurClient(
        kleur.ws_url, "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY", Role.PARTICIPANT
    )
    with pytest.raises(JoinRefused) as missing:
        await nowhere.connect()
    assert str(missing.value) == str(refused.value)  # code, close code and text
    with_link = KleurClient(kleur.ws_url, code, Role.PARTICIPANT, join_token=join_token)
    await with_link.connect()
    # Someone who joined before the lock comes back in with its own token.
    back = KleurClient(kleur.ws_url, code, Role.PARTICIPANT, token=early.token)
    await back.connect()
    for client in (facilitator, early, with_link, back):
        await client.close()


async def test_votes_survive_redis_and_server_restarts(
    redis_server: RedisServer, kleur: ServerProcess
) -> None:
    """An ack means stored: a killed Redis (AOF) and a killed server lose nothing."""
    room = kleur.create_room()
    code = room["code"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    await facilitator.set_phase(Phase.RATING)
    phone = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    await phone.connect()
    for j, norm in enumerate(NORMS[:10]):
        await phone.rate(norm, j)

    redis_server.kill()
    # While Redis is down a rating is refused (not acknowledged), and kept.
    with pytest.raises(Exception, match="store_unavailable"):
        await phone.rate(NORMS[10], 10)
    assert phone.outbox
    redis_server.restart()
    await phone.reconnect()  # resends the outbox
    await phone.wait_for(lambda c: not c.outbox)

    kleur.kill()
    kleur.start()
    await phone.reconnect()
    welcome = phone.welcome
    assert welcome is not None
    assert {(r.norm_id, r.value) for r in welcome.ratings} == {
        *((norm, j) for j, norm in enumerate(NORMS[:10])),
        (NORMS[10], 10),
    }
    truth = {norm: Counter({j: 1}) for j, norm in enumerate(NORMS[:10])}
    truth[NORMS[10]] = Counter({10: 1})
    assert {k: v for k, v in stored_tallies(kleur.redis_url, code).items() if v} == truth
    await phone.close()


async def test_a_rating_from_an_earlier_round_never_counts_in_the_next(
    kleur: ServerProcess,
) -> None:
    room = kleur.create_room()
    code = room["code"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    await facilitator.set_phase(Phase.RATING)
    phone = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    await phone.connect()
    await phone.rate(NORMS[0], 4)
    await facilitator.set_phase(Phase.REVEAL)
    await facilitator.set_phase(Phase.RATING)  # round 2
    await phone.wait_for(lambda c: c.state is not None and c.state.round == 2)
    # A round-1 rating resent late (as an outbox would) is refused, not counted.
    with pytest.raises(Exception, match="wrong_phase"):
        await phone.send_command(Rate(seq=50, norm_id=NORMS[1], value=9, round=1))
    await phone.rate(NORMS[0], 6)
    assert stored_tallies(kleur.redis_url, code, round_=2) == {
        **{norm: Counter() for norm in NORMS},
        NORMS[0]: Counter({6: 1}),
    }
    assert stored_tallies(kleur.redis_url, code, round_=1)[NORMS[0]] == Counter({4: 1})
    # welcome.max_seq counts every seq applied, also of withdrawn notes and old rounds.
    await facilitator.set_phase(Phase.REVEAL)
    await phone.wait_for(lambda c: c.state is not None and c.state.phase is Phase.REVEAL)
    note = await phone.put_note("eerst wel, dan niet")
    await phone.withdraw_note(note)
    again = KleurClient(kleur.ws_url, code, Role.PARTICIPANT, token=phone.token)
    assert (await again.connect()).max_seq == phone._seq
    for client in (facilitator, phone, again):
        await client.close()


async def test_two_facilitator_windows_keep_their_own_sequence(kleur: ServerProcess) -> None:
    """A laptop and a tablet both drive the room: neither swallows the other's commands."""
    room = kleur.create_room()
    code, token = room["code"], room["facilitator_token"]
    laptop = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=token)
    tablet = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=token, codec=JSON)
    await laptop.connect()
    await tablet.connect()
    assert not (await laptop.set_phase(Phase.RATING)).duplicate  # laptop seq 1
    assert not (await laptop.set_lock(True)).duplicate  # laptop seq 2
    assert not (await tablet.set_timer(120)).duplicate  # tablet seq 1: applied, not a duplicate
    assert not (await tablet.set_lock(False)).duplicate  # tablet seq 2
    dashboard = await laptop.wait_dashboard(lambda d: d.timer_ends_at is not None and not d.locked)
    assert dashboard.phase is Phase.RATING
    # A reconnecting window continues its own sequence.
    again = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=token)
    again.device = tablet.device
    assert (await again.connect()).max_seq == 2
    for client in (laptop, tablet, again):
        await client.close()


async def test_metrics_count_without_identities(kleur: ServerProcess) -> None:
    room = kleur.create_room()
    facilitator = KleurClient(
        kleur.ws_url, room["code"], Role.FACILITATOR, token=room["facilitator_token"]
    )
    await facilitator.connect()
    await facilitator.set_phase(Phase.RATING)
    phone = KleurClient(kleur.ws_url, room["code"], Role.PARTICIPANT)
    await phone.connect()
    await phone.rate(NORMS[0], 7)
    found = scrape(kleur.http_url)
    assert found.value("kleur_commands_total", type="rate", outcome="applied") == 1
    assert found.value("kleur_connections", role="participant") == 1
    assert room["code"] not in found.text and (phone.token or "") not in found.text
    await phone.close()
    await facilitator.close()
