"""The DOCX export: the PDF's content as a Word document a region can edit.

Same sections as ``as_pdf``: the title block (session name, region, date,
template, room, export date), the agreed actions first, scores per theme (a
table per theme with the middle range, a small PNG bar of the distribution),
the norms the group disagreed on, the opinion groups, what changed since the
previous round and since the previous scan (with that scan's actions and
their status; both only when there was one), and the ideas from the
brainstorm per note group, most dots first.  A4, Word's built-in styles
(headings, "Light List Accent 1" tables, "List Bullet"), so the region's own
template restyles it cleanly.

Besides the deadlines and the session's own date (written out in the file's
language), the only date in the file is the export date, by the day: it is the
document's created/modified date and the date of every entry in the zip, so
the bytes depend on the result and that date alone.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final

import docx
from docx.document import Document as WordDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.run import Run
from PIL import Image, ImageDraw

from agenda.export.bars import bar_colour, bar_heights
from agenda.export.model import NoteRow, Result, contested_norms, has_follow_up, norm_label, norms
from agenda.export.wording import (
    dots_text,
    follow_up_date,
    gap_tables,
    long_date,
    median_then_now,
    middle_range,
    middle_sentence,
    number,
    opinion_group_tables,
    opinion_group_text,
    session_lines,
    signed,
    title_line,
)

_WORD_LANG: Final = {"nl": "nl-NL", "en": "en-GB"}
_MUTED: Final = RGBColor(0x61, 0x6E, 0x7C)
_TABLE_STYLE: Final = "Light List Accent 1"
#: Size of the distribution bar, and its resolution.
_BAR_MM: Final = (26, 6)
_BAR_DPI: Final = 300


@dataclass(frozen=True, slots=True)
class _Bar:
    """A table cell holding the distribution bar of these counts."""

    counts: Sequence[int]


_CellValue = str | _Bar


def render_docx(result: Result, t: Mapping[str, str], today: date, lang: str) -> bytes:
    document = docx.Document()
    _setup(document, result, t, today, lang)
    document.add_heading(title_line(result, t), level=0)
    for line in session_lines(result, t, today):
        _mute(document.add_paragraph(line).runs)
    _agenda(document, result, t)
    _scores(document, result, t)
    if result["revealed"]:
        _contested(document, result, t)
        _opinion_groups(document, result, t)
    _round_shift(document, result, t)
    _since_previous_scan(document, result, t)
    _gaps(document, result, t)
    _notes(document, result, t)
    buffer = io.BytesIO()
    document.save(buffer)
    return _dated_zip(buffer.getvalue(), today)


def _setup(
    document: WordDocument, result: Result, t: Mapping[str, str], today: date, lang: str
) -> None:
    """A4 with the PDF's margins, 10 pt text in ``lang``, and metadata that names no one."""
    for section in document.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = Mm(18)
        section.top_margin = section.bottom_margin = Mm(16)
    normal = document.styles["Normal"]
    normal.font.size = Pt(10)
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), _WORD_LANG.get(lang, lang))
    normal.element.get_or_add_rPr().append(language)
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
    properties = document.core_properties
    properties.title = title_line(result, t)
    properties.subject = f"{t['room']} {result['room']}"
    properties.author = properties.last_modified_by = "kleur"
    properties.comments = properties.keywords = properties.category = ""
    properties.language = _WORD_LANG.get(lang, lang)
    properties.created = properties.modified = midnight
    properties.revision = 1


def _scores(document: WordDocument, result: Result, t: Mapping[str, str]) -> None:
    document.add_heading(t["scores"], level=1)
    scale = result["scale"]
    if result["revealed"]:
        note = t["distribution_note"].format(min=scale["min"], max=scale["max"])
    else:
        note = t["hidden_note"]
    _small(document, note)
    header = [t["norm"], t["answers"]]
    widths = [146, 28]
    if result["revealed"]:
        header += [t["median"], t["most_between"], t["dont_know"], t["distribution"]]
        widths = [58, 24, 18, 22, 20, 32]
    for theme in result["themes"]:
        document.add_heading(theme["title"], level=2)
        rows: list[list[_CellValue]] = []
        for norm in theme["norms"]:
            row: list[_CellValue] = [f"{norm['number']}. {norm['title']}", str(norm["received"])]
            if norm["counts"] is not None:
                median = number(norm["median"], t["decimal"]) or "-"
                row += [
                    median,
                    middle_range(norm, t["decimal"]),
                    _text(norm["dont_know"]),
                    _Bar(norm["counts"]),
                ]
            rows.append(row)
        _table(document, header, rows, widths, right=(1, 5))


def _contested(document: WordDocument, result: Result, t: Mapping[str, str]) -> None:
    """The norms the group disagreed on: a sentence each, then the figures."""
    document.add_heading(t["contested"], level=1)
    contested = contested_norms(result)
    if not contested:
        document.add_paragraph(t["no_contested"])
        return
    _small(document, t["contested_note"])
    for norm in contested:
        split = f" ({t['split']})" if norm["split"] else ""
        document.add_paragraph(
            f"{norm['number']}. {norm['title']}: {middle_sentence(norm, t)}{split}",
            style="List Bullet",
        )
    decimal = t["decimal"]
    header = [t["norm"], t["median"], t["most_between"], t["consensus"], t["distribution"]]
    rows: list[list[_CellValue]] = [
        [
            f"{norm['number']}. {norm['title']}",
            number(norm["median"], decimal),
            middle_range(norm, decimal),
            number(round(norm["consensus"] or 0.0, 2), decimal),
            _Bar(norm["counts"] or ()),
        ]
        for norm in contested
    ]
    _table(document, header, rows, [78, 20, 24, 22, 30], right=(1, 4))


def _opinion_groups(document: WordDocument, result: Result, t: Mapping[str, str]) -> None:
    """Sizes of the opinion groups and their medians on the norms that separate them."""
    if result["opinion_groups"] is None:
        return
    document.add_heading(t["opinion_groups"], level=1)
    _small(document, t["opinion_groups_note"])
    reason = opinion_group_text(result, t)
    if reason is not None:
        document.add_paragraph(reason)
        return
    sizes, separating = opinion_group_tables(result, t)
    _table(document, sizes[0], [list(row) for row in sizes[1:]], [40, 24], right=(1, 2))
    if len(separating) == 1:
        document.add_paragraph(t["no_separating"])
        return
    document.add_heading(t["separating"], level=2)
    groups = len(separating[0]) - 1
    rows: list[list[_CellValue]] = [list(row) for row in separating[1:]]
    widths = [174 - 22 * groups, *([22] * groups)]
    _table(document, separating[0], rows, widths, right=(1, 1 + groups))


def _agenda(document: WordDocument, result: Result, t: Mapping[str, str]) -> None:
    document.add_heading(t["agenda"], level=1)
    if not result["agenda"]:
        document.add_paragraph(t["none"])
        return
    follow_up = has_follow_up(result)
    header = ["#", t["action"], t["owner"], t["deadline"]]
    widths = [8, 58, 30, 30, 48]
    if follow_up:
        header.append(t["follow_up"])
        widths = [8, 48, 26, 28, 26, 38]
    header.append(t["norm"])
    rows: list[list[_CellValue]] = []
    for position, item in enumerate(result["agenda"], start=1):
        row: list[_CellValue] = [
            str(position),
            item["action"],
            item["owner"],
            long_date(item["deadline"], t),
        ]
        if follow_up:
            row.append(follow_up_date(item, t))
        row.append(norm_label(result, item["norm"]))
        rows.append(row)
    _table(document, header, rows, widths, right=(0, 1))


def _round_shift(document: WordDocument, result: Result, t: Mapping[str, str]) -> None:
    """Per norm the change in median and consensus since the previous round, if any."""
    shifted = [norm for norm in norms(result) if "previous_round" in norm]
    if not shifted:
        return
    document.add_heading(t["rounds"].format(round=result["round"]), level=1)
    _small(document, t["rounds_note"])
    decimal = t["decimal"]
    rows: list[list[_CellValue]] = [
        [
            f"{norm['number']}. {norm['title']}",
            median_then_now(norm, t),
            signed(norm["previous_round"]["median_delta"], decimal),
            signed(norm["previous_round"]["consensus_delta"], decimal),
        ]
        for norm in shifted
    ]
    header = [
        t["norm"],
        t["median_rounds"].format(before=result["round"] - 1, round=result["round"]),
        t["median_change"],
        t["consensus_change"],
    ]
    _table(document, header, rows, [86, 32, 28, 28], right=(1, 4))


def _since_previous_scan(document: WordDocument, result: Result, t: Mapping[str, str]) -> None:
    """Per norm the median then and the change since, and the earlier actions'
    status; only in a follow-up scan."""
    if "previous_room" not in result:
        return
    document.add_heading(t["since_previous"].format(room=result["previous_room"]), level=1)
    decimal = t["decimal"]
    rows: list[list[_CellValue]] = [
        [
            f"{norm['number']}. {norm['title']}",
            number(norm["previous_scan"]["median_before"], decimal),
            signed(norm["previous_scan"]["median_change"], decimal),
        ]
        for norm in norms(result)
        if "previous_scan" in norm
    ]
    header = [t["norm"], t["median_before"], t["median_change"]]
    _table(document, header, rows, [110, 32, 32], right=(1, 3))
    earlier = result.get("earlier_actions", [])
    if not earlier:
        return
    document.add_heading(t["earlier_actions"], level=2)
    rows = [
        [
            item["action"],
            item["owner"],
            long_date(item["deadline"], t),
            t["status_" + item["status"]],
        ]
        for item in earlier
    ]
    header = [t["action"], t["owner"], t["deadline"], t["status"]]
    _table(document, header, rows, [76, 44, 30, 24], right=(0, 0))


def _gaps(document: WordDocument, result: Result, t: Mapping[str, str]) -> None:
    """The second question (importance or ideal level) against the scores, if asked."""
    tables = gap_tables(result, t)
    if tables is None:
        return
    document.add_heading(tables.title, level=1)
    _small(document, tables.note)
    rows: list[list[_CellValue]] = [list(row) for row in tables.norm_rows]
    _table(document, list(tables.norm_header), rows, [98, 24, 28, 24], right=(1, 4))
    rows = [list(row) for row in tables.theme_rows]
    _table(document, list(tables.theme_header), rows, [110, 32], right=(1, 2))


def _notes(document: WordDocument, result: Result, t: Mapping[str, str]) -> None:
    """The ideas: per note group (most dots first) and then the loose ones."""
    if not result["notes"]:
        return
    document.add_heading(t["notes"], level=1)
    by_text = {note["text"]: note for note in result["notes"]}
    for group in result["groups"]:
        extra = dots_text(group["dots"], t)
        document.add_heading(group["title"] + (f" ({extra})" if extra else ""), level=2)
        for text in group["notes"]:
            _idea(document, result, by_text[text], t)
    loose = [note for note in result["notes"] if note["group"] is None]
    if loose and result["groups"]:
        document.add_heading(t["loose_ideas"], level=2)
    for note in loose:
        _idea(document, result, note, t)


def _idea(document: WordDocument, result: Result, note: NoteRow, t: Mapping[str, str]) -> None:
    paragraph = document.add_paragraph(note["text"], style="List Bullet")
    extra = dots_text(note["dots"], t)
    if extra:
        paragraph.add_run(f" ({extra})").bold = True
    linked = norm_label(result, note["norm"])
    if linked:
        run = paragraph.add_run(f" ({linked})")
        run.font.color.rgb = _MUTED
        run.font.size = Pt(8.5)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _small(document: WordDocument, text: str) -> None:
    paragraph = document.add_paragraph(text)
    _mute(paragraph.runs)
    for run in paragraph.runs:
        run.font.size = Pt(8.5)


def _mute(runs: Sequence[Run]) -> None:
    for run in runs:
        run.font.color.rgb = _MUTED


def _table(
    document: WordDocument,
    header: Sequence[str],
    rows: Sequence[Sequence[_CellValue]],
    widths_mm: Sequence[int],
    *,
    right: tuple[int, int],
) -> Table:
    """A table with a header row (repeated on a new page); columns ``right[0]``
    up to ``right[1]`` (exclusive) are aligned right."""
    table: Table = document.add_table(rows=1 + len(rows), cols=len(header))
    table.style = document.styles[_TABLE_STYLE]
    table.autofit = False
    header_row = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header_row.append(repeat)
    first, end = right
    for row, values in zip(table.rows, [header, *rows], strict=True):
        for column, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
            cell.width = Mm(widths_mm[column])
            _fill(cell, value, widths_mm[column])
            if first <= column < end:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    return table


def _fill(cell: _Cell, value: _CellValue, width_mm: int) -> None:
    paragraph = cell.paragraphs[0]
    if isinstance(value, _Bar):
        paragraph.add_run().add_picture(io.BytesIO(_bar_png(value.counts)), width=Mm(_BAR_MM[0]))
    elif value:
        paragraph.add_run(value)


def _bar_png(counts: Sequence[int]) -> bytes:
    """The distribution as a small PNG histogram, drawn like the PDF's bar."""
    width, height = (round(size / 25.4 * _BAR_DPI) for size in _BAR_MM)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    slot = width / max(len(counts), 1)
    gap = max(1, round(slot * 0.12))
    base = height - 3
    for index, share in enumerate(bar_heights(counts)):
        if share:
            top = base - share * (base - 1)
            left = index * slot + gap / 2
            draw.rectangle(
                (left, top, left + slot - gap, base), fill=bar_colour(index, len(counts))
            )
    draw.line((0, height - 2, width, height - 2), fill=(0x61, 0x6E, 0x7C), width=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(_BAR_DPI, _BAR_DPI))
    return buffer.getvalue()


def _dated_zip(body: bytes, today: date) -> bytes:
    """The package again, every entry dated ``today`` (python-docx uses the current time)."""
    stamp = (today.year, today.month, today.day, 0, 0, 0)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(body)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(info))
    return out.getvalue()
