"""The ``kleur`` command: ``kleur serve`` runs the service, ``kleur version`` says which.

(The load tests have their own entry point, ``python -m loadtests.run``: the
service does not depend on them.)

``serve`` runs uvicorn on uvloop with httptools (``server.serving``); when
either is missing it says so and exits with 2 before starting anything.
Without a Redis URL (``--redis-url`` or ``KLEUR_REDIS_URL``) ``serve`` starts its
own ``redis-server`` with an fsynced append-only file, so a single command on a
laptop is a complete, durable installation.  It never installs anything: when
``redis-server`` is missing it says what to install and exits with 2.

Every setting (``server.settings``) is read and checked first, before Redis
is started: a bad value or a misspelt ``KLEUR_*`` name exits with 2.  Then
logging is set up (``server.logs``), so the embedded Redis's line is in the
chosen format too, and an unknown ``KLEUR_*`` name is warned about there.
What is printed to stderr instead is the reason ``serve`` exits before running,
one line, as argparse prints its own errors: 2 for a usage error, a bad setting
or a missing dependency; 3 when it cannot start (the data folder is another
process's, the port is taken, Redis or a template failed).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from types import FrameType

import platformdirs

from server import logs, serving
from server.embedded_redis import RedisNotInstalledError, RedisServer, find_redis_server
from server.settings import LOG_LEVELS, Settings, check_names

#: Exit codes besides 0: 2 is also what argparse uses for a usage error.
EXIT_MISSING_DEPENDENCY = 2
EXIT_USAGE = 2
EXIT_STARTUP_FAILED = 3

_SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def default_data_dir() -> Path:
    """Where the embedded Redis keeps its data unless ``--data-dir`` says otherwise."""
    return Path(platformdirs.user_data_dir("kleur")) / "redis"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kleur", description="Real-time anonymous voting for facilitated sessions."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (%(default)s)")
    serve.add_argument(
        "--redis-url",
        default=None,
        help="use this Redis instead of starting one (default: $KLEUR_REDIS_URL)",
    )
    serve.add_argument(
        "--redis-cluster",
        action="store_true",
        help="--redis-url names a node of a Redis Cluster (default: $KLEUR_REDIS_CLUSTER)",
    )
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"where the embedded Redis keeps its data (default: {default_data_dir()})",
    )
    serve.add_argument(
        "--log-level",
        default=None,
        choices=LOG_LEVELS,
        help="least severe lines logged; uvicorn's own stop at info "
        "(default: $KLEUR_LOG_LEVEL, else info)",
    )
    serve.add_argument(
        "--log-format",
        default=None,
        choices=logs.FORMATS,
        help="json (one object per line) or text (default: $KLEUR_LOG_FORMAT; "
        "else text when stdout is a terminal, json otherwise)",
    )

    commands.add_parser("version", help="print the installed version")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "version":
        print(f"kleur {_version()}")
        return 0
    return _serve(args)


def _version() -> str:
    try:
        return metadata.version("kleur")
    except metadata.PackageNotFoundError:  # running from a checkout that is not installed
        return "unknown (not installed)"


class _Stop(Exception):
    """SIGINT or SIGTERM arrived outside uvicorn's own handling of them."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signum)


_Handler = Callable[[int, FrameType | None], object] | signal.Handlers


@contextmanager
def _signal_handlers(handler: _Handler) -> Iterator[None]:
    previous = {sig: signal.signal(sig, handler) for sig in _SHUTDOWN_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _serve(args: argparse.Namespace) -> int:
    try:
        serving.check_installed()
    except serving.MissingServerPart as exc:
        print(f"kleur: {exc}", file=sys.stderr)
        return EXIT_MISSING_DEPENDENCY
    # Every setting is read and checked before anything starts: a bad value
    # or a misspelt name stops here, with no Redis started and nothing logged.
    try:
        unknown = check_names(os.environ)
        settings = Settings.from_env(
            redis_url=args.redis_url, redis_cluster=args.redis_cluster or None
        )
        args.log_format = logs.choose_format(
            args.log_format or settings.log_format, stdout_is_terminal=sys.stdout.isatty()
        )
        trusted_proxies = serving.parse_trusted_proxies(settings.trusted_proxies)
    except ValueError as exc:  # SettingError, BadLogFormat, BadTrustedProxies
        print(f"kleur: {exc}", file=sys.stderr)
        return EXIT_USAGE
    embedded = not (args.redis_url or os.environ.get("KLEUR_REDIS_URL"))
    if settings.redis_cluster and embedded:
        print(
            "kleur: --redis-cluster needs --redis-url (any node of the cluster);"
            " kleur starts only a single Redis of its own, never a cluster",
            file=sys.stderr,
        )
        return EXIT_USAGE
    args.log_level = args.log_level or settings.log_level
    logs.configure(args.log_format, args.log_level)
    for warning in unknown:
        logging.getLogger("kleur").warning("kleur: %s", warning)
    # uvicorn handles SIGINT/SIGTERM while it runs, and afterwards raises the
    # signal again for the previous handler.  With Python's default handlers
    # SIGTERM would then end the process before Redis is stopped; ours turns
    # the signal, then and at any other moment, into an orderly return.
    with _signal_handlers(_raise_stop):
        try:
            if not embedded:
                if args.data_dir is not None:
                    logging.getLogger("kleur").warning(
                        "kleur: --data-dir is ignored: Redis is external"
                    )
                return _run_uvicorn(args, settings, trusted_proxies)
            return _serve_with_embedded_redis(args, settings, trusted_proxies)
        except _Stop:
            return 0


def _serve_with_embedded_redis(
    args: argparse.Namespace, settings: Settings, trusted_proxies: tuple[str, ...]
) -> int:
    try:
        binary = find_redis_server()
    except RedisNotInstalledError as exc:
        print(f"kleur: {exc}", file=sys.stderr)
        return EXIT_MISSING_DEPENDENCY

    data_dir = (args.data_dir or default_data_dir()).expanduser().resolve()
    redis_server = RedisServer(data_dir=data_dir, binary=binary)
    try:
        try:
            redis_server.start()
        except RuntimeError as exc:  # the folder is in use; or the tail of Redis's log
            print(f"kleur: {exc}", file=sys.stderr)
            return EXIT_STARTUP_FAILED
        logging.getLogger(logs.STARTUP_LOGGER).info(
            "kleur: embedded Redis on %s; data (append-only file) in %s", redis_server.url, data_dir
        )
        settings = dataclasses.replace(settings, redis_url=redis_server.url)
        return _run_uvicorn(args, settings, trusted_proxies)
    finally:
        # A second Ctrl-C must not interrupt this and leave Redis behind.
        with _signal_handlers(signal.SIG_IGN):
            redis_server.stop()


def _run_uvicorn(
    args: argparse.Namespace, settings: Settings, trusted_proxies: tuple[str, ...]
) -> int:
    # Imported here so that ``kleur version`` and ``--help`` stay fast and work
    # even when the app cannot be imported.
    from agenda.templates import TemplateError
    from server.app import close_connections, create_app

    try:
        app = create_app(settings)
    except TemplateError as exc:  # an operator's template (KLEUR_TEMPLATE_DIR): say which, briefly
        print(f"kleur: template not loaded: {exc}", file=sys.stderr)
        return EXIT_STARTUP_FAILED
    try:
        serving.serve(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            log_format=args.log_format,
            trusted_proxies=trusted_proxies,
            header_timeout_seconds=settings.header_timeout_seconds,
            # 4500 to every websocket before uvicorn closes them with 1012.
            before_shutdown=lambda: close_connections(app),
        )
    except serving.StartupFailed as exc:  # uvicorn logged it too; here it is for a person
        print(f"kleur: {exc}", file=sys.stderr)
        return EXIT_STARTUP_FAILED
    return 0
