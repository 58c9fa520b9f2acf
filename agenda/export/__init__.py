"""Exports of a session's result: aggregates only, in Dutch or English.

``render`` is the one entry point: a format name (``FORMATS``, the
``export.<format>`` of the URL) and a room give the document to send.  The
package's imports point one way, from the formats down to what they share:

- ``model``: the result's layout (the JSON export), and what renderers ask of it;
- ``build``: ``result_dict``, the result of a room (``agenda.views.RoomData``);
- ``labels``: the words of every export in both languages;
- ``wording``: numbers, changes, dates and shared tables as the documents write them;
- ``bars``: the distribution bars of the PDF and the DOCX;
- one module per format, ``as_markdown``, ``as_json``, ``as_csv``, ``as_docx``
  and ``as_pdf``: each imports the shared modules above, never another format
  and never this package's ``__init__``.

In ``agenda/`` only this module imports the formats; ``tests/test_import_graph.py`` fails on
any import circle.  ``docs/exports.md`` describes each layout.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

from agenda.export import as_csv, as_json, as_markdown
from agenda.export.build import result_dict
from agenda.export.labels import LANGUAGES, in_language
from agenda.export.model import Result
from agenda.templates import Template
from agenda.views import RoomData
from protocol.messages import Analysis, SessionInfo

__all__ = [
    "FORMATS",
    "LANGUAGES",
    "MEDIA_TYPES",
    "TEXT_FORMATS",
    "Document",
    "file_name",
    "render",
]

#: Format key (the ``export.<key>`` in the URL) -> media type and file extension.
MEDIA_TYPES: Final[Mapping[str, tuple[str, str]]] = {
    "json": ("application/json", "json"),
    "md": ("text/markdown; charset=utf-8", "md"),
    # A ZIP with one CSV file per table (see ``as_csv``).
    "csv": ("application/zip", "zip"),
    # For Excel with a Dutch (or German, French...) locale: ";" between
    # cells and a decimal comma.
    "csv-semicolon": ("application/zip", "zip"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "pdf": ("application/pdf", "pdf"),
}
FORMATS = frozenset(MEDIA_TYPES)

#: Formats whose body is UTF-8 text (the others are binary: documents and ZIPs).
TEXT_FORMATS = frozenset({"json", "md"})


@dataclass(frozen=True, slots=True)
class Document:
    """One rendered export, as the HTTP response sends it."""

    body: bytes
    media_type: str
    extension: str


#: Longest slug of the session's name in a file name (cut at a hyphen).
_SLUG_CHARS: Final = 48


def file_name(fmt: str, code: str, session: SessionInfo | None = None, suffix: str = "") -> str:
    """The download's file name, distinct per format: the session's name (as an
    ASCII slug) and date, then the code, as in
    ``kleur-participatiescan-regio-x-2026-12-06-ABC234.pdf``, with ``-csv.zip`` /
    ``-csv-semicolon.zip`` for the two ZIPs; ``suffix`` ("agenda") goes before
    the extension.  Without a session (or a name) the name is just ``kleur-ABC234``."""
    extension = MEDIA_TYPES[fmt][1]
    parts = ["kleur"]
    if session is not None:
        parts += [part for part in (slug(session.name), session.date) if part]
    parts.append(code)
    if extension == "zip":
        parts.append(fmt)
    if suffix:
        parts.append(suffix)
    return "-".join(parts) + "." + ("zip" if extension == "zip" else extension)


def slug(text: str) -> str:
    """``text`` as a safe piece of a file name: ASCII letters and digits in lower
    case, hyphens between the words ("Één loket Zuid-Oost" -> "een-loket-zuid-oost"),
    at most ``_SLUG_CHARS`` long."""
    # NFKD splits "é" into "e" and its accent; the accents are then dropped.
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    out = "-".join(words)
    if len(out) > _SLUG_CHARS:
        cut = out[: _SLUG_CHARS + 1]
        out = cut.rsplit("-", 1)[0] if "-" in cut else out[:_SLUG_CHARS]
    return out


def render(
    fmt: str,
    data: RoomData,
    template: Template,
    lang: str,
    code: str,
    *,
    today: date | None = None,
    analysis: Analysis | None = None,
) -> Document:
    """The export of a room in format ``fmt`` (a key of ``FORMATS``) and language ``lang``.

    ``today`` is the export date the PDF and DOCX print (and carry as their
    creation date, by the day); it defaults to the local date.  ``analysis`` is
    the room's (``agenda.insights.build``), for the opinion groups.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    t = in_language(lang)
    template = template.localized(lang)  # norms, themes and labels in the reader's language
    result = result_dict(data, template, code, analysis)
    media_type, extension = MEDIA_TYPES[fmt]
    body = _body(fmt, result, t, lang, today or date.today())
    return Document(body, media_type, extension)


def _body(fmt: str, result: Result, t: Mapping[str, str], lang: str, today: date) -> bytes:
    """The bytes of ``result`` in format ``fmt``: the dispatch to its renderer."""
    if fmt == "json":
        return as_json.render_json(result)
    if fmt == "md":
        return as_markdown.markdown_from(result, lang).encode()
    if fmt in ("csv", "csv-semicolon"):
        semicolon = fmt == "csv-semicolon"
        return as_csv.render_csv(
            result,
            t,
            today,
            delimiter=";" if semicolon else ",",
            decimal="," if semicolon else ".",
        )
    # The document renderers are imported on use: python-docx, reportlab and
    # Pillow load only when a document is asked for, not in every server
    # process at start (together about 25 MB and a third of a second here).
    if fmt == "docx":
        from agenda.export import as_docx

        return as_docx.render_docx(result, t, today, lang)
    from agenda.export import as_pdf

    return as_pdf.render_pdf(result, t, today, lang)
