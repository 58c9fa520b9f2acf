"""The CSV export: a ZIP with one spreadsheet-ready file per table.

``session.csv`` (code, name, region, date, template, participants, round),
``agenda.csv`` (the agreed actions), ``norms.csv`` (one row per norm),
``notes.csv`` (the ideas, most dots first, with their group),
``groups.csv`` (the note groups, a row per idea in a group), once revealed
``opinion-groups.csv`` (size and, per separating norm, each group's median),
and in a follow-up scan ``earlier-actions.csv`` (the previous scan's actions
with their status).  Every file has its own header row, so a spreadsheet opens
each table on its own.

What changed stays on the norm rows, so a spreadsheet keeps one row per norm
to sort and filter: in a second round two extra columns hold the change in
median and in consensus since the round before; in a follow-up scan two more
hold the median then and its change since.  Their headers carry the section
title the Markdown uses ("What changed in round 2: Median change"), since
"Median change" alone would head two columns.  When the template asks a
second question (importance or ideal level), two last columns hold its median
and the gap (its median minus the score's), once revealed.

Each file is UTF-8 with a byte order mark, so Excel reads the diacritics, and
rows end in CRLF (RFC 4180).  ``render_csv`` takes the cell separator and the
decimal mark: "," and "." for the ``csv`` format, ";" and "," for
``csv-semicolon`` (Excel with a Dutch locale).  Text that people typed (or a
template holds) and that starts like a formula gets a leading apostrophe.
Dates stay ISO (``2027-01-15``), which every spreadsheet reads as a date.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Final

from agenda.export.model import NormRow, Result, norm_label, norms
from agenda.export.wording import group_name, number, opinion_group_text

#: A cell starting with one of these is a formula to Excel, LibreOffice and
#: Google Sheets ("CSV injection"); a leading apostrophe makes it plain text.
FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")

#: A cell before formatting: text is escaped, numbers are written as numbers.
Cell = str | int | float | None


def render_csv(
    result: Result,
    t: Mapping[str, str],
    today: date,
    *,
    delimiter: str = ",",
    decimal: str = ".",
) -> bytes:
    """The ZIP of every table; its entries are dated ``today`` (so the bytes
    depend on the result and that day alone)."""
    out = io.BytesIO()
    stamp = (today.year, today.month, today.day, 0, 0, 0)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in csv_files(result, t, delimiter=delimiter, decimal=decimal).items():
            entry = zipfile.ZipInfo(name, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, body)
    return out.getvalue()


def csv_files(
    result: Result, t: Mapping[str, str], *, delimiter: str = ",", decimal: str = "."
) -> dict[str, bytes]:
    """File name -> the CSV of that table, in the order the ZIP holds them."""
    return {
        name: table_csv(rows, delimiter=delimiter, decimal=decimal)
        for name, rows in tables(result, t).items()
    }


def table_csv(rows: Iterator[list[Cell]], *, delimiter: str = ",", decimal: str = ".") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow([format_cell(cell, decimal) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode()


def tables(result: Result, t: Mapping[str, str]) -> dict[str, Iterator[list[Cell]]]:
    """File name -> the rows of that table (a header row first)."""
    files = {
        "session.csv": session_rows(result, t),
        "agenda.csv": agenda_rows(result, t),
        "norms.csv": norm_rows(result, t),
        "notes.csv": note_rows(result, t),
        "groups.csv": group_rows(result, t),
    }
    if result["opinion_groups"] is not None:
        files["opinion-groups.csv"] = opinion_group_rows(result, t)
    if "earlier_actions" in result:
        files["earlier-actions.csv"] = earlier_action_rows(result, t)
    return files


def format_cell(cell: Cell, decimal: str = ".") -> str:
    """A cell as written: numbers with ``decimal``, text safe from formula injection."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return "'" + cell if cell.startswith(FORMULA_START) else cell
    if isinstance(cell, float):
        return number(cell, decimal)
    return str(cell)


def session_rows(result: Result, t: Mapping[str, str]) -> Iterator[list[Cell]]:
    session = result["session"]
    yield [
        t["room"],
        t["session_name"],
        t["region"],
        t["date"],
        t["template"],
        t["participants"],
        t["round"],
    ]
    yield [
        result["room"],
        session["name"],
        session["region"],
        session["date"],
        result["template"]["title"],
        result["participants"],
        result["round"],
    ]


def norm_rows(result: Result, t: Mapping[str, str]) -> Iterator[list[Cell]]:
    revealed = result["revealed"]
    scale = range(result["scale"]["min"], result["scale"]["max"] + 1)
    header: list[Cell] = [t["theme"], t["number"], t["norm_id"], t["norm"], t["answers"]]
    if revealed:
        header += [
            t["dont_know"],
            t["median"],
            t["q1"],
            t["q3"],
            t["consensus"],
            t["contested_column"],
            *(f"{t['score']} {value}" for value in scale),
        ]
    yield header + history_header(result, t)
    for theme in result["themes"]:
        for norm in theme["norms"]:
            row: list[Cell] = [
                theme["title"],
                norm["number"],
                norm["id"],
                norm["title"],
                norm["received"],
            ]
            if revealed:
                consensus = norm["consensus"]
                contested = norm["contested"]
                row += [
                    norm["dont_know"],
                    norm["median"],
                    norm["q1"],
                    norm["q3"],
                    None if consensus is None else change(consensus),
                    None if contested is None else t["yes" if contested else "no"],
                    *(norm["counts"] or ()),
                ]
            yield row + history_cells(result, norm)


def agenda_rows(result: Result, t: Mapping[str, str]) -> Iterator[list[Cell]]:
    by_id = {norm["id"]: norm for norm in norms(result)}
    yield [
        "#",
        t["action"],
        t["owner"],
        t["deadline"],
        t["follow_up"],
        t["number"],
        t["norm_id"],
        t["norm"],
    ]
    for position, item in enumerate(result["agenda"], start=1):
        linked = by_id.get(item["norm"] or "")
        yield [
            position,
            item["action"],
            item["owner"],
            item["deadline"],
            item.get("follow_up"),
            None if linked is None else linked["number"],
            None if linked is None else linked["id"],
            None if linked is None else linked["title"],
        ]


def note_rows(result: Result, t: Mapping[str, str]) -> Iterator[list[Cell]]:
    """The ideas, most dots first; the dots column only once the results were shown."""
    by_id = {norm["id"]: norm for norm in norms(result)}
    shown = result["dots_shown"]
    yield [
        t["idea"],
        t["note_group"],
        *([t["dots"]] if shown else []),
        t["number"],
        t["norm_id"],
        t["norm"],
    ]
    for note in result["notes"]:
        linked = by_id.get(note["norm"] or "")
        yield [
            note["text"],
            note["group"],
            *([note["dots"]] if shown else []),
            None if linked is None else linked["number"],
            None if linked is None else linked["id"],
            None if linked is None else linked["title"],
        ]


def group_rows(result: Result, t: Mapping[str, str]) -> Iterator[list[Cell]]:
    """One row per idea in a group, the group's title (and its dots) repeated."""
    shown = result["dots_shown"]
    yield [t["note_group"], *([t["dots"]] if shown else []), t["idea"]]
    for group in result["groups"]:
        for text in group["notes"]:
            yield [group["title"], *([group["dots"]] if shown else []), text]


def opinion_group_rows(result: Result, t: Mapping[str, str]) -> Iterator[list[Cell]]:
    """Per opinion group its size and, per separating norm, its median."""
    found = result["opinion_groups"]
    assert found is not None
    yield [
        t["note_group"],
        t["people"],
        *(norm_label(result, norm_id) for norm_id in found["separating_norms"]),
    ]
    reason = opinion_group_text(result, t)
    if reason is not None:
        # No groups (as every other format says): the reason instead of a group.
        yield [reason, None]
        return
    for index, group in enumerate(found["groups"]):
        yield [
            group_name(index, t),
            group["size"],
            *(group["medians"][norm_id] for norm_id in found["separating_norms"]),
        ]


def earlier_action_rows(result: Result, t: Mapping[str, str]) -> Iterator[list[Cell]]:
    """The previous scan's actions with their status, under a header row."""
    # The block's name heads its first column (as "Idea" heads the ideas), so
    # it is not mistaken for this session's agreed actions.
    yield [t["earlier_actions"], t["owner"], t["deadline"], t["status"]]
    for item in result.get("earlier_actions", []):
        yield [item["action"], item["owner"], item["deadline"], t["status_" + item["status"]]]


def _has_round_shift(result: Result) -> bool:
    return any("previous_round" in norm for norm in norms(result))


def history_header(result: Result, t: Mapping[str, str]) -> list[Cell]:
    """Headers of the norm rows' extra columns: the shift since the previous round,
    then the change since the previous scan; none when the room has neither."""
    header: list[Cell] = []
    if _has_round_shift(result):
        rounds = t["rounds"].format(round=result["round"])
        header += [f"{rounds}: {t['median_change']}", f"{rounds}: {t['consensus_change']}"]
        # The round before's own figures, beside this round's.
        before = result["round"] - 1
        scale = range(result["scale"]["min"], result["scale"]["max"] + 1)
        labels = [t["answers"], t["dont_know"], t["median"]]
        labels += [f"{t['score']} {value}" for value in scale]
        header += [
            f"{rounds}: {t['in_round'].format(label=label, round=before)}" for label in labels
        ]
    if "previous_room" in result:
        since = t["since_previous"].format(room=result["previous_room"])
        header += [f"{since}: {t['median_before']}", f"{since}: {t['median_change']}"]
    if _has_gaps(result):
        kind = result["second_question"]["kind"]
        title = t["gap_" + kind]
        header += [f"{title}: {t['second_' + kind]}", f"{title}: {t['gap']}"]
    return header


def history_cells(result: Result, norm: NormRow) -> list[Cell]:
    """One norm's cells under ``history_header``; empty where a value is unknown."""
    cells: list[Cell] = []
    if _has_round_shift(result):
        shift = norm.get("previous_round")
        if shift is None:
            width = 5 + result["scale"]["max"] - result["scale"]["min"] + 1
            cells += [None] * width
        else:
            cells += [change(shift["median_delta"]), change(shift["consensus_delta"])]
            cells += [shift["n_before"], shift["dont_know_before"], shift["median_before"]]
            cells += shift["counts_before"]
    if "previous_room" in result:
        then = norm.get("previous_scan")
        if then is None:
            cells += [None, None]
        else:
            cells += [then["median_before"], change(then["median_change"])]
    if _has_gaps(result):
        second = norm.get("second")
        cells += [None, None] if second is None else [second["median"], change(second["gap"])]
    return cells


def _has_gaps(result: Result) -> bool:
    """A second question was asked and the answers are revealed."""
    return "second_question" in result and result["revealed"]


def change(value: float | None) -> float | None:
    """A difference rounded to two decimals, as the Markdown prints it (a consensus
    delta is a long fraction otherwise)."""
    # Adding 0.0 turns a rounded -0.0 into 0.0, which is written "0", not "-0".
    return None if value is None else round(value, 2) + 0.0
