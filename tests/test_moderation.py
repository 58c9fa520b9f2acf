"""The presenter role and the moderation queue over the real stack (uvicorn, Redis, websockets).

A note written while moderation is on waits for the facilitator; the
projector (role presenter, display token) sees it only once approved, and no
longer once hidden; the author's phone learns both at once.  The control
view's links and QR codes come from the server.
"""

from __future__ import annotations

import httpx
import pytest
import segno

from client.kleur_client import CommandRefused, JoinRefused, KleurClient
from protocol.close_codes import CloseCode
from protocol.errors import ErrorCode
from protocol.phases import Phase, Role
from tests.support import ServerProcess
from tests.test_session import qr_matrix


def display_token(room: dict[str, str]) -> str:
    return room["display_url"].split("#", 1)[1]


async def test_presenter_sees_a_note_only_after_approval(kleur: ServerProcess) -> None:
    room = kleur.create_room()
    code = room["code"]
    assert room["display_url"] == f"{kleur.http_url}/p/{code}#{display_token(room)}"
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    projector = KleurClient(kleur.ws_url, code, Role.PRESENTER, token=display_token(room))
    await projector.connect()
    author = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    await author.connect()
    other = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    await other.connect()
    await projector.wait_presenter(lambda p: p.participants == 2)
    assert (await facilitator.wait_dashboard(lambda d: d.participants == 2)).moderation is True

    for phase in (Phase.RATING, Phase.REVEAL, Phase.BRAINSTORM):
        await facilitator.set_phase(phase)
    await author.wait_for(lambda c: c.state is not None and c.state.phase is Phase.BRAINSTORM)
    note = await author.put_note("Stagebank voor de hele regio")
    spam = await other.put_note("koffie?")

    # Pending: the facilitator has it in the queue; the projector does not.
    queued = await facilitator.wait_dashboard(lambda d: len(d.notes) == 2)
    assert all(n.pending for n in queued.notes)
    await projector.wait_presenter(lambda p: p.version >= queued.version)
    assert projector.presenter is not None and projector.presenter.notes == ()
    await author.wait_for(lambda c: c.state is not None and note in c.state.pending_notes)

    await facilitator.hide_note(note, hidden=False)  # approve
    shown = await projector.wait_presenter(lambda p: len(p.notes) == 1)
    assert shown.notes[0].note_id == note and shown.notes[0].text == "Stagebank voor de hele regio"
    await author.wait_for(lambda c: c.state is not None and note not in c.state.pending_notes)

    await facilitator.hide_note(spam, hidden=True)  # straight from the queue
    await facilitator.wait_dashboard(lambda d: any(n.hidden for n in d.notes))
    await facilitator.hide_note(note, hidden=True)
    await projector.wait_presenter(lambda p: p.notes == ())
    await author.wait_for(lambda c: c.state is not None and note in c.state.hidden_notes)
    assert other.state is not None
    # A reload tells the author the same.
    again = KleurClient(kleur.ws_url, code, Role.PARTICIPANT, token=author.token)
    welcome = await again.connect()
    assert [(n.note_id, n.hidden, n.pending) for n in welcome.notes] == [(note, True, False)]

    # An approved note that is re-worded goes back to the queue.
    await facilitator.hide_note(note, hidden=False)
    await projector.wait_presenter(lambda p: len(p.notes) == 1)
    await author.put_note("Stagebank voor alle jongeren", note_id=note)
    await projector.wait_presenter(lambda p: p.notes == ())

    # Moderation off: what waits is let through, and new notes go up at once.
    await facilitator.set_moderation(False)
    await projector.wait_presenter(
        lambda p: [n.text for n in p.notes] == ["Stagebank voor alle jongeren"]
    )
    later = await other.put_note("Vaste contactpersoon bij UWV")
    await projector.wait_presenter(lambda p: later in {n.note_id for n in p.notes})
    assert not (await facilitator.wait_dashboard(lambda d: not d.moderation)).moderation
    for client in (facilitator, projector, author, other, again):
        await client.close()


async def test_presenter_is_read_only_and_needs_its_token(kleur: ServerProcess) -> None:
    room = kleur.create_room()
    code = room["code"]
    with pytest.raises(JoinRefused) as wrong:
        await KleurClient(kleur.ws_url, code, Role.PRESENTER, token="x" * 32).connect()
    # The same answer as a wrong room code: a guesser learns nothing.
    assert wrong.value.code is ErrorCode.ROOM_NOT_FOUND
    assert wrong.value.close_code == CloseCode.ROOM_NOT_FOUND
    # The facilitator token is not a display token either way round.
    with pytest.raises(JoinRefused):
        await KleurClient(
            kleur.ws_url, code, Role.PRESENTER, token=room["facilitator_token"]
        ).connect()
    with pytest.raises(JoinRefused):
        await KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=display_token(room)).connect()
    projector = KleurClient(kleur.ws_url, code, Role.PRESENTER, token=display_token(room))
    await projector.connect()
    with pytest.raises(CommandRefused) as refused:
        await projector.set_phase(Phase.RATING)
    assert refused.value.error.code is ErrorCode.FORBIDDEN
    assert "read-only" in refused.value.error.detail
    with pytest.raises(CommandRefused):
        await projector.set_moderation(False)
    # Nothing changed: still the lobby, moderation still on.
    view = await projector.wait_presenter(lambda p: True)
    assert view.phase is Phase.LOBBY
    await projector.close()


async def test_links_and_qr_codes_for_the_control_view(kleur: ServerProcess) -> None:
    room = kleur.create_room()
    code, token = room["code"], room["facilitator_token"]
    base = f"{kleur.http_url}/api/rooms/{code}"
    control = {"Authorization": f"Bearer {token}"}
    display = {"Authorization": f"Bearer {display_token(room)}"}
    links = httpx.get(f"{base}/links", headers=control).json()
    assert links == {
        "join_url": room["join_url"],
        "display_url": room["display_url"],
        "facilitator_url": room["facilitator_url"],
    }
    # The control QR code holds exactly the control link.
    qr = httpx.get(f"{base}/control-qr.svg", headers=control)
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    expected = segno.make(room["facilitator_url"], error="m")
    assert qr_matrix(qr.text) == [[bool(cell) for cell in row] for row in expected.matrix]
    # The projector may fetch the join QR (it shows it to the room), nothing else.
    join_qr = httpx.get(f"{base}/qr.svg", headers=display)
    assert join_qr.status_code == 200
    expected = segno.make(room["join_url"], error="m")
    assert qr_matrix(join_qr.text) == [[bool(cell) for cell in row] for row in expected.matrix]
    # A header that is not even ASCII is refused like any wrong token.
    odd = {"Authorization": "Bearer tëst".encode()}
    assert httpx.get(f"{base}/qr.svg", headers=odd).status_code == 401
    for path in ("links", "control-qr.svg", "export.json"):
        assert httpx.get(f"{base}/{path}", headers=display).status_code == 401
        assert httpx.get(f"{base}/{path}").status_code == 401
