"""The reader's language on every screen: template texts, phase names and the glossary.

In headless Chromium against a real server: an en-GB phone in a
Participatiescan session shows the norms, organisation types and scale
labels in English, an nl-NL phone in Dutch, and a language switch brings
the template's texts along; the phone and the control view give each phase
the same name in each language.  Without a browser: every Dutch text of the
screens keeps to ``docs/glossary.md``, and the phase names live in one place.

Expected texts come from the template (``Template.localized``) and the
translation files themselves, never typed in here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from agenda.templates import Template, load_builtin_templates
from tests.browser import big_screen, screenshot
from tests.support import ServerProcess
from tests.test_pages import browser as browser  # the module-scoped fixture, shared
from tests.test_pages import open_dashboard, open_phone, rate, set_phase

ROOT = Path(__file__).resolve().parent.parent
I18N = ROOT / "client" / "static" / "i18n"
GLOSSARY = ROOT / "docs" / "glossary.md"
SCAN = load_builtin_templates()["participatiescan"]
TEAM = load_builtin_templates()["team-health"]
PHASES = ["lobby", "rating", "reveal", "brainstorm", "agenda", "closed"]
OTHER = {"nl": "en", "en": "nl"}


def texts(name: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((I18N / name).read_text(encoding="utf-8"))
    return data


def catalogue(lang: str) -> dict[str, str]:
    """Every text a page of ``lang`` may show (the files merge without overlap)."""
    merged: dict[str, str] = {}
    for path in sorted(I18N.glob(f"*{lang}.json")):
        merged.update(texts(path.name))
    return merged


def scale_end(lang: str, value: int, label: str) -> str:
    return catalogue(lang)["phone.rating.scale_end"].format(value=value, label=label)


# ------------------------------------------------------------------ without a browser


def glossary_avoided() -> list[tuple[str, str]]:
    """(concept, word) for every word the glossary's "not" columns forbid in Dutch."""
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("concept", "phase") and "`" in cells[2]:
            rows += [(cells[0], word) for word in re.findall(r"`([^`]+)`", cells[2])]
    return rows


def test_the_glossary_lists_words_to_avoid() -> None:
    avoided = {word.lower() for _, word in glossary_avoided()}
    # The words issue 9 found on the screens are among them.
    assert {"facilitator", "timer", "deadline", "weet niet", "notitie", "resultaten"} <= avoided


@pytest.mark.parametrize(("concept", "word"), glossary_avoided())
def test_no_dutch_screen_text_uses_a_word_the_glossary_avoids(concept: str, word: str) -> None:
    pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
    found = {key: text for key, text in catalogue("nl").items() if pattern.search(text)}
    assert found == {}, f"{concept}: use the glossary's word, not {word!r}"


def test_phase_names_live_once_and_are_distinct() -> None:
    for lang in ("nl", "en"):
        own = texts(f"{lang}.json")
        names = [own[f"phase.{phase}"] for phase in PHASES]
        assert len(set(names)) == len(names), names
        # No page keeps a copy of its own (a dashboard or presenter phase name).
        for path in sorted(I18N.glob(f"*.{lang}.json")):
            copies = [
                k for k in texts(path.name) if re.search(rf"\.phase\.({'|'.join(PHASES)})$", k)
            ]
            assert copies == [], path.name
        assert not [k for k in own if k.startswith("common.phase.")]


def test_the_glossary_names_the_phases_as_the_screens_do() -> None:
    text = GLOSSARY.read_text(encoding="utf-8")
    for lang in ("nl", "en"):
        for phase in PHASES:
            name = texts(f"{lang}.json")[f"phase.{phase}"]
            assert f"| {name} |" in text, (lang, phase, name)


# ------------------------------------------------------------------ in the browser


def expect_template_texts(page: Page, template: Template, lang: str) -> None:
    """The rating card shows the first open norm and the scale labels in ``lang``."""
    localized = template.localized(lang)
    norm = localized.norms[0]
    title = page.locator("#norm-title")
    expect(title).to_have_text(f"{norm.title}")
    expect(title).to_have_attribute("lang", lang)
    expect(page.locator(".card.rating .description")).to_have_text(norm.description)
    ends = page.locator(".card.rating .scale-ends span")
    expect(ends).to_have_text(
        [
            scale_end(lang, localized.scale.min, localized.scale.min_label),
            scale_end(lang, localized.scale.max, localized.scale.max_label),
        ]
    )


@pytest.mark.parametrize("locale", ["en-GB", "nl-NL"])
def test_a_phone_shows_the_participatiescan_in_its_own_language(
    kleur: ServerProcess, browser: Browser, locale: str
) -> None:
    """Acceptance 6: norms, organisation types and scale labels in the phone's language."""
    lang, errors = locale[:2], []
    here, there = SCAN.localized(lang), SCAN.localized(OTHER[lang])
    room = kleur.create_room()
    dashboard = open_dashboard(browser, room, errors, locale)
    page = open_phone(browser, room, errors, locale)
    expect(page.locator("html")).to_have_attribute("lang", lang)

    # The lobby asks the organisation type, in the phone's language.
    for org in here.org_types:
        label = page.locator(f"label[for='org-{org.id}']")
        expect(label).to_have_text(org.label)
        expect(label).to_have_attribute("lang", lang)
    page.get_by_test_id(f"org-{here.org_types[1].id}").check()

    set_phase(dashboard, "rating", [page])
    expect_template_texts(page, SCAN, lang)
    body = page.locator("body")
    for other_text in (there.norms[0].title, there.scale.min_label, there.norms[0].description):
        expect(body).not_to_contain_text(other_text)
    screenshot(page, f"phone-rating-{lang}")

    # The control view (same language) names the norms the same way.
    row = dashboard.get_by_test_id(f"norm-{here.norms[0].id}")
    expect(row).to_contain_text(here.norms[0].title)
    expect(dashboard.locator("body")).not_to_contain_text(there.norms[0].title)
    assert errors == []


def test_the_language_switch_brings_the_template_texts_along(
    kleur: ServerProcess, browser: Browser
) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    dashboard = open_dashboard(browser, room, errors)
    page = open_phone(browser, room, errors)
    set_phase(dashboard, "rating", [page])
    expect_template_texts(page, SCAN, "nl")
    rate(page, 7)  # moves on to the second norm
    second = {lang: SCAN.localized(lang).norms[1] for lang in ("nl", "en")}
    expect(page.locator("#norm-title")).to_have_text(second["nl"].title)

    page.get_by_test_id("lang-en").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # Still the second norm (the switch does not jump), now in English.
    expect(page.locator("#norm-title")).to_have_text(second["en"].title)
    expect(page.locator(".card.rating .description")).to_have_text(second["en"].description)
    en = SCAN.localized("en")
    expect(page.locator(".card.rating .scale-ends span").first).to_have_text(
        scale_end("en", en.scale.min, en.scale.min_label)
    )
    page.reload()  # remembered, and loaded in English from the start
    expect(page.locator("#norm-title")).to_have_text(second["en"].title)
    page.get_by_test_id("lang-nl").click()
    expect(page.locator("#norm-title")).to_have_text(second["nl"].title)

    # The control view too: its norm list follows its own switch.
    first = SCAN.norms[0].id
    row = dashboard.get_by_test_id(f"norm-{first}")
    expect(row).to_contain_text(SCAN.localized("nl").norm(first).title)
    dashboard.get_by_test_id("lang-en").click()
    expect(dashboard.locator("html")).to_have_attribute("lang", "en")
    expect(dashboard.get_by_test_id(f"norm-{first}")).to_contain_text(en.norm(first).title)
    expect(dashboard.locator("body")).not_to_contain_text(SCAN.localized("nl").norm(first).title)
    assert errors == []


@pytest.mark.parametrize("locale", ["nl-NL", "en-GB"])
def test_phase_names_are_the_same_words_on_the_phone_the_control_view_and_the_projector(
    kleur: ServerProcess, browser: Browser, locale: str
) -> None:
    lang, errors = locale[:2], []
    names = {phase: texts(f"{lang}.json")[f"phase.{phase}"] for phase in PHASES}
    room = kleur.create_room()
    dashboard = open_dashboard(browser, room, errors, locale)
    page = open_phone(browser, room, errors, locale)
    projector = browser.new_context(viewport={"width": 1920, "height": 1080}, locale=locale)
    presenter = projector.new_page()
    presenter.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    presenter.goto(room["display_url"])
    steps = dashboard.locator(".step__name")
    expect(steps).to_have_count(len(PHASES))
    expect(steps).to_have_text([names[phase] for phase in PHASES])
    for phase in PHASES:
        if phase == "closed":  # asks first, in a dialog of its own
            dashboard.get_by_test_id("phase-to-closed").click()
            dashboard.locator("#confirm-ok").click()
            expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", phase)
        elif phase != "lobby":
            set_phase(dashboard, phase, [page])
        expect(page.get_by_test_id("phase")).to_have_text(names[phase])
        expect(dashboard.get_by_test_id("phase")).to_have_text(names[phase])
        expect(presenter.get_by_test_id("phase")).to_have_text(names[phase])
    projector.close()
    assert errors == []


@pytest.mark.parametrize("locale", ["nl-NL", "en-GB"])
def test_the_start_page_lists_the_templates_in_its_language(
    kleur: ServerProcess, browser: Browser, locale: str
) -> None:
    lang, errors = locale[:2], []
    page = big_screen(browser, locale).new_page()
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.goto(kleur.http_url + "/")
    body = page.locator("body")
    for template in (SCAN, TEAM):
        expect(body).to_contain_text(template.localized(lang).description)
        expect(body).not_to_contain_text(template.localized(OTHER[lang]).description)
    assert errors == []
