"""A follow-up scan: what a new room keeps of an earlier scan's JSON export.

Only aggregates are taken (medians per norm, the agreed actions); the export
holds nothing else that could point at a person anyway.
"""

from __future__ import annotations

import math
from typing import Any

from agenda.export.model import JSON_EXPORT_VERSION
from agenda.templates import Template
from agenda.views import PreviousData
from protocol import limits
from protocol.messages import normalize_text


class ImportError_(ValueError):
    """The document is not an export this room can follow up."""


def parse_previous(document: Any, template: Template) -> PreviousData:
    if not isinstance(document, dict) or document.get("format") != "kleur-result":
        raise ImportError_("previous: not a kleur JSON export")
    if document.get("version") != JSON_EXPORT_VERSION:
        raise ImportError_(f"previous: export version must be {JSON_EXPORT_VERSION}")
    template_info = document.get("template")
    if not isinstance(template_info, dict) or template_info.get("id") != template.id:
        raise ImportError_(f"previous: the earlier scan must use template {template.id!r}")
    medians: dict[str, float | None] = {}
    for theme in _list(document.get("themes"), "themes"):
        for norm in _list(theme.get("norms") if isinstance(theme, dict) else None, "norms"):
            if not isinstance(norm, dict) or not template.has_norm(str(norm.get("id"))):
                continue
            median = norm.get("median")
            if isinstance(median, bool) or not isinstance(median, int | float):
                medians[str(norm["id"])] = None
            elif math.isfinite(median):
                medians[str(norm["id"])] = float(median)
            else:
                raise ImportError_("previous: a median must be a finite number")
    items = []
    for item in _list(document.get("agenda"), "agenda")[: limits.MAX_AGENDA_ITEMS]:
        if not isinstance(item, dict) or not isinstance(item.get("action"), str):
            raise ImportError_("previous: every agenda item needs an action")
        owner = item.get("owner") if isinstance(item.get("owner"), str) else ""
        deadline = item.get("deadline") if isinstance(item.get("deadline"), str) else None
        items.append(
            (
                _clean(item["action"], limits.MAX_AGENDA_TEXT_CHARS),
                _clean(str(owner), limits.MAX_AGENDA_OWNER_CHARS),
                None if deadline is None else _clean(deadline, 10),
            )
        )
    room = document.get("room")
    return PreviousData(_clean(str(room), 16) if room else "", medians, tuple(items))


def _is_noncharacter(char: str) -> bool:
    """U+FDD0..U+FDEF and the last two code points of every plane (U+FFFE, U+FFFF, ...)."""
    point = ord(char)
    return 0xFDD0 <= point <= 0xFDEF or point & 0xFFFE == 0xFFFE


def _clean(text: str, max_chars: int) -> str:
    """Text from the document as the protocol would accept it (else refused).

    A lone surrogate cannot be encoded (msgpack, JSON to a browser) and a
    noncharacter breaks the DOCX export: either would stay in the room's
    every dashboard and export, so the import is refused instead.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ImportError_("previous: text is not valid Unicode (a lone surrogate)") from None
    if any(_is_noncharacter(char) for char in text):
        raise ImportError_("previous: text holds a Unicode noncharacter (such as U+FFFE)")
    return normalize_text(text)[:max_chars]


def _list(value: object, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise ImportError_(f"previous: {name} must be a list")
    return value
