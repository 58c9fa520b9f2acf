"""The operations guide lists every setting with its current default.

The table in ``docs/operations.md`` is written by ``server.settings_doc`` from
the ``Settings`` dataclass; this fails when someone adds, renames or changes
the default of a setting and does not rewrite the table
(``python -m server.settings_doc --write``).
"""

from __future__ import annotations

import dataclasses

import pytest

from server import settings_doc
from server.settings import Settings


def test_the_guide_holds_the_table_the_settings_module_writes() -> None:
    guide = settings_doc.GUIDE.read_text(encoding="utf-8")
    assert settings_doc.with_table(guide) == guide, (
        "docs/operations.md's settings table is stale: run python -m server.settings_doc --write"
    )


def test_every_setting_is_a_row_with_its_default() -> None:
    rows = settings_doc.table().splitlines()[2:]
    assert len(rows) == len(dataclasses.fields(Settings))
    assert "| `KLEUR_ROOM_TTL_SECONDS` | `172800` |" in settings_doc.table()
    assert "| `KLEUR_TRUSTED_PROXIES` | `(none)` |" in settings_doc.table()


def test_a_guide_without_the_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="markers"):
        settings_doc.with_table("# Operations\n")


def test_the_redis_url_row_says_that_unset_means_an_embedded_redis() -> None:
    """``Settings()``'s URL is a local Redis, but unset ``kleur serve`` starts its own:
    the guide must say what an operator gets."""
    (row,) = (r for r in settings_doc.table().splitlines() if r.startswith("| `KLEUR_REDIS_URL`"))
    assert "| `(none: kleur serve starts its own Redis)` |" in row
    assert "6379" not in row.split("|")[2]
    assert "| `KLEUR_LOG_LEVEL` | `info` |" in settings_doc.table()
