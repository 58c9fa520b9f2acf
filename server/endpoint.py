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
import time

from starlette.websockets import WebSocket

from agenda import views
from agenda.phases import rounds_started
from agenda.templates import Template
from protocol import limits
from protocol.close_codes import CloseCode
from protocol.codec import choose_codec
from protocol.errors import ErrorCode, ProtocolError
from protocol.messages import Command, Error, Join, RoomState, Welcome
from protocol.phases import Phase, Role
from server.commands import execute
from server.connection import Connection, Identity
from server.keys import issued_here, participant_id, participant_token, token_hash
from server.logs import bind_connection, bind_room
from server.metrics import METRICS
from server.ratelimit import SlidingCounter
from server.restore import RoomSecrets
from server.services import Services
from server.snapshots import now_ms
from server.store import RoomMeta

log = logging.getLogger("kleur.ws")

#: Close code for each refusal of a join.
_JOIN_CLOSE = {
    ErrorCode.ROOM_NOT_FOUND: CloseCode.ROOM_NOT_FOUND,
    ErrorCode.ROOM_FULL: CloseCode.ROOM_FULL,
    ErrorCode.STORE_UNAVAILABLE: CloseCode.STORE_UNAVAILABLE,
    ErrorCode.ROOM_LOST: CloseCode.ROOM_LOST,
}
#: Join refusals that count as a guess (room codes, tokens).  All of them get
#: one and the same answer (``NOT_OPEN``): a guesser must not learn that a code
#: exists but is locked, or that a room exists behind a wrong token.
_GUESSES = {ErrorCode.ROOM_NOT_FOUND, ErrorCode.ROOM_LOCKED, ErrorCode.BAD_TOKEN}
#: The one answer to a guess.
NOT_OPEN = "this room code is not open for joining"


def client_key(websocket: WebSocket) -> str:
    return websocket.client.host if websocket.client else "unknown"


async def _receive_frame(
    websocket: WebSocket, connection: Connection | None = None
) -> bytes | str | None:
    """The next data frame, or None when the client is gone."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        if connection is not None:
            connection.closed_by_peer(int(message.get("code", 1005)))
        return None
    data = message.get("bytes")
    if data is not None:
        return bytes(data)
    return str(message.get("text", ""))


async def websocket_endpoint(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    codec = choose_codec(list(websocket.scope.get("subprotocols", [])))
    key = client_key(websocket)
    # This task's log lines name the connection (and, once joined, the room): server.logs.
    bind_connection()
    # Before any work: one address may not hold more sockets than its caps.
    if not services.connection_caps.admit(key):
        await websocket.accept(subprotocol=None if codec is None else codec.subprotocol)
        # Closed before a Connection exists: counted here (kleur_closes_total).
        METRICS.closed_by_server(int(CloseCode.TOO_MANY_CONNECTIONS))
        await websocket.close(
            CloseCode.TOO_MANY_CONNECTIONS, "too many connections from this address; try later"
        )
        return
    joined = False
    try:
        if codec is None:
            await websocket.accept()
            METRICS.closed_by_server(int(CloseCode.UNSUPPORTED_SUBPROTOCOL))
            await websocket.close(
                CloseCode.UNSUPPORTED_SUBPROTOCOL, "offer kleur.v1.msgpack or kleur.v1.json"
            )
            return
        await websocket.accept(subprotocol=codec.subprotocol)
        connection = Connection(websocket, codec)
        try:
            if await _join(services, connection):
                services.connection_caps.joined(key)
                joined = True
                await _serve(services, connection)
        finally:
            services.hub.remove(connection)
            connection.close(CloseCode.NORMAL, "")
            await connection.wait_written(timeout=5)
    finally:
        services.connection_caps.release(key, joined=joined)
        if joined:
            log.info("left")


async def _holds_credential(services: Services, join: Join) -> bool:
    """Whether the join proves it is no guess: the room's facilitator or display
    token, its join token (the QR link's ``t``) or the token of a participant
    who joined before.  Asked only of an address that guessed too often."""
    if join.token is None and join.join_token is None:
        return False  # nothing to check: no Redis read for a bare guess
    meta = await services.store.room_meta(join.room)
    if meta is None:
        return await _holds_lost_credential(services, join)
    if join.role is Role.FACILITATOR:
        assert join.token is not None  # Join checks this
        return hmac.compare_digest(token_hash(join.token), meta.facilitator_hash)
    if join.role is Role.PRESENTER:
        assert join.token is not None  # Join checks this
        expected = meta.display_token.encode()
        return bool(expected) and hmac.compare_digest(join.token.encode(), expected)
    if join.join_token is not None and hmac.compare_digest(
        join.join_token.encode(), meta.join_token.encode()
    ):
        return True
    return join.token is not None and await services.store.is_participant(
        join.room, participant_id(join.room, join.token)
    )


async def _holds_lost_credential(services: Services, join: Join) -> bool:
    """``_holds_credential`` for a lost room, against its marker: a phone of
    the room proves it by a token the room issued."""
    lost = await services.store.lost_marker(join.room)
    if lost is None:
        return False
    if join.role is Role.FACILITATOR:
        assert join.token is not None  # Join checks this
        return hmac.compare_digest(token_hash(join.token), lost.facilitator_hash)
    if join.role is Role.PRESENTER:
        assert join.token is not None  # Join checks this
        return bool(lost.display_token) and hmac.compare_digest(
            join.token.encode(), lost.display_token.encode()
        )
    if join.join_token is not None and hmac.compare_digest(
        join.join_token.encode(), lost.join_token.encode()
    ):
        return True
    return join.token is not None and issued_here(join.room, lost.facilitator_hash, join.token)


async def _vouched_by_lost_marker(services: Services, join: Join) -> bool:
    """``_holds_lost_credential``, False when Redis cannot say (the join's own
    refusal stands then)."""
    try:
        return await _holds_lost_credential(services, join)
    except ProtocolError:
        return False


def _secrets(meta: RoomMeta) -> RoomSecrets:
    return RoomSecrets(meta.facilitator_hash, meta.join_token, meta.display_token, meta.template_id)


async def _join(services: Services, connection: Connection) -> bool:
    key = client_key(connection.websocket)
    try:
        frame = await asyncio.wait_for(
            _receive_frame(connection.websocket, connection), limits.JOIN_TIMEOUT_SECONDS
        )
    except TimeoutError:
        connection.close(CloseCode.JOIN_EXPECTED, "send join first")
        return False
    if frame is None:
        return False
    message = None
    try:
        message = connection.codec.decode_client(frame)
        if not isinstance(message, Join):
            raise ProtocolError(ErrorCode.NOT_JOINED, "the first message must be join")
        # The throttle is for guesses only: behind one NAT a whole hall shares
        # an address, and one guesser there must not lock out the people who
        # came with a token.  A throttled guess gets the throttle's answer
        # whether or not its room exists.
        if services.failed_joins.exceeded(key) and not await _holds_credential(services, message):
            connection.close(
                CloseCode.TOO_MANY_FAILED_JOINS, "too many failed joins; wait a minute"
            )
            return False
        if message.role is Role.FACILITATOR:
            welcome, meta = await _join_facilitator(services, connection, message)
        elif message.role is Role.PRESENTER:
            welcome, meta = await _join_presenter(services, connection, message)
        else:
            welcome, meta = await _join_participant(services, connection, message)
    except ProtocolError as error:
        if (
            error.code is ErrorCode.ROOM_NOT_FOUND
            and isinstance(message, Join)
            and await _vouched_by_lost_marker(services, message)
        ):
            # Lost, not unknown, and this join shows it belongs there (a token
            # or join link the lost marker vouches for): its people come back
            # and must not be taken for guessers (one NAT, one hall); they
            # wait for the restore.  Anyone else gets the guess's one answer.
            error = ProtocolError(ErrorCode.ROOM_LOST, "this room was lost; it is being restored")
        METRICS.join(error.code.value)
        if error.code in _GUESSES:
            services.failed_joins.add(key)
            error = ProtocolError(ErrorCode.ROOM_NOT_FOUND, NOT_OPEN)
        connection.send(Error(error.code, error.detail, None))
        connection.close(_JOIN_CLOSE.get(error.code, CloseCode.JOIN_EXPECTED), error.detail)
        return False
    connection.send(welcome)
    bind_room(message.room)
    log.info("joined", extra={"role": message.role.value})  # the role only: never a token
    METRICS.join("ok")
    services.hub.add(connection)
    services.hub.remember_secrets(message.room, _secrets(meta))
    if message.role in (Role.FACILITATOR, Role.PRESENTER):
        services.hub.send_dashboard_now(connection)
    return True


async def _join_facilitator(
    services: Services, connection: Connection, join: Join
) -> tuple[Welcome, RoomMeta]:
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
    ), meta


async def _join_presenter(
    services: Services, connection: Connection, join: Join
) -> tuple[Welcome, RoomMeta]:
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
    ), meta


async def _room_state(
    services: Services, code: str, template: Template, at_least: int = 0
) -> RoomState:
    """The room state for a welcome: from this process's mirror when it has the
    room at ``at_least`` that version (the join's own), else read from Redis."""
    data = services.hub.room_data(code, at_least) or await services.store.read_room(code)
    if data is None:
        raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, "this room does not exist")
    return views.room_state(data, template)


async def _join_participant(
    services: Services, connection: Connection, join: Join
) -> tuple[Welcome, RoomMeta]:
    meta = await services.store.room_meta(join.room)
    if meta is None:
        raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, "this room does not exist")
    template = services.templates[meta.template_id]
    token = join.token or participant_token(join.room, meta.facilitator_hash)
    pid = participant_id(join.room, token)
    join_token = join.join_token
    if meta.phase is Phase.CLOSED and issued_here(join.room, meta.facilitator_hash, token):
        # A closed room keeps no participants; a device it let in may come back.
        join_token = meta.join_token
    # A phone of a restored room comes back as one of its people (join.lua).
    issued = join.token is not None and issued_here(join.room, meta.facilitator_hash, token)
    joined = await services.store.join_participant(
        join.room, pid, join_token, template, issued=issued
    )
    connection.identity = Identity(join.room, Role.PARTICIPANT, template, pid, epoch=meta.epoch)
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
    ), meta


def _sender_key(identity: Identity) -> str:
    """Who a command bucket belongs to: a participant's pseudonym (unique over
    rooms), a facilitator window's room and device, or a room's projectors."""
    if identity.role is Role.PARTICIPANT:
        return f"p:{identity.pid}"
    if identity.role is Role.FACILITATOR:
        return f"f:{identity.room}:{identity.device}"
    return f"d:{identity.room}"


async def _serve(services: Services, connection: Connection) -> None:
    identity = connection.identity
    assert identity is not None
    # The sender's bucket, not the connection's: reconnecting does not refill it.
    sender = _sender_key(identity)
    errors = SlidingCounter(limits.MAX_ERRORS_PER_WINDOW, limits.ERROR_WINDOW_SECONDS)
    while not connection.closing:
        frame = await _receive_frame(connection.websocket, connection)
        if frame is None:
            return
        received = time.perf_counter()
        seq = None
        try:
            # Decode first, so that even a refusal for speed names the command.
            message = connection.codec.decode_client(frame)
            seq = message.seq if isinstance(message, Command) else None
            if not services.command_buckets.take(sender):
                raise ProtocolError(ErrorCode.RATE_LIMITED, "slow down; send it again shortly")
            ack = await execute(services, identity, message)
            connection.send_ack(ack, message.TYPE, received)
            METRICS.command(message.TYPE, "duplicate" if ack.duplicate else "applied")
            if message.TYPE == "rate" and not ack.duplicate:
                METRICS.rating_stored()
        except ProtocolError as error:
            # A command that failed validation: the decoder read its seq from the raw map.
            connection.send(Error(error.code, error.detail, error.seq if seq is None else seq))
            METRICS.command("refused", error.code.value)
            if error.code in (ErrorCode.STORE_UNAVAILABLE, ErrorCode.ROOM_LOST):
                continue  # not the client's fault; it keeps the command and retries
            errors.add("")
            if errors.exceeded(""):
                close = (
                    CloseCode.RATE_LIMITED
                    if error.code is ErrorCode.RATE_LIMITED
                    else CloseCode.PROTOCOL_VIOLATION
                )
                log.warning("closing: too many refused commands, the last %s", error.code.value)
                connection.close(close, "too many errors")
        except Exception:
            # A bug of ours must cost this one command, not the connection or the room.
            log.exception("command failed")
            connection.send(Error(ErrorCode.INTERNAL, "internal error; nothing was stored", seq))
