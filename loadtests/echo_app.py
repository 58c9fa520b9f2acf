"""The ceiling: a bare ASGI websocket echo endpoint, served like kleur.

The runner serves this with the same uvicorn command line as kleur
(``--ws websockets-sansio``, the same ``--ws-max-size``, permessage-deflate
off) and drives it with the same client and the same rating frames.  Its
messages per second are what the stack can do with no application at all;
every kleur figure is also given as a share of it.

It accepts the first subprotocol the client offers (as kleur accepts one of
its codecs) and sends every data frame straight back, text as text and binary
as binary.  No Starlette, no routing: the least an application can do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

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
