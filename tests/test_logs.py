"""Issue 13, logs: one format for kleur's lines and uvicorn's, with the room and
the connection when known, and never a token.

The session tests run a real ``kleur serve`` (``ServerProcess``) through a
session a hall would have (join link, phones, ratings, a note, the reveal, a
projector, a reconnect, a phone that misbehaves until it is closed) and read
back what it wrote.  The unit tests drive ``server.logs`` without a server.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from client.kleur_client import KleurClient
from protocol import limits
from protocol.close_codes import CloseCode
from protocol.phases import Phase, Role
from server import logs
from server.embedded_redis import RedisServer, free_port
from server.keys import participant_id, token_hash
from server.serving import ServingStack
from tests.scrape import scrape
from tests.support import ROOT, ServerProcess

NORM = "reele-werkervaring"
NOTE = "meer stageplekken voor de tweede klas"
ISO_MS_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CONNECTION_ID = re.compile(r"^[0-9a-f]{8}$")
UVLOOP_HTTPTOOLS = ServingStack("uvloop", "uvloop.Loop", "httptools", "HttpToolsProtocol")


# -- a real session ---------------------------------------------------------------


async def run_session(server: ServerProcess) -> tuple[str, list[str]]:
    """A whole session against ``server``; returns the room code and every
    credential it handed out (tokens of the facilitator, projector, join link,
    each phone) or that can be derived from one (pseudonyms, the hash)."""
    room = server.create_room()
    code = room["code"]
    facilitator_token = room["facilitator_token"]
    join_token = room["join_url"].partition("?t=")[2]
    display_token = room["display_url"].partition("#")[2]
    assert join_token and display_token
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        # The QR link as a phone opens it, so that the access log has it.
        assert (await http.get(f"/j/{code}?t={join_token}")).status_code == 200
        assert (await http.get(f"/f/{code}")).status_code == 200
        assert (await http.get(f"/p/{code}")).status_code == 200

    facilitator = KleurClient(server.ws_url, code, Role.FACILITATOR, token=facilitator_token)
    presenter = KleurClient(server.ws_url, code, Role.PRESENTER, token=display_token)
    phones = [KleurClient(server.ws_url, code, Role.PARTICIPANT, join_token=join_token)]
    phones += [KleurClient(server.ws_url, code, Role.PARTICIPANT, join_token=join_token)]
    troll = KleurClient(server.ws_url, code, Role.PARTICIPANT, join_token=join_token)
    for client in (facilitator, presenter, *phones, troll):
        await client.connect()
    await facilitator.set_phase(Phase.RATING)
    for value, phone in enumerate(phones, start=3):
        await phone.wait_for(lambda c: c.state is not None and c.state.phase is Phase.RATING)
        await phone.rate(NORM, value)
    await facilitator.set_phase(Phase.REVEAL)
    await facilitator.set_phase(Phase.BRAINSTORM)
    await phones[0].wait_for(lambda c: c.state is not None and c.state.phase is Phase.BRAINSTORM)
    await phones[0].put_note(NOTE)
    # A phone that comes back joins with its device token this time.
    await phones[1].close()
    await phones[1].connect()
    # Frames that are no command, until the server closes the connection (a warning).
    with contextlib.suppress(ConnectionClosed):  # closed while still sending: that is the point
        for _ in range(limits.MAX_ERRORS_PER_WINDOW + 1):
            await troll.send_raw(b"\xc1 not msgpack")
    await troll.wait_for(lambda c: not c.connected, timeout=10)
    assert troll.close_code == CloseCode.PROTOCOL_VIOLATION
    for client in (facilitator, presenter, *phones):
        await client.close()

    tokens = [facilitator_token, join_token, display_token]
    for phone in (*phones, troll):
        assert phone.token is not None
        tokens.append(phone.token)
    derived = [token_hash(facilitator_token)]
    derived += [participant_id(code, token) for token in tokens[3:]]
    return code, tokens + derived


@pytest.fixture
def json_server(redis_server: RedisServer, tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(
        redis_server.url, tmp_path / "kleur.log", log_level="info", log_format="json"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"line {number} is not JSON: {line!r}")
        assert isinstance(record, dict), line
        records.append(record)
    return records


async def test_a_session_logs_json_lines_with_room_and_connection_and_no_token(
    json_server: ServerProcess,
) -> None:
    before = scrape(json_server.http_url)
    code, secrets = await run_session(json_server)
    # The same session as Prometheus sees it (acceptance 3: one session, both views).
    after = scrape(json_server.http_url)
    for name, labels, least in [
        ("kleur_joins_total", {"outcome": "ok"}, 6),
        ("kleur_commands_total", {"type": "rate", "outcome": "applied"}, 2),
        ("kleur_ratings_stored_total", {}, 2),
        ("kleur_ack_seconds_count", {"type": "rate"}, 2),
        ("kleur_fanout_seconds_count", {}, 1),
        ("kleur_snapshot_build_seconds_count", {"kind": "dashboard"}, 1),
        ("kleur_closes_total", {"code": str(int(CloseCode.PROTOCOL_VIOLATION)), "by": "server"}, 1),
    ]:
        grew = after.total(name, **labels) - before.total(name, **labels)
        assert grew >= least, (name, labels, grew)
    assert after.value("process_resident_memory_bytes") > 0
    assert not after.label_values() & {code, *secrets}
    json_server.stop()  # the shutdown lines too, and every line flushed
    text = json_server.log_path.read_text()
    records = read_json_lines(json_server.log_path)

    for record in records:
        assert ISO_MS_UTC.match(record["time"]), record
        assert record["level"] in {"debug", "info", "warning", "error", "critical"}, record
        assert isinstance(record["logger"], str) and isinstance(record["event"], str), record

    # The connection's own lines carry the room and the connection id, from the context.
    joined = [r for r in records if r["event"] == "joined" and r.get("room") == code]
    assert {r["role"] for r in joined} == {"facilitator", "presenter", "participant"}, joined
    assert all(CONNECTION_ID.match(r["connection"]) for r in joined), joined
    assert len({r["connection"] for r in joined}) == len(joined) == 6, joined  # 5 + 1 rejoin
    left = [r for r in records if r["event"] == "left" and r.get("room") == code]
    assert len(left) == 6, left
    warned = [r for r in records if r["level"] == "warning" and r.get("room") == code]
    assert any("too many refused commands" in r["event"] for r in warned), warned
    assert all(CONNECTION_ID.match(r.get("connection", "")) for r in warned), warned

    # uvicorn's lines in the same format, the access line with its fields and no identity.
    link = [r for r in records if r["logger"] == "uvicorn.access" and r["path"] == f"/j/{code}"]
    assert link, text
    assert (link[0]["method"], link[0]["status"], link[0]["client"]) == ("GET", 200, "-")
    assert any("WebSocket /ws" in r["event"] for r in records if r["logger"] == "uvicorn.error")
    # No connection id on uvicorn's lines: next to the handshake's address it would
    # say which address joined which room.
    assert not [r for r in records if r["logger"].startswith("uvicorn") and "connection" in r]
    # The start-up line is found inside its JSON line.
    assert json_server.serving() == UVLOOP_HTTPTOOLS, text

    # Never a credential, nor what a note said, nor a query string, on any line.
    for secret in secrets:
        leaks = [line for line in text.splitlines() if secret in line]
        assert leaks == [], f"a token or pseudonym is in the log: {leaks}"
    assert NOTE not in text
    assert "?t=" not in text
    # Nothing of a rating is logged, so no value can be next to anyone.
    assert not [r for r in records if {"value", "rating", "norm"} & r.keys()]


async def test_the_text_format_is_a_readable_line_with_room_and_connection(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    server = ServerProcess(redis_server.url, tmp_path / "kleur.log", log_level="info")
    assert server.log_format == "text"
    server.start()
    try:
        room = server.create_room()
        code = room["code"]
        facilitator = KleurClient(
            server.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"]
        )
        await facilitator.connect()
        await facilitator.close()
    finally:
        server.stop()
    text = server.log_path.read_text()
    line = re.compile(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO    kleur\.ws: joined "
        rf"room={code} connection=[0-9a-f]{{8}} role=facilitator$",
        re.MULTILINE,
    )
    assert line.search(text), text
    assert not [ln for ln in text.splitlines() if ln.startswith("{")], text
    assert room["facilitator_token"] not in text
    assert server.serving() == UVLOOP_HTTPTOOLS, text


@pytest.mark.parametrize("level", ["debug", "trace"])
async def test_debug_and_trace_add_kleur_lines_but_no_header_or_query_string(
    redis_server: RedisServer, tmp_path: Path, level: str
) -> None:
    """uvicorn's and websockets' own debug and trace lines dump every request
    header of a handshake (User-Agent; X-Forwarded-For behind a proxy), every
    ASGI message with its query string (the join token) and frames as hex: at
    these levels too, none of that is written (server.logs keeps those loggers
    at info), and the session's credentials are not either."""
    server = ServerProcess(
        redis_server.url, tmp_path / "kleur.log", log_level=level, log_format="json"
    )
    server.start()
    try:
        _, secrets = await run_session(server)
    finally:
        server.stop()
    text = server.log_path.read_text()
    records = read_json_lines(server.log_path)
    assert any(r["event"] == "joined" for r in records), text
    lowered = text.lower()
    for needle in ("user-agent", "query_string", "?t=", "sec-websocket-key", "> text", "< binary"):
        assert needle not in lowered, [ln for ln in text.splitlines() if needle in ln.lower()]
    assert not {r["logger"] for r in records} & {"uvicorn.asgi", "websockets"}, text
    for secret in secrets:
        assert secret not in text, f"a credential is in the {level} log"


# -- the switch ---------------------------------------------------------------------


def test_the_default_is_json_unless_stdout_is_a_terminal() -> None:
    assert logs.choose_format(None, stdout_is_terminal=False) == "json"
    assert logs.choose_format(None, stdout_is_terminal=True) == "text"
    assert logs.choose_format("", stdout_is_terminal=True) == "text"
    assert logs.choose_format(" JSON ", stdout_is_terminal=True) == "json"
    assert logs.choose_format("text", stdout_is_terminal=False) == "text"
    with pytest.raises(logs.BadLogFormat, match="KLEUR_LOG_FORMAT='xml': use json or text"):
        logs.choose_format("xml", stdout_is_terminal=False)


@pytest.mark.parametrize(
    ("env", "args", "says"),
    [
        ({"KLEUR_LOG_FORMAT": "xml"}, [], "kleur: KLEUR_LOG_FORMAT='xml': use json or text"),
        ({}, ["--log-format", "xml"], "argument --log-format: invalid choice: 'xml'"),
    ],
    ids=["env", "option"],
)
def test_an_unknown_log_format_stops_serve_with_2(
    env: dict[str, str], args: list[str], says: str
) -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "server", "serve", "--port", str(free_port())),
            *("--redis-url", "redis://127.0.0.1:1/0", *args),
        ],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "KLEUR_LOG_FORMAT"} | env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stderr
    assert says in result.stderr
    assert result.stdout == ""  # stopped before anything was logged


# -- server.logs without a server ---------------------------------------------------


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """kleur's and uvicorn's loggers writing JSON into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ConnectionContext())
    loggers = [logging.getLogger(name) for name in ("kleur.test", "uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    try:
        yield stream
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
            logger.propagate = True
            logger.setLevel(logging.NOTSET)


def lines_of(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_each_connection_task_logs_its_own_room_and_id(captured: io.StringIO) -> None:
    log = logging.getLogger("kleur.test")
    gate = asyncio.Event()

    async def connection(code: str) -> str:
        connection_id = logs.bind_connection()
        logs.bind_room(code)
        await gate.wait()  # both tasks bound before either logs
        log.info("rated")
        logging.getLogger("uvicorn.error").info("uvicorn's line")
        return connection_id

    tasks = [asyncio.create_task(connection(code)) for code in ("AAAA", "BBBB")]
    await asyncio.sleep(0)
    gate.set()
    ids = await asyncio.gather(*tasks)
    log.warning("background", extra={"room": "CCCC"})  # the hub's way: extra wins
    log.info("outside any connection")

    records = lines_of(captured)
    rated = {(r["room"], r["connection"]) for r in records if r["event"] == "rated"}
    assert rated == {("AAAA", ids[0]), ("BBBB", ids[1])}
    assert all(CONNECTION_ID.match(i) for i in ids) and ids[0] != ids[1]
    assert [r for r in records if r["logger"] == "uvicorn.error"] == [
        {"time": r["time"], "level": "info", "logger": "uvicorn.error", "event": "uvicorn's line"}
        for r in records
        if r["logger"] == "uvicorn.error"
    ]
    background = next(r for r in records if r["event"] == "background")
    assert background["room"] == "CCCC" and "connection" not in background
    outside = next(r for r in records if r["event"] == "outside any connection")
    assert "room" not in outside and "connection" not in outside


async def test_a_task_a_connection_starts_for_the_room_does_not_log_as_it(
    captured: io.StringIO,
) -> None:
    """The hub's room reader, the script batcher and a stream lane are started by
    whichever connection needs them first; they serve every connection after it."""
    log = logging.getLogger("kleur.test")

    async def background() -> None:
        log.info("reading the room")

    async def connection() -> None:
        logs.bind_connection()
        logs.bind_room("AAAA")
        await logs.detached_task(background(), name="read-room-AAAA")
        await asyncio.create_task(background())  # an ordinary task: inherits the connection

    await asyncio.create_task(connection())
    detached, inherited = (r for r in lines_of(captured) if r["event"] == "reading the room")
    assert "connection" not in detached and "room" not in detached
    assert inherited["room"] == "AAAA" and CONNECTION_ID.match(inherited["connection"])


def test_extra_fields_plain_ones_kept_credentials_never(captured: io.StringIO) -> None:
    log = logging.getLogger("kleur.test")
    log.info(
        "joined",
        extra={
            "role": "participant",
            "count": 3,
            "join_token": "s3cret-join",
            "facilitator_hash": "s3cret-hash",
            "payload": {"token": "s3cret-dict"},  # not a plain value: not written
        },
    )
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        log.exception("command failed")
    joined, failed = lines_of(captured)
    assert joined["role"] == "participant" and joined["count"] == 3
    assert "s3cret" not in captured.getvalue()
    assert failed["level"] == "error"
    assert f"ZeroDivisionError: {logs.WITHHELD}" in failed["exc"]
    assert "division by zero" not in failed["exc"]


def _raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_a_traceback_keeps_types_and_frames_and_only_the_machine_s_messages(
    captured: io.StringIO,
) -> None:
    """Of every exception in the chain: its type and frames; its message only
    when it is one of ``TELLING_EXCEPTIONS``, never a note."""
    log = logging.getLogger("kleur.test")
    secret = "pid-0123456789abcdef-cijfer-7"

    def parse(raw: str) -> int:
        return int(raw)

    try:
        try:
            parse(secret)
        except ValueError as error:
            error.add_note(f"while reading {secret}")
            raise KeyError(secret) from error
    except KeyError:
        log.exception("command failed")
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError:
            raise ExceptionGroup("both", [ValueError(secret), TimeoutError("timed out")])  # noqa: B904
    except ExceptionGroup:
        log.exception("reading failed")
    chained, group = lines_of(captured)
    assert secret not in captured.getvalue()
    exc = chained["exc"]
    assert exc.startswith("Traceback (most recent call last):\n"), exc
    assert f"ValueError: {logs.WITHHELD}" in exc and f"KeyError: {logs.WITHHELD}" in exc, exc
    assert "The above exception was the direct cause of the following exception" in exc, exc
    assert ", in parse\n    return int(raw)" in exc, exc  # the frame and its line of code
    assert "while reading" not in exc
    exc = group["exc"]
    assert "ConnectionRefusedError: [Errno 111] Connection refused" in exc, exc
    assert "During handling of the above exception, another exception occurred" in exc, exc
    assert f"ExceptionGroup: {logs.WITHHELD}" in exc, exc
    assert f"| ValueError: {logs.WITHHELD}" in exc and "| TimeoutError: timed out" in exc, exc
    # The text format writes the same traceback.
    text = logs.TextFormatter().format(
        logging.makeLogRecord({"name": "kleur.ws", "msg": "command failed", "levelname": "ERROR",
                               "exc_info": (KeyError, _raised(KeyError(secret)), None)})
    )  # fmt: skip
    assert f"KeyError: {logs.WITHHELD}" in text and secret not in text, text


async def test_asyncio_s_own_lines_keep_their_first_line_only(captured: io.StringIO) -> None:
    """asyncio's "Task exception was never retrieved" is followed by the task's ``repr``,
    which holds its exception's message."""
    secret = "ons-geheime-notitie"
    asyncio_log = logging.getLogger("asyncio")
    asyncio_log.addHandler(handler := logging.StreamHandler(captured))
    handler.setFormatter(logs.JsonFormatter())
    asyncio_log.propagate = False
    try:

        async def fails() -> None:
            raise ValueError(secret)

        task = asyncio.get_running_loop().create_task(fails())
        await asyncio.sleep(0)
        assert task.done()
        asyncio.get_running_loop().call_exception_handler(
            {"message": "Task exception was never retrieved", "exception": task.exception(),
             "future": task}
        )  # fmt: skip
    finally:
        asyncio_log.removeHandler(handler)
        asyncio_log.propagate = True
    (line,) = lines_of(captured)
    assert line["event"] == "Task exception was never retrieved", line
    assert f"ValueError: {logs.WITHHELD}" in line["exc"], line
    assert secret not in captured.getvalue()


def test_the_start_up_line_is_found_in_json_and_in_text() -> None:
    line = UVLOOP_HTTPTOOLS.line()
    as_json = json.dumps({"time": "t", "level": "info", "logger": "kleur.startup", "event": line})
    as_text = f"2026-12-04T18:00:00.000Z INFO    kleur.startup: {line}"
    for log in (as_json, as_text, line):
        assert ServingStack.parse(f'{{"event": "other"}}\n{log}\n') == UVLOOP_HTTPTOOLS
