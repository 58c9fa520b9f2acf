"""A template's second question per norm on the phone and the big screen, in headless Chromium.

The shipped "team-health" template asks the importance of every norm besides
its score.  Phone pages answer both on one card (it moves on only once both
are answered), get both back after a reload, and see the importance in their
results; after the reveal the dashboard shows per norm the importance median
and its gap to the score, and per theme the mean gap.  Expected medians are
computed here from the planted answers with ``statistics.median``.
"""

from __future__ import annotations

import re
import statistics

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Locator, Page, expect

from agenda.templates import load_builtin_templates
from tests.browser import screenshot
from tests.support import ServerProcess
from tests.test_pages import browser as browser  # the module-scoped fixture, shared
from tests.test_pages import open_dashboard, open_phone, set_phase
from tests.test_pages_analysis import serious

TEMPLATE = load_builtin_templates()["team-health"]
NORMS = [norm.id for norm in TEMPLATE.norms]
#: Norm titles as the (Dutch, unless said otherwise) pages show them.
TITLES = {norm.id: norm.title for norm in TEMPLATE.localized("nl").norms}
TITLES_EN = {norm.id: norm.title for norm in TEMPLATE.localized("en").norms}
THEMES = [theme.id for theme in TEMPLATE.themes]
THEME_NORMS = {theme.id: [norm.id for norm in theme.norms] for theme in TEMPLATE.themes}
TOTAL = len(NORMS)
SECOND = TEMPLATE.localized("nl").second_question
assert SECOND is not None and SECOND.kind == "importance"
#: The template's words for the second question (in Dutch), shown as its label.
QUESTION = SECOND.question

Answer = int | None  # None: "don't know"
#: For ``expect_pressed``: no button of the group pressed.
UNANSWERED = "unanswered"

#: Per phone, its (score, importance) for the first norms, in order.
PLAN: list[list[tuple[Answer, Answer]]] = [
    [(4, 5), (2, 5), (3, 4)],
    [(2, 4), (1, None), (3, 5)],
    [(3, 5), (None, 4)],
]
#: Phone 2 then scores the third norm and leaves its importance open.
LEFT_OPEN = (2, 2, 5)


def known_median(values: list[Answer]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def expected_figures() -> tuple[dict[str, float], dict[str, float], dict[str, float | None]]:
    """(importance median per norm, gap per norm, mean gap per theme) from the plan."""
    scores: dict[str, list[Answer]] = {norm: [] for norm in NORMS}
    importance: dict[str, list[Answer]] = {norm: [] for norm in NORMS}
    for answers in PLAN:
        for index, (score, important) in enumerate(answers):
            scores[NORMS[index]].append(score)
            importance[NORMS[index]].append(important)
    _, open_index, open_score = LEFT_OPEN
    scores[NORMS[open_index]].append(open_score)
    seconds: dict[str, float] = {}
    gaps: dict[str, float] = {}
    for norm in NORMS:
        median, second = known_median(scores[norm]), known_median(importance[norm])
        if second is not None:
            seconds[norm] = second
            if median is not None:
                gaps[norm] = second - median
    theme_gaps: dict[str, float | None] = {}
    for theme, norms in THEME_NORMS.items():
        defined = [gaps[norm] for norm in norms if norm in gaps]
        theme_gaps[theme] = sum(defined) / len(defined) if defined else None
    return seconds, gaps, theme_gaps


def number(value: float, lang: str, sign: bool = False) -> str:
    """As the pages format it: at most one decimal, a decimal comma in Dutch."""
    rounded = round(value, 1)
    text = f"{rounded:.1f}".rstrip("0").rstrip(".")
    if lang == "nl":
        text = text.replace(".", ",")
    return f"+{text}" if sign and rounded > 0 else text


def answer(page: Page, question: str, value: Answer) -> None:
    """Click an answer: ``question`` is "rate" (the score) or "second" (the importance)."""
    page.get_by_test_id(f"{question}-{'dk' if value is None else value}").click()


def on_card(page: Page, norm: str) -> None:
    index = NORMS.index(norm)
    expect(page.locator("#norm-title")).to_have_text(TITLES[norm])
    expect(page.locator(".card.rating .counter")).to_have_text(f"Norm {index + 1} van {TOTAL}")


def expect_pressed(page: Page, question: str, value: Answer | str) -> None:
    """Only ``value``'s button of that question's group is pressed (none for UNANSWERED)."""
    options: list[Answer] = [*range(TEMPLATE.scale.min, TEMPLATE.scale.max + 1), None]
    for option in options:
        button = page.get_by_test_id(f"{question}-{'dk' if option is None else option}")
        expect(button).to_have_attribute("aria-checked", str(option == value).lower())


def all_sent(page: Page) -> None:
    """Every command acknowledged: the phone's saved outbox is gone."""
    page.wait_for_function(
        "() => !Object.keys(window.localStorage).some((key) => key.endsWith('.outbox'))"
    )


def results_of(page: Page, norm: str, titles: dict[str, str] = TITLES) -> Locator:
    number_ = NORMS.index(norm) + 1
    heading = page.locator("h4", has_text=re.compile(rf"^{number_}\. {re.escape(titles[norm])}$"))
    return page.get_by_test_id("results").locator("article.norm-result").filter(has=heading)


def test_two_questions_per_norm_on_three_phones_and_the_gap_on_the_big_screen(
    kleur: ServerProcess, browser: Browser
) -> None:
    errors: list[str] = []
    room = kleur.create_room("team-health")
    dashboard = open_dashboard(browser, room, errors)
    phones = [open_phone(browser, room, errors) for _ in PLAN]
    expect(dashboard.get_by_test_id("participants")).to_contain_text(str(len(phones)))
    set_phase(dashboard, "rating", phones)

    first, second_norm = NORMS[0], NORMS[1]
    for page in phones:
        on_card(page, first)
        expect(page.locator("#second-label")).to_have_text(QUESTION)
        expect(page.get_by_test_id("progress")).to_contain_text(f"0 van {TOTAL} ingevuld")

    # Phone 0: the score alone keeps the card, and sends the focus to the importance.
    p0 = phones[0]
    answer(p0, "rate", PLAN[0][0][0])
    on_card(p0, first)
    expect(p0.locator("#second-label")).to_be_focused()
    expect_pressed(p0, "rate", PLAN[0][0][0])
    expect_pressed(p0, "second", UNANSWERED)
    expect(p0.get_by_test_id("progress")).to_contain_text(f"0 van {TOTAL} ingevuld")
    screenshot_card(p0)
    answer(p0, "second", PLAN[0][0][1])
    on_card(p0, second_norm)
    expect(p0.locator("#norm-title")).to_be_focused()
    expect(p0.get_by_test_id("progress")).to_contain_text(f"1 van {TOTAL} ingevuld")
    expect_pressed(p0, "rate", UNANSWERED)

    # Phone 1 the other way round: the importance first keeps the card too.
    p1 = phones[1]
    answer(p1, "second", PLAN[1][0][1])
    on_card(p1, first)
    expect(p1.locator("#scale-label")).to_be_focused()
    expect(p1.get_by_test_id("progress")).to_contain_text(f"0 van {TOTAL} ingevuld")
    answer(p1, "rate", PLAN[1][0][0])
    on_card(p1, second_norm)
    expect(p1.get_by_test_id("progress")).to_contain_text(f"1 van {TOTAL} ingevuld")

    # The rest of the plan, score then importance, one card after the other.
    for phone_index, page in enumerate(phones):
        start = 0 if phone_index == 2 else 1
        for index in range(start, len(PLAN[phone_index])):
            score, importance = PLAN[phone_index][index]
            on_card(page, NORMS[index])
            answer(page, "rate", score)
            on_card(page, NORMS[index])
            answer(page, "second", importance)
        done = len(PLAN[phone_index])
        expect(page.get_by_test_id("progress")).to_contain_text(f"{done} van {TOTAL} ingevuld")
    open_phone_index, open_index, open_score = LEFT_OPEN
    answer(phones[open_phone_index], "rate", open_score)
    on_card(phones[open_phone_index], NORMS[open_index])
    # Only norms with both answers count.
    expect(phones[open_phone_index].get_by_test_id("progress")).to_contain_text(
        f"2 van {TOTAL} ingevuld"
    )
    expect(phones[open_phone_index].get_by_test_id(f"jump-{NORMS[open_index]}")).to_have_class(
        re.compile(r"\bis-open\b")
    )
    expect(phones[open_phone_index].get_by_test_id(f"jump-{NORMS[open_index]}")).to_contain_text(
        "5 · belang: Nog niet ingevuld"
    )
    expect(p0.get_by_test_id(f"jump-{first}")).to_contain_text("4 · belang: 5")
    expect(p0.get_by_test_id(f"jump-{first}")).to_have_class(re.compile(r"\bis-answered\b"))

    # A reload gets both answers back from the server.
    for page in phones:
        all_sent(page)
        page.reload()
        expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "rating")
    for phone_index in (0, 1):
        page = phones[phone_index]
        plan = PLAN[phone_index]
        on_card(page, NORMS[len(plan)])  # the first open norm
        expect(page.get_by_test_id("progress")).to_contain_text(f"{len(plan)} van {TOTAL}")
        for index in reversed(range(len(plan))):
            page.get_by_test_id("prev").click()
            on_card(page, NORMS[index])
            expect_pressed(page, "rate", plan[index][0])
            expect_pressed(page, "second", plan[index][1])
    page = phones[open_phone_index]
    on_card(page, NORMS[open_index])
    expect_pressed(page, "rate", open_score)
    expect_pressed(page, "second", UNANSWERED)
    expect(page.get_by_test_id("progress")).to_contain_text(f"2 van {TOTAL} ingevuld")

    # Blind until the reveal: no gap on the big screen.
    expect(dashboard.get_by_test_id(f"norm-{first}")).to_have_attribute("data-received", "3")
    expect(dashboard.get_by_test_id(f"gap-{first}")).to_have_count(0)

    set_phase(dashboard, "reveal", phones)
    seconds, gaps, theme_gaps = expected_figures()
    assert set(gaps) == set(NORMS[:3])  # the planted norms, no more
    expect(dashboard.get_by_test_id(f"norm-{first}")).to_have_attribute("data-median", "3")
    for norm in NORMS:
        line = dashboard.get_by_test_id(f"gap-{norm}")
        if norm not in gaps:
            expect(line).to_have_count(0)
            continue
        expect(line).to_have_text(
            f"belang: mediaan {number(seconds[norm], 'nl')}, "
            f"verschil met het cijfer {number(gaps[norm], 'nl', sign=True)}"
        )
    # Planted: 3 → 5 (+2), 1,5 → 4,5 (+3), 3 → 4,5 (+1,5); the theme the mean, +2,2.
    expect(dashboard.get_by_test_id(f"gap-{NORMS[1]}")).to_have_text(
        "belang: mediaan 4,5, verschil met het cijfer +3"
    )
    for theme in THEMES:
        gap = theme_gaps[theme]
        expect(dashboard.get_by_test_id(f"theme-gap-{theme}")).to_have_text(
            "–" if gap is None else number(gap, "nl", sign=True)
        )
    expect(dashboard.get_by_test_id(f"theme-gap-{THEMES[0]}")).to_have_text("+2,2")
    expect(dashboard.locator(".theme-table thead")).to_contain_text("Verschil belang en cijfer")

    # Each phone: the importance median and its own answer, per norm.
    for phone_index, page in enumerate(phones):
        expect(page.get_by_test_id("results")).to_be_visible()
        for index, (_, importance) in enumerate(PLAN[phone_index]):
            own = "Weet ik niet" if importance is None else str(importance)
            median = number(seconds[NORMS[index]], "nl")
            expect(results_of(page, NORMS[index])).to_contain_text(
                f"Belang, middelste cijfer: {median}. Jouw antwoord: {own}"
            )
    expect(results_of(phones[open_phone_index], NORMS[open_index])).to_contain_text(
        f"Belang, middelste cijfer: {number(seconds[NORMS[open_index]], 'nl')}. "
        "Jouw antwoord: Nog niet ingevuld"
    )
    expect(results_of(p0, NORMS[5])).to_contain_text(
        "Belang, middelste cijfer: –. Jouw antwoord: Nog niet ingevuld"
    )
    dashboard.get_by_test_id(f"gap-{first}").scroll_into_view_if_needed()
    screenshot(dashboard, "dashboard-gap")
    assert errors == []


def screenshot_card(page: Page) -> None:
    """The rating card from its progress bar down: both questions in view."""
    page.locator(".card.rating").evaluate("(card) => card.scrollIntoView({block: 'start'})")
    screenshot(page, "phone-second-question")


@pytest.mark.parametrize("locale", ["nl-NL", "en-GB"])
def test_no_serious_accessibility_violations_with_two_questions(
    kleur: ServerProcess, browser: Browser, locale: str
) -> None:
    errors: list[str] = []
    lang = locale[:2]
    room = kleur.create_room("team-health")
    dashboard = open_dashboard(browser, room, errors, locale)
    page = open_phone(browser, room, errors, locale)
    set_phase(dashboard, "rating", [page])
    axe = Axe()
    answer(page, "rate", 2)
    expect(page.locator("#second-label")).to_be_focused()
    problems = serious(axe, page, f"phone-two-questions-{lang}")
    answer(page, "second", 5)
    expect(page.locator("#norm-title")).to_have_text(
        (TITLES_EN if lang == "en" else TITLES)[NORMS[1]]
    )
    all_sent(page)
    set_phase(dashboard, "reveal", [page])
    gap_line = dashboard.get_by_test_id(f"gap-{NORMS[0]}")
    if lang == "en":
        expect(gap_line).to_have_text("importance: median 5, gap to the score +3")
        expect(dashboard.get_by_test_id(f"theme-gap-{THEMES[0]}")).to_have_text("+3")
        expect(dashboard.locator(".theme-table thead")).to_contain_text(
            "Gap between importance and score"
        )
        expect(results_of(page, NORMS[0], TITLES_EN)).to_contain_text(
            "Importance, middle score: 5. Your answer: 5"
        )
    else:
        expect(gap_line).to_have_text("belang: mediaan 5, verschil met het cijfer +3")
    problems += serious(axe, dashboard, f"dashboard-gap-{lang}")
    problems += serious(axe, page, f"phone-results-{lang}")
    assert problems == []
    assert errors == []


def test_a_template_without_a_second_question_shows_one_scale(
    kleur: ServerProcess, browser: Browser
) -> None:
    errors: list[str] = []
    room = kleur.create_room("participatiescan")
    dashboard = open_dashboard(browser, room, errors)
    page = open_phone(browser, room, errors)
    set_phase(dashboard, "rating", [page])
    expect(page.get_by_test_id("rate-5")).to_be_visible()
    expect(page.locator("[data-testid^='second-']")).to_have_count(0)
    expect(page.locator("#second-label")).to_have_count(0)
    title = page.locator("#norm-title").inner_text()
    answer(page, "rate", 5)  # one answer completes the norm
    expect(page.locator("#norm-title")).not_to_have_text(title)
    expect(page.get_by_test_id("progress")).to_contain_text("1 van")
    assert errors == []
