"""Issue 13, hardening: what a failure inside the server shows and logs.

A route or a command that raises (a bug of ours, or a room Redis holds in a
shape the code does not expect) must answer like any other answer (every
security header, ``no-store``; never the traceback) and log its traceback
with the exception's type and frames but without its message: the message can
hold a participant's answer or a token, and the line is written next to the
room code and the connection id (``server.logs``, docs/privacy.md).

The failures are real: a room whose data in Redis was broken by hand, served
by a real ``kleur serve``; and a route added to the real app that raises,
served by a real uvicorn in this process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from client.kleur_client import CommandRefused, KleurClient
from protocol.errors import ErrorCode
from protocol.phases import Phase, Role
from server.app import create_app
from server.embedded_redis import RedisServer, free_port
from server.keys import RoomKeys, participant_id
from server.logs import WITHHELD
from server.routes import SERVER_ERROR_TEXT
from server.security import HEADERS
from server.settings import Settings
from tests.support import ServerProcess
from tests.test_logs import NORM, read_json_lines

pytestmark = pytest.mark.asyncio

#: What a broken room carries in the tests: a participant's answer in words.
ANSWER = "ons geheime antwoord 7 van 10"


def assert_every_header(response: httpx.Response) -> None:
    for name, value in HEADERS:
        assert response.headers.get(name.decode()) == value.decode(), (name, response.headers)
    assert response.headers.get("cache-control") == "no-store", response.headers


@pytest.fixture
def json_server(redis_server: RedisServer, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server the test stops itself before it reads the log (every line flushed)."""
    server = ServerProcess(
        redis_server.url, tmp_path / "kleur.log", log_level="info", log_format="json"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_a_route_that_raises_answers_500_with_every_header_and_no_traceback(
    json_server: ServerProcess,
) -> None:
    room = json_server.create_room()
    code, join_token = room["code"], room["join_url"].partition("?t=")[2]
    # The room's round is no number (int() raises with it in its message); the
    # value planted holds the join token, as a message with input would.
    planted = f"{ANSWER} {join_token}"
    with redis.Redis.from_url(json_server.redis_url, decode_responses=True) as plain:
        plain.hset(RoomKeys(code).meta, "round", planted)
    try:
        async with httpx.AsyncClient(base_url=json_server.http_url) as http:
            answer = await http.get(
                f"/api/rooms/{code}/links",
                headers={"authorization": f"Bearer {room['facilitator_token']}"},
            )
    finally:
        json_server.stop()
    assert answer.status_code == 500, answer.text
    assert answer.json() == {"error": "internal", "detail": "internal error; try again"}
    assert_every_header(answer)
    for leak in ("Traceback", "ValueError", "room_meta", join_token, ANSWER):
        assert leak not in answer.text

    text = json_server.log_path.read_text()
    for secret in (join_token, ANSWER):
        leaks = [line for line in text.splitlines() if secret in line]
        assert leaks == [], f"in the log: {leaks}"
    records = read_json_lines(json_server.log_path)
    failed = [r for r in records if r["event"].startswith("Exception in ASGI application")]
    assert len(failed) == 1, records
    # The type and the frames, for whoever fixes it; not the message.
    assert f"ValueError: {WITHHELD}" in failed[0]["exc"], failed[0]
    assert "in room_meta" in failed[0]["exc"], failed[0]


async def test_a_page_that_raises_answers_in_both_languages_with_every_header() -> None:
    """No page route of kleur's reaches Redis, so none can be broken by a room: the
    real app gets one more route that raises, and runs without its lifespan (no
    Redis, no hub: an API route then raises too, for want of its services)."""
    app = create_app(Settings())

    async def broken(request: Request) -> Response:
        raise RuntimeError(f"a bug with {ANSWER}")

    app.router.routes.append(Route("/broken", broken))  # the real stack, one route more
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # uvicorn offers no event to wait for
            assert not serving.done(), "uvicorn stopped"
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            page = await http.get("/broken")
            api = await http.get(f"/api/rooms/{'A' * 6}/links")
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
    assert page.status_code == 500
    assert page.text == SERVER_ERROR_TEXT
    assert "Er ging iets mis" in page.text and "Something went wrong" in page.text
    assert page.headers["content-type"].startswith("text/plain")
    assert_every_header(page)
    assert ANSWER not in page.text
    assert api.status_code == 500
    assert api.json()["error"] == "internal"
    assert_every_header(api)


async def test_a_command_that_fails_logs_type_and_frames_but_no_answer_or_token(
    json_server: ServerProcess,
) -> None:
    """A participant's rating as Redis keeps it holds the planted answer and the
    phone's own token; closing the room reads every rating (for the analysis)
    and fails on it, in the facilitator's connection: ``command failed`` with
    the room and the connection id, and a ``ValueError`` whose message would
    carry both."""
    room = json_server.create_room()
    code = room["code"]
    facilitator = KleurClient(
        json_server.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"]
    )
    phone = KleurClient(
        json_server.ws_url, code, Role.PARTICIPANT, join_token=room["join_url"].split("?t=")[1]
    )
    try:
        await facilitator.connect()
        await phone.connect()
        await facilitator.set_phase(Phase.RATING)
        await phone.wait_for(lambda c: c.state is not None and c.state.phase is Phase.RATING)
        await phone.rate(NORM, 7)
        assert phone.token is not None
        pid = participant_id(code, phone.token)
        field = f"1|{pid}|{NORM}"
        with redis.Redis.from_url(json_server.redis_url, decode_responses=True) as plain:
            stored = str(plain.hget(RoomKeys(code).ballots, field))
            seq = stored.partition("|")[0]
            plain.hset(RoomKeys(code).ballots, field, f"{seq}|{ANSWER} {phone.token}")
        with pytest.raises(CommandRefused) as refused:
            await facilitator.set_phase(Phase.CLOSED)
        assert refused.value.error.code is ErrorCode.INTERNAL
    finally:
        await phone.close()
        await facilitator.close()
        json_server.stop()

    text = json_server.log_path.read_text()
    for secret in (ANSWER, phone.token, pid, room["facilitator_token"]):
        leaks = [line for line in text.splitlines() if secret in line]
        assert leaks == [], f"in the log: {leaks}"
    records = read_json_lines(json_server.log_path)
    failed = [r for r in records if r["event"] == "command failed"]
    assert len(failed) == 1, records
    assert failed[0]["room"] == code and failed[0]["connection"], failed[0]
    # The type and the frames, for whoever fixes it; not the message.
    assert f"ValueError: {WITHHELD}" in failed[0]["exc"], failed[0]
    assert "in _votes" in failed[0]["exc"], failed[0]
