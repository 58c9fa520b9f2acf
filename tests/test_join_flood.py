"""Acceptance 3 (first half): failed-join throttling refuses guesses, never the honest.

Every client of the test comes from 127.0.0.1, as a hall's phones behind one
NAT would: one address floods failed joins while the facilitator, the
presenter, QR-link phones and a returning participant join from it.
"""

from __future__ import annotations

import pytest

from client.kleur_client import JoinRefused, KleurClient
from protocol import limits
from protocol.close_codes import CloseCode
from protocol.phases import Phase, Role
from tests.support import ServerProcess

NORM = "reele-werkervaring"


async def _refused(client: KleurClient) -> int | None:
    with pytest.raises(JoinRefused) as refused:
        await client.connect()
    return refused.value.close_code


async def test_a_flood_of_guesses_locks_out_no_one_with_a_credential(
    kleur: ServerProcess,
) -> None:
    room = kleur.create_room()
    code = room["code"]
    join_token = room["join_url"].split("?t=")[1]
    display_token = room["display_url"].split("#", 1)[1]
    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    await facilitator.set_phase(Phase.RATING)
    bystander = KleurClient(kleur.ws_url, code, Role.PARTICIPANT, join_token=join_token)
    await bystander.connect()
    returning = KleurClient(kleur.ws_url, code, Role.PARTICIPANT)
    await returning.connect()
    await returning.close()

    # The flood: wrong codes until the address is throttled.
    guesses = []
    for attempt in range(limits.MAX_FAILED_JOINS_PER_MINUTE + 5):
        guess = "ABCDE" + "23456789"[attempt % 8]
        if guess == code:
            continue
        guesses.append(await _refused(KleurClient(kleur.ws_url, guess, Role.PARTICIPANT)))
    assert guesses[0] == CloseCode.ROOM_NOT_FOUND
    assert guesses[-1] == CloseCode.TOO_MANY_FAILED_JOINS

    # Throttled guesses get 4029 whether or not the room exists (no oracle),
    # also with a made-up token or join token.
    assert await _refused(KleurClient(kleur.ws_url, code, Role.PARTICIPANT)) == (
        CloseCode.TOO_MANY_FAILED_JOINS
    )
    assert await _refused(
        KleurClient(kleur.ws_url, code, Role.PARTICIPANT, join_token="y" * 32)
    ) == (CloseCode.TOO_MANY_FAILED_JOINS)
    assert await _refused(KleurClient(kleur.ws_url, code, Role.PARTICIPANT, token="z" * 32)) == (
        CloseCode.TOO_MANY_FAILED_JOINS
    )
    assert await _refused(KleurClient(kleur.ws_url, code, Role.FACILITATOR, token="x" * 32)) == (
        CloseCode.TOO_MANY_FAILED_JOINS
    )

    # Everyone with a credential gets in from the same address.
    second_window = KleurClient(
        kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"]
    )
    await second_window.connect()
    projector = KleurClient(kleur.ws_url, code, Role.PRESENTER, token=display_token)
    await projector.connect()
    phones = [
        KleurClient(kleur.ws_url, code, Role.PARTICIPANT, join_token=join_token) for _ in range(5)
    ]
    for phone in phones:
        await phone.connect()
    back = KleurClient(kleur.ws_url, code, Role.PARTICIPANT, token=returning.token)
    assert (await back.connect()).participant_token == returning.token

    # And they can rate; the bystander who was in all along too.
    before = await facilitator.wait_dashboard(lambda d: True)
    for value, phone in enumerate([*phones, back, bystander]):
        assert not (await phone.rate(NORM, value)).duplicate
    await facilitator.wait_dashboard(lambda d: d.version >= before.version + 7)
    # Still throttled for guesses.
    assert await _refused(KleurClient(kleur.ws_url, "ABCDE2", Role.PARTICIPANT)) == (
        CloseCode.TOO_MANY_FAILED_JOINS
    )
    for client in (facilitator, second_window, projector, bystander, back, *phones):
        await client.close()
