"""The ceiling: a bare ASGI websocket echo endpoint, served like kleur.

The runner serves this as ``python -m loadtests.echo_app --port N``, which
runs it through ``server.serving`` exactly as ``kleur serve`` runs kleur
(uvloop, httptools, ``websockets-sansio``, the same maximum frame size,
permessage-deflate off), and drives it with the same client and the same
rating frames.  Its
messages per second are what the stack can do with no application at all;
every kleur figure is also given as a share of it.

It accepts the first subprotocol the client offers (as kleur accepts one of
its codecs) and sends every data frame straight back, text as text and binary
as binary.  No Starlette, no routing: the least an application can do.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from server import serving

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        # Only for the runner's readiness check.
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ready"})
        return
    if scope["type"] != "websocket":
        return
    event = await receive()
    if event["type"] != "websocket.connect":
        return
    offered = scope.get("subprotocols") or []
    await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None})
    while True:
        event = await receive()
        if event["type"] != "websocket.receive":
            return  # websocket.disconnect
        if event.get("bytes") is not None:
            await send({"type": "websocket.send", "bytes": event["bytes"]})
        else:
            await send({"type": "websocket.send", "text": event.get("text", "")})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.echo_app",
        description="The echo ceiling: a bare websocket echo, served like kleur.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    try:
        serving.check_installed()
    except serving.MissingServerPart as exc:
        print(f"echo: {exc}", file=sys.stderr)
        return 2
    try:
        serving.serve(app, host=args.host, port=args.port, log_level=args.log_level)
    except serving.StartupFailed as exc:
        print(f"echo: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
