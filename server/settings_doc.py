"""The settings table of ``docs/operations.md``, written from ``server.settings``.

Each setting's name, environment variable, default and meaning come from the
``Settings`` dataclass itself: the default from the field (or from its
``shown_default`` metadata, where the value in the code is not what an
operator gets: the Redis URL), the meaning from the ``#:`` comment above it.
So the guide cannot list a setting that does not exist, miss one, or show an
old default; ``tests/test_settings_doc.py`` fails when the table in the guide
is not what this module writes.

    python -m server.settings_doc            # print the table
    python -m server.settings_doc --write    # put it into docs/operations.md
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import sys
from pathlib import Path

from server import settings as settings_module
from server.settings import Settings

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
BEGIN = "<!-- settings table: written by `python -m server.settings_doc --write` -->"
END = "<!-- end of settings table -->"


def field_comments() -> dict[str, str]:
    """Each field's ``#:`` comment lines, joined into one sentence-like text."""
    source = inspect.getsource(settings_module)
    lines = source.splitlines()
    tree = ast.parse(source)
    (settings_class,) = (
        node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Settings"
    )
    comments: dict[str, str] = {}
    for node in settings_class.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        above: list[str] = []
        row = node.lineno - 2  # the line above the field, 0-based
        while row >= 0 and lines[row].strip().startswith("#:"):
            above.insert(0, lines[row].strip()[2:].strip())
            row -= 1
        comments[node.target.id] = " ".join(above)
    return comments


def _default(value: object) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def table() -> str:
    comments = field_comments()
    rows = ["| environment variable | default | meaning |", "|---|---|---|"]
    for field in dataclasses.fields(Settings):
        # reST-style ``code`` in the comments is Markdown's `code` in the guide.
        meaning = comments.get(field.name, "").replace("``", "`").replace("|", "\\|")
        if not meaning:
            raise ValueError(f"Settings.{field.name} has no #: comment to document it")
        # A default that the code's value would misstate (the Redis URL: unset,
        # ``kleur serve`` starts its own) is given as the field's ``shown_default``.
        shown = field.metadata.get("shown_default") or _default(field.default)
        rows.append(f"| `KLEUR_{field.name.upper()}` | `{shown}` | {meaning} |")
    return "\n".join(rows)


def with_table(guide: str) -> str:
    """``guide`` with the text between the two markers replaced by the current table."""
    before, begin, rest = guide.partition(BEGIN)
    _, end, after = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"the guide lacks the markers {BEGIN!r} ... {END!r}")
    return f"{before}{BEGIN}\n{table()}\n{END}{after}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.settings_doc", description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"update {GUIDE}")
    args = parser.parse_args(argv)
    if not args.write:
        print(table())
        return 0
    GUIDE.write_text(with_table(GUIDE.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
