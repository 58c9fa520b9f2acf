"""Exports of a session's result: aggregates only, in Dutch or English.

No participant token, pseudonym or timestamp ever enters an export: the input
is a ``RoomData``, which holds none.  Distributions appear only once revealed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from agenda.phases import is_revealed
from agenda.templates import Template
from agenda.views import RoomData, norm_results
from protocol.messages import NormResult

#: Version of the JSON export's layout; bump on any incompatible change.
JSON_EXPORT_VERSION = 1
FORMATS = frozenset({"json", "md"})
LANGUAGES = frozenset({"nl", "en"})

_TEXT = {
    "nl": {
        "title": "Verbeteragenda",
        "room": "Sessie",
        "participants": "Deelnemers",
        "round": "Ronde",
        "scores": "Scores per norm",
        "norm": "Norm",
        "answers": "Antwoorden",
        "median": "Mediaan",
        "dont_know": "Weet niet",
        "hidden": "nog niet getoond",
        "agenda": "Afgesproken acties",
        "action": "Actie",
        "owner": "Trekker",
        "deadline": "Deadline",
        "none": "Nog geen acties.",
        "notes": "Ideeën uit de brainstorm",
    },
    "en": {
        "title": "Improvement agenda",
        "room": "Session",
        "participants": "Participants",
        "round": "Round",
        "scores": "Scores per norm",
        "norm": "Norm",
        "answers": "Answers",
        "median": "Median",
        "dont_know": "Don't know",
        "hidden": "not revealed yet",
        "agenda": "Agreed actions",
        "action": "Action",
        "owner": "Owner",
        "deadline": "Deadline",
        "none": "No actions yet.",
        "notes": "Ideas from the brainstorm",
    },
}


@dataclass(frozen=True, slots=True)
class Document:
    body: bytes
    media_type: str
    extension: str


def result_dict(data: RoomData, template: Template, code: str) -> dict[str, object]:
    """The whole result as plain data (the JSON export, and the base of the others)."""
    revealed = is_revealed(data.phase)
    results = {r.norm_id: r for r in norm_results(data, template, revealed=revealed)}
    return {
        "format": "kleur-result",
        "version": JSON_EXPORT_VERSION,
        "room": code,
        "template": {"id": template.id, "title": template.title, "language": template.language},
        "scale": {"min": template.scale.min, "max": template.scale.max},
        "phase": data.phase.value,
        "round": data.round,
        "participants": data.participants,
        "revealed": revealed,
        "themes": [
            {
                "id": theme.id,
                "title": theme.title,
                "norms": [
                    {
                        "id": norm.id,
                        "number": norm.number,
                        "title": norm.title,
                        "received": results[norm.id].received,
                        "counts": _list(results[norm.id].counts),
                        "dont_know": results[norm.id].dont_know,
                        "median": results[norm.id].median,
                    }
                    for norm in theme.norms
                ],
            }
            for theme in template.themes
        ],
        "agenda": [
            {
                "action": item.action,
                "owner": item.owner,
                "deadline": item.deadline,
                "norm": item.norm_id,
            }
            for item in sorted(data.agenda, key=lambda i: (i.position, i.item_id))
        ],
        "notes": sorted(
            ({"text": note.text, "norm": note.norm_id} for note in data.notes if not note.hidden),
            key=lambda n: (n["norm"] or "", n["text"]),
        ),
    }


def _list(counts: tuple[int, ...] | None) -> list[int] | None:
    return None if counts is None else list(counts)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _median(result: NormResult, t: dict[str, str]) -> str:
    if result.counts is None:
        return t["hidden"]
    return "-" if result.median is None else f"{result.median:g}"


def markdown(data: RoomData, template: Template, lang: str, code: str) -> str:
    t = _TEXT[lang]
    revealed = is_revealed(data.phase)
    results = {r.norm_id: r for r in norm_results(data, template, revealed=revealed)}
    lines = [
        f"# {t['title']}: {template.title}",
        "",
        f"{t['room']}: {code} · {t['participants']}: {data.participants}"
        f" · {t['round']}: {data.round}",
        "",
        f"## {t['scores']}",
    ]
    for theme in template.themes:
        lines += ["", f"### {theme.title}", ""]
        lines += [f"| {t['norm']} | {t['answers']} | {t['median']} | {t['dont_know']} |"]
        lines += ["|---|---:|---:|---:|"]
        for norm in theme.norms:
            result = results[norm.id]
            dont_know = "" if result.dont_know is None else str(result.dont_know)
            lines.append(
                f"| {norm.number}. {_cell(norm.title)} | {result.received} "
                f"| {_median(result, t)} | {dont_know} |"
            )
    lines += ["", f"## {t['agenda']}", ""]
    items = sorted(data.agenda, key=lambda i: (i.position, i.item_id))
    if not items:
        lines.append(t["none"])
    else:
        titles = {norm.id: norm.title for norm in template.norms}
        lines += [f"| # | {t['action']} | {t['owner']} | {t['deadline']} | {t['norm']} |"]
        lines += ["|---:|---|---|---|---|"]
        for number, item in enumerate(items, start=1):
            norm_title = titles.get(item.norm_id or "", "")
            lines.append(
                f"| {number} | {_cell(item.action)} | {_cell(item.owner)} "
                f"| {item.deadline or ''} | {_cell(norm_title)} |"
            )
    visible = sorted(note.text for note in data.notes if not note.hidden)
    if visible:
        lines += ["", f"## {t['notes']}", ""]
        lines += [f"- {_cell(text)}" for text in visible]
    return "\n".join(lines) + "\n"


def render(fmt: str, data: RoomData, template: Template, lang: str, code: str) -> Document:
    if fmt == "json":
        body = json.dumps(result_dict(data, template, code), ensure_ascii=False, indent=2)
        return Document(body.encode(), "application/json", "json")
    if fmt == "md":
        return Document(
            markdown(data, template, lang, code).encode(), "text/markdown; charset=utf-8", "md"
        )
    raise ValueError(f"unknown export format {fmt!r}")
