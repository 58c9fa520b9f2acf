"""Exports (the ``agenda.export`` package): every format, both languages, aggregates only.

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
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from agenda import export, insights, stats
from agenda.export import as_csv, as_docx, as_markdown, as_pdf, build, labels, model, wording
from agenda.templates import SecondQuestion, SecondQuestionKind, load_builtin_templates
from agenda.views import PreviousData, RoomData
from protocol.messages import AgendaItem, NoteGroup, SessionInfo, WallNote
from protocol.phases import DotVoting, FollowUpStatus, Phase

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
NOTE_IDEA, NOTE_MINUS, NOTE_HIDDEN, NOTE_SCHOOL, NOTE_LOKET = (
    "Zq3xK9vLm2Pa7RtY8wNb4Hc1",
    "Rf6Tg9Yh2Uj5Ik8Ol1Pa4Sd7",
    "Wq2Er5Ty8Ui1Op4As7Df0Gh3",
    "Pm4Kc8Vx1Zb6Nq3Wr9Ty2Ua5",
    "Lh7Gf3Ds9Ap1Oi5Uy2Tr8Ew4",
)
ITEM_REGIE, ITEM_STAGE = "Tk7Qw2Ls9Xr4Mn8Bv3Jh6Yp1", "Hd5Fg8Jk2Lz4Xc7Vb1Nm3Qw9"
GROUP_LOKET = "Gx5Hy8Jz2Ka4Lb7Mc1Nd3Oe6"
CLIENT_IDS = (NOTE_IDEA, NOTE_MINUS, NOTE_HIDDEN, NOTE_SCHOOL, NOTE_LOKET, ITEM_REGIE, ITEM_STAGE)
CLIENT_IDS += (GROUP_LOKET,)

ACTION_REGIE = "Eén regisseur per jongere | ook na 18 (café-overleg, reïntegratie)"
OWNER_REGIE = "Gemeente Zwolle & UWV"
ACTION_STAGE = "=SOM(A1) stagebank opzetten <b>met</b> werkgevers"
OWNER_STAGE = "+ROC Deltion"
IDEA = "Eén loket voor ouders, ook ná 18"
MINUS_IDEA = "-1 overdracht minder: één dossier"
HIDDEN = "VERBORGEN-TEKST van een deelnemer"
#: Added before MINUS_IDEA and with as many dots: it comes first (not by the alphabet).
SCHOOL_IDEA = "Vaste contactpersoon op elke school"
LOKET_IDEA = "Loket ook op zaterdag"
GROUP_TITLE = "Eén loket"
SESSION = SessionInfo("Participatiescan Zwolle", "IJsselland", "2027-01-15")

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
        _id(19): {4: 1, 7: 1},  # 4-7
        # Planted: 1.5-8 by agenda.stats.quantile, 1.75-8 by linear interpolation.
        _id(4): {1: 2, 2: 1, 5: 2, 8: 3},
    },
    # In the order they were added.
    notes=(
        WallNote(NOTE_IDEA, IDEA, _id(18), False),
        WallNote(NOTE_LOKET, LOKET_IDEA, None, False),
        WallNote(NOTE_SCHOOL, SCHOOL_IDEA, None, False),
        WallNote(NOTE_MINUS, MINUS_IDEA, None, False),
        WallNote(NOTE_HIDDEN, HIDDEN, None, True),
    ),
    groups=(NoteGroup(GROUP_LOKET, GROUP_TITLE, (NOTE_IDEA, NOTE_LOKET, NOTE_HIDDEN)),),
    voting_state=DotVoting.SHOWN,
    votes={NOTE_IDEA: 4, NOTE_LOKET: 2, NOTE_SCHOOL: 1, NOTE_MINUS: 1, NOTE_HIDDEN: 5},
    session=SESSION,
    agenda=(
        AgendaItem(ITEM_STAGE, ACTION_STAGE, OWNER_STAGE, "2026-06-30", None, None, 1),
        AgendaItem(ITEM_REGIE, ACTION_REGIE, OWNER_REGIE, "2026-03-01", _id(18), NOTE_IDEA, 0),
    ),
)
#: The same room in the second round's rating: agenda kept, scores not shown.
RATING = replace(ROOM, phase=Phase.RATING)
#: The same room while the dots are being cast: no dots in any export yet.
VOTING = replace(ROOM, voting_state=DotVoting.OPEN)

#: Twelve people in two camps (six rate every norm 2 or 3, six 8 or 9): the
#: analysis finds two opinion groups, which the exports report by size.
CAMPS = [
    insights.Vote(None, tuple(2 + (i + n) % 2 for n in range(len(SCAN.norms)))) for i in range(6)
] + [
    insights.Vote(None, tuple((8 if n < 10 else 2) + (i + n) % 2 for n in range(len(SCAN.norms))))
    for i in range(6)
]
ANALYSIS = insights.build(SCAN, ROOM.tallies, None, CAMPS, 3)
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
        _id(18): {5: 3, 9: 1, None: 2},  # median 5 -> 5.5; two "don't know" then
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
    revealed = data.phase not in (Phase.LOBBY, Phase.RATING)
    analysis = ANALYSIS if revealed else None
    return export.render(fmt, data, SCAN, lang, CODE, today=TODAY, analysis=analysis)


def _golden(name: str, body: bytes) -> bytes:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
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
    if fmt in ("csv", "csv-semicolon"):
        return "\n".join(
            f"{name}\n{member.decode('utf-8-sig')}" for name, member in _members(body).items()
        )
    return body.decode("utf-8-sig")


def _members(body: bytes) -> dict[str, bytes]:
    """The files of a CSV export's ZIP, by name, in the ZIP's order."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _csv_rows(body: bytes, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter))


def _tables(body: bytes, delimiter: str = ",") -> dict[str, list[list[str]]]:
    """Each CSV file of the export's ZIP as rows."""
    return {name: _csv_rows(member, delimiter) for name, member in _members(body).items()}


# ------------------------------------------------------------------ formats


def test_formats_media_types_and_extensions() -> None:
    assert {"md", "csv", "csv-semicolon", "docx", "pdf", "json"} == export.FORMATS
    assert export.TEXT_FORMATS <= export.FORMATS
    expected = {
        "json": ("application/json", "json"),
        "md": ("text/markdown; charset=utf-8", "md"),
        "csv": ("application/zip", "zip"),
        "csv-semicolon": ("application/zip", "zip"),
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
    assert zipfile.is_zipfile(io.BytesIO(_render("csv", "nl").body))


def test_every_format_has_its_own_file_name() -> None:
    names = {fmt: export.file_name(fmt, CODE) for fmt in export.FORMATS}
    assert names == {
        "json": "kleur-ABC234.json",
        "md": "kleur-ABC234.md",
        "csv": "kleur-ABC234-csv.zip",
        "csv-semicolon": "kleur-ABC234-csv-semicolon.zip",
        "docx": "kleur-ABC234.docx",
        "pdf": "kleur-ABC234.pdf",
    }


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
        assert labels.in_language(lang)["none"] in _flat(text)


# ------------------------------------------------------------------ labels


def test_labels_have_the_same_keys_and_placeholders_in_every_language() -> None:
    def placeholders(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}

    tables = {lang: labels.in_language(lang) for lang in export.LANGUAGES}
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


CSV_VARIANTS = [
    ("csv", "nl", "nl"),
    ("csv", "en", "en"),
    ("csv-semicolon", "nl", "nl.semicolon"),
]
CSV_FILES = ["session.csv", "agenda.csv", "norms.csv", "notes.csv", "groups.csv"]


@pytest.mark.parametrize(("fmt", "lang", "variant"), CSV_VARIANTS)
@pytest.mark.parametrize("history", [False, True], ids=["plain", "history"])
def test_csv_files_match_the_golden_files(fmt: str, lang: str, variant: str, history: bool) -> None:
    """One file per table, each under its own name, byte for byte."""
    members = _members(_render(fmt, lang, HISTORY if history else ROOM).body)
    expected = [*CSV_FILES, "opinion-groups.csv"]
    if history:
        expected.append("earlier-actions.csv")
        variant = f"history.{variant}"
    assert list(members) == expected
    for name, body in members.items():
        assert body.startswith(b"\xef\xbb\xbf") and not body[3:].startswith(b"\xef\xbb\xbf")
        assert body.endswith(b"\r\n")
        assert body == _golden(f"csv/{variant}/{name}", body), name


def test_csv_zip_entries_are_dated_by_the_day() -> None:
    body = _render("csv", "nl").body
    assert _render("csv", "nl").body == body
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 1, 15, 0, 0, 0)}


def test_json_matches_the_golden_file() -> None:
    body = _render("json", "nl").body
    assert json.loads(body) == json.loads(_golden("result.json", body))
    # The layout does not depend on the language.
    assert _render("json", "en").body == body


# ------------------------------------------------------------------ CSV


def test_csv_tables_session_norms_agenda_ideas_and_groups() -> None:
    t = labels.in_language("nl")
    tables = _tables(_render("csv", "nl").body)
    assert tables["session.csv"] == [
        [t[key] for key in ("room", "session_name", "region", "date", "template")]
        + [t["participants"], t["round"]],
        [CODE, SESSION.name, SESSION.region, "2027-01-15", SCAN.title, "12", "2"],
    ]
    norms = tables["norms.csv"]
    columns = ["theme", "number", "norm_id", "norm", "answers", "dont_know", "median"]
    columns += ["q1", "q3", "consensus", "contested_column"]
    scores = [f"Score {value}" for value in range(11)]
    assert norms[0] == [*(t[column] for column in columns), *scores]
    assert [row[2] for row in norms[1:]] == [norm.id for norm in SCAN.norms]
    first = norms[1]
    assert first[:11] == [
        "Focus op werk en talent",
        "1",
        _id(1),
        SCAN.norms[0].title,
        "10",
        "1",
        "5",
        "5",
        "8",
        "0.69",
        "nee",
    ]
    assert first[11:] == ["0", "0", "0", "2", "0", "3", "0", "0", "4", "0", "0"]
    assert norms[4][7:11] == ["1.5", "8", "0.55", "ja"]  # the planted 1.5-8
    assert norms[5][5:11] == ["0", "", "", "", "", ""]  # nobody rated norm 5
    assert norms[18][6] == "5.5"
    assert tables["agenda.csv"] == [
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
    # Most dots first (a grouped note by its group's: a group is one item, and its notes
    # have no dots of their own); equal dots in the order the notes were added.
    assert tables["notes.csv"] == [
        [t["idea"], t["note_group"], t["dots"], t["number"], t["norm_id"], t["norm"]],
        [IDEA, GROUP_TITLE, "", "18", _id(18), "Duidelijke regie"],
        [LOKET_IDEA, GROUP_TITLE, "", "", "", ""],
        [SCHOOL_IDEA, "", "1", "", "", ""],
        ["'" + MINUS_IDEA, "", "1", "", "", ""],
    ]
    assert tables["groups.csv"] == [
        [t["note_group"], t["dots"], t["idea"]],
        [GROUP_TITLE, "6", IDEA],
        [GROUP_TITLE, "6", LOKET_IDEA],
    ]
    groups = tables["opinion-groups.csv"]
    assert groups[0] == [
        t["note_group"],
        t["people"],
        *(f"{n}. {SCAN.norms[n - 1].title}" for n in range(1, 11)),
    ]
    assert groups[1:] == [["Groep A", "6", *["2.5"] * 10], ["Groep B", "6", *["8.5"] * 10]]


def test_csv_has_no_dots_before_the_results_are_shown() -> None:
    t = labels.in_language("en")
    tables = _tables(_render("csv", "en", VOTING).body)
    header = [t["idea"], t["note_group"], t["number"], t["norm_id"], t["norm"]]
    assert tables["notes.csv"][0] == header
    assert tables["groups.csv"][1] == [GROUP_TITLE, IDEA]
    # Without dots the ideas keep the order they were added in.
    assert [row[0] for row in tables["notes.csv"][1:]] == [
        IDEA,
        LOKET_IDEA,
        SCHOOL_IDEA,
        "'" + MINUS_IDEA,
    ]


def test_csv_adds_columns_and_a_file_for_a_previous_round_and_scan() -> None:
    t = labels.in_language("en")
    tables = _tables(_render("csv", "en", HISTORY).body)
    plain = _tables(_render("csv", "en").body)
    norms = tables["norms.csv"]
    # The existing columns and files are untouched; the new columns come at the end.
    added = len(norms[0]) - len(plain["norms.csv"][0])
    assert [row[:-added] for row in norms] == plain["norms.csv"]
    assert {name: rows for name, rows in tables.items() if name != "norms.csv"} == {
        **{name: rows for name, rows in plain.items() if name != "norms.csv"},
        "earlier-actions.csv": tables["earlier-actions.csv"],
    }
    round_1 = ["Answers", "Don't know", "Median", *(f"Score {v}" for v in SCAN.scale.values)]
    assert norms[0][-added:] == [
        "What changed in round 2: Median change",
        "What changed in round 2: Consensus change",
        *(f"What changed in round 2: {label} round 1" for label in round_1),
        f"Since the previous scan ({PREVIOUS_ROOM}): Median then",
        f"Since the previous scan ({PREVIOUS_ROOM}): Median change",
    ]
    # Round 1's own figures: answers, don't know, median and the counts per score.
    then = {row[1]: row[-added + 2 : -2] for row in norms[1:]}
    assert then["18"] == [
        "4",
        "2",
        "5",
        *("3" if v == 5 else "1" if v == 9 else "0" for v in range(11)),
    ]
    assert then["3"][:3] == ["6", "0", "9"]
    assert then["4"] == ["0", "0", "", *(["0"] * 11)]  # not rated in round 1
    by_number = {row[1]: [*row[-added:][:2], *row[-2:]] for row in norms[1:]}
    assert by_number["1"] == ["2", "0", "4", "1"]
    assert by_number["2"] == ["0", "-0.07", "6.5", "0.5"]
    assert by_number["3"] == ["-4", "-0.54", "", ""]
    assert by_number["18"] == ["0.5", "0.17", "7", "-1.5"]
    assert by_number["20"] == ["", "", "3", ""]  # rated then, not now
    assert by_number["4"] == ["", "", "", ""]
    assert tables["earlier-actions.csv"] == [
        [t["earlier_actions"], t["owner"], t["deadline"], t["status"]],
        ["Werkgeversloket openen", "Gemeente", "2025-06-01", t["status_done"]],
        ["'@Stagebank uitbreiden <i>regio</i>", "'-ROC Deltion", "", t["status_in_progress"]],
        ["Jongerenpanel starten", "UWV", "2025-09-30", t["status_open"]],
        ["Folder voor ouders", "Werkgeversservicepunt", "", t["status_dropped"]],
    ]


@pytest.mark.parametrize("lang", LANGS)
def test_csv_before_the_reveal_shows_only_the_median_then(lang: str) -> None:
    t = labels.in_language(lang)
    tables = _tables(_render("csv", lang, HISTORY_RATING).body)
    norms, earlier = tables["norms.csv"], tables["earlier-actions.csv"]
    assert "opinion-groups.csv" not in tables
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
        comma = _tables(_render("csv", "nl", data).body)
        semicolon = _tables(_render("csv-semicolon", "nl", data).body, delimiter=";")
        decimal_comma = {
            name: [[_DECIMAL.sub(r"\1,\2", cell) for cell in row] for row in rows]
            for name, rows in comma.items()
        }
        assert semicolon == decimal_comma
    assert b";5,5;" in _members(_render("csv-semicolon", "nl").body)["norms.csv"]
    assert b";-1,5\r\n" in _members(_render("csv-semicolon", "nl", HISTORY).body)["norms.csv"]


#: A number with a decimal point, as a whole cell.
_DECIMAL = re.compile(r"^(-?\d+)\.(\d+)$")
_NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")


@pytest.mark.parametrize("fmt", ["csv", "csv-semicolon"])
def test_csv_cells_never_start_a_formula(fmt: str) -> None:
    delimiter = ";" if fmt == "csv-semicolon" else ","
    for lang in LANGS:
        for data in (ROOM, HISTORY):
            tables = _tables(_render(fmt, lang, data).body, delimiter).values()
            for row in (row for table in tables for row in table):
                # A negative number (a change since before) is a number, not a formula.
                text = [cell for cell in row if not _NUMBER.match(cell)]
                assert not [cell for cell in text if cell.startswith(as_csv.FORMULA_START)]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_format_cell_quotes_formula_text(start: str) -> None:
    assert as_csv.format_cell(f"{start}1+1") == f"'{start}1+1"
    assert as_csv.format_cell(f"a{start}1") == f"a{start}1"


def test_format_cell_writes_numbers_as_numbers() -> None:
    assert as_csv.format_cell(-2) == "-2"  # a scale may start below zero
    assert as_csv.format_cell(6.5, ",") == "6,5"
    assert as_csv.format_cell(6.0) == "6"
    assert as_csv.format_cell(None) == ""


# ------------------------------------------------------------------ DOCX and PDF


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_documents_start_with_the_agenda_and_carry_the_session(fmt: str, lang: str) -> None:
    """Acceptance 8: the agenda first (after the title block); dot counts, groups,
    contested norms, opinion groups, the session's name and date."""
    t = labels.in_language(lang)
    d = t["decimal"]
    long = {"nl": "15 januari 2027", "en": "15 January 2027"}[lang]
    text = _flat(_text(fmt, _render(fmt, lang).body))
    # PDF text starts with the page footer; the document with its title.
    body = text[text.index(f"{t['title']}: {SESSION.name}") :]
    title_block = [
        f"{t['title']}: {SESSION.name}",
        f"{t['region']}: {SESSION.region} · {t['date']}: {long} · {t['template']}: {SCAN.title}",
        f"{t['room']}: {CODE} · {t['participants']}: 12 · {t['round']}: 2",
        f"{t['exported']}: {wording.long_date(TODAY.isoformat(), t)}",
    ]
    positions = [body.index(part) for part in title_block]
    assert positions == sorted(positions) and positions[0] == 0
    # Right after the title block: the agreed actions, before any score.
    after_title = body[positions[-1] + len(title_block[-1]) :].lstrip()
    assert after_title.startswith(t["agenda"])
    assert body.index(t["agenda"]) < body.index(t["scores"]) < body.index(t["contested"])
    assert body.index(t["contested"]) < body.index(t["opinion_groups"]) < body.index(t["notes"])
    deadline = {"nl": "1 maart 2026", "en": "1 March 2026"}[lang]
    for needle in (
        f"1 {ACTION_REGIE} {OWNER_REGIE} {deadline} 18. Duidelijke regie",
        ACTION_STAGE,  # as text: no markup, no formula quote
        OWNER_STAGE,
        {"nl": "30 juni 2026", "en": "30 June 2026"}[lang],
        "Reële werkervaring",  # diacritics survive the embedded font
        "15. Hulpverleners herkennen financiële problematiek",
        # Contested norms, in plain words, least consensus first.
        "3. Samenwerking met werkgevers: " + t["most_sentence"].format(low="1", high="9"),
        "4. Ondersteuning bij stages: "
        + t["most_sentence"].format(low="1", high="8")
        + f" ({t['split']})",
        # Opinion groups: their sizes and the norms that separate them.
        f"{t['note_group']} {t['people']} {wording.group_name(0, t)} 6 {wording.group_name(1, t)} 6",
        t["separating"],
        f"1. Deskundigheid omgaan met werkgevers 2{d}5 8{d}5",
        # Note groups and dot counts, most dots first.
        f"{GROUP_TITLE} ({t['dots_n'].format(n=6)})",
        IDEA,
        LOKET_IDEA,
        t["loose_ideas"],
        f"{SCHOOL_IDEA} ({t['dots_one']})",
        f"{MINUS_IDEA} ({t['dots_one']})",
    ):
        assert needle in text, needle
    assert text.index(SCHOOL_IDEA) < text.index(MINUS_IDEA)  # added first, as many dots
    assert text.index(ACTION_REGIE) < text.index(ACTION_STAGE)  # the position, not the id
    assert "Deadline" not in text if lang == "nl" else t["deadline"] == "Deadline"
    assert "2026-03-01" not in text  # dates in words


def test_docx_tables() -> None:
    t = labels.in_language("nl")
    document = docx.Document(io.BytesIO(_render("docx", "nl").body))
    tables = [
        [[cell.text for cell in row.cells] for row in table.rows] for table in document.tables
    ]
    agenda, themes, (contested, sizes, separating) = tables[0], tables[1:5], tables[5:]
    assert agenda[0] == ["#", t["action"], t["owner"], "Uiterlijk klaar", t["norm"]]
    assert agenda[1] == ["1", ACTION_REGIE, OWNER_REGIE, "1 maart 2026", "18. Duidelijke regie"]
    assert agenda[2] == ["2", ACTION_STAGE, OWNER_STAGE, "30 juni 2026", ""]
    assert [len(table) - 1 for table in themes] == [len(theme.norms) for theme in SCAN.themes]
    assert themes[0][0] == [
        t["norm"],
        t["answers"],
        t["median"],
        t["most_between"],
        t["dont_know"],
        t["distribution"],
    ]
    assert themes[0][1][:5] == [f"1. {SCAN.norms[0].title}", "10", "5", "5–8", "1"]
    assert themes[0][4][:4] == ["4. Ondersteuning bij stages", "8", "5", "1–8"]
    assert themes[3][3][:4] == ["18. Duidelijke regie", "4", "5,5", "5–6"]
    # Contested: least consensus first.
    assert [row[:4] for row in contested[1:]] == [
        ["3. Samenwerking met werkgevers", "5", "1–9", "0,46"],
        ["8. Vroegtijdige signalering", "10", "6–10", "0,47"],
        ["4. Ondersteuning bij stages", "5", "1–8", "0,55"],
    ]
    assert sizes == [["Groep", "Mensen"], ["Groep A", "6"], ["Groep B", "6"]]
    assert separating[0] == [t["norm"], "Groep A", "Groep B"]
    assert len(separating) == 11 and separating[10] == [f"10. {SCAN.norms[9].title}", "2,5", "8,5"]
    # A bar per rated norm's distribution (20 norms) and per contested row (3).
    assert len(document.inline_shapes) == 23


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_documents_show_the_shift_and_the_earlier_actions(fmt: str, lang: str) -> None:
    t = labels.in_language(lang)
    d = t["decimal"]
    text = _flat(_text(fmt, _render(fmt, lang, HISTORY).body))

    def then_now(before: str, now: str) -> str:
        return t["then_now"].format(before=before, now=now)

    for needle in (
        t["rounds"].format(round=2),
        t["rounds_note"],
        f"{t['norm']} {t['median_rounds'].format(before=1, round=2)} {t['median_change']} "
        f"{t['consensus_change']}",
        f"1. Deskundigheid omgaan met werkgevers {then_now('3', '5')} +2 0 ",
        f"2. Reële werkervaring {then_now('7', '7')} 0 -0{d}07 ",
        f"3. Samenwerking met werkgevers {then_now('9', '5')} -4 -0{d}54 ",
        f"4. Ondersteuning bij stages {then_now('-', '5')} ",  # not rated in round 1
        f"18. Duidelijke regie {then_now('5', f'5{d}5')} +0{d}5 +0{d}17 ",
        t["since_previous"].format(room=PREVIOUS_ROOM),
        f"{t['norm']} {t['median_before']} {t['median_change']}",
        f"2. Reële werkervaring 6{d}5 +0{d}5 ",
        f"18. Duidelijke regie 7 -1{d}5 ",
        "20. Samenwerking gemeenten 3 ",
        t["earlier_actions"],
        f"{t['action']} {t['owner']} {t['deadline']} {t['status']}",
        f"Werkgeversloket openen Gemeente {wording.long_date('2025-06-01', t)} {t['status_done']}",
        f"@Stagebank uitbreiden <i>regio</i> -ROC Deltion {t['status_in_progress']}",
        f"Jongerenpanel starten UWV {wording.long_date('2025-09-30', t)} {t['status_open']}",
        f"Folder voor ouders Werkgeversservicepunt {t['status_dropped']}",
    ):
        assert needle in text, needle
    # Everything the document held before is still there.
    assert ACTION_REGIE in text and IDEA in text and t["contested"] in text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_documents_before_the_reveal_show_the_earlier_scan_only(fmt: str, lang: str) -> None:
    t = labels.in_language(lang)
    text = _flat(_text(fmt, _render(fmt, lang, HISTORY_RATING).body))
    assert t["rounds"].format(round=2) not in text  # no shift before this round is shown
    assert t["since_previous"].format(room=PREVIOUS_ROOM) in text
    assert "18. Duidelijke regie 7 " in text and "-1,5" not in text and "-1.5" not in text
    done = (
        f"Werkgeversloket openen Gemeente {wording.long_date('2025-06-01', t)} {t['status_done']}"
    )
    assert done in text
    assert t["opinion_groups"] not in text and t["contested"] not in text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_documents_without_history_have_no_history_sections(fmt: str, lang: str) -> None:
    t = labels.in_language(lang)
    text = _flat(_text(fmt, _render(fmt, lang).body))
    since = t["since_previous"].split("(")[0]
    for heading in (t["rounds"].format(round=2), since, t["earlier_actions"], t["status"]):
        assert heading not in text, heading


def test_docx_history_tables() -> None:
    t = labels.in_language("nl")
    document = docx.Document(io.BytesIO(_render("docx", "nl", HISTORY).body))
    tables = [
        [[cell.text for cell in row.cells] for row in table.rows] for table in document.tables
    ]
    # The agenda, four themes, contested and opinion groups as before, then three new tables.
    assert len(tables) == 11
    shift, since, earlier = tables[8:]
    assert shift[0] == [
        t["norm"],
        "Mediaan ronde 1 en 2",
        t["median_change"],
        t["consensus_change"],
    ]
    assert len(shift) == 1 + len(SCAN.norms)
    assert shift[18] == ["18. Duidelijke regie", "was 5, nu 5,5", "+0,5", "+0,17"]
    assert shift[4] == ["4. Ondersteuning bij stages", "was -, nu 5", "", ""]
    assert since[0] == [t["norm"], t["median_before"], t["median_change"]]
    assert since[18] == ["18. Duidelijke regie", "7", "-1,5"]
    assert since[20] == ["20. Samenwerking gemeenten", "3", ""]
    assert earlier == [
        [t["action"], t["owner"], t["deadline"], t["status"]],
        ["Werkgeversloket openen", "Gemeente", "1 juni 2025", "klaar"],
        ["@Stagebank uitbreiden <i>regio</i>", "-ROC Deltion", "", "bezig"],
        ["Jongerenpanel starten", "UWV", "30 september 2025", "nog open"],
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
    groups = headings.index(t["separating"])
    assert headings[groups + 1 : groups + 4] == history
    assert len(document.inline_shapes) == 23  # no new pictures


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
    t = labels.in_language("en")
    result = build.result_dict(ROOM, SCAN, CODE)
    result["agenda"][0]["follow_up"] = "2026-04-15"
    agenda = _tables(as_csv.render_csv(result, t, TODAY))["agenda.csv"]
    assert agenda[1][3:5] == ["2026-03-01", "2026-04-15"]
    for text in (
        _flat(_docx_text(as_docx.render_docx(result, t, TODAY, "en"))),
        _flat(_pdf_text(as_pdf.render_pdf(result, t, TODAY, "en"))),
        _flat(as_markdown.markdown_from(result, "en")),
    ):
        # Under its own heading, written like the deadline beside it.
        assert t["follow_up"] == "Review progress on"
        assert t["follow_up"] in text and "15 April 2026" in text, text
        assert "1 March 2026" in text and "2026-04-15" not in text
    for fmt in ("md", "pdf"):
        assert t["follow_up"] not in _flat(_text(fmt, _render(fmt, "en").body))


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
        # earlier one's), the session's date and the export day, in ISO or in words.
        assert not re.search(r"\b\d{1,2}:\d{2}\b", text)
        allowed = {
            "2026-03-01",
            "2026-06-30",
            *EARLIER_DEADLINES,
            SESSION.date,
            TODAY.isoformat(),
        }
        assert set(re.findall(r"\d{4}-\d{2}-\d{2}", text)) <= allowed
        t = labels.in_language(lang)
        in_words = re.findall(rf"\d{{1,2}} (?:{'|'.join(t['months'].split())}) \d{{4}}", text)
        assert set(in_words) <= {wording.long_date(day, t) for day in allowed}
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
    t = labels.in_language(lang)
    result = json.loads(_render("json", lang, RATING).body)
    assert result["revealed"] is False
    for norm in model.norms(result):
        assert (norm["counts"], norm["dont_know"], norm["median"]) == (None, None, None)
    assert norm["received"] == 0 and result["themes"][0]["norms"][0]["received"] == 10

    md = _render("md", lang, RATING).body.decode()
    rows = [line for line in md.splitlines() if re.match(r"\| \d+\. ", line)]
    assert len(rows) == 20 and all(f"| {t['hidden']} |" in row for row in rows)

    for fmt, delimiter in (("csv", ","), ("csv-semicolon", ";")):
        norms = _tables(_render(fmt, lang, RATING).body, delimiter)["norms.csv"]
        assert norms[0] == [t["theme"], t["number"], t["norm_id"], t["norm"], t["answers"]]
        assert {len(row) for row in norms} == {5}

    document = docx.Document(io.BytesIO(_render("docx", lang, RATING).body))
    # The agenda first, then the four themes: answers only.
    assert [len(table.columns) for table in document.tables[1:5]] == [2, 2, 2, 2]
    assert len(document.inline_shapes) == 0
    for fmt in ("docx", "pdf"):
        text = _flat(_text(fmt, _render(fmt, lang, RATING).body))
        assert t["hidden_note"] in text and ACTION_REGIE in text
        assert t["median"] not in text and t["contested"] not in text
        assert t["opinion_groups"] not in text and t["most_between"] not in text


# ------------------------------------------------------------------ statistics


def test_every_format_shows_the_one_middle_range() -> None:
    """Acceptance 7: the planted norm 4 (1 1 2 5 5 8 8 8) reads 1.5-8 by
    ``agenda.stats.quantile`` and 1.75-8 by linear interpolation (spreadsheets'
    QUARTILE); the analysis and every format show 1.5-8."""
    counts = [ROOM.tallies[_id(4)].get(value, 0) for value in SCAN.scale.values]
    ratings = [value for value, count in enumerate(counts) for _ in range(count)]
    assert statistics.quantiles(ratings, n=4, method="inclusive")[0] == 1.75  # the other answer
    insight = next(n for n in ANALYSIS.norms if n.norm_id == _id(4))
    assert (insight.q1, insight.q3) == (1.5, 8.0)
    assert stats.quartiles(counts, SCAN.scale.min) == (1.5, 8.0)
    for lang in LANGS:
        d = labels.in_language(lang)["decimal"]
        for fmt in ("md", "docx", "pdf"):
            # The documents write it in whole scores, rounded outward (stats.shown_range).
            text = _flat(_text(fmt, _render(fmt, lang).body).replace("|", " "))
            assert "4. Ondersteuning bij stages 8 5 1–8 " in text, (fmt, lang)
            assert f"1{d}75" not in text and f"1{d}5–8" not in text, (fmt, lang)
    norms = {row[1]: row for row in _tables(_render("csv", "nl").body)["norms.csv"][1:]}
    assert norms["4"][7:9] == ["1.5", "8"]
    semicolon = _tables(_render("csv-semicolon", "nl").body, ";")["norms.csv"]
    assert semicolon[4][7:9] == ["1,5", "8"]
    row = next(n for n in model.norms(json.loads(_render("json", "nl").body)) if n["number"] == 4)
    assert (row["q1"], row["q3"]) == (1.5, 8)


def test_contested_norms_follow_the_analysis() -> None:
    result = build.result_dict(ROOM, SCAN, CODE, ANALYSIS)
    contested = {insight.norm_id for insight in ANALYSIS.norms if insight.contested}
    assert {row["id"] for row in model.contested_norms(result)} == contested
    assert [row["number"] for row in model.contested_norms(result)] == [3, 8, 4]
    assert model.contested_norms(build.result_dict(RATING, SCAN, CODE)) == []


def test_json_carries_the_session_dots_groups_and_opinion_groups() -> None:
    result = json.loads(_render("json", "en").body)
    assert result["session"] == {
        "name": SESSION.name,
        "region": SESSION.region,
        "date": "2027-01-15",
    }
    assert result["dots_shown"] is True
    assert result["notes"][:2] == [
        {"text": IDEA, "norm": _id(18), "dots": None, "group": GROUP_TITLE},
        {"text": LOKET_IDEA, "norm": None, "dots": None, "group": GROUP_TITLE},
    ]
    assert result["groups"] == [{"title": GROUP_TITLE, "notes": [IDEA, LOKET_IDEA], "dots": 6}]
    groups = result["opinion_groups"]
    assert groups["outcome"] == "groups"
    assert [group["size"] for group in groups["groups"]] == [6, 6]
    assert groups["separating_norms"] == [norm.id for norm in SCAN.norms[:10]]
    assert groups["groups"][0]["medians"][_id(1)] == 2.5
    # Before the reveal: no opinion groups, no figures; while voting: no dots.
    before = json.loads(_render("json", "en", RATING).body)
    assert before["opinion_groups"] is None
    assert {row["q1"] for row in model.norms(before)} == {None}
    voting = json.loads(_render("json", "en", VOTING).body)
    assert {note["dots"] for note in voting["notes"]} == {None}
    assert voting["groups"][0]["dots"] is None
    # A room created without a session (an older one) still exports.
    plain = json.loads(_render("json", "en", replace(ROOM, session=None)).body)
    assert plain["session"] == {"name": "", "region": "", "date": None}


@pytest.mark.parametrize("lang", LANGS)
def test_without_a_session_name_the_title_is_the_template(lang: str) -> None:
    t = labels.in_language(lang)
    for fmt in ("md", "docx", "pdf"):
        text = _flat(_text(fmt, _render(fmt, lang, replace(ROOM, session=None)).body))
        assert f"{t['title']}: {SCAN.title}" in text
        assert f"{t['region']}:" not in text and f"{t['date']}:" not in text


@pytest.mark.parametrize("lang", LANGS)
def test_opinion_groups_without_groups_say_why(lang: str) -> None:
    t = labels.in_language(lang)
    few = insights.build(SCAN, ROOM.tallies, None, CAMPS[:4], 3)
    result = build.result_dict(ROOM, SCAN, CODE, few)
    assert result["opinion_groups"] is not None
    assert wording.opinion_group_text(result, t) in (t["groups_too_few"], t["groups_none"])
    text = as_markdown.markdown_from(result, lang)
    assert wording.opinion_group_text(result, t) in text and "null" not in text


def test_long_dates_in_both_languages() -> None:
    assert wording.long_date("2027-01-15", labels.in_language("nl")) == "15 januari 2027"
    assert wording.long_date("2027-01-15", labels.in_language("en")) == "15 January 2027"
    assert wording.long_date("2026-12-01", labels.in_language("nl")) == "1 december 2026"
    assert wording.long_date(None, labels.in_language("nl")) == ""


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
        assert labels.in_language("nl")["gap_ideal"] not in text, fmt


@pytest.mark.parametrize("lang", LANGS)
def test_csv_adds_the_second_question_and_gap_columns(lang: str) -> None:
    t = labels.in_language(lang)
    rows = _tables(_render_gaps("csv", lang).body)["norms.csv"]
    header = rows[0]
    assert header[-2:] == [
        f"{t['gap_ideal']}: {t['second_ideal']}",
        f"{t['gap_ideal']}: {t['gap']}",
    ]
    by_number = {row[1]: row for row in rows[1:]}
    assert by_number["1"][-2:] == ["8", "3"]
    assert by_number["2"][-2:] == ["6", "-1"]
    assert by_number["11"][-2:] == ["7", ""]
    assert by_number["20"][-2:] == ["", ""]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_documents_show_the_gaps(fmt: str, lang: str) -> None:
    t = labels.in_language(lang)
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


# ------------------------------------------------------- walkthrough 2026-12-06

#: Twelve people who all rate alike: the analysis finds no clear groups (and
#: hands back one group of everybody, which no screen shows).
ALIKE = [insights.Vote(None, tuple(5 for _ in SCAN.norms)) for _ in range(12)]


@pytest.mark.parametrize("lang", LANGS)
def test_no_clear_groups_reads_the_same_in_every_format(lang: str) -> None:
    t = labels.in_language(lang)
    alike = insights.build(SCAN, ROOM.tallies, None, ALIKE, 3)
    assert alike.groups_outcome == "no_clear_groups" and len(alike.groups) == 1
    result = build.result_dict(ROOM, SCAN, CODE, alike)
    assert result["opinion_groups"] == {
        "outcome": "no_clear_groups",
        "groups": [],
        "separating_norms": [],
    }
    rows = _tables(as_csv.render_csv(result, t, TODAY))["opinion-groups.csv"]
    assert rows == [[t["note_group"], t["people"]], [t["groups_none"], ""]]
    for text in (
        as_markdown.markdown_from(result, lang),
        _flat(_pdf_text(as_pdf.render_pdf(result, t, TODAY, lang))),
        _flat(_docx_text(as_docx.render_docx(result, t, TODAY, lang))),
    ):
        assert t["groups_none"] in text and wording.group_name(0, t) not in text


def test_json_carries_round_1_figures_beside_the_changes() -> None:
    rows = {
        row["number"]: row for row in model.norms(json.loads(_render("json", "nl", HISTORY).body))
    }
    assert rows[18]["previous_round"] == {
        "median_delta": 0.5,
        "consensus_delta": rows[18]["previous_round"]["consensus_delta"],
        "n_before": 4,
        "median_before": 5.0,
        "counts_before": [0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 0],
        "dont_know_before": 2,
    }
    assert rows[4]["previous_round"]["median_before"] is None  # not rated in round 1
    assert rows[4]["previous_round"]["counts_before"] == [0] * 11


def test_file_names_carry_the_session_name_and_date() -> None:
    session = SessionInfo("Participatiescan Regio X", "Regio X", "2026-12-06")
    assert export.file_name("pdf", "AX3CAU", session) == (
        "kleur-participatiescan-regio-x-2026-12-06-AX3CAU.pdf"
    )
    assert export.file_name("csv-semicolon", "AX3CAU", session) == (
        "kleur-participatiescan-regio-x-2026-12-06-AX3CAU-csv-semicolon.zip"
    )
    assert export.file_name("pdf", "AX3CAU", session, "agenda") == (
        "kleur-participatiescan-regio-x-2026-12-06-AX3CAU-agenda.pdf"
    )
    # No name: the date and the code; no session (an older room): the code only.
    assert export.file_name("md", "AX3CAU", SessionInfo("", "", "2026-12-06")) == (
        "kleur-2026-12-06-AX3CAU.md"
    )
    assert export.file_name("json", "AX3CAU") == "kleur-AX3CAU.json"
    # ASCII only, no quote, slash or space a header or a file system would trip on.
    assert export.slug('Één "loket" / Zuid-Oost — café 2027!') == "een-loket-zuid-oost-cafe-2027"
    long = export.slug("Participatiescan regio Noord-Holland Noord en West-Friesland tweede ronde")
    assert len(long) <= 48 and not long.endswith("-") and long.startswith("participatiescan-regio")
    assert export.slug("✓✓✓") == ""


def test_the_middle_range_is_written_in_whole_scores() -> None:
    assert stats.shown_range(3.5, 6.5) == (3, 7)
    assert stats.shown_range(2.0, 8.5) == (2, 9)
    assert stats.shown_range(3.0, 3.0) == (3, 3)
    for lang, sentence, one in (
        ("nl", "de meeste cijfers liggen tussen 3 en 7", "de meeste cijfers zijn 3"),
        ("en", "most scores lie between 3 and 7", "most scores are 3"),
    ):
        t = labels.in_language(lang)
        row = model.norms(build.result_dict(ROOM, SCAN, CODE))[0]
        half = {**row, "q1": 3.5, "q3": 6.5}
        same = {**row, "q1": 3.0, "q3": 3.0}
        assert wording.middle_sentence(half, t) == sentence  # type: ignore[arg-type]
        assert wording.middle_range(half, t["decimal"]) == "3–7"  # type: ignore[arg-type]
        assert wording.middle_sentence(same, t) == one  # type: ignore[arg-type]
        assert wording.middle_range(same, t["decimal"]) == "3"  # type: ignore[arg-type]


def test_pdf_columns_fit_their_longest_word() -> None:
    """The walkthrough's PDF broke "Woningcorporatie" over two lines in the owner column."""
    t = labels.in_language("nl")
    result = build.result_dict(ROOM, SCAN, CODE)
    result["agenda"][0]["owner"] = "Woningcorporatie + gemeente"
    result["agenda"][0]["follow_up"] = "2027-04-15"
    result["agenda"][0]["action"] = (
        "Samen met woningcorporaties 10 starterswoningen per jaar regelen, met begeleiding"
    )
    lines = _pdf_text(as_pdf.render_pdf(result, t, TODAY, "nl")).splitlines()
    words = {word for line in lines for word in line.split()}
    for whole in ("Woningcorporatie", "woningcorporaties", "starterswoningen", "begeleiding"):
        assert whole in words, whole
    assert "15 april 2027" in lines and "1 maart 2026" in lines  # a date stays on one line
    widths = as_pdf.fit_widths(["A", "B"], [["Woningcorporatie", "x"]], [0, 1], total=300)
    assert widths[0] > as_pdf.stringWidth("Woningcorporatie", as_pdf.FONT, 8.5)
    assert sum(widths) == pytest.approx(300)
