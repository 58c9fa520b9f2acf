"""A hypothesis state machine over a real session under faults.

Steps: join, rate, re-rate, disconnect, reconnect, kill -9 a server (and start
it again), restart Redis (SIGKILL with ``appendfsync always``, or a clean
stop), change phase, write a note, promote a note to the agenda.  After each
example every phone reconnects and drains its outbox, and then the room's
tallies in Redis must equal the model of the last acknowledged rating of
each (participant, round, norm), and every acknowledged note and promoted
agenda item must be stored.

One Redis and two ``kleur serve`` processes serve every example (each
example is a new room); a killed server is started again on its port.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)
from websockets.exceptions import ConnectionClosed

from agenda.phases import TRANSITIONS
from agenda.templates import load_builtin_templates
from client.kleur_client import CommandRefused, JoinRefused, KleurClient
from protocol.messages import PutAgendaItem, PutNote
from protocol.phases import Phase, Role
from server.embedded_redis import RedisServer
from server.keys import RoomKeys
from tests.faults import Fleet, converge
from tests.support import ServerProcess

pytestmark = pytest.mark.slow

NORMS = [norm.id for norm in load_builtin_templates()["participatiescan"].norms][:6]
#: Phases the machine moves through (closing ends what can be checked).
PHASES = [Phase.RATING, Phase.REVEAL, Phase.BRAINSTORM, Phase.AGENDA]
FAILURES = (
    CommandRefused,
    ConnectionError,
    ConnectionClosed,
    TimeoutError,
    OSError,
    JoinRefused,
    AssertionError,
)


class Environment:
    def __init__(self, tmp: Path) -> None:
        self.redis = RedisServer(data_dir=tmp / "redis", appendfsync="always")
        self.redis.start()
        self.servers = [
            ServerProcess(self.redis.url, tmp / f"kleur-{i}.log", stream_heartbeat_seconds="0.2")
            for i in range(2)
        ]
        for server in self.servers:
            server.start()

    def ensure_up(self) -> None:
        if not self.redis.is_running:
            self.redis.start()
        for server in self.servers:
            if server.process is None or server.process.poll() is not None:
                server.start()

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        self.redis.stop()


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[Environment]:
    env = Environment(tmp_path)
    try:
        yield env
    finally:
        env.close()


class SessionUnderFaults(RuleBasedStateMachine):
    env: Environment

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.env.ensure_up()
        room = self.env.servers[0].create_room()
        self.code = room["code"]
        self.facilitator = KleurClient(
            self.env.servers[0].ws_url, self.code, Role.FACILITATOR, token=room["facilitator_token"]
        )
        self.fleet = Fleet([s.ws_url for s in self.env.servers], self.code)
        self.phase = Phase.LOBBY
        self.notes: set[str] = set()
        self.promoted: set[str] = set()

    def run(self, coroutine: object) -> object:
        return self.loop.run_until_complete(coroutine)  # type: ignore[arg-type]

    async def _facilitator_ready(self) -> None:
        if not self.facilitator.connected:
            with contextlib.suppress(*FAILURES):
                await self.facilitator.reconnect(give_up_after=20)

    @initialize()
    def open_rating(self) -> None:
        async def go() -> None:
            await self.facilitator.connect()
            await self.fleet.join(3)
            await self.facilitator.set_phase(Phase.RATING)

        self.run(go())
        self.phase = Phase.RATING

    @rule()
    def join(self) -> None:
        with contextlib.suppress(*FAILURES):
            self.run(self.fleet.join(1))

    @rule(i=st.integers(0, 50), norm=st.sampled_from(NORMS), value=st.integers(1, 5))
    def rate(self, i: int, norm: str, value: int) -> None:
        client = self.fleet.clients[i % len(self.fleet.clients)]
        self.run(asyncio.wait_for(self.fleet.rate_once(client, norm, value), 20))

    @rule(
        ratings=st.lists(
            st.tuples(st.integers(0, 50), st.sampled_from(NORMS), st.integers(1, 5)),
            min_size=1,
            max_size=12,
        )
    )
    def rate_many(self, ratings: list[tuple[int, str, int]]) -> None:
        """Several phones at once (re-ratings among them), as in a busy minute."""

        async def go() -> None:
            await asyncio.gather(
                *(
                    self.fleet.rate_once(self.fleet.clients[i % len(self.fleet.clients)], n, v)
                    for i, n, v in ratings
                )
            )

        self.run(asyncio.wait_for(go(), 30))

    @rule(i=st.integers(0, 50))
    def disconnect(self, i: int) -> None:
        self.run(self.fleet.clients[i % len(self.fleet.clients)].drop())

    @rule(i=st.integers(0, 50))
    def reconnect(self, i: int) -> None:
        client = self.fleet.clients[i % len(self.fleet.clients)]
        if not client.connected:
            with contextlib.suppress(*FAILURES):
                self.run(client.reconnect(give_up_after=20))

    @rule(which=st.integers(0, 1))
    def kill_server(self, which: int) -> None:
        server = self.env.servers[which]
        server.kill()
        server.start()

    @rule(crash=st.booleans())
    def restart_redis(self, crash: bool) -> None:
        if crash:
            self.env.redis.kill()
        else:
            self.env.redis.stop()
        self.env.redis.start()

    @rule(data=st.data())
    def change_phase(self, data: st.DataObject) -> None:
        choices = [p for p in PHASES if p in TRANSITIONS[self.phase]]
        if not choices:
            return
        target = data.draw(st.sampled_from(choices))

        async def go() -> bool:
            await self._facilitator_ready()
            with contextlib.suppress(*FAILURES):
                await self.facilitator.set_phase(target)
                return True
            return False

        if self.run(go()):
            self.phase = target

    @precondition(lambda self: self.phase is Phase.BRAINSTORM)
    @rule(
        i=st.integers(0, 50),
        text=st.sampled_from(["Meer stageplekken", "Eén loket", "Korte lijnen"]),
    )
    def write_note(self, i: int, text: str) -> None:
        client = self.fleet.clients[i % len(self.fleet.clients)]

        async def go() -> None:
            with contextlib.suppress(*FAILURES):
                note_id = await asyncio.wait_for(client.put_note(text), 20)
                self.notes.add(note_id)

        self.run(go())

    @precondition(lambda self: self.phase is Phase.AGENDA and bool(self.notes))
    @rule(data=st.data())
    def promote(self, data: st.DataObject) -> None:
        note_id = data.draw(st.sampled_from(sorted(self.notes)))

        async def go() -> None:
            await self._facilitator_ready()
            with contextlib.suppress(*FAILURES):
                item = await self.facilitator.put_agenda_item("Uitwerken", note_id=note_id)
                self.promoted.add(item)

        self.run(go())

    def teardown(self) -> None:
        try:
            self.env.ensure_up()
            self.run(self.fleet.reconnect_all(attempts=None))
            result = self.run(
                converge(self.env.redis.url, self.code, self.fleet.clients, since=time.monotonic())
            )
            print(f"stateful example: {result.line()}")
            assert result.ok, result.line()
            self._check_notes_and_agenda()
        finally:
            self.run(self.fleet.close())
            self.run(self.facilitator.close())
            self.loop.close()

    def _check_notes_and_agenda(self) -> None:
        keys = RoomKeys(self.code)
        r = redis.Redis.from_url(self.env.redis.url, decode_responses=True)
        try:
            acked_notes = {
                c.note_id
                for client in self.fleet.clients
                for s, c in client.sent.items()
                if isinstance(c, PutNote) and s in client.acked
            }
            assert acked_notes <= set(r.hkeys(keys.notes))
            acked_items = {
                c.item_id
                for s, c in self.facilitator.sent.items()
                if isinstance(c, PutAgendaItem) and s in self.facilitator.acked
            }
            assert acked_items <= set(r.hkeys(keys.agenda))
        finally:
            r.close()


def test_a_session_under_faults_counts_every_acknowledged_rating_once(
    environment: Environment,
) -> None:
    SessionUnderFaults.env = environment
    run_state_machine_as_test(
        SessionUnderFaults,
        settings=settings(
            max_examples=6,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        ),
    )
