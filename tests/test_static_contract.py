"""The pages against the server's own definitions: translations and protocol.

The browser gets message types and limits from ``GET /api/protocol``; these
tests fail when a page uses a message type, field or limit the protocol does
not define, or a translation key that a language lacks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agenda.phases import ALLOWED_PHASES, REVEALED_PHASES, TRANSITIONS
from protocol.phases import Phase
from protocol.schema import protocol_schema
from server.pages import STATIC_DIR, _protocol_document, preferred_language

I18N = STATIC_DIR / "i18n"
SCRIPTS = sorted(STATIC_DIR.rglob("*.js"))
#: The phone page is ES modules in a folder of its own (main.js is loaded by phone.html).
PHONE_SCRIPTS = sorted((STATIC_DIR / "phone").glob("*.js"))
PAGES = sorted(STATIC_DIR.glob("*.html"))
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted(I18N.glob(f"*{lang}.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict), path
        overlap = merged.keys() & data.keys()
        assert not overlap, f"{path.name} repeats keys {sorted(overlap)[:5]}"
        merged.update(data)
    return merged


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    nl, en = _catalogue("nl"), _catalogue("en")
    assert nl, "no Dutch translations found"
    assert sorted(nl.keys() - en.keys()) == [], "keys missing in English"
    assert sorted(en.keys() - nl.keys()) == [], "keys missing in Dutch"
    for key in nl:
        assert set(PLACEHOLDER.findall(nl[key])) == set(PLACEHOLDER.findall(en[key])), key
        # An intentionally empty text (e.g. no status shown while online) is empty in both.
        assert bool(nl[key].strip()) == bool(en[key].strip()), f"empty in one language: {key}"


#: Pages whose own ``tr(key)`` helper looks a key up under a prefix (``tr("x")`` is ``dashboard.x``),
#: by the page's module folder (every module in ``dashboard/`` imports the same ``tr``) or script name.
TR_PREFIX = {"dashboard": "dashboard."}
#: Every way a page names a translation key or a command it sends.
KEY_CALL = re.compile(r"""\b(t|tr|trNodes|app\.t)\(\s*["'`]([a-z][\w.-]*)["'`]""")
COMMAND_CALL = re.compile(r"""(?:\.send|\bsend|\bcommand)\(\s*["']([a-z_]+)["']""")


def page_of(path: Path) -> str:
    """A script's page: the folder of its modules (``dashboard``), else its own name."""
    parts = path.relative_to(STATIC_DIR).parts
    return parts[0] if len(parts) > 1 else path.name


def page_scripts(page: str) -> list[Path]:
    """The scripts of one page: the modules in its folder, or the one script."""
    folder = STATIC_DIR / page
    return sorted(folder.rglob("*.js")) if folder.is_dir() else [folder]


def used_keys(path: Path) -> set[str]:
    """The translation keys a page's script or HTML names, with its ``tr`` prefix applied."""
    text = path.read_text(encoding="utf-8")
    page = page_of(path)
    if re.search(r"\bfunction tr\(", text):
        assert page in TR_PREFIX, f"{page} has its own tr(): add its prefix to TR_PREFIX"
    keys = set()
    for helper, key in KEY_CALL.findall(text):
        prefixed = helper in ("tr", "trNodes") and page in TR_PREFIX
        keys.add(TR_PREFIX[page] + key if prefixed else key)
    keys.update(re.findall(r"""data-i18n(?:-[a-z]+)?=["']([a-z][\w.-]*)["']""", text))
    return keys


def sent_commands(path: Path) -> set[str]:
    return set(COMMAND_CALL.findall(path.read_text(encoding="utf-8")))


def test_every_key_used_in_the_pages_exists() -> None:
    keys = _catalogue("nl").keys()
    used: set[str] = set()
    for path in SCRIPTS + PAGES:
        used.update(used_keys(path))
    assert sorted(used - keys) == []


@pytest.mark.parametrize(("script", "at_least"), [("dashboard", 100), ("start.js", 10)])
def test_the_key_patterns_see_each_pages_keys(script: str, at_least: int) -> None:
    # A pattern that matches nothing would let every missing key through.
    assert len(set().union(*map(used_keys, page_scripts(script)))) >= at_least


@pytest.mark.parametrize("module", page_scripts("dashboard"), ids=lambda path: path.name)
def test_the_key_patterns_see_every_dashboard_module(module: Path) -> None:
    # Each module that translates a literal key is read with the dashboard's prefix.
    text = module.read_text(encoding="utf-8")
    if re.search(r"""\btr\(\s*["']""", text):
        assert any(key.startswith("dashboard.") for key in used_keys(module)), module.name


def _phone_keys() -> set[str]:
    return set().union(*(used_keys(path) for path in PHONE_SCRIPTS))


def _phone_commands() -> set[str]:
    return set().union(*(sent_commands(path) for path in PHONE_SCRIPTS))


def test_the_key_patterns_see_the_phones_keys() -> None:
    # Read from every module of the phone: one that the patterns miss lets its keys through.
    assert {path.name for path in PHONE_SCRIPTS} >= {"main.js", "state.js", "ui.js"}
    assert all(path in SCRIPTS for path in PHONE_SCRIPTS)
    assert len(_phone_keys()) >= 70


def test_pages_send_only_messages_the_protocol_defines() -> None:
    schema = protocol_schema()
    client_types = set(schema["client_messages"])
    sent: set[str] = set()
    for path in SCRIPTS:
        sent.update(sent_commands(path))
    assert sorted(sent - client_types) == []
    # Each page's commands are seen, so a pattern that matches nothing cannot pass.
    dashboard = set().union(*map(sent_commands, page_scripts("dashboard")))
    assert len(dashboard) >= 10
    assert len(_phone_commands()) >= 5
    by_sender = {tag: set(spec["senders"]) for tag, spec in schema["client_messages"].items()}
    for tag in dashboard:
        assert "facilitator" in by_sender[tag], (
            f"the dashboard sends {tag}, a participant's command"
        )
    for tag in _phone_commands():
        assert "participant" in by_sender[tag], f"the phone sends {tag}, a facilitator's command"


def test_pages_use_only_limits_the_protocol_defines() -> None:
    limits = set(protocol_schema()["limits"])
    used: set[str] = set()
    for path in SCRIPTS:
        used.update(re.findall(r"\blimits\.([a-z_]+)", path.read_text(encoding="utf-8")))
    assert sorted(used - limits) == []


def test_pages_never_use_inner_html_or_inline_script() -> None:
    for path in SCRIPTS:
        text = path.read_text(encoding="utf-8")
        assert "innerHTML" not in text and "outerHTML" not in text, path.name
        assert "insertAdjacentHTML" not in text and "document.write" not in text, path.name
    for path in PAGES:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"inline script in {path.name}"
        assert " style=" not in text, f"inline style in {path.name}"
        assert not re.search(r"""(src|href)=["']https?://""", text), (
            f"third-party asset in {path.name}"
        )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", "nl"),
        ("en-US,en;q=0.9", "en"),
        ("nl-NL,nl;q=0.9,en;q=0.8", "nl"),
        ("de-DE,de;q=0.9,en;q=0.5,nl;q=0.4", "en"),
        ("fr", "nl"),
        ("en;q=0, nl;q=0.1", "nl"),
        ("en;q=garbage", "nl"),
    ],
)
def test_language_from_accept_language(header: str, expected: str) -> None:
    assert preferred_language(header) == expected


def test_static_dir_is_where_the_server_looks() -> None:
    assert Path(STATIC_DIR).is_dir() and (STATIC_DIR / "phone.html").is_file()


# ------------------------------------------------------------ phase rules: one source

PHASE_NAMES = "|".join(phase.value for phase in Phase)
#: Two or more phase names in one JS array literal: a copy of a rule table.
PHASE_LIST = re.compile(rf"""\[\s*["']({PHASE_NAMES})["']\s*,\s*["']({PHASE_NAMES})["']""")


def test_the_protocol_document_carries_the_phase_rules() -> None:
    document = _protocol_document()
    assert document["transitions"]["reveal"] == ["rating", "brainstorm", "closed"]
    for phase, targets in TRANSITIONS.items():
        assert set(document["transitions"][phase.value]) == {t.value for t in targets}
    for message_type, phases in ALLOWED_PHASES.items():
        assert set(document["allowed_phases"][message_type]) == {p.value for p in phases}
    assert set(document["revealed_phases"]) == {p.value for p in REVEALED_PHASES}


def test_no_page_keeps_its_own_copy_of_the_phase_rules() -> None:
    for path in SCRIPTS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            # A view's own choice of where to show a panel is allowed, said so on its line.
            if PHASE_LIST.search(line) and "not a rule" not in line:
                raise AssertionError(f"{path.name}:{number} copies phase rules: {line.strip()}")


def _doc_table(heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after ``heading`` in docs/protocol.md."""
    text = (STATIC_DIR.parent.parent / "docs" / "protocol.md").read_text(encoding="utf-8")
    after = text[text.index(heading) :]
    rows = []
    for line in after.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # past the header and the |---| line


def test_the_protocol_doc_shows_the_same_phase_rules() -> None:
    transitions = {
        row[0].strip("`"): set(re.findall(r"`(\w+)`", row[1]))
        for row in _doc_table("along this\ntable")
    }
    assert transitions == {p.value: {t.value for t in TRANSITIONS[p]} for p in Phase}
    order = [cell.strip() for cell in _doc_table_header()]
    documented: dict[str, set[str]] = {}
    for row in _doc_table("**Which command is accepted in which phase**"):
        for message_type in re.findall(r"`(\w+)`", row[0]):
            documented[message_type] = {order[i] for i, cell in enumerate(row[1:]) if cell == "✓"}
    for message_type, phases in ALLOWED_PHASES.items():
        assert documented.get(message_type) == {p.value for p in phases}, message_type


def _doc_table_header() -> list[str]:
    text = (STATIC_DIR.parent.parent / "docs" / "protocol.md").read_text(encoding="utf-8")
    after = text[text.index("**Which command is accepted in which phase**") :]
    header = next(line for line in after.splitlines() if line.startswith("| command"))
    return [cell.strip() for cell in header.strip("|").split("|")][1:]


def test_the_protocol_document_lists_every_enum_a_field_may_hold() -> None:
    import dataclasses
    import enum
    import typing

    from protocol.messages import CLIENT_MESSAGES, SERVER_MESSAGES

    used: set[type[enum.Enum]] = set()
    pending: list[object] = [*CLIENT_MESSAGES.values(), *SERVER_MESSAGES.values()]
    seen: set[object] = set()
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        for hint in typing.get_type_hints(cls).values():
            stack = [hint]
            while stack:
                current = stack.pop()
                stack.extend(typing.get_args(current))
                if isinstance(current, type) and issubclass(current, enum.Enum):
                    used.add(current)
                elif isinstance(current, type) and dataclasses.is_dataclass(current):
                    pending.append(current)
    enums = protocol_schema()["enums"]
    assert used, "no enum found in the messages?"
    for kind in sorted(used, key=lambda k: k.__name__):
        if kind.__name__ == "ErrorCode":
            continue  # published under "errors"
        assert enums.get(kind.__name__) == [member.value for member in kind], kind.__name__
