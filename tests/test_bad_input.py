"""Acceptance 5: bad input gets the documented error or close code and harms no one else."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import msgpack
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from client.kleur_client import CommandRefused, JoinRefused, KleurClient
from protocol import limits
from protocol.close_codes import CloseCode
from protocol.codec import JSON, MSGPACK
from protocol.errors import ErrorCode
from protocol.messages import Error, SetPhase
from protocol.phases import Phase, Role
from tests.support import ServerProcess

NORM = "reele-werkervaring"


@dataclass
class Room:
    server: ServerProcess
    code: str
    facilitator: KleurClient
    bystander: KleurClient
    facilitator_token: str = ""


@pytest.fixture
async def room(kleur: ServerProcess) -> AsyncIterator[Room]:
    created = kleur.create_room()
    facilitator = KleurClient(
        kleur.ws_url, created["code"], Role.FACILITATOR, token=created["facilitator_token"]
    )
    await facilitator.connect()
    await facilitator.set_phase(Phase.RATING)
    bystander = KleurClient(kleur.ws_url, created["code"], Role.PARTICIPANT, codec=JSON)
    await bystander.connect()
    yield Room(kleur, created["code"], facilitator, bystander, created["facilitator_token"])
    await bystander.close()
    await facilitator.close()


async def still_fine(room: Room, value: int) -> None:
    """The bystander can still rate, and the facilitator still sees the change."""
    before = await room.facilitator.wait_dashboard(lambda d: True)
    ack = await room.bystander.rate(NORM, value)
    assert not ack.duplicate
    await room.facilitator.wait_dashboard(lambda d: d.version > before.version)
    assert room.bystander.connected and room.facilitator.connected


async def last_error(client: KleurClient) -> Error:
    await client.wait_for(lambda c: any(isinstance(m, Error) for m in c.received))
    errors = [m for m in client.received if isinstance(m, Error)]
    return errors[-1]


async def joined(room: Room, codec: object = MSGPACK) -> KleurClient:
    client = KleurClient(room.server.ws_url, room.code, Role.PARTICIPANT, codec=codec)  # type: ignore[arg-type]
    await client.connect()
    return client


@pytest.mark.parametrize(
    ("codec", "frame", "code"),
    [
        (MSGPACK, b"\xc1\xff\x00garbage", ErrorCode.BAD_FRAME),  # malformed msgpack
        (MSGPACK, json.dumps({"type": "rate", "seq": 1}), ErrorCode.BAD_FRAME),  # JSON on msgpack
        (JSON, msgpack.packb({"type": "rate"}), ErrorCode.BAD_FRAME),  # binary on JSON
        (JSON, "{not json", ErrorCode.BAD_FRAME),
        (MSGPACK, msgpack.packb([1, 2, 3]), ErrorCode.BAD_FRAME),  # not a map
        (MSGPACK, msgpack.packb({"type": "launch_missiles", "seq": 1}), ErrorCode.UNKNOWN_TYPE),
        (JSON, json.dumps({"type": "rate", "seq": 1, "norm_id": NORM}), ErrorCode.INVALID_FIELD),
        (JSON, json.dumps({"type": "rate", "seq": 1, "norm_id": NORM, "value": "7"}), ErrorCode.INVALID_FIELD),
        (JSON, json.dumps({"type": "rate", "seq": 1, "norm_id": "no-such-norm", "value": 5}), ErrorCode.UNKNOWN_NORM),
        (JSON, json.dumps({"type": "rate", "seq": 1, "norm_id": NORM, "value": 11}), ErrorCode.OUT_OF_SCALE),
        (JSON, json.dumps({"type": "rate", "seq": 1, "norm_id": NORM, "value": -1}), ErrorCode.OUT_OF_SCALE),
        (JSON, json.dumps({"type": "set_phase", "seq": 1, "phase": "reveal"}), ErrorCode.FORBIDDEN),
        (JSON, json.dumps({"type": "join", "room": "ABCDEF", "role": "participant", "token": None, "join_token": None}), ErrorCode.ALREADY_JOINED),
    ],
)  # fmt: skip
async def test_bad_frames_get_an_error_and_harm_no_one(
    room: Room, codec: object, frame: bytes | str, code: ErrorCode
) -> None:
    bad = await joined(room, codec)
    await bad.send_raw(frame)
    error = await last_error(bad)
    assert error.code is code
    # The sender stays connected and can go on with valid messages.
    assert (await bad.rate(NORM, 5)).duplicate is False
    await still_fine(room, 7)
    # Nothing of the bad frame reached the tallies: two ratings, 5 and 7.
    await room.facilitator.set_phase(Phase.REVEAL)
    dashboard = await room.facilitator.wait_dashboard(lambda d: d.revealed)
    counts = dashboard.norms[1].counts
    assert counts is not None and counts[5] == 1 and counts[7] == 1 and sum(counts) == 2
    await bad.close()


async def test_rating_in_the_wrong_phase(room: Room) -> None:
    await room.facilitator.set_phase(Phase.REVEAL)
    await room.bystander.wait_for(lambda c: c.state is not None and c.state.phase is Phase.REVEAL)
    with pytest.raises(CommandRefused) as refused:
        await room.bystander.rate(NORM, 5)
    assert refused.value.error.code is ErrorCode.WRONG_PHASE
    # A phase change the table does not allow.
    with pytest.raises(CommandRefused) as bad_move:
        await room.facilitator.command(lambda seq: SetPhase(seq, Phase.LOBBY))
    assert bad_move.value.error.code is ErrorCode.BAD_TRANSITION
    dashboard = await room.facilitator.wait_dashboard(lambda d: d.revealed)
    assert dashboard.norms[1].received == 0


async def test_oversized_frame_closes_only_that_connection(room: Room) -> None:
    async with connect(room.server.ws_url, subprotocols=["kleur.v1.json"]) as ws:  # type: ignore[list-item]
        await ws.send(JSON.encode(_join(room.code)))
        await ws.recv()
        await ws.send("x" * (limits.MAX_FRAME_BYTES + 1))
        with pytest.raises(ConnectionClosed):
            while True:
                await ws.recv()
        assert ws.close_code == CloseCode.MESSAGE_TOO_BIG
    await still_fine(room, 3)


async def test_no_known_subprotocol_is_refused_with_4002(room: Room) -> None:
    async with connect(room.server.ws_url) as ws:
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == CloseCode.UNSUPPORTED_SUBPROTOCOL


async def test_first_message_must_be_join(room: Room) -> None:
    async with connect(room.server.ws_url, subprotocols=["kleur.v1.json"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "rate", "seq": 1, "norm_id": NORM, "value": 3}))
        reply = JSON.decode_server(await ws.recv())
        assert isinstance(reply, Error) and reply.code is ErrorCode.NOT_JOINED
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == CloseCode.JOIN_EXPECTED


async def test_wrong_facilitator_token_is_refused(room: Room) -> None:
    impostor = KleurClient(room.server.ws_url, room.code, Role.FACILITATOR, token="x" * 32)
    with pytest.raises(JoinRefused) as refused:
        await impostor.connect()
    # The same answer as a wrong room code (docs/protocol.md section 3).
    assert refused.value.code is ErrorCode.ROOM_NOT_FOUND
    assert refused.value.close_code == CloseCode.ROOM_NOT_FOUND
    await still_fine(room, 4)


async def test_a_flood_is_limited_then_closed(room: Room) -> None:
    flooder = await joined(room)
    frame = MSGPACK.encode(_rate(1))
    for _ in range(limits.RATE_LIMIT_BURST + limits.MAX_ERRORS_PER_WINDOW + 50):
        try:
            await flooder.send_raw(frame)
        except ConnectionClosed:
            break
    code = await flooder.wait_closed(timeout=10)
    assert code == CloseCode.RATE_LIMITED
    errors = [m for m in flooder.received if isinstance(m, Error)]
    assert {m.code for m in errors} == {ErrorCode.RATE_LIMITED}
    assert {m.seq for m in errors} == {1}  # the refusal names the command refused
    await still_fine(room, 6)


async def test_guessing_room_codes_is_stopped(room: Room) -> None:
    close_codes = []
    for attempt in range(limits.MAX_FAILED_JOINS_PER_MINUTE + 1):
        guess = "ABCDE" + "23456789"[attempt % 8]
        guesser = KleurClient(room.server.ws_url, guess, Role.PARTICIPANT)
        with pytest.raises(JoinRefused) as refused:
            await guesser.connect()
        close_codes.append(refused.value.close_code)
    assert set(close_codes[:-1]) == {CloseCode.ROOM_NOT_FOUND}
    assert close_codes[-1] == CloseCode.TOO_MANY_FAILED_JOINS
    # People already in the room carry on.
    await still_fine(room, 2)


async def test_script_in_a_note_is_stored_as_plain_text(room: Room) -> None:
    await room.facilitator.set_phase(Phase.REVEAL)
    await room.facilitator.set_phase(Phase.BRAINSTORM)
    await room.bystander.wait_for(
        lambda c: c.state is not None and c.state.phase is Phase.BRAINSTORM
    )
    text = "<img src=x onerror=alert(1)>"
    await room.bystander.put_note(text)
    dashboard = await room.facilitator.wait_dashboard(lambda d: len(d.notes) == 1)
    assert dashboard.notes[0].text == text  # data, escaped by the page that shows it
    # 5,000 combining marks: refused by the server (the client library would not even send it).
    frame = {"type": "put_note", "seq": 99, "note_id": "zalgo-zalgo", "text": "a" + "\u0301" * 5000,
             "norm_id": None}  # fmt: skip
    await room.bystander.send_raw(
        json.dumps(frame, ensure_ascii=False)
    )  # ~10 KB, under the frame limit
    error = await last_error(room.bystander)
    # The refusal names the command, so the client can drop it from its outbox.
    assert error.code is ErrorCode.INVALID_FIELD and error.seq == 99


@pytest.mark.parametrize(
    ("frame", "code", "seq"),
    [
        ({"type": "rate", "seq": 7, "norm_id": NORM}, ErrorCode.INVALID_FIELD, 7),  # missing value
        ({"type": "rate", "seq": 8, "norm_id": NORM, "value": 5, "extra": 1}, ErrorCode.INVALID_FIELD, 8),
        ({"type": "put_note", "seq": 9, "note_id": "x", "text": "hoi", "norm_id": None}, ErrorCode.INVALID_FIELD, 9),
        ({"type": "rate", "seq": "7", "norm_id": NORM, "value": 5}, ErrorCode.INVALID_FIELD, None),  # bad seq
        ({"type": "rate", "seq": 0, "norm_id": NORM, "value": 5}, ErrorCode.INVALID_FIELD, None),
        ({"type": "rate", "seq": True, "norm_id": NORM, "value": 5}, ErrorCode.INVALID_FIELD, None),
        ({"type": "no_such_command", "seq": 7}, ErrorCode.UNKNOWN_TYPE, None),
    ],
)  # fmt: skip
async def test_validation_refusals_carry_the_commands_seq(
    room: Room, frame: dict[str, object], code: ErrorCode, seq: int | None
) -> None:
    await room.bystander.send_raw(json.dumps(frame))
    error = await last_error(room.bystander)
    assert (error.code, error.seq) == (code, seq)
    await still_fine(room, 1)


def _join(code: str) -> object:
    from protocol.messages import Join

    return Join(code, Role.PARTICIPANT, None, None)


def _rate(seq: int) -> object:
    from protocol.messages import Rate

    return Rate(seq, NORM, 5)


async def test_many_bad_clients_at_once_do_not_stall_the_room(room: Room) -> None:
    async def misbehave() -> None:
        client = await joined(room)
        for _ in range(10):
            await client.send_raw(b"\xff\xfe")
        await client.close()

    await asyncio.gather(*(misbehave() for _ in range(8)))
    await still_fine(room, 9)


@pytest.mark.parametrize("char", ["é", "€", "😀", "\ud800"])
async def test_a_long_non_ascii_close_reason_closes_cleanly(room: Room, char: str) -> None:
    """A refused join closes with its detail as reason; a detail over 123 UTF-8
    bytes (a field name in the client's own text) is cut, never raised on."""
    async with connect(room.server.ws_url, subprotocols=["kleur.v1.json"]) as ws:  # type: ignore[list-item]
        frame = {"type": "join", "room": room.code, "role": "participant", "token": None,
                 "join_token": None, char * 40: 1}  # fmt: skip
        await ws.send(json.dumps(frame))
        reply = JSON.decode_server(await ws.recv())
        assert isinstance(reply, Error) and reply.code is ErrorCode.INVALID_FIELD
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == CloseCode.JOIN_EXPECTED
        reason = ws.close_reason or ""
        assert reason.startswith("join: unknown field")
        assert 100 < len(reason.encode()) <= 123
    await still_fine(room, 8)


@pytest.mark.parametrize(
    "text",
    ["idee \ufffe", "idee \uffff", "idee \ufdd0", "\U0001ffff", "\u200b\u200d\ufeff", " \u2060 ", "\u3164"],
)  # fmt: skip
async def test_texts_that_are_not_text_are_refused_and_exports_still_work(
    room: Room, text: str
) -> None:
    await room.facilitator.set_phase(Phase.REVEAL)
    await room.facilitator.set_phase(Phase.BRAINSTORM)
    await room.bystander.wait_for(
        lambda c: c.state is not None and c.state.phase is Phase.BRAINSTORM
    )
    # Sent as raw frames: the client library would not even build such a command.
    bad = await joined(room)
    note = {"type": "put_note", "seq": 5, "note_id": "bad-note-1", "text": text, "norm_id": None}
    await bad.send_raw(msgpack.packb(note))
    error = await last_error(bad)
    assert (error.code, error.seq) == (ErrorCode.INVALID_TEXT, 5)
    item = {"type": "put_agenda_item", "seq": 40, "item_id": "bad-item-1", "action": text,
            "owner": "", "deadline": None, "norm_id": None, "note_id": None, "position": 0}  # fmt: skip
    await room.facilitator.send_raw(msgpack.packb(item))
    error = await last_error(room.facilitator)
    assert (error.code, error.seq) == (ErrorCode.INVALID_TEXT, 40)
    # The bystander's note goes on the wall, and every export of the room works
    # (export.docx failed with 500 on a note with U+FFFE).
    await room.bystander.put_note("Een vaste contactpersoon")
    await room.facilitator.wait_dashboard(lambda d: len(d.notes) == 1)
    headers = {"Authorization": f"Bearer {room.facilitator_token}"}
    for fmt in ("docx", "md", "json"):
        reply = httpx.get(
            f"{room.server.http_url}/api/rooms/{room.code}/export.{fmt}", headers=headers
        )
        assert reply.status_code == 200, (fmt, reply.text)
    await bad.close()
