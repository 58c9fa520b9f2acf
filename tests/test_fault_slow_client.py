"""A dashboard that stops reading in a busy room: closed, memory back, nobody else slowed.

One real ``kleur serve`` and a real Redis; a room in rating with phones
rating steadily, and a second facilitator window whose client stops reading
(its transport's reading paused: the socket fills, then the server's write
buffer).  The server must close it (``WRITE_DEADLINE_SECONDS``, then the
close grace, then the connection is dropped) and take it out of its hub; its
memory must come back to within a few MB of the baseline; the phones' ack
latency while it stalls must stay close to the latency without it.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
from pathlib import Path

import pytest

from client.kleur_client import KleurClient
from protocol import limits
from protocol.close_codes import CloseCode
from protocol.phases import Phase, Role
from server.connection import CLOSE_GRACE_SECONDS
from server.embedded_redis import RedisServer
from tests.faults import Fleet, converge, percentile, rss_bytes
from tests.scrape import scrape
from tests.support import ServerProcess
from tests.test_fault_servers import NORMS, TEMPLATE

PHONES = 100
#: Each phone rates about this often (the per-sender limit is 20 a second).
RATE_INTERVAL = 0.5
#: Once the server's writes to the slow window wait: the deadline, the grace, a margin.
CLOSE_BOUND = limits.WRITE_DEADLINE_SECONDS + CLOSE_GRACE_SECONDS + 3.0
#: How long the sockets (the client's receive buffer, the server's send buffer,
#: uvicorn's 64 KiB) may take to fill with dashboards before the server's writes
#: wait.  With small dashboards (no notes) this took 18 s (server log, one run),
#: long enough for uvicorn's keepalive (20 s + 20 s) to get there first.
FILL_BOUND = 5.0
RSS_SLACK = 4 * 1024 * 1024
NOTES_PER_PHONE = 3
NOTE_CHARS = 300


def closes(server: ServerProcess, code: int) -> int:
    return int(scrape(server.http_url).value("kleur_closes_total", code=str(code), by="server"))


def facilitators(server: ServerProcess) -> int:
    return int(scrape(server.http_url).value("kleur_connections", role="facilitator"))


async def rate_steadily(
    fleet: Fleet, stop: asyncio.Event, latencies: list[float], rng: random.Random
) -> None:
    """Every phone rates a random norm every ``RATE_INTERVAL`` (jittered) until ``stop``."""

    async def phone(client: KleurClient) -> None:
        await asyncio.sleep(rng.random() * RATE_INTERVAL)
        while not stop.is_set():
            start = time.monotonic()
            await client.rate(rng.choice(NORMS), rng.randint(0, 10))
            latencies.append(time.monotonic() - start)
            await asyncio.sleep(RATE_INTERVAL * (0.5 + rng.random()))

    await asyncio.gather(*(phone(c) for c in fleet.clients))


async def phase(fleet: Fleet, seconds: float, rng: random.Random) -> list[float]:
    """Ack latencies of ``seconds`` of steady rating."""
    latencies: list[float] = []
    stop = asyncio.Event()
    task = asyncio.create_task(rate_steadily(fleet, stop, latencies, rng))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(task, 30)
    return latencies


@pytest.mark.slow
async def test_a_dashboard_that_stops_reading_is_closed_and_costs_nobody(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    server = ServerProcess(redis_server.url, tmp_path / "kleur.log")
    server.start()
    assert server.process is not None
    pid = server.process.pid
    room = server.create_room(TEMPLATE)
    code, token = room["code"], room["facilitator_token"]
    facilitator = KleurClient(server.ws_url, code, Role.FACILITATOR, token=token)
    slow = KleurClient(server.ws_url, code, Role.FACILITATOR, token=token)
    fleet = Fleet([server.ws_url], code)
    rng = random.Random(5)
    try:
        await facilitator.connect()
        await facilitator.set_phase(Phase.RATING)
        await fleet.join(PHONES)
        # A wall of notes makes every dashboard large (300 bytes a note),
        # so the slow window's sockets fill within seconds, as they would in a hall.
        await asyncio.gather(
            *(
                client.put_note(f"{i:03d}-{n} " + "x" * NOTE_CHARS)
                for i, client in enumerate(fleet.clients)
                for n in range(NOTES_PER_PHONE)
            )
        )
        # Warm up (every phone has rated), then the baseline: the slow window still reads.
        await fleet.burst(NORMS[:5], 0, rng=rng, concurrency=PHONES)
        await phase(fleet, 3.0, rng)
        baseline_rss = rss_bytes(pid)
        without = await phase(fleet, 6.0, rng)

        # A second window joins (its keepalive is young), then stops reading; the
        # room stays busy.
        await slow.connect()
        assert facilitators(server) == 2
        assert slow._ws is not None
        # A phone on bad Wi-Fi: a small receive buffer, so the socket fills sooner.
        sock = slow._ws.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow._ws.transport.pause_reading()
        paused_at = time.monotonic()
        latencies: list[float] = []
        stop = asyncio.Event()
        busy = asyncio.create_task(rate_steadily(fleet, stop, latencies, rng))
        peak_rss = baseline_rss
        gone_at = None
        while time.monotonic() - paused_at < FILL_BOUND + CLOSE_BOUND:
            peak_rss = max(peak_rss, rss_bytes(pid))
            if await asyncio.to_thread(facilitators, server) == 1:
                gone_at = time.monotonic()
                break
            await asyncio.sleep(0.25)
        stop.set()
        await asyncio.wait_for(busy, 30)
        during = latencies
        assert gone_at is not None, "the server never closed the window that stopped reading"
        closed_after = gone_at - paused_at

        # Its memory is given back once it is closed; the phones' latency without it, again.
        without += await phase(fleet, 6.0, rng)
        after_rss = rss_bytes(pid)
        await fleet.burst(NORMS[:1], 0, rng=rng)
        result = await converge(server.redis_url, code, fleet.clients, since=gone_at)

        p50 = percentile(during, 0.5) / percentile(without, 0.5)
        p95 = percentile(during, 0.95) / percentile(without, 0.95)
        mb = 1024 * 1024
        print(
            f"slow dashboard: closed by the server (4501) {closed_after:.1f} s after it stopped"
            f" reading (the sockets fill first, then deadline"
            f" {limits.WRITE_DEADLINE_SECONDS:.0f} s + grace {CLOSE_GRACE_SECONDS:.0f} s);"
            f" RSS baseline {baseline_rss / mb:.1f} MB, peak"
            f" {peak_rss / mb:.1f} MB, after {after_rss / mb:.1f} MB; ack latency with/without"
            f" p50 {p50:.2f}x ({percentile(during, 0.5) * 1000:.1f} / "
            f"{percentile(without, 0.5) * 1000:.1f} ms), p95 {p95:.2f}x"
            f" ({percentile(during, 0.95) * 1000:.1f} / {percentile(without, 0.95) * 1000:.1f} ms),"
            f" {len(during)} / {len(without)} acks; {result.line()}"
        )
        assert closed_after < FILL_BOUND + CLOSE_BOUND
        # Closed as too slow by the deadline, not by uvicorn's keepalive (1011, which
        # would not free it either: its close waits for the same full socket).
        assert closes(server, CloseCode.SLOW_CONSUMER) == 1
        assert after_rss - baseline_rss < RSS_SLACK
        # Loose bounds: a shared 2-core machine is noisy (other tests run beside
        # this one); a room held up by its slow window would be seconds off.
        assert p50 < 3.0, p50
        assert p95 < 5.0, p95
        assert percentile(during, 0.95) < 1.0
        assert result.ok, result.line()
        assert facilitator.connected  # the other window was not touched
    finally:
        await fleet.close()
        await slow.drop()
        await facilitator.close()
        server.stop()
