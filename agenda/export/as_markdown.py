"""The Markdown export: the result as one readable page, tables in GitHub style.

The agreed actions first, then the scores per theme (median, middle range,
"don't know"), once revealed the norms the group disagreed on and the opinion
groups, what changed since the previous round and the previous scan, the
second question's gaps, and the ideas from the brainstorm per note group.
``docs/exports.md`` shows the layout.
"""

from __future__ import annotations

from collections.abc import Mapping

from agenda.export.labels import in_language
from agenda.export.model import NormRow, Result, contested_norms, has_follow_up, norms
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


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _median(norm: NormRow, t: Mapping[str, str]) -> str:
    if norm["counts"] is None:
        return t["hidden"]
    return "-" if norm["median"] is None else number(norm["median"], t["decimal"])


def markdown_from(result: Result, lang: str) -> str:
    t = in_language(lang)
    lines = [f"# {title_line(result, t)}", ""]
    for line in session_lines(result, t):
        lines += [line, ""]
    lines += _markdown_agenda(result, t)
    lines += ["", f"## {t['scores']}"]
    for theme in result["themes"]:
        lines += ["", f"### {theme['title']}", ""]
        lines += [
            f"| {t['norm']} | {t['answers']} | {t['median']} | {t['most_between']} "
            f"| {t['dont_know']} |"
        ]
        lines += ["|---|---:|---:|---:|---:|"]
        for norm in theme["norms"]:
            dont_know = "" if norm["dont_know"] is None else str(norm["dont_know"])
            lines.append(
                f"| {norm['number']}. {_cell(norm['title'])} | {norm['received']} "
                f"| {_median(norm, t)} | {middle_range(norm, t['decimal'])} | {dont_know} |"
            )
    if result["revealed"]:
        lines += _markdown_contested(result, t)
        lines += _markdown_opinion_groups(result, t)
    lines += _markdown_history(result, t)
    lines += _markdown_gaps(result, t)
    lines += _markdown_notes(result, t)
    return "\n".join(lines) + "\n"


def _markdown_agenda(result: Result, t: Mapping[str, str]) -> list[str]:
    lines = [f"## {t['agenda']}", ""]
    if not result["agenda"]:
        return [*lines, t["none"]]
    titles = {norm["id"]: norm["title"] for norm in norms(result)}
    follow_up = has_follow_up(result)
    review = f" {t['follow_up']} |" if follow_up else ""
    lines += [f"| # | {t['action']} | {t['owner']} | {t['deadline']} |{review} {t['norm']} |"]
    lines += ["|---:|---|---|---|" + ("---|" if follow_up else "") + "---|"]
    for position, item in enumerate(result["agenda"], start=1):
        norm_title = titles.get(item["norm"] or "", "")
        review = f" {_cell(follow_up_date(item, t))} |" if follow_up else ""
        lines.append(
            f"| {position} | {_cell(item['action'])} | {_cell(item['owner'])} "
            f"| {long_date(item['deadline'], t)} |{review} {_cell(norm_title)} |"
        )
    return lines


def _markdown_contested(result: Result, t: Mapping[str, str]) -> list[str]:
    lines = ["", f"## {t['contested']}", ""]
    contested = contested_norms(result)
    if not contested:
        return [*lines, t["no_contested"]]
    lines += [t["contested_note"], ""]
    for norm in contested:
        split = f" ({t['split']})" if norm["split"] else ""
        lines.append(
            f"- {norm['number']}. {_cell(norm['title'])}: {middle_sentence(norm, t)}{split}"
        )
    lines += ["", f"| {t['norm']} | {t['median']} | {t['most_between']} | {t['consensus']} |"]
    lines += ["|---|---:|---:|---:|"]
    for norm in contested:
        lines.append(
            f"| {norm['number']}. {_cell(norm['title'])} | {_median(norm, t)} "
            f"| {middle_range(norm, t['decimal'])} | {_consensus(norm, t)} |"
        )
    return lines


def _consensus(norm: NormRow, t: Mapping[str, str]) -> str:
    value = norm["consensus"]
    return "" if value is None else number(round(value, 2), t["decimal"])


def _markdown_opinion_groups(result: Result, t: Mapping[str, str]) -> list[str]:
    if result["opinion_groups"] is None:
        return []
    lines = ["", f"## {t['opinion_groups']}", "", t["opinion_groups_note"], ""]
    reason = opinion_group_text(result, t)
    if reason is not None:
        return [*lines, reason]
    sizes, separating = opinion_group_tables(result, t)
    lines += _markdown_table(sizes, right_from=1)
    lines += ["", t["separating"] if len(separating) > 1 else t["no_separating"]]
    if len(separating) > 1:
        lines += ["", *_markdown_table(separating, right_from=1)]
    return lines


def _markdown_table(rows: list[list[str]], *, right_from: int) -> list[str]:
    header, *body = rows
    rule = ["---" if i < right_from else "---:" for i in range(len(header))]
    return [
        "| " + " | ".join(_cell(cell) for cell in header) + " |",
        "|" + "|".join(rule) + "|",
        *("| " + " | ".join(_cell(cell) for cell in row) + " |" for row in body),
    ]


def _markdown_notes(result: Result, t: Mapping[str, str]) -> list[str]:
    if not result["notes"]:
        return []
    lines = ["", f"## {t['notes']}"]
    dots = {note["text"]: note["dots"] for note in result["notes"]}

    def bullet(text: str, count: int | None) -> str:
        extra = dots_text(count, t)
        return f"- {_cell(text)}" + (f" ({extra})" if extra else "")

    for group in result["groups"]:
        extra = dots_text(group["dots"], t)
        lines += ["", f"### {_cell(group['title'])}" + (f" ({extra})" if extra else ""), ""]
        lines += [bullet(text, dots.get(text)) for text in group["notes"]]
    loose = [note for note in result["notes"] if note["group"] is None]
    if loose:
        lines += [""] + ([f"### {t['loose_ideas']}", ""] if result["groups"] else [])
        lines += [bullet(note["text"], note["dots"]) for note in loose]
    return lines


def _markdown_history(result: Result, t: Mapping[str, str]) -> list[str]:
    decimal = t["decimal"]
    lines: list[str] = []
    shifted = [row for row in norms(result) if "previous_round" in row]
    if shifted:
        lines += ["", f"## {t['rounds'].format(round=result['round'])}", "", t["rounds_note"], ""]
        then_now = t["median_rounds"].format(before=result["round"] - 1, round=result["round"])
        lines += [f"| {t['norm']} | {then_now} | {t['median_change']} | {t['consensus_change']} |"]
        lines += ["|---|---:|---:|---:|"]
        for row in shifted:
            shift = row["previous_round"]
            lines.append(
                f"| {row['number']}. {_cell(row['title'])} "
                f"| {median_then_now(row, t)} "
                f"| {signed(shift['median_delta'], decimal)} "
                f"| {signed(shift['consensus_delta'], decimal)} |"
            )
    if "previous_room" in result:
        lines += ["", f"## {t['since_previous'].format(room=result['previous_room'])}", ""]
        lines += [f"| {t['norm']} | {t['median_before']} | {t['median_change']} |"]
        lines += ["|---|---:|---:|"]
        for row in norms(result):
            if "previous_scan" not in row:
                continue
            then = row["previous_scan"]
            lines.append(
                f"| {row['number']}. {_cell(row['title'])} "
                f"| {number(then['median_before'], decimal)} "
                f"| {signed(then['median_change'], decimal)} |"
            )
        earlier = result.get("earlier_actions", [])
        if earlier:
            lines += ["", f"### {t['earlier_actions']}", ""]
            lines += [f"| {t['action']} | {t['owner']} | {t['deadline']} | {t['status']} |"]
            lines += ["|---|---|---|---|"]
            for item in earlier:
                lines.append(
                    f"| {_cell(item['action'])} | {_cell(item['owner'])} "
                    f"| {long_date(item['deadline'], t)} | {t['status_' + item['status']]} |"
                )
    return lines


def _markdown_gaps(result: Result, t: Mapping[str, str]) -> list[str]:
    tables = gap_tables(result, t)
    if tables is None:
        return []
    lines = ["", f"## {tables.title}", "", tables.note, ""]
    lines += ["| " + " | ".join(tables.norm_header) + " |", "|---|---:|---:|---:|"]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in tables.norm_rows]
    lines += ["", "| " + " | ".join(tables.theme_header) + " |", "|---|---:|"]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in tables.theme_rows]
    return lines
