"""The phone keeps its acknowledged answers and re-asserts them (docs/protocol.md section 14).

A real phone page in headless Chromium, a real ``kleur serve`` and the test's
own redis-server.  The server's state is made older behind its back, as after
an ``appendfsync everysec`` crash that lost the last second: the phone's last
ratings and its note are taken out of Redis (ballot fields, tally counts, note,
and its ``seqs`` entry lowered), so the next ``welcome`` reports a lower
``max_seq``.  Nobody touches the phone: it sends the answers above it again,
and the tallies in Redis equal its answers once more.

The 4504 banner (the room is being restored) is shown by closing the page's
websocket with 4504 through Playwright's websocket routing: until the server
marks lost rooms itself, that is the only way to make a real page see it.
Screenshots: ``/tmp/phoneheal-*.png``.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from server.embedded_redis import RedisServer
from server.keys import RoomKeys, participant_id
from tests.support import ServerProcess
from tests.test_pages import NORMS, open_dashboard, open_phone, rate, set_phase
from tests.test_pages import browser as browser  # the module-scoped fixture, shared

SHOTS = Path("/tmp")

#: What the phone answers: the organisation in the lobby (seq 1), four norms
#: (seqs 2-5) and a note (seq 6).  The crash keeps seqs up to 2.
VALUES: list[int | None] = [7, None, 3, 9]
NOTE = "Vaker samen met werkgevers op stage-bezoek"
KEPT_SEQ = 2

#: A server that stops logs its refused connections in the browser's console;
#: those are the fault this test makes, not a fault of the page.
EXPECTED_CONSOLE = ("WebSocket connection to", "Failed to load resource")


@pytest.fixture
def db(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    client.close()


def page_errors(errors: list[str]) -> list[str]:
    return [e for e in errors if not any(text in e for text in EXPECTED_CONSOLE)]


def local(page: Page, room: str, name: str) -> str | None:
    value: str | None = page.evaluate("(key) => localStorage.getItem(key)", f"kleur.{room}.{name}")
    return value


def pid_of(page: Page, room: str) -> str:
    token = local(page, room, "token")
    assert token, "the phone has no participant token"
    return participant_id(room, token)


def model() -> dict[str, int]:
    """The tally the phone's answers make: one count per rated norm."""
    return {
        f"1|{norm}|{'dk' if value is None else value}": 1
        for norm, value in zip(NORMS, VALUES, strict=False)
    }


def tallies(db: redis.Redis, room: str) -> dict[str, int]:
    """The room's rating counts in Redis (round|norm|value), zero counts left out."""
    raw: dict[str, str] = db.hgetall(RoomKeys(room).tally)  # type: ignore[assignment]
    return {f: int(v) for f, v in raw.items() if f.count("|") == 2 and int(v) > 0}


def own_notes(db: redis.Redis, room: str, pid: str) -> list[str]:
    keys = RoomKeys(room)
    owners: dict[str, str] = db.hgetall(keys.owners)  # type: ignore[assignment]
    texts = []
    for note_id, owner in owners.items():
        raw = db.hget(keys.notes, note_id)
        if owner == pid and raw:
            note = json.loads(str(raw))
            if not note.get("withdrawn"):
                texts.append(note["text"])
    return texts


def answer_everything(page: Page, dashboard: Page, room: str) -> None:
    """Organisation, four ratings and a note, each acknowledged (nothing left in the outbox)."""
    page.get_by_test_id("org-gemeente").check()
    set_phase(dashboard, "rating", [page])
    for value in VALUES:
        rate(page, value)
    expect(page.get_by_test_id("progress")).to_contain_text(str(len(VALUES)))
    page.get_by_test_id("note-text").fill(NOTE)
    page.get_by_test_id("note-submit").click()
    expect(page.get_by_test_id("own-note")).to_have_count(1)
    deadline = time.monotonic() + 20
    while local(page, room, "outbox") is not None:
        assert time.monotonic() < deadline, "the phone's commands were never acknowledged"
        page.wait_for_timeout(50)
    kept = json.loads(local(page, room, "answers") or "[]")
    assert sorted(command["seq"] for command in kept) == [1, 2, 3, 4, 5, 6], kept
    assert {command["type"] for command in kept} == {"set_org_type", "rate", "put_note"}


def make_older(db: redis.Redis, room: str, pid: str, kept_seq: int) -> int:
    """Redis as if it lost this participant's writes above ``kept_seq`` (an
    ``everysec`` crash): ballot fields and their tally counts, notes, and the
    ``seqs`` entry.  Field formats: server/lua/rate.lua and put_note.lua.
    Returns how many answers were taken out."""
    keys = RoomKeys(room)
    lost = 0
    ballots: dict[str, str] = db.hgetall(keys.ballots)  # type: ignore[assignment]
    for field, stored in ballots.items():
        parts = field.split("|")
        if len(parts) != 3 or parts[1] != pid:
            continue
        seq, value = stored.split("|", 1)
        if int(seq) <= kept_seq:
            continue
        db.hdel(keys.ballots, field)
        count_field = f"{parts[0]}|{parts[2]}|{value}"
        if int(db.hincrby(keys.tally, count_field, -1)) <= 0:  # type: ignore[arg-type]
            db.hdel(keys.tally, count_field)
        lost += 1
    owners: dict[str, str] = db.hgetall(keys.owners)  # type: ignore[assignment]
    for note_id, owner in owners.items():
        raw = db.hget(keys.notes, note_id)
        if owner != pid or raw is None or int(json.loads(str(raw))["seq"]) <= kept_seq:
            continue
        db.hdel(keys.notes, note_id)
        db.hdel(keys.owners, note_id)
        db.srem(keys.mine(pid), note_id)
        lost += 1
    db.hset(keys.seqs, pid, kept_seq)
    return lost


def wait_healed(page: Page, db: redis.Redis, room: str, pid: str, timeout: float = 30) -> float:
    """Seconds until Redis holds the phone's answers again (ratings and note)."""
    start = time.monotonic()
    while tallies(db, room) != model() or own_notes(db, room, pid) != [NOTE]:
        assert time.monotonic() - start < timeout, (tallies(db, room), own_notes(db, room, pid))
        page.wait_for_timeout(100)
    return time.monotonic() - start


@pytest.mark.slow
def test_a_restarted_server_with_an_older_redis_gets_the_phones_answers_back(
    kleur: ServerProcess, browser: Browser, db: redis.Redis
) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    code = room["code"]
    dashboard = open_dashboard(browser, room, errors)
    page = open_phone(browser, room, errors)
    answer_everything(page, dashboard, code)
    pid = pid_of(page, code)
    assert tallies(db, code) == model()

    kleur.stop()  # the crash: the process goes, Redis comes back older
    lost = make_older(db, code, pid, KEPT_SEQ)
    assert lost == 4, lost  # three ratings and the note
    assert tallies(db, code) != model()
    kleur.start()

    healed = wait_healed(page, db, code, pid)
    print(f"restart, Redis older by {lost} answers: healed {healed:.1f} s after the restart")
    seqs = int(str(db.hget(RoomKeys(code).seqs, pid)))
    assert seqs == 6, seqs
    ballots: dict[str, str] = db.hgetall(RoomKeys(code).ballots)  # type: ignore[assignment]
    stored_seqs = sorted(int(v.split("|")[0]) for f, v in ballots.items() if f"|{pid}|" in f)
    assert stored_seqs == [2, 3, 4, 5], "each under its original seq"
    # The phone still shows everything, and a new answer gets a fresh seq above them all.
    expect(page.get_by_test_id("progress")).to_contain_text(str(len(VALUES)))
    expect(page.get_by_test_id("own-note")).to_have_count(1)
    rate(page, 5)
    deadline = time.monotonic() + 20
    while local(page, code, "outbox") is not None:
        assert time.monotonic() < deadline
        page.wait_for_timeout(50)
    assert int(local(page, code, "seq") or 0) == 7
    assert tallies(db, code) == {**model(), f"1|{NORMS[len(VALUES)]}|5": 1}
    assert page_errors(errors) == [], errors


@pytest.mark.slow
def test_a_reloaded_phone_keeps_its_answers_and_re_asserts_them(
    kleur: ServerProcess, browser: Browser, db: redis.Redis
) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    code = room["code"]
    dashboard = open_dashboard(browser, room, errors)
    page = open_phone(browser, room, errors)
    answer_everything(page, dashboard, code)
    pid = pid_of(page, code)

    page.goto("about:blank")  # the page is gone; its localStorage stays
    assert make_older(db, code, pid, KEPT_SEQ) == 4
    opened = time.monotonic()
    page.goto(f"{kleur.http_url}/j/{code}")
    # Shown from the phone's own store, and counted again in Redis.
    expect(page.get_by_test_id("progress")).to_contain_text(str(len(VALUES)))
    expect(page.get_by_test_id("own-note")).to_contain_text(NOTE)
    wait_healed(page, db, code, pid)
    healed = time.monotonic() - opened
    print(f"reload, Redis older by 4 answers: healed {healed:.1f} s after the page was opened")
    assert len(json.loads(local(page, code, "answers") or "[]")) == 6
    # A second reload with Redis complete sends nothing again (nothing above max_seq).
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(str(payload))))
    page.reload()
    expect(page.get_by_test_id("progress")).to_contain_text(str(len(VALUES)))
    page.wait_for_timeout(1000)
    assert [json.loads(frame)["type"] for frame in sent] == ["join"], sent
    assert tallies(db, code) == model()
    # A closed room takes no answer any more: the phone stops keeping them.
    dashboard.get_by_test_id("phase-to-closed").click()
    dashboard.locator("#confirm-ok").click()
    expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "closed")
    assert local(page, code, "answers") is None
    assert page_errors(errors) == [], errors


@pytest.mark.slow
def test_a_rating_of_an_earlier_round_is_never_sent_again(
    kleur: ServerProcess, browser: Browser, db: redis.Redis
) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    code = room["code"]
    dashboard = open_dashboard(browser, room, errors)
    page = open_phone(browser, room, errors)
    set_phase(dashboard, "rating", [page])
    rate(page, 2)  # round 1: seqs 1 and 2
    rate(page, 3)
    expect(dashboard.get_by_test_id(f"norm-{NORMS[1]}")).to_have_attribute("data-received", "1")
    set_phase(dashboard, "reveal", [page])
    dashboard.get_by_test_id("phase-to-rating").click()  # round 2, after a "sure?"
    dashboard.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "rating")
    rate(page, 8)  # seq 3
    deadline = time.monotonic() + 20
    while local(page, code, "outbox") is not None:
        assert time.monotonic() < deadline
        page.wait_for_timeout(50)
    kept = json.loads(local(page, code, "answers") or "[]")
    assert [(c["round"], c["seq"]) for c in kept] == [(2, 3)], (
        "round 1 was dropped once round 2 came"
    )
    pid = pid_of(page, code)

    page.goto("about:blank")
    assert make_older(db, code, pid, 0) == 3  # Redis lost every rating of this phone
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(str(payload))))
    page.goto(f"{kleur.http_url}/j/{code}")
    deadline = time.monotonic() + 20
    while tallies(db, code) != {f"2|{NORMS[0]}|8": 1}:
        assert time.monotonic() < deadline, tallies(db, code)
        page.wait_for_timeout(100)
    page.wait_for_timeout(500)
    frames = [json.loads(frame) for frame in sent]
    assert [(f["type"], f.get("round"), f.get("reassert")) for f in frames] == [
        ("join", None, None),
        ("rate", 2, True),
    ], frames
    assert tallies(db, code) == {f"2|{NORMS[0]}|8": 1}, "round 1's ratings stay lost"
    assert page_errors(errors) == [], errors


@pytest.mark.slow
def test_a_device_that_waits_to_be_admitted_sends_its_answers_once_let_in(
    kleur: ServerProcess, browser: Browser, db: redis.Redis
) -> None:
    errors: list[str] = []
    room = kleur.create_room(admission=True, expected_people=1)
    code = room["code"]
    dashboard = open_dashboard(browser, room, errors)
    page = open_phone(browser, room, errors)
    set_phase(dashboard, "rating", [page])
    rate(page, 4)
    rate(page, 6)
    expect(dashboard.get_by_test_id(f"norm-{NORMS[1]}")).to_have_attribute("data-received", "1")
    pid = pid_of(page, code)
    page.goto("about:blank")
    # The room forgot this device and its answers; someone else takes the one place.
    assert make_older(db, code, pid, 0) == 2
    db.hdel(RoomKeys(code).people, pid)
    other = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    other.goto(room["join_url"])
    expect(other.get_by_test_id("phase")).to_have_attribute("data-phase", "rating")
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(str(payload))))
    page.goto(f"{kleur.http_url}/j/{code}")
    device = page.get_by_test_id("device-code")
    expect(device).to_be_visible()
    page.wait_for_timeout(500)
    assert [json.loads(frame)["type"] for frame in sent] == ["join"], "nothing while waiting"
    dashboard.get_by_role("button", name=f"Apparaat {device.inner_text()} toelaten").click()
    expect(page.get_by_test_id("waiting")).to_have_count(0)
    deadline = time.monotonic() + 20
    want = {f"1|{NORMS[0]}|4": 1, f"1|{NORMS[1]}|6": 1}
    while tallies(db, code) != want:
        assert time.monotonic() < deadline, tallies(db, code)
        page.wait_for_timeout(100)
    assert page_errors(errors) == [], errors


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two computed ``rgb(...)`` colours."""

    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("nl-NL", "De sessie wordt hersteld. Je antwoorden staan veilig op je telefoon."),
        ("en-GB", "The session is being restored. Your answers are safe on your phone."),
    ],
)
def test_a_lost_room_shows_a_calm_banner_and_the_phone_keeps_trying(
    kleur: ServerProcess, browser: Browser, db: redis.Redis, locale: str, text: str
) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    code = room["code"]
    dashboard = open_dashboard(browser, room, errors)
    lost = False
    opened: list[float] = []  # when the page opened each websocket
    current: list[WebSocketRoute] = []

    def route(ws: WebSocketRoute) -> None:
        opened.append(time.monotonic())
        if lost:
            # As the server answers a join to a lost room: room_lost, then close 4504.
            def refuse(_message: str | bytes) -> None:
                refusal = {"type": "error", "code": "room_lost", "detail": "", "seq": None}
                ws.send(json.dumps(refusal))
                ws.close(code=4504, reason="room lost")

            ws.on_message(refuse)
            return
        current[:] = [ws]
        ws.connect_to_server()  # passes every frame through to the real server

    page = dashboard.context.browser.new_context(  # type: ignore[union-attr]
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale=locale,
    ).new_page()
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.route_web_socket(re.compile(r"/ws$"), route)
    page.goto(room["join_url"])
    expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "lobby")
    set_phase(dashboard, "rating", [page])
    rate(page, 6)
    expect(dashboard.get_by_test_id(f"norm-{NORMS[0]}")).to_have_attribute("data-received", "1")

    lost = True
    current[0].close(code=4504, reason="room lost")
    banner = page.get_by_test_id("healing-banner")
    expect(banner).to_contain_text(text)
    expect(page.get_by_test_id("offline-banner")).to_have_count(0)
    assert page.locator("#banner-slot").get_attribute("role") == "status"  # read out politely
    # An answer given meanwhile waits in the outbox, and nothing is shown as an error.
    rate(page, 8)
    expect(page.get_by_test_id("notice")).to_have_count(0)
    colours = banner.evaluate(
        "(node) => { const s = getComputedStyle(node);"
        " return [s.color, s.backgroundColor, s.borderBottomColor]; }"
    )
    ratio = contrast(colours[0], colours[1])
    print(f"banner {locale}: text {colours[0]} on {colours[1]}, contrast {ratio:.1f}:1")
    assert ratio >= 4.5, colours
    page.screenshot(path=str(SHOTS / f"phoneheal-lost-{locale[:2]}.png"))
    # It keeps trying, with a growing, jittered back-off (500 ms, 1 s, 2 s ...).
    deadline = time.monotonic() + 15
    while len(opened) < 4:
        assert time.monotonic() < deadline, opened
        page.wait_for_timeout(100)
    # The rejoins after the 4504 (the first opened connection was the phone's own join).
    gaps = [b - a for a, b in itertools.pairwise(opened[1:])]
    print("4504: rejoins " + ", ".join(f"{gap:.2f}" for gap in gaps) + " s apart")
    assert gaps[0] >= 0.45 and gaps[1] >= 0.95, gaps
    expect(banner).to_be_visible()

    lost = False  # restored: the next join gets a welcome
    expect(banner).to_have_count(0, timeout=30_000)
    expect(dashboard.get_by_test_id(f"norm-{NORMS[1]}")).to_have_attribute("data-received", "1")
    assert local(page, code, "outbox") is None

    # 4503 (room rebuilt): back at once, without the back-off (whose first step
    # waits 250-500 ms); a second 4503 soon after takes the back-off.
    rejoins = []
    for _ in range(2):
        page.wait_for_timeout(300)  # joined again (the welcome is in)
        before = len(opened)
        closed_at = time.monotonic()
        current[0].close(code=4503, reason="room rebuilt")
        while len(opened) == before:
            assert time.monotonic() - closed_at < 5, "no reconnect after 4503"
            page.wait_for_timeout(10)
        rejoins.append(opened[before] - closed_at)
    print("4503: a new connection after " + ", ".join(f"{r * 1000:.0f}" for r in rejoins) + " ms")
    assert rejoins[0] < 0.25 <= rejoins[1], rejoins
    expect(page.get_by_test_id("offline-banner")).to_have_count(0)
    assert tallies(db, code) == {f"1|{NORMS[0]}|6": 1, f"1|{NORMS[1]}|8": 1}
    assert page_errors(errors) == [], errors
