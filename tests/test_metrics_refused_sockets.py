"""Websockets refused before they get a ``Connection`` (over the per-address cap,
no known subprotocol) are closes like any other: ``kleur_closes_total`` counts
them, so that an operator sees a hall hitting the cap."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from protocol.close_codes import CloseCode
from server.embedded_redis import RedisServer
from tests.scrape import scrape
from tests.support import ServerProcess

JSON_SUBPROTOCOL = Subprotocol("kleur.v1.json")


@pytest.fixture
def capped(redis_server: RedisServer, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server that lets one address hold one unjoined socket."""
    server = ServerProcess(
        redis_server.url, tmp_path / "kleur.log", max_unjoined_connections_per_client="1"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def closes(server: ServerProcess, code: CloseCode) -> float:
    return scrape(server.http_url).value("kleur_closes_total", code=str(int(code)), by="server")


async def test_refused_sockets_are_counted_as_server_closes(capped: ServerProcess) -> None:
    no_subprotocol = closes(capped, CloseCode.UNSUPPORTED_SUBPROTOCOL)
    async with connect(capped.ws_url) as ws:
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == CloseCode.UNSUPPORTED_SUBPROTOCOL
    assert closes(capped, CloseCode.UNSUPPORTED_SUBPROTOCOL) == no_subprotocol + 1

    over_cap = closes(capped, CloseCode.TOO_MANY_CONNECTIONS)
    # The first socket holds the address's one unjoined slot; the second is refused.
    async with (
        connect(capped.ws_url, subprotocols=[JSON_SUBPROTOCOL]),
        connect(capped.ws_url, subprotocols=[JSON_SUBPROTOCOL]) as second,
    ):
        with pytest.raises(ConnectionClosed):
            await second.recv()
        assert second.close_code == CloseCode.TOO_MANY_CONNECTIONS
    assert closes(capped, CloseCode.TOO_MANY_CONNECTIONS) == over_cap + 1
