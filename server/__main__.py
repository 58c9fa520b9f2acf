"""``python -m server``: the ``kleur`` command without the console script on PATH."""

from server.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
