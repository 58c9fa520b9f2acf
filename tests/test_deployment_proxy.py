"""The reference deployment (deploy/compose.yaml) as local processes: nginx with
TLS, running deploy/nginx/kleur.conf itself, in front of two ``kleur serve``
processes that share one redis-server.

Docker does not run here, so the compose file is checked by reading it: it must
mount the very nginx file these tests run, and agree with kleur's settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import ssl
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin, Subprotocol

from agenda.templates import load_builtin_templates
from client.kleur_client import KleurClient
from protocol.codec import JSON, MSGPACK
from protocol.phases import Phase, Role
from server.embedded_redis import RedisServer, free_port
from server.serving import uvicorn_config
from server.settings import Settings
from tests.support import ROOT, ServerProcess

DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
#: The site configuration: compose mounts it, these tests include it.
SITE = DEPLOY / "nginx" / "kleur.conf"
#: What compose gives nginx for the two files SITE includes.
COMPOSE_INCLUDES = DEPLOY / "nginx" / "compose"
#: Port 80's server, which sends plain http to https: also one text for both.
REDIRECT = COMPOSE_INCLUDES / "http-redirect.conf"
#: Its one line that differs per deployment: the https port people reach.
HTTPS_PORT = COMPOSE_INCLUDES / "https-port.conf"

TEMPLATE = load_builtin_templates()["participatiescan"]
NORMS = [norm.id for norm in TEMPLATE.norms]


# -- the configuration, read -------------------------------------------------


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def site_directive(name: str) -> list[str]:
    """The values of every ``name value;`` line in SITE (comments left out)."""
    text = "\n".join(line.partition("#")[0] for line in SITE.read_text().splitlines())
    return re.findall(rf"^\s*{name}\s+([^;]+);", text, flags=re.MULTILINE)


def nginx_size(value: str) -> int:
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", value.strip().lower()).groups()  # type: ignore[union-attr]
    return int(number) * units[unit]


def nginx_seconds(value: str) -> float:
    units = {"": 1, "s": 1, "m": 60, "h": 3600}
    number, unit = re.fullmatch(r"(\d+)([smh]?)", value.strip().lower()).groups()  # type: ignore[union-attr]
    return int(number) * units[unit]


def test_compose_runs_the_site_configuration_the_tests_run() -> None:
    nginx = compose()["services"]["nginx"]
    mounts = {target.removesuffix(":ro"): source for source, _, target in
              (volume.partition(":") for volume in nginx["volumes"])}  # fmt: skip
    # The same file, not a copy: nginx in compose and nginx here read one text.
    assert (DEPLOY / mounts["/etc/nginx/conf.d/kleur.conf"]).resolve() == SITE.resolve()
    assert (DEPLOY / mounts["/etc/nginx/kleur.d"]).resolve() == COMPOSE_INCLUDES.resolve()
    assert (DEPLOY / mounts["/etc/nginx/certs"]).resolve() == (DEPLOY / "certs").resolve()
    # What SITE includes (relative to /etc/nginx) and reads from certs/ is there.
    for include in site_directive("include"):
        assert include.startswith("kleur.d/"), include
        assert (COMPOSE_INCLUDES / include.removeprefix("kleur.d/")).is_file(), include
    assert site_directive("ssl_certificate") == ["certs/fullchain.pem"]
    assert site_directive("ssl_certificate_key") == ["certs/privkey.pem"]


def test_site_limits_are_kleurs_settings() -> None:
    """nginx refuses what kleur would refuse, at the same size and time."""
    settings = Settings()
    assert [nginx_size(v) for v in site_directive("client_max_body_size")] == [
        settings.max_body_bytes
    ]
    assert [nginx_seconds(v) for v in site_directive("client_header_timeout")] == [
        settings.header_timeout_seconds
    ]
    # nginx drops an idle upstream connection before uvicorn does (a POST on a
    # connection uvicorn just closed would be a 502).
    uvicorn_keepalive = uvicorn_config(object(), host="127.0.0.1", port=0, log_level="warning")
    idle = [nginx_seconds(v) for v in site_directive("keepalive_timeout")]
    assert idle and all(v < uvicorn_keepalive.timeout_keep_alive for v in idle), idle
    # Set, never appended to: the client's own header must not reach kleur.
    assert site_directive("proxy_set_header X-Forwarded-For") == ["$remote_addr"]
    assert site_directive("proxy_set_header X-Forwarded-Proto") == ["https"]
    assert site_directive("proxy_http_version") == ["1.1"]
    # A phone's websocket is idle between rounds: far longer than nginx's 60 s default.
    assert all(nginx_seconds(v) >= 600 for v in site_directive("proxy_read_timeout"))
    assert site_directive("proxy_read_timeout"), "the websocket location sets its read timeout"


def command_options(service: dict[str, Any]) -> dict[str, str]:
    """``--name value`` pairs of a service's command (a list)."""
    command = [str(part) for part in service["command"]]
    return {
        part.removeprefix("--"): command[i + 1]
        for i, part in enumerate(command[:-1])
        if part.startswith("--")
    }


def test_compose_services_agree() -> None:
    """The addresses, names and Redis options the deployment depends on."""
    services = compose()["services"]
    nginx_address = services["nginx"]["networks"]["edge"]["ipv4_address"]
    upstream = (COMPOSE_INCLUDES / "upstream.conf").read_text()
    upstream_hosts = re.findall(r"^server\s+([\w.-]+):8000\b", upstream, flags=re.MULTILINE)
    assert upstream_hosts == ["kleur-1", "kleur-2"]

    single = {name: services[name] for name in ("kleur-1", "kleur-2")}
    cluster = {name: services[name] for name in ("kleur-cluster-1", "kleur-cluster-2")}
    for name, service in {**single, **cluster}.items():
        env = service["environment"]
        # kleur believes forwarded headers from nginx, and from nobody else.
        assert env["KLEUR_TRUSTED_PROXIES"] == nginx_address, name
        assert env["KLEUR_PUBLIC_URL"].startswith("${KLEUR_PUBLIC_URL"), name
        options = command_options(service)
        assert options["host"] == "0.0.0.0" and options["port"] == "8000", name
        assert service["build"] == {"context": "..", "dockerfile": "Dockerfile"}, name
        # nginx's upstream names each process, whichever profile runs.
        assert service["hostname"] in upstream_hosts, name
        assert "edge" in service["networks"] and "store" in service["networks"], name
    for service in single.values():
        assert command_options(service)["redis-url"] == "redis://redis:6379/0"
        assert service["profiles"] == ["single"]
        assert "KLEUR_REDIS_CLUSTER" not in service["environment"]
    for service in cluster.values():
        assert service["environment"]["KLEUR_REDIS_CLUSTER"] == "1"
        assert service["profiles"] == ["cluster"]
        assert service["networks"]["edge"]["aliases"] == [service["hostname"]]
        assert command_options(service)["redis-url"].startswith("redis://redis-node-")

    redis_nodes = ["redis", "redis-node-1", "redis-node-2", "redis-node-3"]
    for name in redis_nodes:
        options = command_options(services[name])
        assert options["appendonly"] == "yes", name
        assert options["appendfsync"] == "always", name
        # /readyz refuses any other policy: an evicted key is a lost room.
        assert options["maxmemory-policy"] == "noeviction", name
        assert services[name]["image"].startswith("redis:7"), name
    for name in redis_nodes[1:]:
        assert command_options(services[name])["cluster-enabled"] == "yes", name
    create = services["redis-cluster-create"]
    script = create["command"][-1]
    addresses = [services[n]["networks"]["store"]["ipv4_address"] for n in redis_nodes[1:]]
    assert f"--cluster create {' '.join(f'{a}:6379' for a in addresses)}" in script
    assert "--cluster-replicas 0" in script
    for service in cluster.values():
        assert service["depends_on"]["redis-cluster-create"] == {
            "condition": "service_completed_successfully"
        }
    assert services["redis"]["profiles"] == ["single"]
    assert "COMPOSE_PROFILES=single" in (DEPLOY / ".env").read_text().splitlines()


def test_the_https_port_of_the_redirect_is_the_one_compose_publishes() -> None:
    """Port 80 sends people to the https port they can reach: compose's published
    port for nginx's 443, and the port of KLEUR_PUBLIC_URL (the links' address)."""
    ports = [str(mapping) for mapping in compose()["services"]["nginx"]["ports"]]
    published = {int(m.rpartition(":")[2]): int(m.rpartition(":")[0].rpartition(":")[2])
                 for m in ports}  # fmt: skip
    assert published.keys() == {80, 443}, ports
    (redirect_port,) = re.findall(
        r"^set \$kleur_https_port (\d+);$", HTTPS_PORT.read_text(), flags=re.MULTILINE
    )
    assert "include kleur.d/https-port.conf;" in REDIRECT.read_text()
    env = dict(
        line.split("=", 1)
        for line in (DEPLOY / ".env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    default = compose()["services"]["kleur-1"]["environment"]["KLEUR_PUBLIC_URL"]
    public_default = re.fullmatch(r"\$\{KLEUR_PUBLIC_URL:-(.+)\}", default).group(1)  # type: ignore[union-attr]
    for url in (env["KLEUR_PUBLIC_URL"], public_default):
        parts = urlsplit(url)
        assert parts.scheme == "https", url
        assert (parts.port or 443) == published[443] == int(redirect_port), (url, ports)


# -- the configuration, run ----------------------------------------------------


def find_nginx() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )
    if found is None:
        pytest.skip(
            "nginx is not installed (Debian package nginx; scripts/test.sh installs it as root)"
        )
    return found


def self_signed_certificate(folder: Path) -> Path:
    """fullchain.pem and privkey.pem for 127.0.0.1, as certs/README.md makes them."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed (Debian package openssl)")
    folder.mkdir(parents=True)
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(folder / "privkey.pem"), "-out", str(folder / "fullchain.pem"),
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    return folder / "fullchain.pem"


def test_compose_nginx_layout_passes_nginx_t(tmp_path: Path) -> None:
    """nginx -t on the folders compose mounts, laid out as in the nginx image
    (its nginx.conf includes conf.d/*.conf in http {}).  Only the upstream's
    host names become 127.0.0.1: nginx resolves them, and kleur-1 exists only
    on compose's network."""
    binary = find_nginx()
    conf = tmp_path / "etc-nginx"
    (conf / "conf.d").mkdir(parents=True)
    (conf / "conf.d" / "kleur.conf").symlink_to(SITE)
    (conf / "conf.d" / "default.conf").symlink_to(COMPOSE_INCLUDES / "http-redirect.conf")
    (conf / "kleur.d").mkdir()
    (conf / "kleur.d" / "listen.conf").symlink_to(COMPOSE_INCLUDES / "listen.conf")
    (conf / "kleur.d" / "https-port.conf").symlink_to(HTTPS_PORT)
    upstream = (COMPOSE_INCLUDES / "upstream.conf").read_text()
    (conf / "kleur.d" / "upstream.conf").write_text(re.sub(r"kleur-\d+", "127.0.0.1", upstream))
    self_signed_certificate(conf / "certs")
    temp = tmp_path / "temp"
    temp.mkdir()
    main = conf / "nginx.conf"
    main.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\nhttp {{\n"
        + "".join(
            f"    {kind}_temp_path {temp / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + "    include conf.d/*.conf;\n}\n"
    )
    checked = subprocess.run(
        [binary, "-p", str(tmp_path), "-c", str(main), "-e", str(tmp_path / "error.log"), "-t"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr


@dataclass(frozen=True)
class Edge:
    """nginx running SITE, on https://127.0.0.1:port, and REDIRECT on http://127.0.0.1:http_port."""

    port: int
    tls: ssl.SSLContext
    error_log: Path
    http_port: int

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def wss_url(self) -> str:
        return f"wss://127.0.0.1:{self.port}/ws"

    def http(self, source: str = "127.0.0.1") -> httpx.Client:
        """A client whose connections leave from ``source`` (any 127.x.y.z is this machine)."""
        transport = httpx.HTTPTransport(local_address=source, verify=self.tls)
        return httpx.Client(base_url=self.https_url, transport=transport, timeout=10)


@dataclass(frozen=True)
class DeadBackend:
    """An upstream server nobody listens on: a process that crashed."""

    port: int


def redirect_server(http_port: int) -> str:
    """REDIRECT as it is, but for its listen line: here on a free port of 127.0.0.1."""
    text = REDIRECT.read_text()
    compose_listen = "listen 80 default_server;"
    assert text.count(compose_listen) == 1, text
    return text.replace(compose_listen, f"listen 127.0.0.1:{http_port} default_server;")


def nginx_main_conf(
    prefix: Path,
    backends: list[int],
    port: int,
    options: dict[int, str] | None = None,
    *,
    http_port: int,
    public_https_port: int | None = None,
) -> Path:
    """A main nginx.conf whose http {} includes SITE and REDIRECT's text; only the
    files they include (kleur.d/) are written for this run.  ``public_https_port``:
    the https port people reach (compose's published port), else ``port``."""
    conf = prefix / "conf"
    (conf / "kleur.d").mkdir(parents=True)
    (conf / "kleur.d" / "https-port.conf").write_text(
        f"set $kleur_https_port {public_https_port or port};\n"
    )
    (conf / "http-redirect.conf").write_text(redirect_server(http_port))
    (conf / "kleur.d" / "upstream.conf").write_text(
        "".join(
            f"server 127.0.0.1:{backend}{(options or {}).get(backend, '')};\n"
            for backend in backends
        )
    )
    (conf / "kleur.d" / "listen.conf").write_text(f"listen 127.0.0.1:{port} ssl http2;\n")
    temp = prefix / "temp"
    paths = {kind: temp / kind for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in paths.values():
        path.mkdir(parents=True)
    main = conf / "nginx.conf"
    main.write_text(
        "\n".join(
            [
                # As root, nginx's workers would run as nobody, who may not enter tmp_path.
                "user root;" if os.geteuid() == 0 else "",
                "worker_processes 1;",
                f"pid {prefix / 'nginx.pid'};",
                f"error_log {prefix / 'error.log'} info;",
                "events { worker_connections 1024; }",
                "http {",
                *(f"    {kind}_temp_path {path};" for kind, path in paths.items()),
                f"    include {SITE};",
                f"    include {conf / 'http-redirect.conf'};",
                "}",
                "",
            ]
        )
    )
    return main


def start_edge(
    prefix: Path,
    backends: list[ServerProcess] | list[ServerProcess | DeadBackend],
    port: int,
    options: dict[int, str] | None = None,
    *,
    public_https_port: int | None = None,
) -> tuple[Edge, subprocess.Popen[bytes]]:
    binary = find_nginx()
    http_port = free_port()
    main = nginx_main_conf(
        prefix,
        [backend.port for backend in backends],
        port,
        options,
        http_port=http_port,
        public_https_port=public_https_port,
    )
    certificate = self_signed_certificate(main.parent / "certs")
    tls = ssl.create_default_context(cafile=str(certificate))
    command = [binary, "-p", str(prefix), "-c", str(main), "-e", str(prefix / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    edge = Edge(port=port, tls=tls, error_log=prefix / "error.log", http_port=http_port)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {edge.error_log.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError), edge.http() as client:
            if client.get("/readyz").status_code == 200:
                return edge, process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"nginx not ready: {edge.error_log.read_text()[-2000:]}")


@pytest.fixture
def deployment(
    request: pytest.FixtureRequest, redis_server: RedisServer, tmp_path: Path
) -> Iterator[tuple[Edge, tuple[ServerProcess, ServerProcess]]]:
    """nginx + two kleur processes + one Redis.  A test may add kleur settings
    by parametrising this fixture indirectly (``request.param``)."""
    find_nginx()
    port = free_port()
    extra: dict[str, str] = getattr(request, "param", {})
    settings = {"trusted_proxies": "127.0.0.1", "public_url": f"https://127.0.0.1:{port}", **extra}
    servers = (
        ServerProcess(redis_server.url, tmp_path / "kleur-1.log", log_level="info", **settings),
        ServerProcess(redis_server.url, tmp_path / "kleur-2.log", log_level="info", **settings),
    )
    process: subprocess.Popen[bytes] | None = None
    try:
        for server in servers:
            server.start()
        edge, process = start_edge(tmp_path / "nginx", list(servers), port)
        yield edge, servers
    finally:
        if process is not None:
            process.terminate()  # nginx's fast shutdown
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for server in servers:
            server.stop()


def connections(server: ServerProcess) -> Counter[str]:
    """The process's own kleur_connections gauge, by role, read on its own port."""
    metrics = httpx.get(f"{server.http_url}/metrics").text
    return Counter(
        {
            role: int(float(n))
            for role, n in re.findall(
                r'^kleur_connections\{role="(\w+)"\} (\S+)$', metrics, flags=re.MULTILINE
            )
        }
    )


async def test_a_session_through_nginx_reaches_both_processes_and_counts_once(
    deployment: tuple[Edge, tuple[ServerProcess, ServerProcess]],
) -> None:
    edge, servers = deployment
    phones_count = 8
    with edge.http() as http:
        created = http.post("/api/rooms", json={"template": TEMPLATE.id, "admission": False})
    assert created.status_code == 201, created.text
    room = created.json()
    # Links and QR codes name the proxy's address, not a process's own.
    assert room["join_url"].startswith(f"{edge.https_url}/j/{room['code']}?t=")

    facilitator = KleurClient(
        edge.wss_url, room["code"], Role.FACILITATOR, token=room["facilitator_token"], tls=edge.tls
    )
    await facilitator.connect()
    phones = [
        KleurClient(
            edge.wss_url,
            room["code"],
            Role.PARTICIPANT,
            codec=JSON if i % 2 else MSGPACK,
            tls=edge.tls,
        )
        for i in range(phones_count)
    ]
    for phone in phones:  # one by one: round-robin then alternates the processes
        await phone.connect()
    await facilitator.wait_dashboard(lambda d: d.participants == phones_count)

    # Both processes hold phones of the one room (each asked on its own port).
    per_process = [connections(server)["participant"] for server in servers]
    assert sum(per_process) == phones_count and all(per_process), per_process

    await facilitator.set_phase(Phase.RATING)
    await asyncio.gather(*(p.wait_for(lambda c: c.state.phase is Phase.RATING) for p in phones))
    ballots = {i: {norm: (i + j) % 11 for j, norm in enumerate(NORMS)} for i in range(phones_count)}

    async def rate_every_norm(i: int) -> None:
        for norm, value in ballots[i].items():
            ack = await phones[i].rate(norm, value)
            assert not ack.duplicate

    await asyncio.gather(*(rate_every_norm(i) for i in range(phones_count)))
    await facilitator.wait_dashboard(
        lambda d: all(result.received == phones_count for result in d.norms)
    )
    await facilitator.set_phase(Phase.REVEAL)
    dashboard = await facilitator.wait_dashboard(lambda d: d.revealed)
    expected = {norm: Counter(ballot[norm] for ballot in ballots.values()) for norm in NORMS}
    for result in dashboard.norms:
        assert result.counts is not None and result.received == phones_count
        counted = Counter({TEMPLATE.scale.min + i: n for i, n in enumerate(result.counts) if n})
        # Every rating counted once, whichever process took it.
        assert counted == expected[result.norm_id], result.norm_id
    # The reveal made through one process reaches the phones on both.
    await asyncio.gather(*(p.wait_for(lambda c: c.state.results is not None) for p in phones))
    for client in [facilitator, *phones]:
        await client.close()


ROOMS_PER_HOUR = 2


@pytest.mark.parametrize(
    "deployment", [{"rooms_per_hour_per_client": str(ROOMS_PER_HOUR)}], indirect=True
)
def test_limits_count_the_address_nginx_saw_not_the_header_the_client_sent(
    deployment: tuple[Edge, tuple[ServerProcess, ServerProcess]],
) -> None:
    edge, servers = deployment
    body = {"template": TEMPLATE.id, "admission": False}
    # kleur keeps this limit in each process's memory, so behind a round-robin
    # proxy an address gets up to (processes x limit) rooms: send enough that
    # every process has refused it at least once.
    attempts = ROOMS_PER_HOUR * len(servers) + len(servers)
    with edge.http(source="127.0.0.2") as first:
        statuses = [
            # A new made-up address each time: were it believed, no limit would hold.
            first.post(
                "/api/rooms", json=body, headers={"X-Forwarded-For": f"203.0.113.{i}"}
            ).status_code
            for i in range(attempts)
        ]
    assert set(statuses) == {201, 429}, statuses
    created = statuses.count(201)
    assert ROOMS_PER_HOUR <= created <= ROOMS_PER_HOUR * len(servers), statuses
    assert statuses[-len(servers) :] == [429] * len(servers), statuses

    with edge.http(source="127.0.0.3") as second:
        # Another address is not affected, even when it claims to be the first.
        claimed = second.post("/api/rooms", json=body, headers={"X-Forwarded-For": "127.0.0.2"})
        assert claimed.status_code == 201, claimed.text
        assert second.post("/api/rooms", json=body).status_code == 201

    with edge.http(source="127.0.0.2") as first:
        # And the first stays limited, whatever it claims.
        spoofed = first.post("/api/rooms", json=body, headers={"X-Forwarded-For": "127.0.0.3"})
        assert spoofed.status_code == 429

    # Each process logged the client nginx saw, never an address the client chose.
    for server in servers:
        log = server.log_path.read_text()
        # The address alone: the source port says nothing (and is 0 behind a proxy).
        assert re.search(r'uvicorn\.access: 127\.0\.0\.2 - "POST /api/rooms', log), log[-2000:]
        assert "203.0.113." not in log


def test_nginx_error_log_never_holds_a_join_link(redis_server: RedisServer, tmp_path: Path) -> None:
    """When a process does not answer, nginx logs the request line; never a room's."""
    find_nginx()
    port = free_port()
    live = ServerProcess(
        redis_server.url, tmp_path / "kleur.log", trusted_proxies="127.0.0.1",
        public_url=f"https://127.0.0.1:{port}",
    )  # fmt: skip
    live.start()
    process: subprocess.Popen[bytes] | None = None
    try:
        dead = DeadBackend(free_port())
        # max_fails=0: nginx keeps trying the dead one (by default it rests it for
        # 10 s after one failure), so that every other request shows what it logs.
        edge, process = start_edge(
            tmp_path / "nginx", [live, dead], port, options={dead.port: " max_fails=0"}
        )
        room = live.create_room()
        with edge.http() as client:
            # Round-robin alternates between the two: two of each in a row, so
            # that both kinds of request meet the dead one.
            for path in [room["join_url"].removeprefix(edge.https_url), "/healthz"] * 2:
                for _ in range(2):
                    assert client.get(path).status_code == 200
        log = edge.error_log.read_text()
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
        live.stop()
    assert "connect() failed" in log and "/healthz" in log, log  # the log is written ...
    token = room["join_url"].partition("?t=")[2]
    assert token and token not in log  # ... but not for the room's paths
    assert room["code"] not in log


def test_plain_http_is_sent_to_the_https_port_with_path_and_query(
    deployment: tuple[Edge, tuple[ServerProcess, ServerProcess]],
) -> None:
    """Here https is on a port that is not 443: the redirect keeps it."""
    edge, servers = deployment
    assert edge.port != 443
    room = servers[0].create_room()
    path = room["join_url"].removeprefix(edge.https_url)
    assert path.startswith("/j/") and "?t=" in path
    with httpx.Client(timeout=10) as plain:
        answer = plain.get(f"http://127.0.0.1:{edge.http_port}{path}")
    assert answer.status_code == 301, answer.text
    assert answer.headers["location"] == f"{edge.https_url}{path}"
    assert answer.headers["server"] == "nginx" and "nginx/" not in answer.text
    with edge.http() as client:
        assert client.get(answer.headers["location"]).status_code == 200


def test_with_https_on_443_the_redirect_names_no_port(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    find_nginx()
    server = ServerProcess(redis_server.url, tmp_path / "kleur.log")
    server.start()
    process: subprocess.Popen[bytes] | None = None
    try:
        # nginx itself listens on a free port; people would reach it on 443 (compose).
        edge, process = start_edge(tmp_path / "nginx", [server], free_port(), public_https_port=443)
        with httpx.Client(timeout=10) as plain:
            answer = plain.get(f"http://127.0.0.1:{edge.http_port}/j/ABCDEF?t=x")
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
        server.stop()
    assert answer.status_code == 301, answer.text
    assert answer.headers["location"] == "https://127.0.0.1/j/ABCDEF?t=x"


def test_nginx_s_own_502_names_no_version_and_logs_no_room(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """Every kleur process is down: nginx answers 502 itself, on a room path too.
    Its page and Server header name no version; its error log has the other paths'
    failures but nothing of the room's (no code, no join token)."""
    find_nginx()
    port = free_port()
    server = ServerProcess(
        redis_server.url, tmp_path / "kleur.log", public_url=f"https://127.0.0.1:{port}"
    )
    server.start()
    process: subprocess.Popen[bytes] | None = None
    try:
        edge, process = start_edge(tmp_path / "nginx", [server], port)
        room = server.create_room()
        server.stop()
        with edge.http() as client:
            answers = {
                path: client.get(path)
                for path in (
                    room["join_url"].removeprefix(edge.https_url),
                    f"/api/rooms/{room['code']}/links",
                    "/healthz",
                    "/metrics",
                )
            }
        log = edge.error_log.read_text()
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
        server.stop()
    statuses = [answer.status_code for answer in answers.values()]
    assert statuses == [502, 502, 502, 404], answers
    for path, answer in answers.items():
        assert answer.headers["server"] == "nginx", (path, answer.headers)
        assert "nginx/" not in answer.text, (path, answer.text)
        assert "<center>nginx</center>" in answer.text, (path, answer.text)
    assert "connect() failed" in log and "/healthz" in log, log  # the log is written ...
    token = room["join_url"].partition("?t=")[2]
    assert token and token not in log  # ... but not for the room's paths
    assert room["code"] not in log


def test_metrics_are_not_served_through_the_proxy(
    deployment: tuple[Edge, tuple[ServerProcess, ServerProcess]],
) -> None:
    edge, servers = deployment
    with edge.http() as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/healthz").status_code == 200
    for server in servers:  # Prometheus scrapes each process directly
        assert httpx.get(f"{server.http_url}/metrics").status_code == 200


async def test_a_pages_websocket_through_nginx_keeps_its_origin(
    deployment: tuple[Edge, tuple[ServerProcess, ServerProcess]],
) -> None:
    """A browser's handshake: kleur compares its Origin with the scheme and Host
    it was reached at, which only nginx knows (X-Forwarded-Proto https, the Host
    with its port).  localhost, not public_url's 127.0.0.1: only the Host can
    make it match."""
    edge, _ = deployment
    url = f"wss://localhost:{edge.port}/ws"
    own = f"https://localhost:{edge.port}"
    async with connect(
        url, ssl=edge.tls, origin=Origin(own), subprotocols=[Subprotocol(JSON.subprotocol)]
    ) as ws:
        assert ws.response is not None and ws.response.status_code == 101
    with pytest.raises(InvalidStatus) as refused:
        await connect(
            url,
            ssl=edge.tls,
            origin=Origin("https://elsewhere.example"),
            subprotocols=[Subprotocol(JSON.subprotocol)],
        )
    assert refused.value.response.status_code == 403
