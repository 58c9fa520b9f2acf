"""The CSV export: one spreadsheet-ready file in three blocks.

1. the norms (a header row, then one row per norm);
2. after an empty row, the agreed actions (a header row, then one row each);
3. after an empty row, the ideas from the brainstorm (a header row, then one row each).

The file is UTF-8 with a byte order mark, so Excel reads the diacritics, and
rows end in CRLF (RFC 4180).  ``render_csv`` takes the cell separator and the
decimal mark: "," and "." for the ``csv`` format, ";" and "," for
``csv-semicolon`` (Excel with a Dutch locale).  Text that people typed (or a
template holds) and that starts like a formula gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import Final

from agenda.export import Result, norms, number

#: A cell starting with one of these is a formula to Excel, LibreOffice and
#: Google Sheets ("CSV injection"); a leading apostrophe makes it plain text.
FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")

#: A cell before formatting: text is escaped, numbers are written as numbers.
Cell = str | int | float | None


def render_csv(
    result: Result, t: Mapping[str, str], *, delimiter: str = ",", decimal: str = "."
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows(result, t):
        writer.writerow([format_cell(cell, decimal) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode()


def format_cell(cell: Cell, decimal: str = ".") -> str:
    """A cell as written: numbers with ``decimal``, text safe from formula injection."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return "'" + cell if cell.startswith(FORMULA_START) else cell
    if isinstance(cell, float):
        return number(cell, decimal)
    return str(cell)


def rows(result: Result, t: Mapping[str, str]) -> Iterator[list[Cell]]:
    """Every row of the file, blocks separated by an empty row."""
    revealed = result["revealed"]
    scale = range(result["scale"]["min"], result["scale"]["max"] + 1)
    header: list[Cell] = [t["theme"], t["number"], t["norm_id"], t["norm"], t["answers"]]
    if revealed:
        header += [t["dont_know"], t["median"], *(f"{t['score']} {value}" for value in scale)]
    yield header
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
                row += [norm["dont_know"], norm["median"], *(norm["counts"] or ())]
            yield row

    by_id = {norm["id"]: norm for norm in norms(result)}
    yield []
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

    yield []
    yield [t["idea"], t["number"], t["norm_id"], t["norm"]]
    for note in result["notes"]:
        linked = by_id.get(note["norm"] or "")
        yield [
            note["text"],
            None if linked is None else linked["number"],
            None if linked is None else linked["id"],
            None if linked is None else linked["title"],
        ]
