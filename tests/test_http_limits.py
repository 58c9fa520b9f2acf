"""Issue 11, the HTTP side: proxies, logs without identities, bodies, caching,
origins, join links, slow headers; each refusal next to an honest request
that is served at the same time.  Against ``kleur serve`` processes."""

from __future__ import annotations

import asyncio
import json
import math
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from agenda.export.model import JSON_EXPORT_VERSION
from agenda.followup import ImportError_, parse_previous
from agenda.templates import load_builtin_templates
from client.kleur_client import KleurClient
from protocol import limits
from protocol.close_codes import CloseCode
from protocol.codec import MSGPACK
from protocol.messages import Join, Welcome
from protocol.phases import Phase, Role
from server.embedded_redis import RedisServer
from tests.support import ROOT, ServerProcess

NORM = "reele-werkervaring"
CLIENT_A = "203.0.113.7"
CLIENT_B = "203.0.113.8"

StartServer = Callable[..., ServerProcess]


@pytest.fixture
def start_server(redis_server: RedisServer, tmp_path: Path) -> Iterator[StartServer]:
    """Starts ``kleur serve`` processes with the given settings; stops them after the test."""
    started: list[ServerProcess] = []

    def start(log_level: str = "warning", **settings: str) -> ServerProcess:
        log = tmp_path / f"kleur-{len(started) + 1}.log"
        server = ServerProcess(redis_server.url, log, log_level=log_level, **settings)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


def create(server: ServerProcess, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{server.http_url}/api/rooms", json={"template": "participatiescan"}, headers=headers
    )


async def join_close_code(
    server: ServerProcess, room: str, *, join_token: str | None = None, **headers: str
) -> int | None:
    """Joins as a participant; None when welcomed, else the close code."""
    async with connect(
        server.ws_url,
        subprotocols=[MSGPACK.subprotocol],  # type: ignore[list-item]
        additional_headers=headers,
        open_timeout=10,
    ) as ws:
        try:
            await ws.send(MSGPACK.encode(Join(room, Role.PARTICIPANT, None, join_token, None)))
            while True:
                frame = await asyncio.wait_for(ws.recv(), 10)
                if isinstance(MSGPACK.decode_server(frame), Welcome):
                    return None
        except ConnectionClosed:
            return ws.close_code


# -- 1. trusted proxies ----------------------------------------------------------


async def test_behind_a_trusted_proxy_limits_count_the_forwarded_client(
    start_server: StartServer,
) -> None:
    server = start_server(trusted_proxies="127.0.0.1", rooms_per_hour_per_client="2")
    # Rooms per hour: client A uses up its two, client B (the same proxy) still creates.
    assert [create(server, **{"X-Forwarded-For": CLIENT_A}).status_code for _ in range(3)] == [
        201,
        201,
        429,
    ]
    room = create(server, **{"X-Forwarded-For": CLIENT_B})
    assert room.status_code == 201
    code = room.json()["code"]
    join_token = room.json()["join_url"].partition("?t=")[2]
    # Failed joins: A guesses until it is throttled; B, through the same proxy, is not.
    for _ in range(limits.MAX_FAILED_JOINS_PER_MINUTE):
        closed = await join_close_code(server, "ZZZZZZ", **{"X-Forwarded-For": CLIENT_A})
        assert closed == CloseCode.ROOM_NOT_FOUND
    throttled = await join_close_code(server, "ZZZZZZ", **{"X-Forwarded-For": CLIENT_A})
    assert throttled == CloseCode.TOO_MANY_FAILED_JOINS
    assert await join_close_code(server, "ZZZZZZ", **{"X-Forwarded-For": CLIENT_B}) == (
        CloseCode.ROOM_NOT_FOUND
    )
    assert (
        await join_close_code(server, code, join_token=join_token, **{"X-Forwarded-For": CLIENT_B})
        is None
    )


@pytest.mark.parametrize("trusted", ["", "10.9.9.9,192.168.0.0/16"])
async def test_from_an_untrusted_peer_the_forwarded_header_is_ignored(
    start_server: StartServer, trusted: str
) -> None:
    server = start_server(rooms_per_hour_per_client="2", trusted_proxies=trusted)
    statuses = [
        create(server, **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(3)
    ]
    assert statuses == [201, 201, 429]  # one client (the peer), whatever the header says


def test_a_bad_trusted_proxy_entry_stops_the_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--redis-url", "redis://127.0.0.1:1/0"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "KLEUR_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.1/8"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "KLEUR_TRUSTED_PROXIES: '10.0.0.1/8' is not an IP address or network" in result.stderr


# -- 2. access log without identities ----------------------------------------------


async def test_the_log_of_a_session_holds_no_tokens_and_no_address_beside_a_room(
    start_server: StartServer,
) -> None:
    server = start_server(log_level="info")
    room = create(server).json()
    code = room["code"]
    join_token = room["join_url"].partition("?t=")[2]
    facilitator_token = room["facilitator_token"]
    display_token = room["display_url"].partition("#")[2]
    bearer = {"Authorization": f"Bearer {facilitator_token}"}
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        assert (await http.get(f"/j/{code}?t={join_token}")).status_code == 200
        assert (await http.get(f"/f/{code}")).status_code == 200
        assert (await http.get(f"/p/{code}")).status_code == 200
        assert (
            await http.get(f"/api/rooms/{code}/qr.svg?t={join_token}", headers=bearer)
        ).status_code == 200
        # What the phone page fetches right after /j/CODE, on the same connection.
        assert (await http.get("/static/kleur.js")).status_code == 200
        assert (await http.get("/api/protocol")).status_code == 200
        # A refusal keeps its address (abuse is spotted by address).
        assert (await http.get("/api/templates/no-such-template")).status_code == 404
    facilitator = KleurClient(server.ws_url, code, Role.FACILITATOR, token=facilitator_token)
    await facilitator.connect()
    phone = KleurClient(server.ws_url, code, Role.PARTICIPANT, join_token=join_token)
    await phone.connect()
    participant_token = phone.token
    assert participant_token
    await facilitator.set_phase(Phase.RATING)
    await phone.wait_for(lambda c: c.state is not None and c.state.phase is Phase.RATING)
    await phone.rate(NORM, 7)
    await facilitator.set_phase(Phase.REVEAL)
    await facilitator.set_phase(Phase.BRAINSTORM)
    await phone.wait_for(lambda c: c.state is not None and c.state.phase is Phase.BRAINSTORM)
    await phone.put_note("meer stageplekken")
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        exported = await http.get(f"/api/rooms/{code}/export.json?lang=en", headers=bearer)
        assert exported.status_code == 200
    await phone.close()
    await facilitator.close()
    server.stop()

    log = server.log_path.read_text()
    lines = log.splitlines()
    # The log is there (else this test could not fail): the pages, the export, the websocket.
    assert any(f"GET /j/{code}" in line for line in lines), log
    assert any(f"/api/rooms/{code}/export.json" in line for line in lines), log
    assert any('"WebSocket /ws"' in line for line in lines), log
    for secret in (join_token, facilitator_token, display_token, participant_token):
        assert secret not in log
    assert "?t=" not in log
    beside_a_room = [line for line in lines if code in line and "127.0.0.1" in line]
    assert beside_a_room == []
    # An address only on a refusal or a room creation: not on the page's assets,
    # not on the websocket handshake that comes just before a "joined".
    # An access line starts with the client's address, without its source port.
    address = "127.0.0.1 - "
    with_address = [line for line in lines if address in line and '" 200' in line]
    assert with_address == [], with_address
    assert not [line for line in lines if address in line and "[accepted]" in line]
    assert any(address in line and "no-such-template" in line for line in lines), log
    assert any(address in line and "POST /api/rooms" in line for line in lines), log
    assert not re.search(r"127\.0\.0\.1:\d+ - ", log), "a source port is logged"


# -- 3. request bodies -----------------------------------------------------------------

MIB = 1024 * 1024


def rss_kib(server: ServerProcess) -> int:
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1])


async def chunked_upload(http: httpx.AsyncClient, total: int) -> httpx.Response:
    """``total`` bytes of a JSON string, sent chunked (no Content-Length to check first)."""

    async def body() -> AsyncIterator[bytes]:
        yield b'{"template": "participatiescan", "name": "'
        chunk = b"x" * (256 * 1024)
        for _ in range(total // len(chunk)):
            yield chunk
        yield b'"}'

    try:
        return await http.post(
            "/api/rooms", content=body(), headers={"Content-Type": "application/json"}
        )
    except httpx.WriteError:  # the server answered and closed before we were done
        pytest.fail("the server closed without an answer")


async def test_a_chunked_body_over_the_limit_is_refused_without_being_held(
    start_server: StartServer,
) -> None:
    server = start_server()
    async with httpx.AsyncClient(base_url=server.http_url, timeout=60) as http:
        refused = await chunked_upload(http, 24 * MIB)  # the first one warms up the code paths
        assert refused.status_code == 413
        assert refused.json()["error"] == "invalid_field"
        before = rss_kib(server)
        for _ in range(3):
            refused, honest = await asyncio.gather(
                chunked_upload(http, 24 * MIB),
                http.post("/api/rooms", json={"template": "participatiescan"}),
            )
            assert refused.status_code == 413
            assert honest.status_code == 201
        grown = rss_kib(server) - before
    assert grown < 8 * 1024, f"RSS grew by {grown} KiB"


async def test_content_length_over_the_limit_is_refused_before_the_body(
    start_server: StartServer,
) -> None:
    server = start_server(max_body_bytes="1000")
    big = httpx.post(
        f"{server.http_url}/api/rooms",
        json={"template": "participatiescan", "name": "x" * 2000},
    )
    assert big.status_code == 413
    assert "1000 bytes" in big.json()["detail"]
    assert create(server).status_code == 201


@pytest.mark.parametrize("depth", [33, 5000, 200_000])
async def test_deeply_nested_json_is_a_clear_400(start_server: StartServer, depth: int) -> None:
    server = start_server()
    nested = '{"template": "participatiescan", "previous": ' + "[" * depth + "]" * depth + "}"
    answer = httpx.post(
        f"{server.http_url}/api/rooms",
        content=nested,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    assert answer.json() == {
        "error": "bad_frame",
        "detail": "the JSON nests deeper than 32 levels",
    }
    assert create(server).status_code == 201


async def test_a_body_that_is_not_json_is_refused_with_415(start_server: StartServer) -> None:
    server = start_server()
    # What a cross-site HTML form can send without a preflight.
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": content_type} if content_type else {}
        answer = httpx.post(
            f"{server.http_url}/api/rooms",
            content=b'{"template": "participatiescan"}',
            headers=headers,
        )
        assert answer.status_code == 415, content_type
        assert answer.json()["error"] == "invalid_field"
    charset = httpx.post(
        f"{server.http_url}/api/rooms",
        content=b'{"template": "participatiescan"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert charset.status_code == 201


# -- 4. Cache-Control ----------------------------------------------------------------


async def test_tokens_and_results_are_never_stored_by_a_cache(start_server: StartServer) -> None:
    server = start_server()
    created = create(server)
    room = created.json()
    code = room["code"]
    bearer = {"Authorization": f"Bearer {room['facilitator_token']}"}
    join = room["join_url"].removeprefix(server.http_url)
    answers = {
        "create": created,
        "join page": httpx.get(f"{server.http_url}{join}"),
        "control page": httpx.get(f"{server.http_url}/f/{code}"),
        "links": httpx.get(f"{server.http_url}/api/rooms/{code}/links", headers=bearer),
        "export": httpx.get(f"{server.http_url}/api/rooms/{code}/export.json", headers=bearer),
        "refused export": httpx.get(f"{server.http_url}/api/rooms/{code}/export.json"),
        "templates": httpx.get(f"{server.http_url}/api/templates"),
    }
    for name, answer in answers.items():
        assert answer.status_code < 500, name
        assert answer.headers.get("cache-control") == "no-store", name
    asset = httpx.get(f"{server.http_url}/static/kleur.js")
    assert asset.status_code == 200
    assert "no-store" not in asset.headers.get("cache-control", "")
    assert asset.headers.get("etag")  # static assets keep their caching


# -- 5. websocket Origin allowlist -------------------------------------------------------


async def handshake_status(server: ServerProcess, origin: str | None) -> int:
    """101 when the websocket opens, else the HTTP status of the refusal."""
    try:
        async with connect(
            server.ws_url,
            subprotocols=[MSGPACK.subprotocol],  # type: ignore[list-item]
            origin=origin,  # type: ignore[arg-type]
            open_timeout=10,
        ):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


async def test_a_websocket_from_another_site_is_refused(start_server: StartServer) -> None:
    server = start_server(public_url="https://kleur.example.org/")
    room = create(server).json()
    honest = KleurClient(
        server.ws_url, room["code"], Role.FACILITATOR, token=room["facilitator_token"]
    )
    await honest.connect()
    assert await handshake_status(server, "http://evil.example") == 403
    assert await handshake_status(server, f"http://127.0.0.1:{server.port}.evil.example") == 403
    assert await handshake_status(server, f"https://127.0.0.1:{server.port}") == 403  # scheme
    assert await handshake_status(server, server.http_url) == 101  # its own pages
    assert await handshake_status(server, "https://kleur.example.org") == 101  # public_url
    assert await handshake_status(server, None) == 101  # the Python client, native apps
    await honest.set_phase(Phase.RATING)  # the facilitator carried on meanwhile
    assert honest.connected
    await honest.close()


async def test_allowed_origins_replace_the_default(start_server: StartServer) -> None:
    server = start_server(allowed_origins="https://a.example, https://b.example:8443")
    assert await handshake_status(server, "https://b.example:8443") == 101
    assert await handshake_status(server, "https://a.example") == 101
    assert await handshake_status(server, server.http_url) == 403
    assert await handshake_status(server, None) == 101


# -- 6. join links ----------------------------------------------------------------------


async def test_join_links_do_not_follow_the_host_header(start_server: StartServer) -> None:
    server = start_server()
    room = create(server, Host="evil.example").json()
    assert room["join_url"].startswith(f"{server.http_url}/j/{room['code']}?t=")
    assert room["facilitator_url"].startswith(f"{server.http_url}/f/")
    links = httpx.get(
        f"{server.http_url}/api/rooms/{room['code']}/links",
        headers={"Authorization": f"Bearer {room['facilitator_token']}", "Host": "evil.example"},
    ).json()
    assert all(url.startswith(f"{server.http_url}/") for url in links.values())
    public = start_server(public_url="https://kleur.example.org/")
    room = create(public, Host="evil.example").json()
    assert room["join_url"].startswith(f"https://kleur.example.org/j/{room['code']}?t=")


# -- 7. slowly sent headers -------------------------------------------------------------


SLOW_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"y" * 30


async def dribble_headers(server: ServerProcess, at_once: int) -> float:
    """Sends ``at_once`` bytes of a request, then one byte a second (none: silence);
    seconds until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    started = asyncio.get_running_loop().time()
    writer.write(SLOW_REQUEST[:at_once])
    closed = asyncio.create_task(reader.read())
    try:
        for byte in SLOW_REQUEST[at_once:] if at_once else b"\0" * 30:
            if closed.done():
                break
            if at_once:
                writer.write(bytes([byte]))
            await asyncio.wait([closed], timeout=1)
        assert closed.done(), "the connection was held open"
        assert await closed == b""  # closed without an answer
        return asyncio.get_running_loop().time() - started
    finally:
        writer.close()


async def test_slowly_sent_headers_are_cut_off(start_server: StartServer) -> None:
    server = start_server(header_timeout_seconds="3")
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        slow = asyncio.gather(
            dribble_headers(server, len(b"GET /healthz HTTP/1.1\r\n")),
            dribble_headers(server, 1),
            dribble_headers(server, 0),  # not a byte
        )
        # Meanwhile, others are served.
        for _ in range(4):
            assert (await http.get("/healthz")).status_code == 200
            await asyncio.sleep(0.5)
        for seconds in await slow:
            assert 2.5 < seconds < 5.5
        # A keep-alive connection's second request is bounded too, from its first byte.
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await reader.readuntil(b"ok")).startswith(b"HTTP/1.1 200")
        writer.write(b"GET /healthz HTTP/1.1\r\n")
        assert await asyncio.wait_for(reader.read(), 6) == b""
        writer.close()


# -- 8. imported scans, and exports while Redis is away ------------------------------------


def follow_up(server: ServerProcess, previous: dict[str, object]) -> httpx.Response:
    body = json.dumps({"template": "participatiescan", "previous": previous})  # NaN as NaN
    return httpx.post(
        f"{server.http_url}/api/rooms", content=body, headers={"Content-Type": "application/json"}
    )


@pytest.mark.parametrize(
    ("spoil", "detail"),
    [
        ("median", "previous: a median must be a finite number"),
        ("infinity", "previous: a median must be a finite number"),
        ("surrogate", "previous: text is not valid Unicode (a lone surrogate)"),
        ("noncharacter", "previous: text holds a Unicode noncharacter (such as U+FFFE)"),
    ],
)
async def test_an_imported_scan_with_unencodable_values_is_refused(
    start_server: StartServer, spoil: str, detail: str
) -> None:
    server = start_server()
    room = create(server).json()
    bearer = {"Authorization": f"Bearer {room['facilitator_token']}"}
    export = httpx.get(f"{server.http_url}/api/rooms/{room['code']}/export.json", headers=bearer)
    previous = export.json()
    assert follow_up(server, previous).status_code == 201  # the export as it is: accepted
    norm = previous["themes"][0]["norms"][0]
    if spoil == "median":
        norm["median"] = math.nan
    elif spoil == "infinity":
        norm["median"] = math.inf
    else:
        text = "meer \ud800 stages" if spoil == "surrogate" else "meer \uffff stages"
        previous["agenda"] = [{"action": text, "owner": "", "deadline": None}]
    refused = follow_up(server, previous)
    assert refused.status_code == 400, refused.text
    assert refused.json() == {"error": "invalid_field", "detail": detail}
    assert create(server).status_code == 201


@pytest.mark.parametrize("char", ["\ufffe", "\uffff", "\ufdd0", "\U0001ffff", "\U0010fffe"])
def test_noncharacters_in_an_imported_text_are_refused(char: str) -> None:
    template = load_builtin_templates()["participatiescan"]
    document = {
        "format": "kleur-result",
        "version": JSON_EXPORT_VERSION,
        "template": {"id": template.id},
        "themes": [],
        "agenda": [{"action": f"actie {char}"}],
    }
    with pytest.raises(ImportError_, match="noncharacter"):
        parse_previous(document, template)
    document["agenda"] = [{"action": "actie \ufffd \ufdcf \ufdf0 \U0001fffd"}]  # neighbours: fine
    assert parse_previous(document, template).items[0][0] == "actie \ufffd \ufdcf \ufdf0 \U0001fffd"


async def test_an_export_while_redis_is_away_is_a_503(
    start_server: StartServer, redis_server: RedisServer
) -> None:
    server = start_server()
    room = create(server).json()
    bearer = {"Authorization": f"Bearer {room['facilitator_token']}"}
    url = f"{server.http_url}/api/rooms/{room['code']}/export.docx"
    assert httpx.get(url, headers=bearer).status_code == 200
    redis_server.stop()
    answer = httpx.get(url, headers=bearer, timeout=60)
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == "store_unavailable"
    assert httpx.get(f"{server.http_url}/healthz").status_code == 200
