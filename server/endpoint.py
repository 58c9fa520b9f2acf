"""The websocket endpoint ``/ws``: handshake, join, then one command at a time.

Bad input harms only its sender: a frame that cannot be decoded, an unknown
type or a refused command gets an ``error`` message; too many errors, a flood
or a wrong token closes that one connection with a code from
``protocol.close_codes``.  Nothing here blocks another connection.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from starlette.websockets import WebSocket

from agenda import views
from agenda.phases import rounds_started
from agenda.templates import Template
from protocol import limits
from protocol.close_codes import CloseCode
from protocol.codec import choose_codec
from protocol.errors import ErrorCode, ProtocolError
from protocol.messages import Command, Error, Join, RoomState, Welcome
from protocol.phases import Role
from server.commands import execute
from server.connection import Connection, Identity
from server.keys import new_token, participant_id, token_hash
from server.metrics import METRICS
from server.ratelimit import SlidingCounter, TokenBucket
from server.services import Services
from server.snapshots import now_ms

log = logging.getLogger("kleur.ws")

#: Close code for each refusal of a join.
_JOIN_CLOSE = {
    ErrorCode.ROOM_NOT_FOUND: CloseCode.ROOM_NOT_FOUND,
    ErrorCode.ROOM_LOCKED: CloseCode.ROOM_LOCKED,
    ErrorCode.ROOM_FULL: CloseCode.ROOM_FULL,
    ErrorCode.BAD_TOKEN: CloseCode.FORBIDDEN,
    ErrorCode.STORE_UNAVAILABLE: CloseCode.STORE_UNAVAILABLE,
}
#: Join refusals that count as a guess (room codes, tokens).
_GUESSES = {ErrorCode.ROOM_NOT_FOUND, ErrorCode.ROOM_LOCKED, ErrorCode.BAD_TOKEN}


def client_key(websocket: WebSocket) -> str:
    return websocket.client.host if websocket.client else "unknown"


async def _receive_frame(websocket: WebSocket) -> bytes | str | None:
    """The next data frame, or None when the client is gone."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        return None
    data = message.get("bytes")
    if data is not None:
        return bytes(data)
    return str(message.get("text", ""))


async def websocket_endpoint(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    codec = choose_codec(list(websocket.scope.get("subprotocols", [])))
    if codec is None:
        await websocket.accept()
        await websocket.close(
            CloseCode.UNSUPPORTED_SUBPROTOCOL, "offer kleur.v1.msgpack or kleur.v1.json"
        )
        return
    await websocket.accept(subprotocol=codec.subprotocol)
    connection = Connection(websocket, codec)
    try:
        if await _join(services, connection):
            await _serve(services, connection)
    finally:
        services.hub.remove(connection)
        connection.close(CloseCode.NORMAL, "")
        await connection.wait_written(timeout=5)


async def _join(services: Services, connection: Connection) -> bool:
    key = client_key(connection.websocket)
    if services.failed_joins.exceeded(key):
        connection.close(CloseCode.TOO_MANY_FAILED_JOINS, "too many failed joins; wait a minute")
        return False
    try:
        frame = await asyncio.wait_for(
            _receive_frame(connection.websocket), limits.JOIN_TIMEOUT_SECONDS
        )
    except TimeoutError:
        connection.close(CloseCode.JOIN_EXPECTED, "send join first")
        return False
    if frame is None:
        return False
    try:
        message = connection.codec.decode_client(frame)
        if not isinstance(message, Join):
            raise ProtocolError(ErrorCode.NOT_JOINED, "the first message must be join")
        if message.role is Role.FACILITATOR:
            welcome = await _join_facilitator(services, connection, message)
        elif message.role is Role.PRESENTER:
            welcome = await _join_presenter(services, connection, message)
        else:
            welcome = await _join_participant(services, connection, message)
    except ProtocolError as error:
        connection.send(Error(error.code, error.detail, None))
        METRICS.joins[error.code.value] += 1
        if error.code in _GUESSES:
            services.failed_joins.add(key)
        connection.close(_JOIN_CLOSE.get(error.code, CloseCode.JOIN_EXPECTED), error.detail)
        return False
    connection.send(welcome)
    METRICS.joins["ok"] += 1
    services.hub.add(connection)
    if message.role in (Role.FACILITATOR, Role.PRESENTER):
        services.hub.send_dashboard_now(connection)
    return True


async def _join_facilitator(services: Services, connection: Connection, join: Join) -> Welcome:
    meta = await services.store.room_meta(join.room)
    assert join.token is not None  # Join checks this
    if meta is None:
        raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, "this room does not exist")
    # Compare hashes in constant time: timing says nothing about the token.
    if not hmac.compare_digest(token_hash(join.token), meta.facilitator_hash):
        raise ProtocolError(ErrorCode.BAD_TOKEN, "wrong facilitator token")
    template = services.templates[meta.template_id]
    device = join.device or "shared"
    connection.identity = Identity(join.room, Role.FACILITATOR, template, None, device)
    return Welcome(
        role=Role.FACILITATOR,
        room=join.room,
        template_id=template.id,
        participant_token=None,
        org_type=None,
        ratings=(),
        notes=(),
        dots=(),
        max_seq=meta.facilitator_seqs.get(device, 0),
        server_time=now_ms(),
        state=await _room_state(services, join.room, template),
    )


async def _join_presenter(services: Services, connection: Connection, join: Join) -> Welcome:
    """The projector: read-only, with the display token from the presenter link."""
    meta = await services.store.room_meta(join.room)
    assert join.token is not None  # Join checks this
    if meta is None:
        raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, "this room does not exist")
    given, expected = join.token.encode(), meta.display_token.encode()
    if not expected or not hmac.compare_digest(given, expected):
        raise ProtocolError(ErrorCode.BAD_TOKEN, "wrong display token")
    template = services.templates[meta.template_id]
    connection.identity = Identity(join.room, Role.PRESENTER, template, None)
    return Welcome(
        role=Role.PRESENTER,
        room=join.room,
        template_id=template.id,
        participant_token=None,
        org_type=None,
        ratings=(),
        notes=(),
        dots=(),
        max_seq=0,
        server_time=now_ms(),
        state=await _room_state(services, join.room, template),
    )


async def _room_state(
    services: Services, code: str, template: Template, at_least: int = 0
) -> RoomState:
    """The room state for a welcome: from this process's mirror when it has the
    room at ``at_least`` that version (the join's own), else read from Redis."""
    data = services.hub.room_data(code, at_least) or await services.store.read_room(code)
    if data is None:
        raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, "this room does not exist")
    return views.room_state(data, template)


async def _join_participant(services: Services, connection: Connection, join: Join) -> Welcome:
    meta = await services.store.room_meta(join.room)
    if meta is None:
        raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, "this room does not exist")
    template = services.templates[meta.template_id]
    token = join.token or new_token()
    pid = participant_id(join.room, token)
    joined = await services.store.join_participant(join.room, pid, join.join_token, template)
    connection.identity = Identity(join.room, Role.PARTICIPANT, template, pid)
    if joined.change is not None:  # a new participant: the count moved
        services.hub.apply(join.room, joined.change)
    state = await _room_state(services, join.room, template, joined.version)
    return Welcome(
        role=Role.PARTICIPANT,
        room=join.room,
        template_id=template.id,
        participant_token=token,
        org_type=joined.org_type,
        ratings=joined.ratings,
        notes=joined.notes,
        dots=joined.dots,
        max_seq=joined.max_seq,
        server_time=now_ms(),
        state=state,
        admitted=joined.admitted,
        device_code=joined.device_code,
        org_type_fixed=rounds_started(joined.phase),
    )


async def _serve(services: Services, connection: Connection) -> None:
    identity = connection.identity
    assert identity is not None
    bucket = TokenBucket(limits.RATE_LIMIT_PER_SECOND, limits.RATE_LIMIT_BURST)
    errors = SlidingCounter(limits.MAX_ERRORS_PER_WINDOW, limits.ERROR_WINDOW_SECONDS)
    while not connection.closing:
        frame = await _receive_frame(connection.websocket)
        if frame is None:
            return
        seq = None
        try:
            # Decode first, so that even a refusal for speed names the command.
            message = connection.codec.decode_client(frame)
            seq = message.seq if isinstance(message, Command) else None
            if not bucket.take():
                raise ProtocolError(ErrorCode.RATE_LIMITED, "slow down; send it again shortly")
            ack = await execute(services, identity, message)
            connection.send(ack)
            METRICS.commands[(message.TYPE, "duplicate" if ack.duplicate else "applied")] += 1
        except ProtocolError as error:
            connection.send(Error(error.code, error.detail, seq))
            METRICS.commands[("refused", error.code.value)] += 1
            if error.code is ErrorCode.STORE_UNAVAILABLE:
                continue  # not the client's fault; it keeps the command and retries
            errors.add("")
            if errors.exceeded(""):
                close = (
                    CloseCode.RATE_LIMITED
                    if error.code is ErrorCode.RATE_LIMITED
                    else CloseCode.PROTOCOL_VIOLATION
                )
                connection.close(close, "too many errors")
        except Exception:
            # A bug of ours must cost this one command, not the connection or the room.
            log.exception("command failed")
            connection.send(Error(ErrorCode.INTERNAL, "internal error; nothing was stored", seq))
