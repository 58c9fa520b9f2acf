"""The fault tests' common parts: a fleet of phones, a burst of ratings, the checker.

The checker is the one the reliability issue asks for: the room's final
tallies, read straight from Redis, must equal a model of the last
acknowledged rating of each (participant, round, norm, question), built from
what every client was told (``KleurClient.sent`` and ``.acked``).  A rating
sent but never acknowledged (refused, or still in an outbox at the end) is in
the model only when the test has drained the outboxes; ``settle`` does that.

Figures (sent, acknowledged, counted, lost, double-counted, time to
converge) are returned as a ``Verdict`` so that each test can assert on them
and ``docs/reliability.md`` can quote them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis
from websockets.exceptions import ConnectionClosed

from agenda.room_record import DONT_KNOW, norm_key
from client.kleur_client import CommandRefused, JoinRefused, KleurClient
from protocol.messages import Rate
from protocol.phases import Role
from server.keys import RoomKeys


@dataclass(frozen=True, slots=True)
class Verdict:
    sent: int
    acknowledged: int
    counted: int
    lost: int
    double_counted: int
    #: Seconds from the end of the fault to the moment the tallies matched
    #: (None when not measured).
    converged_seconds: float | None = None

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.double_counted == 0

    def line(self) -> str:
        converge = "" if self.converged_seconds is None else f", {self.converged_seconds:.1f} s"
        return (
            f"sent {self.sent}, acknowledged {self.acknowledged}, counted {self.counted}, "
            f"lost {self.lost}, double {self.double_counted}{converge}"
        )


def _value(value: int | None) -> str:
    return DONT_KNOW if value is None else str(value)


def expected_cells(clients: Iterable[KleurClient]) -> Counter[str]:
    """Per tally field (``round|norm|value``) the count the model wants."""
    cells: Counter[str] = Counter()
    for client in clients:
        last: dict[tuple[int, str, str], Rate] = {}
        for seq in sorted(client.acked):
            command = client.sent.get(seq)
            if isinstance(command, Rate):
                last[(command.round, command.norm_id, command.question.value)] = command
        for rate in last.values():
            cells[f"{rate.round}|{tally_norm(rate)}|{_value(rate.value)}"] += 1
    return cells


def tally_norm(rate: Rate) -> str:
    """The tally's name for the norm a rating answers (its second question has its own)."""
    return norm_key(rate.norm_id, rate.question)


async def stored_cells(redis_url: str, code: str) -> Counter[str]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        raw = await client.hgetall(RoomKeys(code).tally)
    finally:
        await client.aclose()
    return Counter({k: int(v) for k, v in raw.items() if "|" in k and int(v) != 0})


def compare(want: Counter[str], stored: Counter[str]) -> tuple[int, int]:
    """(lost, double-counted) over every tally cell."""
    lost = double = 0
    for key in set(want) | set(stored):
        lost += max(0, want[key] - stored[key])
        double += max(0, stored[key] - want[key])
    return lost, double


async def verdict(
    redis_url: str, code: str, clients: Sequence[KleurClient], since: float | None = None
) -> Verdict:
    want = expected_cells(clients)
    stored = await stored_cells(redis_url, code)
    lost, double = compare(want, stored)
    sent = sum(sum(1 for c in client.sent.values() if isinstance(c, Rate)) for client in clients)
    acked = sum(
        sum(1 for s in client.acked if isinstance(client.sent.get(s), Rate)) for client in clients
    )
    return Verdict(
        sent=sent,
        acknowledged=acked,
        counted=sum(stored.values()),
        lost=lost,
        double_counted=double,
        converged_seconds=None if since is None else time.monotonic() - since,
    )


async def converge(
    redis_url: str,
    code: str,
    clients: Sequence[KleurClient],
    *,
    since: float,
    timeout: float = 30.0,
) -> Verdict:
    """Wait until every outbox is empty and the tallies equal the model (or the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await verdict(redis_url, code, clients, since)
        drained = all(not client.outbox for client in clients)
        if (result.ok and drained) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.1)


class Fleet:
    """Participants of one room, spread over the given servers' websocket URLs."""

    def __init__(self, ws_urls: Sequence[str], code: str, join_token: str | None = None) -> None:
        self.ws_urls = list(ws_urls)
        self.code = code
        self.join_token = join_token
        self.clients: list[KleurClient] = []

    async def join(
        self, count: int, *, concurrency: int = 50, auto_reconnect: bool = False
    ) -> None:
        """``auto_reconnect``: each phone joins again by itself after a close whose
        code says so (4503 ROOM_REBUILT, 4502...) and re-sends what the room lost."""
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> KleurClient:
            url = self.ws_urls[i % len(self.ws_urls)]
            client = KleurClient(
                url,
                self.code,
                Role.PARTICIPANT,
                join_token=self.join_token,
                auto_reconnect=auto_reconnect,
            )
            async with gate:
                await client.connect()
            return client

        start = len(self.clients)
        self.clients += await asyncio.gather(*(one(start + i) for i in range(count)))

    async def rate_once(self, client: KleurClient, norm: str, value: int | None) -> None:
        """One rating; a failure leaves it in the client's outbox (as a phone would)."""
        # ConnectionClosed: the socket closed while this frame was being sent.
        with contextlib.suppress(
            CommandRefused, ConnectionError, ConnectionClosed, TimeoutError, OSError, AssertionError
        ):
            if client.connected:
                await client.rate(norm, value)
                return
        # Not connected (or the send failed): keep it for the next reconnect.
        if not client.connected and not any(
            isinstance(c, Rate) and c.norm_id == norm for c in client.outbox.values()
        ):
            seq = client.next_seq()
            command = Rate(seq, norm, value, client.round)
            client.outbox[seq] = command
            client.sent[seq] = command

    async def burst(
        self,
        norms: Sequence[str],
        changes: int,
        *,
        rng: random.Random,
        scale: tuple[int, int] = (1, 5),
        concurrency: int = 100,
        every_norm_first: bool = True,
        pause: float = 0.0,
    ) -> None:
        """Each phone rates every norm once (if asked), then ``changes`` random re-ratings.

        ``pause``: seconds a phone waits after each of its ratings (a person's
        tapping pace), so that a burst lasts some seconds however fast the
        machine is; a fault timed in seconds then still comes in its middle.
        """
        plan: list[tuple[KleurClient, str, int | None]] = []
        if every_norm_first:
            plan += [(c, n, rng.randint(*scale)) for c in self.clients for n in norms]
        plan += [
            (rng.choice(self.clients), rng.choice(list(norms)), rng.randint(*scale))
            for _ in range(changes)
        ]
        # One phone's ratings go one after another (a person taps in order);
        # different phones in parallel.
        by_client: dict[int, list[tuple[str, int | None]]] = {}
        for client, norm, value in plan:
            by_client.setdefault(id(client), []).append((norm, value))
        clients = {id(c): c for c in self.clients}
        gate = asyncio.Semaphore(concurrency)

        async def phone(key: int) -> None:
            async with gate:
                for norm, value in by_client[key]:
                    await self.rate_once(clients[key], norm, value)
                    if pause:
                        await asyncio.sleep(pause)

        await asyncio.gather(*(phone(k) for k in by_client))

    async def reconnect_all(
        self,
        *,
        concurrency: int = 100,
        attempts: int = 60,
        urls: Sequence[str] | None = None,
    ) -> None:
        """Every phone that lost its connection joins again (and resends its outbox).

        With ``urls``, a phone whose server is not among them moves to one that
        is (spread round-robin), as a phone behind a load balancer would once
        its process is gone.
        """
        gate = asyncio.Semaphore(concurrency)
        live = list(urls) if urls is not None else None
        moved = 0

        async def one(client: KleurClient) -> None:
            nonlocal moved
            if client.connected:
                return
            if live is not None and client.url not in live:
                client.url = live[moved % len(live)]
                moved += 1
            async with gate:
                with contextlib.suppress(JoinRefused, OSError):
                    await client.reconnect(attempts=attempts)

        await asyncio.gather(*(one(c) for c in self.clients))

    async def reconnect_until_back(
        self, *, timeout: float, urls: Sequence[str] | None = None, concurrency: int = 100
    ) -> float:
        """``reconnect_all`` again until every phone is connected; the seconds it took.

        ``KleurClient.reconnect`` gives up after its attempts; a server restart
        on a loaded machine can take longer, so this loops (bounded).
        """
        start = time.monotonic()
        while True:
            await self.reconnect_all(urls=urls, concurrency=concurrency, attempts=6)
            if all(client.connected for client in self.clients):
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                down = sum(not client.connected for client in self.clients)
                raise TimeoutError(f"{down} phones still not connected after {timeout} s")
            await asyncio.sleep(0.2)

    async def resend_outboxes(self, *, concurrency: int = 100) -> int:
        """Phones holding unacknowledged commands (refused as ``store_unavailable``,
        say) join again, which resends them in order; how many did."""
        waiting = [c for c in self.clients if c.outbox]
        for client in waiting:
            await client.drop()
        await self.reconnect_all(concurrency=concurrency)
        return len(waiting)

    async def flush(self) -> None:
        """Every connected phone sends again what its outbox still holds: a rating
        queued while it was between connections, after its reconnect had already
        re-sent the outbox (a phone retries its outbox the same way)."""

        async def one(client: KleurClient) -> None:
            for seq in sorted(client.outbox):
                command = client.outbox.get(seq)
                if command is None or not client.connected:
                    return
                with contextlib.suppress(
                    CommandRefused, ConnectionError, ConnectionClosed, TimeoutError, OSError
                ):
                    await client.send_command(command, timeout=5)

        await asyncio.gather(*(one(c) for c in self.clients))

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients), return_exceptions=True)


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (``VmRSS`` in ``/proc``), in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` (0..1) percentile of ``values``, nearest rank."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[rank]
