"""Templates as readers get them: the API and the exports in the reader's language.

A real server (with a real Redis) answers ``GET /api/templates`` and
``GET /api/templates/{id}`` with ``?lang=`` or from Accept-Language; the export
of a room follows its ``lang``.  The texts expected are the shipped templates'
own, read through ``Template.localized``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agenda import export
from agenda.templates import load_builtin_templates
from agenda.views import RoomData
from protocol.phases import Phase
from tests.support import ServerProcess, read_only_server

TEMPLATES = load_builtin_templates()
SCAN = TEMPLATES["participatiescan"]


@pytest.fixture(scope="module")
def kleur(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module: these tests only read (and make one room)."""
    with read_only_server(tmp_path_factory.mktemp("served")) as server:
        yield server


def _get(kleur: ServerProcess, path: str, accept_language: str | None = None) -> httpx.Response:
    headers = {"accept-language": accept_language} if accept_language else {}
    return httpx.get(f"{kleur.http_url}{path}", headers=headers)


def _texts(value: Any) -> set[str]:
    """Every string in a JSON value (ids and numbers' neighbours included)."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {text for item in value.values() for text in _texts(item)}
    if isinstance(value, list):
        return {text for item in value for text in _texts(item)}
    return set()


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_template_is_served_in_the_language_asked_for(
    kleur: ServerProcess, template_id: str, lang: str
) -> None:
    # The browser prefers the other language: ?lang= wins.
    other = "en-GB" if lang == "nl" else "nl-NL"
    response = _get(kleur, f"/api/templates/{template_id}?lang={lang}", other)
    assert response.status_code == 200
    served = response.json()
    assert served == TEMPLATES[template_id].localized(lang).to_public_dict()
    assert served["language"] == lang
    # None of the other language's texts (ids and words the same in both aside).
    other_texts = _texts(TEMPLATES[template_id].localized(other[:2]).to_public_dict())
    shared = other_texts & _texts(served)
    assert shared - _ids(served) - set(SAME_WORD[template_id]) == set()


#: Texts that are rightly one word in both languages.
SAME_WORD = {"participatiescan": [], "team-health": ["Product"]}


def _ids(public: dict[str, Any]) -> set[str]:
    ids = {public["id"], *(theme["id"] for theme in public["themes"])}
    ids |= {norm["id"] for theme in public["themes"] for norm in theme["norms"]}
    ids |= {org["id"] for org in public["org_types"]}
    return ids | ({public["second_question"]["kind"]} if public["second_question"] else set())


@pytest.mark.parametrize(
    ("accept_language", "lang"),
    [
        ("en-GB,en;q=0.9", "en"),
        ("nl-NL,nl;q=0.9,en;q=0.8", "nl"),
        ("de-DE,en;q=0.5", "en"),
        ("fr-FR", "nl"),
        (None, "nl"),
    ],
)
def test_without_lang_the_browsers_preference_decides(
    kleur: ServerProcess, accept_language: str | None, lang: str
) -> None:
    response = _get(kleur, "/api/templates/participatiescan", accept_language)
    assert response.json() == SCAN.localized(lang).to_public_dict()
    assert "accept-language" in response.headers["vary"].lower()
    listed = _get(kleur, "/api/templates", accept_language).json()
    assert {t["id"]: t["title"] for t in listed} == {
        t.id: t.localized(lang).title for t in TEMPLATES.values()
    }


def test_the_dutch_start_page_list_shows_no_english_template_text(kleur: ServerProcess) -> None:
    for request in ("/api/templates?lang=nl", "/api/templates"):
        listed = _get(kleur, request, "nl-NL,nl;q=0.9").json()
        assert [t["id"] for t in listed] == list(TEMPLATES)
        for summary in listed:
            template = TEMPLATES[summary["id"]]
            dutch, english = template.localized("nl"), template.localized("en")
            assert summary["language"] == "nl"
            assert (summary["title"], summary["description"]) == (dutch.title, dutch.description)
            assert summary["description"] != english.description
            assert summary["languages"] == ["en", "nl"]
            assert summary["norms"] == len(template.norms)
    # The English list is English throughout, the English-first team check included.
    english_list = _get(kleur, "/api/templates?lang=en").json()
    assert [t["description"] for t in english_list] == [
        t.localized("en").description for t in TEMPLATES.values()
    ]


@pytest.mark.parametrize("path", ["/api/templates", "/api/templates/participatiescan"])
@pytest.mark.parametrize("lang", ["de", "", "NL"])
def test_another_language_is_refused(kleur: ServerProcess, path: str, lang: str) -> None:
    response = _get(kleur, f"{path}?lang={lang}")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_field"


def test_an_unknown_template_is_still_not_found(kleur: ServerProcess) -> None:
    assert _get(kleur, "/api/templates/nope?lang=en").status_code == 404


def test_an_export_uses_the_templates_texts_in_its_language(kleur: ServerProcess) -> None:
    room = kleur.create_room()
    auth = {"authorization": f"Bearer {room['facilitator_token']}"}
    for lang in ("nl", "en"):
        url = f"{kleur.http_url}/api/rooms/{room['code']}/export.md?lang={lang}"
        text = httpx.get(url, headers=auth).text
        template = SCAN.localized(lang)
        other = SCAN.localized("en" if lang == "nl" else "nl")
        assert template.title in text and other.title not in text
        assert template.themes[0].title in text and other.themes[0].title not in text


@pytest.mark.parametrize("fmt", ["md", "csv", "json"])
def test_every_export_format_names_the_norms_in_its_language(fmt: str) -> None:
    norm = SCAN.norms[1]
    data = RoomData(SCAN.id, Phase.REVEAL, 1, False, 1, 1, tallies={norm.id: {7: 1}})
    for lang, other in (("nl", "en"), ("en", "nl")):
        document = export.render(fmt, data, SCAN, lang, "ABC234").body
        if fmt == "csv":  # a ZIP of one CSV file per table
            with zipfile.ZipFile(io.BytesIO(document)) as archive:
                document = b"\n".join(archive.read(name) for name in archive.namelist())
        body = document.decode("utf-8-sig").replace("\ufeff", "")
        assert SCAN.localized(lang).norm(norm.id).title in body
        assert SCAN.localized(other).norm(norm.id).title not in body
