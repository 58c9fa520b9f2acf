"""Exports (``agenda/export*.py``): every format, both languages, aggregates only.

Synchronous and without I/O, except the golden files in ``tests/golden/``:
Markdown and CSV are compared byte for byte, JSON after parsing.  Run with
``KLEUR_UPDATE_GOLDEN=1`` to rewrite them after an intended change (and read
the diff).  DOCX and PDF are opened again with python-docx and pypdf and their
text is checked.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import statistics
import string
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from agenda import export, export_csv, export_docx, export_pdf
from agenda.templates import SecondQuestion, SecondQuestionKind, load_builtin_templates
from agenda.views import PreviousData, RoomData
from protocol.messages import AgendaItem, WallNote
from protocol.phases import FollowUpStatus, Phase

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("KLEUR_UPDATE_GOLDEN") == "1"

#: Dutch only, so the English files differ from the Dutch in the export's own
#: labels alone (tests/test_templates_served.py checks the English norm texts).
SCAN = load_builtin_templates()["participatiescan"].localized("nl")
CODE = "ABC234"
TODAY = date(2026, 1, 15)
LANGS = sorted(export.LANGUAGES)


def _id(number: int) -> str:
    """The id of the norm with this number (1-based, as printed)."""
    return SCAN.norms[number - 1].id


# Client-chosen ids that look like tokens: none of them may reach an export.
NOTE_IDEA, NOTE_MINUS, NOTE_HIDDEN = (
    "Zq3xK9vLm2Pa7RtY8wNb4Hc1",
    "Rf6Tg9Yh2Uj5Ik8Ol1Pa4Sd7",
    "Wq2Er5Ty8Ui1Op4As7Df0Gh3",
)
ITEM_REGIE, ITEM_STAGE = "Tk7Qw2Ls9Xr4Mn8Bv3Jh6Yp1", "Hd5Fg8Jk2Lz4Xc7Vb1Nm3Qw9"

ACTION_REGIE = "Eén regisseur per jongere | ook na 18 (café-overleg, reïntegratie)"
OWNER_REGIE = "Gemeente Zwolle & UWV"
ACTION_STAGE = "=SOM(A1) stagebank opzetten <b>met</b> werkgevers"
OWNER_STAGE = "+ROC Deltion"
IDEA = "Eén loket voor ouders, ook ná 18"
MINUS_IDEA = "-1 overdracht minder: één dossier"
HIDDEN = "VERBORGEN-TEKST van een deelnemer"

ROOM = RoomData(
    template_id="participatiescan",
    phase=Phase.AGENDA,
    round=2,
    locked=True,
    version=40,
    participants=12,
    org_counts={"gemeente": 4, "onderwijs": 3, "uwv": 2, "werkgever": 3},
    tallies={
        _id(1): {3: 2, 5: 3, 8: 4, None: 1},  # Q1-Q3 5-8
        _id(2): {7: 6, 8: 3},  # 7-8
        _id(3): {1: 2, 5: 2, 9: 3},  # 3-9, the widest
        _id(8): {0: 1, 6: 3, 10: 5},  # 6-10
        _id(13): {6: 5, None: 2},  # all agree: never "differed"
        _id(18): {5: 2, 6: 2},  # 5-6, median 5.5; a tie with norm 2, cut off at five
        _id(19): {4: 1, 7: 1},  # 4.75-6.25
    },
    notes=(
        WallNote(NOTE_IDEA, IDEA, _id(18), False),
        WallNote(NOTE_MINUS, MINUS_IDEA, None, False),
        WallNote(NOTE_HIDDEN, HIDDEN, None, True),
    ),
    agenda=(
        AgendaItem(ITEM_STAGE, ACTION_STAGE, OWNER_STAGE, "2026-06-30", None, None, 1),
        AgendaItem(ITEM_REGIE, ACTION_REGIE, OWNER_REGIE, "2026-03-01", _id(18), NOTE_IDEA, 0),
    ),
)
#: The same room in the second round's rating: agenda kept, scores not shown.
RATING = replace(ROOM, phase=Phase.RATING)
EMPTY = RoomData("participatiescan", Phase.LOBBY, 1, False, 1, 0)

# A second round after a follow-up import, as tests/test_scan_analysis.py builds
# one through the server: round 1's tallies and the earlier scan's JSON export
# (its room, medians and actions), with the status the table gave each action.
PREVIOUS_ROOM = "XYZ789"
EARLIER_DEADLINES = ("2025-06-01", "2025-09-30")
EARLIER = (
    ("Werkgeversloket openen", "Gemeente", EARLIER_DEADLINES[0]),
    ("@Stagebank uitbreiden <i>regio</i>", "-ROC Deltion", None),
    ("Jongerenpanel starten", "UWV", EARLIER_DEADLINES[1]),
    ("Folder voor ouders", "Werkgeversservicepunt", None),
)
HISTORY = replace(
    ROOM,
    previous_tallies={
        _id(1): {2: 5, 4: 3, 8: 2},  # median 3 -> 5; consensus up by 0.003: "0"
        _id(2): {7: 9},  # median 7 both times, consensus down
        _id(3): {9: 6},  # median 9 -> 5
        _id(18): {5: 3, 9: 1},  # median 5 -> 5.5
    },
    previous=PreviousData(
        PREVIOUS_ROOM,
        {_id(1): 4.0, _id(2): 6.5, _id(18): 7.0, _id(20): 3.0},  # 20: not rated now
        EARLIER,
    ),
    follow_up={0: FollowUpStatus.DONE, 1: FollowUpStatus.IN_PROGRESS, 3: FollowUpStatus.DROPPED},
)
#: The follow-up room while its second round is rated: no shift, no change yet.
HISTORY_RATING = replace(HISTORY, phase=Phase.RATING)


def _render(fmt: str, lang: str, data: RoomData = ROOM) -> export.Document:
    return export.render(fmt, data, SCAN, lang, CODE, today=TODAY)


def _golden(name: str, body: bytes) -> bytes:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.write_bytes(body)
    return path.read_bytes()


def _flat(text: str) -> str:
    """Whitespace runs as one space (table cells wrap in documents)."""
    return " ".join(text.split())


def _docx_text(body: bytes) -> str:
    document = docx.Document(io.BytesIO(body))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    properties = document.core_properties
    parts += [
        properties.title,
        properties.subject,
        properties.author,
        properties.last_modified_by,
        properties.comments,
        properties.keywords,
        properties.category,
    ]
    return "\n".join(parts)


def _pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    parts = [page.extract_text() for page in reader.pages]
    parts += [str(value) for value in (reader.metadata or {}).values()]
    return "\n".join(parts)


def _text(fmt: str, body: bytes) -> str:
    if fmt == "docx":
        return _docx_text(body)
    if fmt == "pdf":
        return _pdf_text(body)
    return body.decode("utf-8-sig")


def _csv_rows(body: bytes, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter))


def _blocks(rows: list[list[str]]) -> list[list[list[str]]]:
    blocks: list[list[list[str]]] = [[]]
    for row in rows:
        if row:
            blocks[-1].append(row)
        else:
            blocks.append([])
    return blocks


# ------------------------------------------------------------------ formats


def test_formats_media_types_and_extensions() -> None:
    assert {"md", "csv", "csv-semicolon", "docx", "pdf", "json"} == export.FORMATS
    assert export.TEXT_FORMATS <= export.FORMATS
    expected = {
        "json": ("application/json", "json"),
        "md": ("text/markdown; charset=utf-8", "md"),
        "csv": ("text/csv; charset=utf-8", "csv"),
        "csv-semicolon": ("text/csv; charset=utf-8", "csv"),
        "docx": (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
        "pdf": ("application/pdf", "pdf"),
    }
    for fmt, (media_type, extension) in expected.items():
        document = _render(fmt, "nl")
        assert (document.media_type, document.extension) == (media_type, extension)
    assert _render("pdf", "nl").body.startswith(b"%PDF-")
    assert zipfile.is_zipfile(io.BytesIO(_render("docx", "nl").body))


def test_render_refuses_unknown_format_or_language() -> None:
    with pytest.raises(ValueError, match="format"):
        _render("xlsx", "nl")
    with pytest.raises(ValueError, match="language"):
        _render("md", "de")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", sorted(export.FORMATS))
def test_every_format_renders_an_empty_room(fmt: str, lang: str) -> None:
    text = _text(fmt, _render(fmt, lang, EMPTY).body)
    if fmt not in ("json", "csv", "csv-semicolon"):
        assert export.labels(lang)["none"] in _flat(text)


# ------------------------------------------------------------------ labels


def test_labels_have_the_same_keys_and_placeholders_in_every_language() -> None:
    def placeholders(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}

    tables = {lang: export.labels(lang) for lang in export.LANGUAGES}
    keys = {lang: set(table) for lang, table in tables.items()}
    assert keys["nl"] == keys["en"]
    for key in keys["nl"]:
        assert placeholders(tables["nl"][key]) == placeholders(tables["en"][key]), key
        assert all(table[key] for table in tables.values()), key


# ------------------------------------------------------------------ golden files


@pytest.mark.parametrize("lang", LANGS)
def test_markdown_matches_the_golden_file(lang: str) -> None:
    body = _render("md", lang).body
    assert body == _golden(f"result.{lang}.md", body)


@pytest.mark.parametrize(
    ("fmt", "lang", "name"),
    [
        ("csv", "nl", "result.nl.csv"),
        ("csv", "en", "result.en.csv"),
        ("csv-semicolon", "nl", "result.nl.semicolon.csv"),
    ],
)
def test_csv_matches_the_golden_file(fmt: str, lang: str, name: str) -> None:
    body = _render(fmt, lang).body
    assert body.startswith(b"\xef\xbb\xbf") and not body[3:].startswith(b"\xef\xbb\xbf")
    assert body.endswith(b"\r\n")
    assert body == _golden(name, body)


@pytest.mark.parametrize(
    ("fmt", "lang", "name"),
    [
        ("csv", "nl", "result.history.nl.csv"),
        ("csv", "en", "result.history.en.csv"),
        ("csv-semicolon", "nl", "result.history.nl.semicolon.csv"),
    ],
)
def test_csv_with_a_previous_round_and_scan_matches_the_golden_file(
    fmt: str, lang: str, name: str
) -> None:
    body = _render(fmt, lang, HISTORY).body
    assert body.startswith(b"\xef\xbb\xbf") and not body[3:].startswith(b"\xef\xbb\xbf")
    assert body.endswith(b"\r\n")
    assert body == _golden(name, body)


def test_json_matches_the_golden_file() -> None:
    body = _render("json", "nl").body
    assert json.loads(body) == json.loads(_golden("result.json", body))
    # The layout does not depend on the language.
    assert _render("json", "en").body == body


# ------------------------------------------------------------------ CSV


def test_csv_layout_norms_then_agenda_then_ideas() -> None:
    t = export.labels("nl")
    norms, agenda, ideas = _blocks(_csv_rows(_render("csv", "nl").body))
    columns = ["theme", "number", "norm_id", "norm", "answers", "dont_know", "median"]
    scores = [f"Score {value}" for value in range(11)]
    assert norms[0] == [*(t[column] for column in columns), *scores]
    assert [row[2] for row in norms[1:]] == [norm.id for norm in SCAN.norms]
    first = norms[1]
    assert first[:7] == [
        "Focus op werk en talent",
        "1",
        _id(1),
        SCAN.norms[0].title,
        "10",
        "1",
        "5",
    ]
    assert first[7:] == ["0", "0", "0", "2", "0", "3", "0", "0", "4", "0", "0"]
    assert norms[18][6] == "5.5"
    assert agenda == [
        [
            "#",
            t["action"],
            t["owner"],
            t["deadline"],
            t["follow_up"],
            t["number"],
            t["norm_id"],
            t["norm"],
        ],
        ["1", ACTION_REGIE, OWNER_REGIE, "2026-03-01", "", "18", _id(18), "Duidelijke regie"],
        ["2", "'" + ACTION_STAGE, "'" + OWNER_STAGE, "2026-06-30", "", "", "", ""],
    ]
    assert ideas == [
        [t["idea"], t["number"], t["norm_id"], t["norm"]],
        ["'" + MINUS_IDEA, "", "", ""],
        [IDEA, "18", _id(18), "Duidelijke regie"],
    ]


def test_csv_adds_columns_and_a_block_for_a_previous_round_and_scan() -> None:
    t = export.labels("en")
    norms, agenda, ideas, earlier = _blocks(_csv_rows(_render("csv", "en", HISTORY).body))
    plain_norms, plain_agenda, plain_ideas = _blocks(_csv_rows(_render("csv", "en").body))
    # The existing columns and blocks are untouched; four columns are added at the end.
    assert [row[:-4] for row in norms] == plain_norms
    assert (agenda, ideas) == (plain_agenda, plain_ideas)
    assert norms[0][-4:] == [
        "What changed in round 2: Median change",
        "What changed in round 2: Consensus change",
        f"Since the previous scan ({PREVIOUS_ROOM}): Median then",
        f"Since the previous scan ({PREVIOUS_ROOM}): Median change",
    ]
    by_number = {row[1]: row[-4:] for row in norms[1:]}
    assert by_number["1"] == ["2", "0", "4", "1"]
    assert by_number["2"] == ["0", "-0.07", "6.5", "0.5"]
    assert by_number["3"] == ["-4", "-0.54", "", ""]
    assert by_number["18"] == ["0.5", "0.17", "7", "-1.5"]
    assert by_number["20"] == ["", "", "3", ""]  # rated then, not now
    assert by_number["4"] == ["", "", "", ""]
    assert earlier == [
        [t["earlier_actions"], t["owner"], t["deadline"], t["status"]],
        ["Werkgeversloket openen", "Gemeente", "2025-06-01", t["status_done"]],
        ["'@Stagebank uitbreiden <i>regio</i>", "'-ROC Deltion", "", t["status_in_progress"]],
        ["Jongerenpanel starten", "UWV", "2025-09-30", t["status_open"]],
        ["Folder voor ouders", "Werkgeversservicepunt", "", t["status_dropped"]],
    ]


@pytest.mark.parametrize("lang", LANGS)
def test_csv_before_the_reveal_shows_only_the_median_then(lang: str) -> None:
    t = export.labels(lang)
    blocks = _blocks(_csv_rows(_render("csv", lang, HISTORY_RATING).body))
    norms, earlier = blocks[0], blocks[3]
    since = t["since_previous"].format(room=PREVIOUS_ROOM)
    assert norms[0] == [
        *(t[column] for column in ("theme", "number", "norm_id", "norm", "answers")),
        f"{since}: {t['median_before']}",
        f"{since}: {t['median_change']}",
    ]
    assert {row[1]: row[5:] for row in norms[1:]}["18"] == ["7", ""]
    assert [row[3] for row in earlier[1:]] == [
        t[f"status_{status}"] for status in ("done", "in_progress", "open", "dropped")
    ]


def test_semicolon_csv_is_the_same_table_with_decimal_commas() -> None:
    for data in (ROOM, HISTORY):
        comma = _csv_rows(_render("csv", "nl", data).body)
        semicolon = _csv_rows(_render("csv-semicolon", "nl", data).body, delimiter=";")
        decimal_comma = [[_DECIMAL.sub(r"\1,\2", cell) for cell in row] for row in comma]
        assert semicolon == decimal_comma
    assert b";5,5;" in _render("csv-semicolon", "nl").body
    assert b";-1,5\r\n" in _render("csv-semicolon", "nl", HISTORY).body


#: A number with a decimal point, as a whole cell.
_DECIMAL = re.compile(r"^(-?\d+)\.(\d+)$")
_NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")


@pytest.mark.parametrize("fmt", ["csv", "csv-semicolon"])
def test_csv_cells_never_start_a_formula(fmt: str) -> None:
    delimiter = ";" if fmt == "csv-semicolon" else ","
    for lang in LANGS:
        for data in (ROOM, HISTORY):
            for row in _csv_rows(_render(fmt, lang, data).body, delimiter):
                # A negative number (a change since before) is a number, not a formula.
                text = [cell for cell in row if not _NUMBER.match(cell)]
                assert not [cell for cell in text if cell.startswith(export_csv.FORMULA_START)]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_format_cell_quotes_formula_text(start: str) -> None:
    assert export_csv.format_cell(f"{start}1+1") == f"'{start}1+1"
    assert export_csv.format_cell(f"a{start}1") == f"a{start}1"


def test_format_cell_writes_numbers_as_numbers() -> None:
    assert export_csv.format_cell(-2) == "-2"  # a scale may start below zero
    assert export_csv.format_cell(6.5, ",") == "6,5"
    assert export_csv.format_cell(6.0) == "6"
    assert export_csv.format_cell(None) == ""


# ------------------------------------------------------------------ DOCX and PDF


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_documents_hold_the_agenda_scores_and_spread(fmt: str, lang: str) -> None:
    t = export.labels(lang)
    text = _flat(_text(fmt, _render(fmt, lang).body))
    for needle in (
        f"{t['title']}: {SCAN.title}",
        f"{t['room']}: {CODE}",
        f"{t['exported']}: 2026-01-15",
        ACTION_REGIE,
        OWNER_REGIE,
        "2026-03-01",
        ACTION_STAGE,  # as text: no markup, no formula quote
        OWNER_STAGE,
        "2026-06-30",
        "18. Duidelijke regie",
        "Reële werkervaring",  # diacritics survive the embedded font
        "15. Hulpverleners herkennen financiële problematiek",
        t["scores"],
        t["spread"],
        t["agenda"],
        t["notes"],
        IDEA,
        MINUS_IDEA,
        f"4{t['decimal']}75–6{t['decimal']}25",  # the middle half of norm 19
    ):
        assert needle in text, needle
    # The agreed actions in their order (the position, not the item id).
    assert text.index(ACTION_REGIE) < text.index(ACTION_STAGE)


def test_docx_tables() -> None:
    t = export.labels("nl")
    document = docx.Document(io.BytesIO(_render("docx", "nl").body))
    tables = [
        [[cell.text for cell in row.cells] for row in table.rows] for table in document.tables
    ]
    themes, (spread, agenda) = tables[:4], tables[4:]
    assert [len(table) - 1 for table in themes] == [len(theme.norms) for theme in SCAN.themes]
    assert themes[0][0] == [t["norm"], t["answers"], t["median"], t["dont_know"], t["distribution"]]
    assert themes[0][1][:4] == [f"1. {SCAN.norms[0].title}", "10", "5", "1"]
    assert themes[3][3][:3] == ["18. Duidelijke regie", "4", "5,5"]
    # "Where the table differed": widest interquartile range first, at most five.
    assert [row[0].split(".")[0] for row in spread[1:]] == ["3", "8", "1", "19", "2"]
    assert spread[1][3:5] == ["3–9", "6"]
    assert agenda[1] == ["1", ACTION_REGIE, OWNER_REGIE, "2026-03-01", "18. Duidelijke regie"]
    assert agenda[2] == ["2", ACTION_STAGE, OWNER_STAGE, "2026-06-30", ""]
    # A bar per rated norm's distribution (20 norms) and per spread row (5).
    assert len(document.inline_shapes) == 25


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_documents_show_the_shift_and_the_earlier_actions(fmt: str, lang: str) -> None:
    t = export.labels(lang)
    d = t["decimal"]
    text = _flat(_text(fmt, _render(fmt, lang, HISTORY).body))
    for needle in (
        t["rounds"].format(round=2),
        t["rounds_note"],
        f"{t['norm']} {t['median_change']} {t['consensus_change']}",
        "1. Deskundigheid omgaan met werkgevers +2 0 ",
        f"2. Reële werkervaring 0 -0{d}07 ",
        f"3. Samenwerking met werkgevers -4 -0{d}54 ",
        f"18. Duidelijke regie +0{d}5 +0{d}17 ",
        t["since_previous"].format(room=PREVIOUS_ROOM),
        f"{t['norm']} {t['median_before']} {t['median_change']}",
        f"2. Reële werkervaring 6{d}5 +0{d}5 ",
        f"18. Duidelijke regie 7 -1{d}5 ",
        "20. Samenwerking gemeenten 3 ",
        t["earlier_actions"],
        f"{t['action']} {t['owner']} {t['deadline']} {t['status']}",
        f"Werkgeversloket openen Gemeente 2025-06-01 {t['status_done']}",
        f"@Stagebank uitbreiden <i>regio</i> -ROC Deltion {t['status_in_progress']}",
        f"Jongerenpanel starten UWV 2025-09-30 {t['status_open']}",
        f"Folder voor ouders Werkgeversservicepunt {t['status_dropped']}",
    ):
        assert needle in text, needle
    # Everything the document held before is still there.
    assert ACTION_REGIE in text and IDEA in text and t["spread"] in text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_documents_before_the_reveal_show_the_earlier_scan_only(fmt: str, lang: str) -> None:
    t = export.labels(lang)
    text = _flat(_text(fmt, _render(fmt, lang, HISTORY_RATING).body))
    assert t["rounds"].format(round=2) not in text  # no shift before this round is shown
    assert t["since_previous"].format(room=PREVIOUS_ROOM) in text
    assert "18. Duidelijke regie 7 " in text and "-1,5" not in text and "-1.5" not in text
    assert f"Werkgeversloket openen Gemeente 2025-06-01 {t['status_done']}" in text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_documents_without_history_have_no_history_sections(fmt: str, lang: str) -> None:
    t = export.labels(lang)
    text = _flat(_text(fmt, _render(fmt, lang).body))
    since = t["since_previous"].split("(")[0]
    for heading in (t["rounds"].format(round=2), since, t["earlier_actions"], t["status"]):
        assert heading not in text, heading


def test_docx_history_tables() -> None:
    t = export.labels("nl")
    document = docx.Document(io.BytesIO(_render("docx", "nl", HISTORY).body))
    tables = [
        [[cell.text for cell in row.cells] for row in table.rows] for table in document.tables
    ]
    # Four themes, the spread and the agenda as before, then the three new tables.
    assert len(tables) == 9
    shift, since, earlier = tables[6:]
    assert shift[0] == [t["norm"], t["median_change"], t["consensus_change"]]
    assert len(shift) == 1 + len(SCAN.norms)
    assert shift[18] == ["18. Duidelijke regie", "+0,5", "+0,17"]
    assert shift[4] == ["4. Ondersteuning bij stages", "", ""]
    assert since[0] == [t["norm"], t["median_before"], t["median_change"]]
    assert since[18] == ["18. Duidelijke regie", "7", "-1,5"]
    assert since[20] == ["20. Samenwerking gemeenten", "3", ""]
    assert earlier == [
        [t["action"], t["owner"], t["deadline"], t["status"]],
        ["Werkgeversloket openen", "Gemeente", "2025-06-01", "klaar"],
        ["@Stagebank uitbreiden <i>regio</i>", "-ROC Deltion", "", "bezig"],
        ["Jongerenpanel starten", "UWV", "2025-09-30", "nog open"],
        ["Folder voor ouders", "Werkgeversservicepunt", "", "gestopt"],
    ]
    headings = [
        p.text for p in document.paragraphs if p.style and p.style.name.startswith("Heading")
    ]
    history = [
        "Wat veranderde in ronde 2",
        f"Sinds de vorige scan ({PREVIOUS_ROOM})",
        "Acties van de vorige scan",
    ]
    agreed = headings.index(t["agenda"])
    assert headings[agreed + 1 : agreed + 4] == history
    assert len(document.inline_shapes) == 25  # no new pictures


def test_pdf_embeds_its_font() -> None:
    """Only the embedded Vera subsets: no standard font the reader must substitute."""
    reader = PdfReader(io.BytesIO(_render("pdf", "nl").body))
    names = set()
    for page in reader.pages:
        fonts = page["/Resources"].get_object()["/Font"]  # type: ignore[index]
        assert isinstance(fonts, DictionaryObject)
        for ref in fonts.values():
            font = ref.get_object()
            assert isinstance(font, DictionaryObject)
            names.add(str(font["/BaseFont"]))
            if "/DescendantFonts" in font:
                font = font["/DescendantFonts"][0].get_object()  # type: ignore[index]
            descriptor = font["/FontDescriptor"]
            assert isinstance(descriptor, DictionaryObject) and "/FontFile2" in descriptor
    assert {name.split("+", 1)[1] for name in names} == {
        "BitstreamVeraSans-Roman",
        "BitstreamVeraSans-Bold",
    }


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_documents_are_reproducible_and_dated_by_the_day(fmt: str) -> None:
    body = _render(fmt, "nl").body
    assert _render(fmt, "nl").body == body
    if fmt == "docx":
        with zipfile.ZipFile(io.BytesIO(body)) as package:
            assert {info.date_time for info in package.infolist()} == {(2026, 1, 15, 0, 0, 0)}
        properties = docx.Document(io.BytesIO(body)).core_properties
        assert properties.created == properties.modified
        assert properties.created is not None and properties.created.date() == TODAY
        assert properties.author == properties.last_modified_by == "kleur"
    else:
        metadata = PdfReader(io.BytesIO(body)).metadata
        assert metadata is not None
        assert str(metadata["/CreationDate"]) == str(metadata["/ModDate"]) == "D:20260115"
        assert str(metadata["/Author"]) == "kleur"


def test_a_new_agenda_key_reaches_the_renderers() -> None:
    """Renderers read ``result_dict`` output: a follow-up added there shows up."""
    t = export.labels("en")
    result = export.result_dict(ROOM, SCAN, CODE)
    result["agenda"][0]["follow_up"] = "2026-04-15"
    _, agenda, _ = _blocks(_csv_rows(export_csv.render_csv(result, t)))
    assert agenda[1][3:5] == ["2026-03-01", "2026-04-15"]
    for text in (
        _flat(_docx_text(export_docx.render_docx(result, t, TODAY, "en"))),
        _flat(_pdf_text(export_pdf.render_pdf(result, t, TODAY, "en"))),
    ):
        assert t["follow_up"] in text and "2026-04-15" in text
    assert t["follow_up"] not in _flat(_text("pdf", _render("pdf", "en").body))


# ------------------------------------------------------------------ anonymity


#: A run of URL-safe characters as long as a participant token (or longer).
_TOKEN_LIKE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{22,}(?![A-Za-z0-9_-])")
_TEMPLATE_IDS = {SCAN.id} | {theme.id for theme in SCAN.themes} | {n.id for n in SCAN.norms}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", sorted(export.FORMATS))
def test_exports_hold_nothing_that_points_at_a_person(fmt: str, lang: str) -> None:
    for data in (ROOM, RATING, HISTORY, HISTORY_RATING):
        text = _text(fmt, _render(fmt, lang, data).body)
        assert [m for m in _TOKEN_LIKE.findall(text) if m not in _TEMPLATE_IDS] == []
        for client_id in (NOTE_IDEA, NOTE_MINUS, NOTE_HIDDEN, ITEM_REGIE, ITEM_STAGE):
            assert client_id not in text
        assert not re.search(r"\bpid\b|token|pseudonym", text, re.IGNORECASE)
        # No time of day; the only dates are the deadlines (this scan's and the
        # earlier one's) and the export day.
        assert not re.search(r"\b\d{1,2}:\d{2}\b", text)
        assert set(re.findall(r"\d{4}-\d{2}-\d{2}", text)) <= {
            "2026-03-01",
            "2026-06-30",
            *EARLIER_DEADLINES,
            TODAY.isoformat(),
        }
        # Organisation counts are not part of any export.
        assert "werkgever: 3" not in text.lower()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", sorted(export.FORMATS))
def test_hidden_notes_never_appear(fmt: str, lang: str) -> None:
    for data in (ROOM, RATING, HISTORY, HISTORY_RATING):
        text = _text(fmt, _render(fmt, lang, data).body)
        assert "VERBORGEN" not in text
        if fmt != "json":
            assert "Eén loket voor ouders" in text


@pytest.mark.parametrize("lang", LANGS)
def test_a_room_not_revealed_exports_no_counts_or_medians(lang: str) -> None:
    t = export.labels(lang)
    result = json.loads(_render("json", lang, RATING).body)
    assert result["revealed"] is False
    for norm in export.norms(result):
        assert (norm["counts"], norm["dont_know"], norm["median"]) == (None, None, None)
    assert norm["received"] == 0 and result["themes"][0]["norms"][0]["received"] == 10

    md = _render("md", lang, RATING).body.decode()
    rows = [line for line in md.splitlines() if re.match(r"\| \d+\. ", line)]
    assert len(rows) == 20 and all(f"| {t['hidden']} |" in row for row in rows)

    for fmt, delimiter in (("csv", ","), ("csv-semicolon", ";")):
        norms = _blocks(_csv_rows(_render(fmt, lang, RATING).body, delimiter))[0]
        assert norms[0] == [t["theme"], t["number"], t["norm_id"], t["norm"], t["answers"]]
        assert {len(row) for row in norms} == {5}

    document = docx.Document(io.BytesIO(_render("docx", lang, RATING).body))
    assert [len(table.columns) for table in document.tables[:4]] == [2, 2, 2, 2]
    assert len(document.inline_shapes) == 0
    for fmt in ("docx", "pdf"):
        text = _flat(_text(fmt, _render(fmt, lang, RATING).body))
        assert t["hidden_note"] in text and ACTION_REGIE in text
        assert t["median"] not in text and t["spread"] not in text


# ------------------------------------------------------------------ statistics


@settings(max_examples=300, deadline=None)
@given(counts=st.lists(st.integers(0, 6), min_size=11, max_size=11).filter(lambda c: sum(c) >= 2))
def test_quartiles_agree_with_the_statistics_module(counts: list[int]) -> None:
    ratings = [value for value, count in enumerate(counts) for _ in range(count)]
    q1, _, q3 = statistics.quantiles(ratings, n=4, method="inclusive")
    assert export.quantile(counts, 0, 0.25) == pytest.approx(q1)
    assert export.quantile(counts, 0, 0.75) == pytest.approx(q3)
    assert export.quantile(counts, 0, 0.5) == pytest.approx(statistics.median(ratings))


def test_quantile_edge_cases() -> None:
    assert export.quantile([0, 0, 0], 1, 0.25) is None
    assert export.quantile([0, 1, 0], 1, 0.25) == export.quantile([0, 1, 0], 1, 0.75) == 2
    assert export.quantile([1, 0, 1], -1, 0.5) == 0.0  # a scale below zero


def test_widest_spread_ranks_by_interquartile_range() -> None:
    spreads = export.widest_spread(export.result_dict(ROOM, SCAN, CODE))
    assert [(s.norm["number"], s.q1, s.q3) for s in spreads] == [
        (3, 3.0, 9.0),
        (8, 6.0, 10.0),
        (1, 5.0, 8.0),
        (19, 4.75, 6.25),
        (2, 7.0, 8.0),  # ties with 18 (IQR 1, range 1): the lower number first
    ]
    assert (spreads[1].low, spreads[1].high) == (0, 10)
    assert export.widest_spread(export.result_dict(RATING, SCAN, CODE)) == []


# ------------------------------------------------------------ second question


#: The scan with a second question (the ideal level), as a region may add to its template.
SCAN_IDEAL = replace(
    SCAN,
    second_question=SecondQuestion(
        SecondQuestionKind.IDEAL,
        "Waar willen we over twee jaar staan?",
        "zeer slecht",
        "uitstekend",
    ),
)
GAPS = replace(
    ROOM,
    second_tallies={
        _id(1): {8: 5, 9: 4},  # median 8 against 5: +3
        _id(2): {6: 3},  # 6 against 7: -1
        _id(3): {9: 7},  # 9 against 5: +4
        _id(8): {10: 2},  # 10 against 10: 0
        _id(11): {7: 1},  # nobody rated norm 11: no gap
    },
)
GAPS_RATING = replace(GAPS, phase=Phase.RATING)


def _render_gaps(fmt: str, lang: str, data: RoomData = GAPS) -> export.Document:
    return export.render(fmt, data, SCAN_IDEAL, lang, CODE, today=TODAY)


@pytest.mark.parametrize("lang", LANGS)
def test_markdown_with_a_second_question_matches_the_golden_file(lang: str) -> None:
    body = _render_gaps("md", lang).body
    assert body == _golden(f"result.gaps.{lang}.md", body)


def test_json_holds_the_second_question_and_the_gaps() -> None:
    result = json.loads(_render_gaps("json", "en").body)
    assert result["second_question"] == {
        "kind": "ideal",
        "question": "Waar willen we over twee jaar staan?",
    }
    rows = {row["id"]: row for theme in result["themes"] for row in theme["norms"]}
    assert rows[_id(1)]["second"] == {
        "received": 9,
        "counts": [0, 0, 0, 0, 0, 0, 0, 0, 5, 4, 0],
        "dont_know": 0,
        "median": 8,
        "gap": 3,
    }
    assert rows[_id(2)]["second"]["gap"] == -1 and rows[_id(8)]["second"]["gap"] == 0
    assert rows[_id(11)]["second"]["median"] == 7 and rows[_id(11)]["second"]["gap"] is None
    assert [theme["gap"] for theme in result["themes"]] == [2, 0, None, None]
    # Without a second question none of these keys appear.
    plain = json.loads(_render("json", "en").body)
    assert "second_question" not in plain and "gap" not in plain["themes"][0]


def test_before_the_reveal_no_gap_or_second_distribution_leaves() -> None:
    result = json.loads(_render_gaps("json", "nl", GAPS_RATING).body)
    rows = [row for theme in result["themes"] for row in theme["norms"]]
    assert rows[0]["second"] == {
        "received": 9,
        "counts": None,
        "dont_know": None,
        "median": None,
        "gap": None,
    }
    assert all(theme["gap"] is None for theme in result["themes"])
    for fmt in ("md", "csv", "docx", "pdf"):
        text = _text(fmt, _render_gaps(fmt, "nl", GAPS_RATING).body)
        assert export.labels("nl")["gap_ideal"] not in text, fmt


@pytest.mark.parametrize("lang", LANGS)
def test_csv_adds_the_second_question_and_gap_columns(lang: str) -> None:
    t = export.labels(lang)
    rows = _csv_rows(_render_gaps("csv", lang).body)
    header = rows[0]
    assert header[-2:] == [
        f"{t['gap_ideal']}: {t['second_ideal']}",
        f"{t['gap_ideal']}: {t['gap']}",
    ]
    by_number = {row[1]: row for row in _blocks(rows)[0][1:]}
    assert by_number["1"][-2:] == ["8", "3"]
    assert by_number["2"][-2:] == ["6", "-1"]
    assert by_number["11"][-2:] == ["7", ""]
    assert by_number["20"][-2:] == ["", ""]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_documents_show_the_gaps(fmt: str, lang: str) -> None:
    t = export.labels(lang)
    text = _flat(_text(fmt, _render_gaps(fmt, lang).body))
    for needle in (
        t["gap_ideal"],
        _flat(t["gap_note_ideal"]),
        f"{t['norm']} {t['median']} {t['second_ideal']} {t['gap']}",
        "1. Deskundigheid omgaan met werkgevers 5 8 +3 ",
        "2. Reële werkervaring 7 6 -1 ",
        "3. Samenwerking met werkgevers 5 9 +4 ",
        f"{t['theme']} {t['theme_gap']}",
        "Focus op werk en talent +2 ",
        "Kwaliteit begeleiding 0 ",
    ):
        assert needle in text, needle
    assert t["gap_importance"] not in text
    # A room without a second question has no gap section.
    assert t["gap_ideal"] not in _flat(_text(fmt, _render(fmt, lang).body))


@pytest.mark.parametrize("fmt", sorted(export.FORMATS))
def test_exports_with_a_second_question_hold_nothing_that_points_at_a_person(fmt: str) -> None:
    for data in (GAPS, GAPS_RATING):
        text = _text(fmt, _render_gaps(fmt, "nl", data).body)
        assert [m for m in _TOKEN_LIKE.findall(text) if m not in _TEMPLATE_IDS] == []
        for client_id in (NOTE_IDEA, NOTE_MINUS, NOTE_HIDDEN, ITEM_REGIE, ITEM_STAGE):
            assert client_id not in text
        assert "VERBORGEN" not in text
