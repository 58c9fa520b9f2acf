"""The PDF export: the verbeteragenda as a document a region mails around.

A title block (the session's name, region and date, the template, the room
and the export date), then the agreed actions first, the scores per theme (a
table per theme with the middle range and a small bar of the distribution),
the norms the group disagreed on and the opinion groups (as the dashboard's
analysis has them), what changed since the previous round and since the
previous scan (with that scan's actions and their status; both only when
there was one), and the ideas from the brainstorm, per note group, most dots
first.  Drawn with reportlab's Platypus, in Bitstream Vera
(shipped with reportlab, embedded as a subset): Latin-1 and the Windows
extras, so é, ë, ï, €, quotes and dashes; other characters show as a box.

Dates are written out in the file's language ("15 januari 2027").  Besides
the deadlines and the session's own date, the only date in the file is the
export date, by the day (printed, and as the PDF's creation date);
``invariant`` mode makes the bytes depend on the result and that date alone.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Final
from xml.sax.saxutils import escape

import reportlab
from reportlab.graphics.shapes import Drawing, Line, Rect
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Table,
    TableStyle,
)

from agenda.export.bars import bar_colour, bar_heights
from agenda.export.model import (
    NormRow,
    NoteRow,
    Result,
    contested_norms,
    has_follow_up,
    norm_label,
    norms,
)
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

FONT: Final = "KleurSans"
FONT_BOLD: Final = "KleurSans-Bold"
_PDF_LANG: Final = {"nl": "nl-NL", "en": "en-GB"}

#: Page margin to the text: on A4 the text block is 174 mm wide, as the tables below.
_MARGIN: Final = 18 * mm
#: Platypus frames pad their content by 6 pt on every side.
_FRAME_PADDING: Final = 6
_INK: Final = colors.HexColor("#1F2933")
_MUTED: Final = colors.HexColor("#616E7C")
_RULE: Final = colors.HexColor("#CBD2D9")
_HEAD: Final = colors.HexColor("#E4E7EB")


@functools.cache
def _register_fonts() -> None:
    fonts = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(fonts / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(fonts / "VeraBd.ttf")))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )


_BASE: Final = ParagraphStyle("kleur", fontName=FONT, fontSize=9, leading=11.5, textColor=_INK)
_TITLE: Final = ParagraphStyle(
    "title", _BASE, fontName=FONT_BOLD, fontSize=17, leading=21, spaceAfter=4
)
_META: Final = ParagraphStyle("meta", _BASE, textColor=_MUTED, spaceAfter=6)
_H1: Final = ParagraphStyle(
    "h1",
    _BASE,
    fontName=FONT_BOLD,
    fontSize=13,
    leading=16,
    spaceBefore=12,
    spaceAfter=4,
    keepWithNext=1,
)
_H2: Final = ParagraphStyle(
    "h2",
    _BASE,
    fontName=FONT_BOLD,
    fontSize=10.5,
    leading=13,
    spaceBefore=8,
    spaceAfter=3,
    keepWithNext=1,
)
_BODY: Final = ParagraphStyle("body", _BASE, spaceAfter=4)
_NOTE: Final = ParagraphStyle("note", _BASE, fontSize=8, leading=10, textColor=_MUTED, spaceAfter=4)
_CELL: Final = ParagraphStyle("cell", _BASE, fontSize=8.5, leading=10.5)
_CELL_RIGHT: Final = ParagraphStyle("cell-right", _CELL, alignment=TA_RIGHT)
_HEADER: Final = ParagraphStyle("header", _BASE, fontName=FONT_BOLD, fontSize=8, leading=10)
_HEADER_RIGHT: Final = ParagraphStyle("header-right", _HEADER, alignment=TA_RIGHT)
_BULLET: Final = ParagraphStyle(
    "bullet", _BASE, leftIndent=10, bulletIndent=0, bulletFontName=FONT, spaceAfter=2
)


def render_pdf(result: Result, t: Mapping[str, str], today: date, lang: str) -> bytes:
    _register_fonts()
    buffer = io.BytesIO()
    title = title_line(result, t)
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN - _FRAME_PADDING,
        rightMargin=_MARGIN - _FRAME_PADDING,
        topMargin=16 * mm - _FRAME_PADDING,
        bottomMargin=18 * mm - _FRAME_PADDING,
        title=title,
        author="kleur",
        creator="kleur",
        subject=f"{t['room']} {result['room']}",
        lang=_PDF_LANG.get(lang, lang),
        invariant=1,
        # Otherwise every page also references (unembedded) Helvetica.
        initialFontName=FONT,
    )
    footer = f"kleur · {t['room']} {result['room']}"

    def on_page(canvas: Canvas, _: object) -> None:
        # The export date, by the day, is the only date in the file.
        canvas.setDateFormatter(lambda *_: f"D:{today:%Y%m%d}")
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(_MUTED)
        canvas.drawString(_MARGIN, 10 * mm, footer)
        page = t["page"].format(page=canvas.getPageNumber())
        canvas.drawRightString(A4[0] - _MARGIN, 10 * mm, page)
        canvas.restoreState()

    document.build(story(result, t, today), onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


def story(result: Result, t: Mapping[str, str], today: date) -> list[Flowable]:
    """Every paragraph and table of the document, in order: the agenda first."""
    flow: list[Flowable] = [_para(title_line(result, t), _TITLE)]
    flow += [_para(line, _META) for line in session_lines(result, t, today)]
    flow += _agenda(result, t)
    flow += _scores(result, t)
    if result["revealed"]:
        flow += _contested(result, t)
        flow += _opinion_groups(result, t)
    flow += _round_shift(result, t)
    flow += _since_previous_scan(result, t)
    flow += _gaps(result, t)
    flow += _notes(result, t)
    return flow


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text: whatever it holds is not read as markup."""
    return Paragraph(escape(text), style)


def _scores(result: Result, t: Mapping[str, str]) -> list[Flowable]:
    revealed = result["revealed"]
    scale = result["scale"]
    note = (
        t["distribution_note"].format(min=scale["min"], max=scale["max"])
        if revealed
        else t["hidden_note"]
    )
    flow: list[Flowable] = [_para(t["scores"], _H1), _para(note, _NOTE)]
    header = [t["norm"], t["answers"]]
    widths = [146 * mm, 28 * mm]
    if revealed:
        header += [t["median"], t["most_between"], t["dont_know"], t["distribution"]]
        widths = [58 * mm, 24 * mm, 18 * mm, 22 * mm, 20 * mm, 32 * mm]
    for theme in result["themes"]:
        rows: list[list[object]] = []
        for norm in theme["norms"]:
            row: list[object] = [
                _para(f"{norm['number']}. {norm['title']}", _CELL),
                _para(str(norm["received"]), _CELL_RIGHT),
            ]
            if norm["counts"] is not None:
                median = number(norm["median"], t["decimal"]) or "-"
                row += [
                    _para(median, _CELL_RIGHT),
                    _para(middle_range(norm, t["decimal"]), _CELL_RIGHT),
                    _para(_text(norm["dont_know"]), _CELL_RIGHT),
                    _bar(norm["counts"]),
                ]
            rows.append(row)
        table = _table(header, rows, widths, right=(1, 5))
        flow.append(KeepTogether([_para(theme["title"], _H2), table]))
    return flow


def _contested(result: Result, t: Mapping[str, str]) -> list[Flowable]:
    """The norms the group disagreed on: a sentence each, then the figures."""
    flow: list[Flowable] = [_para(t["contested"], _H1)]
    contested = contested_norms(result)
    if not contested:
        return [*flow, _para(t["no_contested"], _BODY)]
    flow.append(_para(t["contested_note"], _NOTE))
    flow += [
        Paragraph(escape(_contested_sentence(norm, t)), _BULLET, bulletText="•")
        for norm in contested
    ]
    decimal = t["decimal"]
    header = [t["norm"], t["median"], t["most_between"], t["consensus"], t["distribution"]]
    rows: list[list[object]] = [
        [
            _para(f"{norm['number']}. {norm['title']}", _CELL),
            _para(number(norm["median"], decimal), _CELL_RIGHT),
            _para(middle_range(norm, decimal), _CELL_RIGHT),
            _para(number(round(norm["consensus"] or 0.0, 2), decimal), _CELL_RIGHT),
            _bar(norm["counts"] or ()),
        ]
        for norm in contested
    ]
    widths = [78 * mm, 20 * mm, 24 * mm, 22 * mm, 30 * mm]
    return [*flow, _table(header, rows, widths, right=(1, 4))]


def _contested_sentence(norm: NormRow, t: Mapping[str, str]) -> str:
    split = f" ({t['split']})" if norm["split"] else ""
    return f"{norm['number']}. {norm['title']}: {middle_sentence(norm, t)}{split}"


def _opinion_groups(result: Result, t: Mapping[str, str]) -> list[Flowable]:
    """Sizes of the opinion groups and their medians on the norms that separate them."""
    if result["opinion_groups"] is None:
        return []
    flow: list[Flowable] = [
        _para(t["opinion_groups"], _H1),
        _para(t["opinion_groups_note"], _NOTE),
    ]
    reason = opinion_group_text(result, t)
    if reason is not None:
        return [*flow, _para(reason, _BODY)]
    sizes, separating = opinion_group_tables(result, t)
    sizes_table = _plain_table(sizes, [40 * mm, 24 * mm])
    sizes_table.hAlign = "LEFT"
    flow.append(sizes_table)
    if len(separating) == 1:
        return [*flow, _para(t["no_separating"], _BODY)]
    groups = len(separating[0]) - 1
    widths = [174 * mm - groups * 22 * mm, *([22 * mm] * groups)]
    return [*flow, _para(t["separating"], _H2), _plain_table(separating, widths)]


def _plain_table(rows: list[list[str]], widths: Sequence[float]) -> Table:
    """A table of text: the first row is the header, columns after the first align right."""
    header, *body = rows
    cells: list[list[object]] = [
        [_para(cell, _CELL if i == 0 else _CELL_RIGHT) for i, cell in enumerate(row)]
        for row in body
    ]
    return _table(header, cells, widths, right=(1, len(header)))


def _agenda(result: Result, t: Mapping[str, str]) -> list[Flowable]:
    flow: list[Flowable] = [_para(t["agenda"], _H1)]
    if not result["agenda"]:
        return [*flow, _para(t["none"], _BODY)]
    follow_up = has_follow_up(result)
    header = ["#", t["action"], t["owner"], t["deadline"]]
    # How the free width is shared once every column fits its longest word.
    weights = [0, 4, 1, 0, 1]
    if follow_up:
        header.append(t["follow_up"])
        weights = [0, 4, 1, 0, 0, 1]
    header.append(t["norm"])
    texts: list[list[str]] = []
    for position, item in enumerate(result["agenda"], start=1):
        row = [str(position), item["action"], item["owner"], long_date(item["deadline"], t)]
        if follow_up:
            row.append(follow_up_date(item, t))
        row.append(norm_label(result, item["norm"]))
        texts.append(row)
    # A date is one unit ("1 maart 2027"): its columns fit it on one line.
    dates = {3, 4} if follow_up else {3}
    widths = fit_widths(header, texts, weights, whole=dates)
    rows: list[list[object]] = [
        [_para(cell, _CELL_RIGHT if i == 0 else _CELL) for i, cell in enumerate(row)]
        for row in texts
    ]
    return [*flow, _table(header, rows, widths, right=(0, 1))]


#: Left and right padding of a table cell together (``_table``), and a little air.
_CELL_PADDING: Final = 8 + 1


def fit_widths(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    weights: Sequence[int],
    *,
    whole: frozenset[int] | set[int] = frozenset(),
    total: float = 174 * mm,
) -> list[float]:
    """Column widths in which no word is broken: each column is at least as wide
    as its longest word (its whole text for the columns in ``whole``), and what
    is left of ``total`` goes to the columns by ``weights``.

    Reportlab breaks a word that does not fit its cell anywhere
    ("Woningcorpora / tie") and has no hyphenation without pyphen; so the
    columns are measured instead.
    """
    need = []
    for column, title in enumerate(header):
        words = title.split() or [""]
        widest = max(stringWidth(word, FONT_BOLD, _HEADER.fontSize) for word in words)
        for row in rows:
            cell = row[column]
            pieces = [cell] if column in whole else cell.split() or [""]
            widest = max(widest, *(stringWidth(piece, FONT, _CELL.fontSize) for piece in pieces))
        need.append(widest + _CELL_PADDING)
    free = total - sum(need)
    if free < 0:
        # Longer words than the page holds: shrink in proportion (a word may break).
        return [width * total / sum(need) for width in need]
    shares = sum(weights) or 1
    return [width + free * weight / shares for width, weight in zip(need, weights, strict=True)]


def _round_shift(result: Result, t: Mapping[str, str]) -> list[Flowable]:
    """Per norm the change in median and consensus since the previous round, if any."""
    shifted = [norm for norm in norms(result) if "previous_round" in norm]
    if not shifted:
        return []
    decimal = t["decimal"]
    rows: list[list[object]] = [
        [
            _para(f"{norm['number']}. {norm['title']}", _CELL),
            _para(median_then_now(norm, t), _CELL_RIGHT),
            _para(signed(norm["previous_round"]["median_delta"], decimal), _CELL_RIGHT),
            _para(signed(norm["previous_round"]["consensus_delta"], decimal), _CELL_RIGHT),
        ]
        for norm in shifted
    ]
    header = [
        t["norm"],
        t["median_rounds"].format(before=result["round"] - 1, round=result["round"]),
        t["median_change"],
        t["consensus_change"],
    ]
    return [
        _para(t["rounds"].format(round=result["round"]), _H1),
        _para(t["rounds_note"], _NOTE),
        _table(header, rows, [86 * mm, 32 * mm, 28 * mm, 28 * mm], right=(1, 4)),
    ]


def _since_previous_scan(result: Result, t: Mapping[str, str]) -> list[Flowable]:
    """Per norm the median then and the change since, and the earlier actions'
    status; only in a follow-up scan."""
    if "previous_room" not in result:
        return []
    decimal = t["decimal"]
    rows: list[list[object]] = [
        [
            _para(f"{norm['number']}. {norm['title']}", _CELL),
            _para(number(norm["previous_scan"]["median_before"], decimal), _CELL_RIGHT),
            _para(signed(norm["previous_scan"]["median_change"], decimal), _CELL_RIGHT),
        ]
        for norm in norms(result)
        if "previous_scan" in norm
    ]
    header = [t["norm"], t["median_before"], t["median_change"]]
    flow: list[Flowable] = [
        _para(t["since_previous"].format(room=result["previous_room"]), _H1),
        _table(header, rows, [110 * mm, 32 * mm, 32 * mm], right=(1, 3)),
    ]
    earlier = result.get("earlier_actions", [])
    if not earlier:
        return flow
    texts = [
        [
            item["action"],
            item["owner"],
            long_date(item["deadline"], t),
            t["status_" + item["status"]],
        ]
        for item in earlier
    ]
    rows = [[_para(cell, _CELL) for cell in row] for row in texts]
    header = [t["action"], t["owner"], t["deadline"], t["status"]]
    widths = fit_widths(header, texts, [5, 3, 0, 0], whole={2, 3})
    return [*flow, _para(t["earlier_actions"], _H2), _table(header, rows, widths, right=(0, 0))]


def _gaps(result: Result, t: Mapping[str, str]) -> list[Flowable]:
    """The second question (importance or ideal level) against the scores, if asked."""
    tables = gap_tables(result, t)
    if tables is None:
        return []
    norm_rows: list[list[object]] = [
        [_para(row[0], _CELL), *(_para(cell, _CELL_RIGHT) for cell in row[1:])]
        for row in tables.norm_rows
    ]
    theme_rows: list[list[object]] = [
        [_para(title, _CELL), _para(gap, _CELL_RIGHT)] for title, gap in tables.theme_rows
    ]
    return [
        _para(tables.title, _H1),
        _para(tables.note, _NOTE),
        _table(
            list(tables.norm_header), norm_rows, [98 * mm, 24 * mm, 28 * mm, 24 * mm], right=(1, 4)
        ),
        _table(list(tables.theme_header), theme_rows, [110 * mm, 32 * mm], right=(1, 2)),
    ]


def _notes(result: Result, t: Mapping[str, str]) -> list[Flowable]:
    """The ideas: per note group (most dots first) and then the loose ones."""
    if not result["notes"]:
        return []
    flow: list[Flowable] = [_para(t["notes"], _H1)]
    by_text = {note["text"]: note for note in result["notes"]}
    for group in result["groups"]:
        extra = dots_text(group["dots"], t)
        flow.append(_para(group["title"] + (f" ({extra})" if extra else ""), _H2))
        flow += [_idea(result, by_text[text], t) for text in group["notes"]]
    loose = [note for note in result["notes"] if note["group"] is None]
    if loose and result["groups"]:
        flow.append(_para(t["loose_ideas"], _H2))
    flow += [_idea(result, note, t) for note in loose]
    return flow


def _idea(result: Result, note: NoteRow, t: Mapping[str, str]) -> Paragraph:
    text = escape(note["text"])
    extra = dots_text(note["dots"], t)
    if extra:
        text += f" <b>({escape(extra)})</b>"
    linked = norm_label(result, note["norm"])
    if linked:
        text += f' <font color="#616E7C" size="8">({escape(linked)})</font>'
    return Paragraph(text, _BULLET, bulletText="•")


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _table(
    header: Sequence[str],
    rows: list[list[object]],
    widths: Sequence[float],
    *,
    right: tuple[int, int],
) -> Table:
    """A table with a bold header row (repeated on a new page); columns
    ``right[0]`` up to ``right[1]`` (exclusive) are aligned right."""
    first, end = right
    cells = [
        _para(text, _HEADER_RIGHT if first <= i < end else _HEADER) for i, text in enumerate(header)
    ]
    table = Table([cells, *rows], colWidths=list(widths), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 8.5),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (-1, 0), _HEAD),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, _RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _bar(counts: Sequence[int], width: float = 26 * mm, height: float = 6 * mm) -> Drawing:
    """A small histogram: one bar per scale value, low scores red, high green."""
    # The drawing holds no text; its font only keeps Helvetica out of the file.
    drawing = Drawing(width, height, initialFontName=FONT)
    slot = width / max(len(counts), 1)
    for index, share in enumerate(bar_heights(counts)):
        if not share:
            continue
        r, g, b = bar_colour(index, len(counts))
        bar = Rect(index * slot + 0.3, 0.8, slot - 0.6, share * (height - 1))
        bar.fillColor = colors.Color(r / 255, g / 255, b / 255)
        bar.strokeColor = None
        drawing.add(bar)
    baseline = Line(0, 0.5, width, 0.5)
    baseline.strokeColor, baseline.strokeWidth = _MUTED, 0.4
    drawing.add(baseline)
    return drawing
