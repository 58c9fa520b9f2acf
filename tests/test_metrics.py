"""``GET /metrics`` during a real session: counters and histograms move, and
nothing in the output names a room, a person or an answer.

Each test runs real ``kleur serve`` processes and a real Redis, with phones and
a facilitator speaking the protocol (``client/kleur_client.py``), and reads
the output with prometheus-client's own parser (``tests/scrape.py``).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from agenda.templates import load_builtin_templates
from client.kleur_client import CommandRefused, KleurClient
from protocol.close_codes import CloseCode
from protocol.messages import Dashboard, Rate
from protocol.phases import Phase, Role
from server.app import LOST_CHECK_SECONDS
from server.embedded_redis import RedisServer
from server.hub import LocalRoom, _rating_arrived, _rating_shown
from server.keys import participant_id
from server.metrics import render
from server.mirror import RoomMirror
from server.redis_client import DeadlineRetry
from tests.scrape import Scrape, parse, scrape
from tests.support import ServerProcess

TEMPLATE = load_builtin_templates()["participatiescan"]
NORMS = [norm.id for norm in TEMPLATE.norms]
PHONES = 4
RATINGS_PER_PHONE = 3


def local_metrics() -> Scrape:
    """This test process's own metrics (the unit tests below), parsed like a scrape."""
    return parse(render().decode())


def received(dashboard: Dashboard) -> int:
    return sum(result.received for result in dashboard.norms)


def moved(before: Scrape, after: Scrape, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)


def assert_no_identities(found: Scrape, secrets: set[str]) -> None:
    """No label value is a room code, token or pseudonym, and no label is an answer."""
    values = found.label_values()
    assert not values & secrets, values & secrets
    for secret in secrets:
        assert secret not in found.text, "a secret appears in /metrics"
    assert not found.label_names() & {"value", "rating", "room", "code_of_room", "token", "pid"}
    # Label values come from closed sets: words, close codes, bucket bounds.
    assert all(len(value) <= 40 for value in values), sorted(values, key=len)[-3:]
    # A number in kleur's labels is a close code or a bucket bound, never
    # anything else (a rating value).
    numbers = {
        (name, value)
        for metric, labels in found.samples
        if metric.startswith("kleur_")
        for name, value in labels
        if name not in ("code", "le") and value.lstrip("-").isdigit()
    }
    assert not numbers, numbers


async def test_a_session_moves_the_counters_and_histograms(kleur: ServerProcess) -> None:
    room = kleur.create_room()
    code = room["code"]
    before = scrape(kleur.http_url)
    assert before.value("process_resident_memory_bytes") > 0
    assert "process_cpu_seconds_total" in {name for name, _ in before.samples}
    assert before.value("kleur_ack_seconds_count", type="rate") == 0

    facilitator = KleurClient(kleur.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    await facilitator.set_phase(Phase.RATING)
    phones = [KleurClient(kleur.ws_url, code, Role.PARTICIPANT) for _ in range(PHONES)]
    for phone in phones:
        await phone.connect()
    for i, phone in enumerate(phones):
        for norm in NORMS[:RATINGS_PER_PHONE]:
            await phone.rate(norm, i % 11)
    # A rating sent again with its seq is a duplicate: acknowledged, not stored.
    first = phones[0].sent[1]
    assert isinstance(first, Rate)
    assert (await phones[0].send_command(first)).duplicate
    ratings = PHONES * RATINGS_PER_PHONE
    await facilitator.wait_dashboard(lambda d: received(d) == ratings)

    during = scrape(kleur.http_url)
    assert during.value("kleur_connections", role="participant") == PHONES
    assert during.value("kleur_connections", role="facilitator") == 1
    assert during.value("kleur_rooms") == 1
    assert moved(before, during, "kleur_joins_total", outcome="ok") == PHONES + 1
    assert moved(before, during, "kleur_commands_total", type="rate", outcome="applied") == ratings
    assert moved(before, during, "kleur_commands_total", type="rate", outcome="duplicate") == 1
    assert moved(before, during, "kleur_ratings_stored_total") == ratings
    # Every acknowledgement is timed once, duplicates too.
    assert moved(before, during, "kleur_ack_seconds_count", type="rate") == ratings + 1
    assert moved(before, during, "kleur_ack_seconds_count", type="set_phase") == 1
    assert moved(before, during, "kleur_fanout_seconds_count") > 0
    assert moved(before, during, "kleur_snapshot_build_seconds_count", kind="dashboard") > 0
    assert moved(before, during, "kleur_snapshot_build_seconds_count", kind="room_state") > 0
    assert moved(before, during, "kleur_snapshots_total", kind="dashboard") > 0
    # One observation per dashboard at most, never one per rating.
    assert during.value("kleur_fanout_seconds_count") <= during.value(
        "kleur_snapshots_total", kind="dashboard"
    )
    assert during.value("kleur_redis_errors_total", kind="timeout") == 0

    secrets = {code, room["facilitator_token"], *(v for k, v in room.items() if "token" in k)}
    for phone in phones:
        assert phone.token is not None
        secrets |= {phone.token, participant_id(code, phone.token)}
    assert_no_identities(during, secrets)

    # A phone that leaves is counted as closed by the client.
    await phones[0].close()
    deadline = asyncio.get_running_loop().time() + 10
    after = scrape(kleur.http_url)
    while after.value("kleur_connections", role="participant") != PHONES - 1:
        assert asyncio.get_running_loop().time() < deadline, "the close was never counted"
        await asyncio.sleep(0.05)
        after = scrape(kleur.http_url)
    assert moved(during, after, "kleur_closes_total", code="1000", by="client") == 1
    assert moved(during, after, "kleur_closes_total", code="1000", by="server") == 0
    assert after.value("kleur_connections", role="participant") == PHONES - 1
    for phone in phones[1:]:
        await phone.close()
    await facilitator.close()
    assert_no_identities(scrape(kleur.http_url), secrets)


async def test_a_rating_made_on_one_process_is_timed_to_the_dashboard_on_the_other(
    kleur_pair: tuple[ServerProcess, ServerProcess],
) -> None:
    one, two = kleur_pair
    room = one.create_room()
    code = room["code"]
    facilitator = KleurClient(two.ws_url, code, Role.FACILITATOR, token=room["facilitator_token"])
    await facilitator.connect()
    await facilitator.set_phase(Phase.RATING)
    await facilitator.wait_dashboard(lambda d: d.phase is Phase.RATING)
    before_one, before_two = scrape(one.http_url), scrape(two.http_url)

    phone = KleurClient(one.ws_url, code, Role.PARTICIPANT)
    await phone.connect()
    await phone.rate(NORMS[0], 7)
    await facilitator.wait_dashboard(lambda d: received(d) == 1)
    after_one, after_two = scrape(one.http_url), scrape(two.http_url)

    # Stored through process one, shown by process two.
    assert moved(before_one, after_one, "kleur_ratings_stored_total") == 1
    assert moved(before_two, after_two, "kleur_ratings_stored_total") == 0
    assert moved(before_two, after_two, "kleur_fanout_seconds_count") >= 1
    assert moved(before_one, after_one, "kleur_fanout_seconds_count") == 0  # no dashboard there
    await phone.close()
    await facilitator.close()


async def test_redis_going_away_is_counted_as_errors_reconnects_and_readiness(
    kleur: ServerProcess, redis_server: RedisServer
) -> None:
    room = kleur.create_room()
    facilitator = KleurClient(
        kleur.ws_url, room["code"], Role.FACILITATOR, token=room["facilitator_token"]
    )
    await facilitator.connect()
    before = scrape(kleur.http_url)
    redis_server.kill()
    try:
        with pytest.raises(CommandRefused):  # store_unavailable: the client would resend
            await facilitator.set_phase(Phase.RATING)
        assert httpx.get(f"{kleur.http_url}/readyz", timeout=10).status_code == 503
    finally:
        await asyncio.to_thread(redis_server.start)
    await facilitator.set_phase(Phase.RATING)  # back: the same port, a new connection
    after = scrape(kleur.http_url)
    assert moved(before, after, "kleur_redis_errors_total", kind="connection") >= 1
    assert moved(before, after, "kleur_redis_reconnects_total", link="commands") >= 1
    assert moved(before, after, "kleur_redis_reconnects_total", link="stream") >= 1
    assert (
        after.total("kleur_readiness_failures_total")
        - before.total("kleur_readiness_failures_total")
        >= 1
    )
    assert (
        moved(before, after, "kleur_commands_total", type="refused", outcome="store_unavailable")
        == 1
    )
    await facilitator.close()


async def test_a_room_flushed_from_redis_is_counted_as_lost(kleur: ServerProcess) -> None:
    room = kleur.create_room()
    facilitator = KleurClient(
        kleur.ws_url, room["code"], Role.FACILITATOR, token=room["facilitator_token"]
    )
    await facilitator.connect()
    before = scrape(kleur.http_url)
    redis.Redis.from_url(kleur.redis_url).flushall()
    # The lost-room watcher looks every LOST_CHECK_SECONDS, also at an idle room.
    assert await facilitator.wait_closed(LOST_CHECK_SECONDS + 5) == CloseCode.ROOM_LOST
    after = scrape(kleur.http_url)
    assert moved(before, after, "kleur_rooms_lost_total") == 1
    assert (
        moved(before, after, "kleur_closes_total", code=str(int(CloseCode.ROOM_LOST)), by="server")
        == 1
    )


# -- without servers: the bookkeeping behind two of the metrics ---------------


async def test_redis_attempts_that_fail_count_as_errors_and_reconnects() -> None:
    retry = DeadlineRetry(deadline=0.5, retries=3)
    before = local_metrics()
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RedisConnectionError("reset")
        return "ok"

    async def fail(_: Exception) -> None:
        return None

    assert await retry.call_with_retry(flaky, fail) == "ok"

    async def silent() -> str:
        await asyncio.sleep(5)
        return "never"

    with pytest.raises(RedisTimeoutError):
        await retry.call_with_retry(silent, fail)
    after = local_metrics()
    assert moved(before, after, "kleur_redis_errors_total", kind="connection") == 1
    assert moved(before, after, "kleur_redis_errors_total", kind="timeout") == 1
    assert moved(before, after, "kleur_redis_reconnects_total", link="commands") == 1


def test_a_dashboard_observes_the_oldest_rating_it_newly_shows_once() -> None:
    room = LocalRoom("ABCDEF", TEMPLATE, RoomMirror("ABCDEF"), None)  # type: ignore[arg-type]
    before = local_metrics()
    _rating_arrived(room, 5)
    _rating_arrived(room, 6)  # shown by the same dashboard: not timed apart
    room.building = 6
    _rating_arrived(room, 7)  # came while the dashboard of 6 was built
    _rating_arrived(room, 8)
    room.building = None
    _rating_shown(room, 6)
    assert room.unshown is not None and room.unshown.version == 7
    _rating_shown(room, 6)  # the same version again: nothing new shown
    _rating_shown(room, 8)
    assert room.unshown is None
    after = local_metrics()
    assert moved(before, after, "kleur_fanout_seconds_count") == 2
