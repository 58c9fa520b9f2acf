"""``GET /api/rooms/{code}/agenda.pdf``: a participant keeps the closed session's result.

Real server, real Redis, real websocket clients; the PDF is read back with pypdf.
"""

from __future__ import annotations

import io

import httpx
from pypdf import PdfReader

from client.kleur_client import KleurClient
from protocol.phases import DotVoting, Phase, Role
from tests.support import ServerProcess


def pdf_text(body: bytes) -> str:
    assert body.startswith(b"%PDF"), body[:20]
    reader = PdfReader(io.BytesIO(body))
    # Words only: the PDF breaks long lines where a column ends.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


async def test_the_pdf_route_wants_a_participant_of_a_closed_room(kleur: ServerProcess) -> None:
    room = kleur.create_room()
    code = room["code"]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    person = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    await facilitator.connect()
    await person.connect()
    try:
        assert person.token is not None
        url = f"{kleur.http_url}/api/rooms/{code}/agenda.pdf"
        mine = {"authorization": f"Bearer {person.token}"}
        async with httpx.AsyncClient() as http:
            early = await http.get(url, headers=mine)
            assert (early.status_code, early.json()["error"]) == (409, "wrong_phase")
            await facilitator.set_phase(Phase.RATING)
            await facilitator.set_phase(Phase.REVEAL)
            await facilitator.set_phase(Phase.BRAINSTORM)
            note = await person.put_note("Een stagebank voor de regio")
            secret = await person.put_note("Dit blijft verborgen")
            await facilitator.hide_note(secret)
            await facilitator.hide_note(note, hidden=False)  # approved (moderation is on)
            await facilitator.set_dot_voting(DotVoting.OPEN)
            await person.dot_vote(note, 1)
            await facilitator.put_agenda_item("Stagebank opzetten", owner="Gemeente")
            await facilitator.set_phase(Phase.CLOSED)
            ok = await http.get(url, headers=mine, params={"lang": "en"})
            assert ok.status_code == 200, ok.text
            assert ok.headers["content-type"] == "application/pdf"
            text = pdf_text(ok.content)
            assert "Stagebank opzetten" in text
            assert "Dit blijft verborgen" not in text
            # A wrong token, no token, the facilitator's token and an unknown room: one answer.
            refusals = [
                await http.get(url, headers={"authorization": "Bearer " + "x" * 32}),
                await http.get(url),
                await http.get(url, headers={"authorization": f"Basic {person.token}"}),
                await http.get(
                    url, headers={"authorization": f"Bearer {room['facilitator_token']}"}
                ),
                await http.get(
                    f"{kleur.http_url}/api/rooms/ZZZZZZ/agenda.pdf".replace(
                        "ZZZZZZ", "B" * len(code)
                    ),
                    headers=mine,
                ),
            ]
            assert [(r.status_code, r.json()) for r in refusals] == [(401, refusals[0].json())] * 5
            assert refusals[0].json()["error"] == "bad_token"
    finally:
        await person.close()
        await facilitator.close()
