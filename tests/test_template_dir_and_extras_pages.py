"""The operator's own templates (``KLEUR_TEMPLATE_DIR``) and a norm's extras on the dashboard.

A template in a folder of its own carries good-practice examples and regional
figures on one norm (made-up data, marked so); a real server loads it, and
headless Chromium shows them with that norm's results, in Dutch and English.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, expect

from agenda.templates import TemplateError, load_builtin_templates
from protocol.phases import Phase
from server.app import load_templates
from server.embedded_redis import RedisServer
from server.settings import Settings
from tests.browser import screenshot
from tests.support import ServerProcess
from tests.test_pages import NORMS, open_dashboard
from tests.test_pages import browser as browser  # the module-scoped fixture, shared
from tests.test_pages_analysis import Crowd, go, serious
from tests.test_pages_analysis import crowds as crowds  # the fixture, shared

TEMPLATE_ID = "regioscan-voorbeeld"
#: The norm with extras, and one without.
WITH, WITHOUT = NORMS[0], NORMS[1]
EXAMPLE = "Voorbeeld (testdata): werkgevers & scholen <samen> aan één tafel."
EXAMPLE_LINK = "https://example.org/voorbeeld"
FIGURE: dict[str, Any] = {
    "label": "Jongeren zonder startkwalificatie",
    "value": 1234.5,
    "unit": "jongeren",
    "source": "Voorbeeldbron (testdata)",
    "date": "2025-10",
    "link": "https://example.org/cijfers",
}


def _toml(value: Any) -> str:
    """Enough TOML for a template's public dict: inline tables and arrays, no nulls."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    assert isinstance(value, dict), value
    return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items() if v is not None) + "}"


def to_toml(data: dict[str, Any]) -> str:
    return "".join(f"{key} = {_toml(value)}\n" for key, value in data.items() if value is not None)


def template_with_extras(template_id: str = TEMPLATE_ID) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(
        load_builtin_templates()["participatiescan"].to_public_dict()
    )
    data["id"] = template_id
    data["title"] = "Regioscan (voorbeeld met testdata)"
    norm = data["themes"][0]["norms"][0]
    assert norm["id"] == WITH
    norm["examples"] = [
        {"text": EXAMPLE, "link": EXAMPLE_LINK},
        {"text": "Een tweede voorbeeld zonder link (testdata)."},
    ]
    norm["figures"] = [dict(FIGURE)]
    return data


def write_template(folder: Path, data: dict[str, Any], name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name or data['id']}.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    return path


# ------------------------------------------------------------------ the loader


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().template_dir is None
    monkeypatch.setenv("KLEUR_TEMPLATE_DIR", "/srv/kleur/templates")
    assert Settings.from_env().template_dir == "/srv/kleur/templates"


def test_no_folder_means_the_shipped_templates() -> None:
    assert load_templates(None) == load_builtin_templates()
    assert load_templates("") == load_builtin_templates()


def test_a_folder_adds_its_templates(tmp_path: Path) -> None:
    write_template(tmp_path, template_with_extras())
    (tmp_path / "notes.txt").write_text("not a template")
    templates = load_templates(tmp_path)
    assert set(templates) == {*load_builtin_templates(), TEMPLATE_ID}
    norm = templates[TEMPLATE_ID].norm(WITH)
    assert norm.examples[0].text == EXAMPLE and norm.examples[0].link == EXAMPLE_LINK
    assert norm.figures[0].value == 1234.5 and norm.figures[0].date == "2025-10"
    # The shared cache of the shipped templates is left alone.
    assert TEMPLATE_ID not in load_builtin_templates()


def test_an_id_of_a_shipped_template_is_refused(tmp_path: Path) -> None:
    write_template(tmp_path, template_with_extras("participatiescan"))
    with pytest.raises(TemplateError) as error:
        load_templates(tmp_path)
    assert str(error.value).startswith("participatiescan.toml: id: ")
    assert "built-in" in str(error.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('id = "broken"\ntitle = ', "broken.toml: <toml>: "),
        (None, "broken.toml: themes[0].norms[0].figures[0].source: missing required key"),
        ("", "broken.toml: id: missing required key"),
    ],
)
def test_a_broken_file_is_refused_with_its_message(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    if content is None:  # a figure without its source
        data = template_with_extras("broken")
        del data["themes"][0]["norms"][0]["figures"][0]["source"]
        content = to_toml(data)
    write_template(tmp_path, template_with_extras())  # a good one does not save the start
    (tmp_path / "broken.toml").write_text(content, encoding="utf-8")
    with pytest.raises(TemplateError) as error:
        load_templates(tmp_path)
    assert str(error.value).startswith(expected)


def test_the_file_name_must_be_the_id(tmp_path: Path) -> None:
    write_template(tmp_path, template_with_extras(), name="other-name")
    with pytest.raises(TemplateError, match=r"^other-name\.toml: id: must equal the file name"):
        load_templates(tmp_path)


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="is not a folder"):
        load_templates(tmp_path / "nowhere")


def test_a_clash_stops_the_server(redis_server: RedisServer, tmp_path: Path) -> None:
    write_template(tmp_path / "templates", template_with_extras("participatiescan"))
    server = ServerProcess(
        redis_server.url, tmp_path / "kleur.log", template_dir=str(tmp_path / "templates")
    )
    try:
        with pytest.raises(RuntimeError, match="server exited") as error:
            server.start()
    finally:
        server.stop()
    assert "participatiescan.toml: id: 'participatiescan' is a built-in template" in str(
        error.value
    )


# ------------------------------------------------------------------ the dashboard


@pytest.fixture
def kleur_with_templates(redis_server: RedisServer, tmp_path: Path) -> Iterator[ServerProcess]:
    folder = tmp_path / "templates"
    write_template(folder, template_with_extras())
    server = ServerProcess(redis_server.url, tmp_path / "kleur.log", template_dir=str(folder))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_dashboard_shows_a_norms_examples_and_figures(
    kleur_with_templates: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    kleur = kleur_with_templates
    listed = httpx.get(f"{kleur.http_url}/api/templates").json()
    assert TEMPLATE_ID in [t["id"] for t in listed]

    errors: list[str] = []
    room = kleur.create_room(TEMPLATE_ID)
    dashboard = open_dashboard(browser, room, errors)
    crowd = Crowd(kleur, room)
    crowds.append(crowd)
    crowd.join(3, [None])
    expect(dashboard.get_by_test_id("participants")).to_have_text("3")

    # Blind rating: nothing of the extras yet.
    go(dashboard, "rating")
    crowd.wait_phase(Phase.RATING)
    expect(dashboard.get_by_test_id(f"extras-{WITH}")).to_have_count(0)
    crowd.rate(lambda i, _norm: 4 + i, [WITH, WITHOUT])
    expect(dashboard.get_by_test_id(f"norm-{WITH}")).to_have_attribute("data-received", "3")

    # The results: the norm is discussed with its figures and examples next to it.
    go(dashboard, "reveal")
    extras = dashboard.get_by_test_id(f"extras-{WITH}")
    expect(extras).to_be_visible()
    expect(
        dashboard.get_by_test_id(f"norm-{WITH}").get_by_test_id(f"extras-{WITH}")
    ).to_be_visible()
    figure = extras.locator(".norm-extras__figure")
    expect(figure).to_have_text(
        "Jongeren zonder startkwalificatie: 1.234,5\u00a0jongeren "
        "(bron: Voorbeeldbron (testdata) (opent in een nieuw tabblad), oktober 2025)"
    )
    source_link = figure.get_by_role("link")
    expect(source_link).to_have_attribute("href", FIGURE["link"])
    expect(source_link).to_have_attribute("target", "_blank")
    expect(source_link).to_have_attribute("rel", "noopener noreferrer")
    examples = extras.locator(".norm-extras__example")
    expect(examples).to_have_count(2)
    expect(examples.first).to_contain_text(EXAMPLE)  # as text: the "<samen>" is not markup
    example_link = examples.first.get_by_role("link")
    expect(example_link).to_have_attribute("href", EXAMPLE_LINK)
    expect(example_link).to_have_attribute("rel", "noopener noreferrer")
    expect(example_link).to_contain_text("example.org")
    expect(examples.nth(1).get_by_role("link")).to_have_count(0)
    expect(extras.get_by_role("heading", name="Cijfers uit de regio")).to_have_count(1)
    expect(extras.get_by_role("heading", name="Voorbeelden uit de praktijk")).to_have_count(1)
    expect(extras.locator("h5")).to_have_count(2)  # below the theme's h4
    # A norm without extras: no box at all.
    without = dashboard.get_by_test_id(f"norm-{WITHOUT}")
    expect(without).to_be_visible()
    expect(without.locator(".norm-extras")).to_have_count(0)
    expect(dashboard.locator(".norm-extras")).to_have_count(1)
    extras.scroll_into_view_if_needed()
    axe = Axe()
    problems = serious(axe, dashboard, "extras-nl")

    # One list (by disagreement): the headings move up a level with the list.
    dashboard.get_by_test_id("sort-disagreement").click()
    expect(extras.locator("h4")).to_have_count(2)
    dashboard.get_by_test_id("sort-template").click()
    expect(extras.locator("h5")).to_have_count(2)

    # English: labels, number and date in English; the template's own text as written.
    dashboard.get_by_test_id("lang-en").click()
    expect(dashboard.locator("html")).to_have_attribute("lang", "en")
    extras = dashboard.get_by_test_id(f"extras-{WITH}")
    expect(extras.locator(".norm-extras__figure")).to_have_text(
        "Jongeren zonder startkwalificatie: 1,234.5\u00a0jongeren "
        "(source: Voorbeeldbron (testdata) (opens in a new tab), October 2025)"
    )
    expect(extras.get_by_role("heading", name="Regional figures")).to_have_count(1)
    expect(extras.get_by_role("heading", name="Good-practice examples")).to_have_count(1)
    expect(extras.locator(".norm-extras__example").first).to_contain_text(EXAMPLE)
    expect(dashboard.locator(".norm-extras")).to_have_count(1)
    problems += serious(axe, dashboard, "extras-en")
    dashboard.get_by_test_id("lang-nl").click()
    expect(dashboard.locator("html")).to_have_attribute("lang", "nl")
    extras = dashboard.get_by_test_id(f"extras-{WITH}")
    expect(extras).to_contain_text("oktober 2025")

    # Still there while the table brainstorms about it.
    go(dashboard, "brainstorm")
    expect(extras).to_be_visible()
    go(dashboard, "reveal")
    dashboard.get_by_test_id(f"norm-{WITH}").scroll_into_view_if_needed()
    screenshot(dashboard, "dashboard-norm-extras")
    assert problems == []
    assert errors == []
