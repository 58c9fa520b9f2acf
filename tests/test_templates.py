"""Templates: the shipped files, the loader's checks and the public form."""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from agenda.templates import (
    Norm,
    OrgType,
    Scale,
    SecondQuestion,
    SecondQuestionKind,
    Template,
    TemplateError,
    Theme,
    builtin_template_dir,
    load_builtin_templates,
    load_template,
    parse_template,
)

PARTICIPATIESCAN_THEMES = (
    "Focus op werk en talent",
    "Kwaliteit begeleiding",
    "Randvoorwaarden voor goede begeleiding",
    "Effectieve samenwerking",
)

PARTICIPATIESCAN_NORMS = (
    "Deskundigheid omgaan met werkgevers",
    "Reële werkervaring",
    "Samenwerking met werkgevers",
    "Ondersteuning bij stages",
    "Goed en breed netwerk",
    "Individueel gestimuleerd",
    "Deskundige begeleiding",
    "Vroegtijdige signalering",
    "Ouders/verzorgers actief betrokken",
    "Vroegtijdige begeleiding en overdracht",
    "Jongere maakt zelf toekomstplan",
    "Soepele overgang boven 18",
    "Snel een passende woonplek",
    "Vertrouwde volwassene",
    "Hulpverleners herkennen financiële problematiek",
    "Gedeelde visie tussen betrokken partners",
    "Samenwerking op en tussen niveaus",
    "Duidelijke regie",
    "Eenduidige afspraken",
    "Samenwerking gemeenten",
)

PARTICIPATIESCAN_ORG_TYPES = (
    ("gemeente", "Gemeente"),
    ("onderwijs", "Onderwijs"),
    ("zorg-jeugdhulp", "Zorg/jeugdhulp"),
    ("werkgever", "Werkgever"),
    ("uwv", "UWV"),
    ("leerplicht-rmc", "Leerplicht/RMC"),
    ("anders", "Anders"),
)


def raw(template_id: str) -> dict[str, Any]:
    """A shipped template file as parsed TOML, fresh for each call."""
    with (builtin_template_dir() / f"{template_id}.toml").open("rb") as file:
        return tomllib.load(file)


def all_norms() -> list[Norm]:
    return [norm for template in load_builtin_templates().values() for norm in template.norms]


# --- the shipped templates ---------------------------------------------------


def test_builtin_templates_load_keyed_by_id() -> None:
    templates = load_builtin_templates()
    assert set(templates) == {"participatiescan", "team-health"}
    for key, template in templates.items():
        assert template.id == key
    assert load_builtin_templates() is templates  # cached


def test_participatiescan_content() -> None:
    scan = load_builtin_templates()["participatiescan"]
    assert scan.language == "nl"
    assert tuple(theme.title for theme in scan.themes) == PARTICIPATIESCAN_THEMES
    assert [len(theme.norms) for theme in scan.themes] == [5, 5, 5, 5]
    assert tuple(norm.title for norm in scan.norms) == PARTICIPATIESCAN_NORMS
    assert [norm.number for norm in scan.norms] == list(range(1, 21))
    for theme in scan.themes:
        assert all(norm.theme_id == theme.id for norm in theme.norms)
    assert tuple((org.id, org.label) for org in scan.org_types) == PARTICIPATIESCAN_ORG_TYPES
    assert (scan.scale.min, scan.scale.max, scan.scale.dont_know) == (0, 10, True)
    assert scan.scale.values == tuple(range(11))
    assert scan.scale.min_label and scan.scale.max_label


def test_team_health_content() -> None:
    team = load_builtin_templates()["team-health"]
    assert team.language == "en"
    assert (team.scale.min, team.scale.max, team.scale.dont_know) == (1, 5, True)
    assert len(team.themes) == 3
    assert all(3 <= len(theme.norms) <= 4 for theme in team.themes)
    assert [org.id for org in team.org_types] == [
        "engineering",
        "product",
        "design",
        "management",
        "other",
    ]


def all_norms_in_every_language() -> list[Norm]:
    return [
        norm
        for template in load_builtin_templates().values()
        for lang in sorted(template.languages)
        for norm in template.localized(lang).norms
    ]


@pytest.mark.parametrize(
    "norm", all_norms_in_every_language(), ids=lambda norm: f"{norm.id}-{norm.description[:12]}"
)
def test_norm_description_is_one_sentence(norm: Norm) -> None:
    text = norm.description
    assert text[0].isupper()
    assert text.endswith(".")
    assert ". " not in text
    assert len(text) <= 400


@pytest.mark.parametrize(
    "template",
    [t.localized(lang) for t in load_builtin_templates().values() for lang in ("nl", "en")],
    ids=lambda t: f"{t.id}-{t.language}",
)
def test_template_description_is_one_sentence(template: Template) -> None:
    assert template.description.endswith(".")
    assert ". " not in template.description
    assert len(template.description) <= 400


def test_norm_and_org_type_lookup() -> None:
    scan = load_builtin_templates()["participatiescan"]
    norm = scan.norm("reele-werkervaring")
    assert (norm.number, norm.title, norm.theme_id) == (2, "Reële werkervaring", "werk-en-talent")
    assert scan.has_norm("samenwerking-gemeenten")
    assert not scan.has_norm("Samenwerking gemeenten")
    with pytest.raises(KeyError):
        scan.norm("no-such-norm")
    assert scan.has_org_type("uwv")
    assert not scan.has_org_type("engineering")


def test_templates_are_frozen_and_hashable() -> None:
    scan = load_builtin_templates()["participatiescan"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        scan.title = "other"  # type: ignore[misc]
    assert hash(scan) == hash(parse_template(raw("participatiescan"), "copy"))


# --- Scale.allows ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        (0, True),
        (10, True),
        (5, True),
        (-1, False),
        (11, False),
        (None, True),
        (True, False),
        (False, False),
    ],
)
def test_scale_allows_with_dont_know(value: int | None, allowed: bool) -> None:
    scale = Scale(min=0, max=10, dont_know=True, min_label="low", max_label="high")
    assert scale.allows(value) is allowed


@pytest.mark.parametrize(("value", "allowed"), [(None, False), (1, True), (5, True), (0, False)])
def test_scale_allows_without_dont_know(value: int | None, allowed: bool) -> None:
    scale = Scale(min=1, max=5, dont_know=False, min_label="low", max_label="high")
    assert scale.allows(value) is allowed
    assert scale.values == (1, 2, 3, 4, 5)


def test_scale_rejects_non_integers_at_runtime() -> None:
    scale = Scale(min=0, max=10, dont_know=True, min_label="low", max_label="high")
    assert not scale.allows(5.0)  # type: ignore[arg-type]
    assert not scale.allows("5")  # type: ignore[arg-type]


# --- errors ------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: tuple[str | int, ...], value: object) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return mutate


def _delete(path: tuple[str | int, ...]) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return mutate


def _duplicate_norm_across_themes(data: dict[str, Any]) -> None:
    data["themes"][2]["norms"][0]["id"] = data["themes"][0]["norms"][1]["id"]


def _duplicate_theme(data: dict[str, Any]) -> None:
    data["themes"][1]["id"] = data["themes"][0]["id"]


def _duplicate_org_type(data: dict[str, Any]) -> None:
    data["org_types"][6]["id"] = "gemeente"


BROKEN: list[tuple[str, Mutation, str, str]] = [
    ("missing-title", _delete(("title",)), "title", "missing"),
    ("missing-scale", _delete(("scale",)), "scale", "missing"),
    ("typo-top-level", _set(("titel",), "x"), "titel", "unknown key"),
    (
        "typo-in-norm",
        _set(("themes", 0, "norms", 0, "weight"), 2),
        "themes[0].norms[0].weight",
        "unknown key",
    ),
    (
        "empty-norm-title",
        _set(("themes", 1, "norms", 3, "title"), "  "),
        "themes[1].norms[3].title",
        "non-empty",
    ),
    (
        "norm-title-not-string",
        _set(("themes", 0, "norms", 2, "title"), 3),
        "themes[0].norms[2].title",
        "non-empty string",
    ),
    ("bad-theme-slug", _set(("themes", 0, "id"), "Werk_en_Talent"), "themes[0].id", "must match"),
    (
        "slug-with-newline",
        _set(("org_types", 0, "id"), "gemeente\n"),
        "org_types[0].id",
        "must match",
    ),
    ("slug-too-long", _set(("id",), "a" * 33), "id", "must match"),
    (
        "duplicate-norm",
        _duplicate_norm_across_themes,
        "themes[2].norms[0].id",
        "themes[0].norms[1].id",
    ),
    ("duplicate-theme", _duplicate_theme, "themes[1].id", "duplicate"),
    ("duplicate-org-type", _duplicate_org_type, "org_types[6].id", "org_types[0].id"),
    ("scale-min-not-below-max", _set(("scale", "min"), 10), "scale.max", "greater than"),
    ("scale-too-wide", _set(("scale", "max"), 20), "scale.max", "at most 20"),
    ("scale-bool-as-int", _set(("scale", "min"), True), "scale.min", "integer"),
    ("dont-know-not-bool", _set(("scale", "dont_know"), "yes"), "scale.dont_know", "true or false"),
    ("theme-without-norms", _set(("themes", 3, "norms"), []), "themes[3].norms", "at least one"),
    ("no-org-types", _set(("org_types",), []), "org_types", "at least one"),
    ("themes-not-array", _set(("themes",), {"id": "x"}), "themes", "array"),
    ("norm-not-table", _set(("themes", 0, "norms", 4), "norm"), "themes[0].norms[4]", "table"),
    ("language", _set(("language",), "de"), "language", "'en', 'nl'"),
    ("title-too-long", _set(("title",), "x" * 121), "title", "at most 120"),
    (
        "description-too-long",
        _set(("themes", 0, "norms", 0, "description"), "x" * 401),
        "themes[0].norms[0].description",
        "at most 400",
    ),
    (
        "control-character",
        _set(("org_types", 2, "label"), "Zorg\x00"),
        "org_types[2].label",
        "control",
    ),
    (
        "wrong-number",
        _set(("themes", 0, "norms", 1, "number"), 5),
        "themes[0].norms[1].number",
        "must be 2",
    ),
]


def test_unbroken_base_parses() -> None:
    # Every case below changes exactly one thing in this mapping.
    template = parse_template(raw("participatiescan"), "test.toml")
    assert template == load_builtin_templates()["participatiescan"]


@pytest.mark.parametrize(
    ("mutate", "field", "fragment"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_template_names_field(mutate: Mutation, field: str, fragment: str) -> None:
    data = copy.deepcopy(raw("participatiescan"))
    mutate(data)
    with pytest.raises(TemplateError) as caught:
        parse_template(data, "test.toml")
    error = caught.value
    assert (error.source, error.field) == ("test.toml", field)
    assert str(error).startswith(f"test.toml: {field}: ")
    assert fragment in error.message


def test_root_must_be_a_table() -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template([], "test.toml")  # type: ignore[arg-type]
    assert caught.value.field == "<root>"


def test_text_whitespace_is_normalised() -> None:
    data = raw("team-health")
    data["themes"][0]["norms"][0]["description"] = "  We ship\n   useful   work.\n"
    template = parse_template(data, "test.toml")
    assert template.norms[0].description == "We ship useful work."


def test_number_may_be_given_when_right() -> None:
    data = raw("participatiescan")
    data["themes"][1]["norms"][0]["number"] = 6
    assert parse_template(data, "test.toml").norms[5].number == 6


# --- files -------------------------------------------------------------------


def test_toml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('id = "broken"\ntitle = \n', encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert (caught.value.source, caught.value.field) == ("broken.toml", "<toml>")
    assert str(caught.value).startswith("broken.toml: <toml>: ")


def test_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes('title = "Reële"\n'.encode("latin-1"))
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert caught.value.field == "<toml>"


def test_id_must_equal_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "other.toml"
    shutil.copy(builtin_template_dir() / "participatiescan.toml", path)
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert (caught.value.source, caught.value.field) == ("other.toml", "id")
    assert "'other'" in caught.value.message


def test_copied_file_loads_equal(tmp_path: Path) -> None:
    path = tmp_path / "participatiescan.toml"
    shutil.copy(builtin_template_dir() / "participatiescan.toml", path)
    assert load_template(path) == load_builtin_templates()["participatiescan"]


def test_content_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "team-health.toml"
    text = (builtin_template_dir() / "team-health.toml").read_text(encoding="utf-8")
    path.write_text(text.replace('id = "fun"', 'id = "Fun"'), encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert str(caught.value).startswith("team-health.toml: themes[2].norms[3].id: must match")


# --- public form -------------------------------------------------------------


@pytest.mark.parametrize("template", load_builtin_templates().values(), ids=lambda t: t.id)
def test_public_dict_round_trips_through_json(template: Template) -> None:
    public = template.to_public_dict()
    decoded = json.loads(json.dumps(public))
    assert decoded == public
    assert parse_template(decoded, "public") == template


def test_public_dict_shape() -> None:
    public = load_builtin_templates()["participatiescan"].localized("nl").to_public_dict()
    assert set(public) == {
        "id",
        "language",
        "title",
        "description",
        "scale",
        "themes",
        "org_types",
        "second_question",
    }
    assert public["second_question"] is None
    assert public["scale"] == {
        "min": 0,
        "max": 10,
        "dont_know": True,
        "min_label": "zeer slecht",
        "max_label": "uitstekend",
    }
    themes: Any = public["themes"]
    assert themes[3]["norms"][4] == {
        "id": "samenwerking-gemeenten",
        "number": 20,
        "title": "Samenwerking gemeenten",
        "description": load_builtin_templates()["participatiescan"].norms[19].description,
    }
    assert public["org_types"] == [
        {"id": i, "label": label} for i, label in PARTICIPATIESCAN_ORG_TYPES
    ]


# --- direct construction -----------------------------------------------------


def test_scale_constructor_checks_bounds() -> None:
    with pytest.raises(ValueError, match="below max"):
        Scale(min=5, max=5, dont_know=False, min_label="a", max_label="b")
    with pytest.raises(ValueError, match="more than 20"):
        Scale(min=0, max=20, dont_know=False, min_label="a", max_label="b")


def test_template_constructor_guards_its_indexes() -> None:
    scale = Scale(min=0, max=10, dont_know=True, min_label="a", max_label="b")
    org_types = (OrgType("a", "A"),)

    def build(*norms: Norm) -> Template:
        theme = Theme(id="t", title="T", norms=norms)
        return Template("x", "en", "X", "X.", scale, (theme,), org_types)

    assert build(Norm("n", "t", 1, "N", "N.")).has_norm("n")
    with pytest.raises(ValueError, match="duplicate norm id"):
        build(Norm("n", "t", 1, "N", "N."), Norm("n", "t", 2, "N", "N."))
    with pytest.raises(ValueError, match="number"):
        build(Norm("n", "t", 2, "N", "N."))
    with pytest.raises(ValueError, match="theme"):
        build(Norm("n", "other", 1, "N", "N."))


# --- second question -----------------------------------------------------------


def _with_second_question(value: object) -> dict[str, object]:
    data = load_builtin_templates()["participatiescan"].to_public_dict()
    data["second_question"] = value
    return data


def test_second_question_is_optional_and_round_trips() -> None:
    team = load_builtin_templates()["team-health"]
    assert team.second_question is not None
    assert team.second_question.kind is SecondQuestionKind.IMPORTANCE
    assert load_builtin_templates()["participatiescan"].second_question is None
    data = _with_second_question(
        {
            "kind": "ideal",
            "question": "  Hoe goed   moet het over twee jaar zijn? ",
            "min_label": "zeer slecht",
            "max_label": "uitstekend",
        }
    )
    template = parse_template(data, "t.toml")
    assert template.second_question == SecondQuestion(
        SecondQuestionKind.IDEAL,
        "Hoe goed moet het over twee jaar zijn?",
        "zeer slecht",
        "uitstekend",
    )
    assert parse_template(template.to_public_dict(), "again") == template


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"kind": "urgency", "question": "q", "min_label": "a", "max_label": "b"}, "kind"),
        ({"kind": "ideal", "question": "", "min_label": "a", "max_label": "b"}, "question"),
        ({"kind": "ideal", "question": "q", "min_label": "a"}, "max_label"),
        ({"kind": "ideal", "question": "q", "min_label": "a", "max_label": "b", "x": 1}, "x"),
        ("ideal", "second_question"),
    ],
)
def test_a_bad_second_question_names_its_field(value: object, field: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(_with_second_question(value), "bad.toml")
    assert caught.value.field.startswith("second_question")
    assert caught.value.field.endswith(field)


# --- languages -----------------------------------------------------------------


def _text_fields(template: Template) -> list[str]:
    """Every text of a one-language template, in a fixed order."""
    texts = [template.title, template.description, template.scale.min_label]
    texts.append(template.scale.max_label)
    if template.second_question is not None:
        question = template.second_question
        texts += [question.question, question.min_label, question.max_label]
    for theme in template.themes:
        texts.append(theme.title)
        for norm in theme.norms:
            texts += [norm.title, norm.description]
            texts += [example.text for example in norm.examples]
            texts += [t for f in norm.figures for t in (f.label, f.unit, f.source)]
    return texts + [org.label for org in template.org_types]


#: Texts that are rightly the same word in Dutch and English.
EQUAL_IN_BOTH_LANGUAGES = {"participatiescan": [], "team-health": ["Product"]}


@pytest.mark.parametrize("template_id", ["participatiescan", "team-health"])
def test_shipped_templates_have_every_text_in_both_languages(template_id: str) -> None:
    template = load_builtin_templates()[template_id]
    assert template.languages == {"nl", "en"}
    nl, en = template.localized("nl"), template.localized("en")
    assert (nl.language, en.language) == ("nl", "en")
    assert nl.translations == () and en.translations == ()
    # Same structure, and (names like "UWV" aside) a text of its own in each language.
    assert [n.id for n in nl.norms] == [n.id for n in en.norms]
    assert [o.id for o in nl.org_types] == [o.id for o in en.org_types]
    same = [a for a, b in zip(_text_fields(nl), _text_fields(en), strict=True) if a == b]
    assert same == EQUAL_IN_BOTH_LANGUAGES[template_id]


def test_participatiescan_keeps_its_dutch_and_gains_english() -> None:
    scan = load_builtin_templates()["participatiescan"]
    assert scan.localized("nl").norms[1].title == "Reële werkervaring"
    assert scan.norms[1].title == "Reële werkervaring"  # the template itself reads as Dutch
    en = scan.localized("en")
    assert en.norms[1].title == "Real work experience"
    assert (en.scale.min_label, en.scale.max_label) == ("very poor", "excellent")
    assert en.org_types[0].label == "Municipality"
    assert en.themes[3].title == "Effective cooperation"
    assert "young people" in en.description


def _bilingual(**texts: object) -> dict[str, Any]:
    """The shipped Participatiescan in its Dutch-only form, with ``texts`` set at top level."""
    data = load_builtin_templates()["participatiescan"].localized("nl").to_public_dict()
    data.update(texts)
    return data


def test_plain_strings_are_one_language_and_localize_to_themselves() -> None:
    template = parse_template(_bilingual(), "plain.toml")
    assert template.languages == {"nl"} and template.translations == ()
    assert template.localized("nl") is template
    # No English at all: the Dutch template comes back, saying it is Dutch.
    assert template.localized("en") is template and template.localized("en").language == "nl"


def test_a_table_gives_a_text_per_language_and_the_rest_falls_back() -> None:
    data = _bilingual(title={"nl": "Regioscan", "en": "Regional scan"})
    data["themes"][0]["norms"][0]["title"] = {"en": "Working with employers", "nl": "Werkgevers"}
    template = parse_template(data, "mixed.toml")
    assert template.languages == {"nl", "en"}
    assert (template.title, template.norms[0].title) == ("Regioscan", "Werkgevers")
    en = template.localized("en")
    assert (en.language, en.title, en.norms[0].title) == (
        "en",
        "Regional scan",
        "Working with employers",
    )
    # Texts with no English are the template's own Dutch.
    assert en.norms[1].title == "Reële werkervaring" == template.norms[1].title
    assert en.org_types == template.org_types
    assert template.localized("nl") == replace(template, translations=())
    # Tables in a table's text are normalised like plain strings.
    data["title"] = {"nl": "  Regio\n   scan ", "en": "Regional\tscan"}
    assert parse_template(data, "x").localized("en").title == "Regional scan"


def test_a_bilingual_template_round_trips_through_its_public_dict() -> None:
    data = _bilingual(title={"nl": "Regioscan", "en": "Regional scan"})
    data["themes"][0]["norms"][0]["examples"] = [{"text": {"nl": "Voorbeeld.", "en": "Example."}}]
    template = parse_template(data, "t.toml")
    public = template.to_public_dict()
    assert public["title"] == {"nl": "Regioscan", "en": "Regional scan"}
    assert public["description"] == template.description  # the same in both: a plain string
    assert parse_template(json.loads(json.dumps(public)), "again") == template
    assert template.localized("en").to_public_dict()["title"] == "Regional scan"


def test_localized_refuses_an_unknown_language() -> None:
    with pytest.raises(ValueError, match="'de'"):
        load_builtin_templates()["participatiescan"].localized("de")


LANGUAGE_ERRORS: list[tuple[str, object, str, str]] = [
    ("unknown-language", {"nl": "Titel", "de": "Titel"}, "title.de", "unknown language"),
    ("own-language-missing", {"en": "Title"}, "title.nl", "template's language is 'nl'"),
    ("empty-table", {}, "title", "table of texts per language"),
    ("empty-text", {"nl": "Titel", "en": " "}, "title.en", "non-empty"),
    ("text-not-string", {"nl": "Titel", "en": 3}, "title.en", "non-empty string"),
    ("too-long", {"nl": "Titel", "en": "x" * 121}, "title.en", "at most 120"),
    ("control-character", {"nl": "Ti\x07tel", "en": "Title"}, "title.nl", "control"),
]


@pytest.mark.parametrize(
    ("value", "field", "fragment"),
    [case[1:] for case in LANGUAGE_ERRORS],
    ids=[case[0] for case in LANGUAGE_ERRORS],
)
def test_a_bad_text_table_names_its_field(value: object, field: str, fragment: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(_bilingual(title=value), "bad.toml")
    assert (caught.value.source, caught.value.field) == ("bad.toml", field)
    assert fragment in caught.value.message


def test_a_bad_text_deep_in_the_template_names_its_path() -> None:
    data = _bilingual()
    data["org_types"][2]["label"] = {"nl": "Zorg", "fr": "Soins"}
    with pytest.raises(TemplateError) as caught:
        parse_template(data, "bad.toml")
    assert caught.value.field == "org_types[2].label.fr"


def test_a_toml_file_may_mix_plain_strings_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(
        """id = "mini"
language = "en"
title = "Mini check"
description.en = "A small check."
description.nl = "Een kleine check."
[scale]
min = 1
max = 5
dont_know = false
min_label = { en = "low", nl = "laag" }
max_label = "high"
[[org_types]]
id = "team"
label = "Team"
[[themes]]
id = "one"
title = { en = "One", nl = "Een" }
[[themes.norms]]
id = "first"
title = "First"
description = "The first norm."
""",
        encoding="utf-8",
    )
    template = load_template(path)
    assert template.language == "en" and template.description == "A small check."
    nl = template.localized("nl")
    assert (nl.description, nl.scale.min_label, nl.scale.max_label) == (
        "Een kleine check.",
        "laag",
        "high",
    )
    assert (nl.themes[0].title, nl.norms[0].title) == ("Een", "First")


def test_translations_must_belong_to_the_template() -> None:
    scan = load_builtin_templates()["participatiescan"]
    team = load_builtin_templates()["team-health"]
    with pytest.raises(ValueError, match="not of this template"):
        replace(scan.localized("nl"), translations=(team.localized("en"),))
    with pytest.raises(ValueError, match="more than one text"):
        replace(scan.localized("nl"), translations=(scan.localized("nl"),))


def test_changing_a_bilingual_template_by_hand_must_change_every_language() -> None:
    scan = load_builtin_templates()["participatiescan"]
    question = SecondQuestion(SecondQuestionKind.IDEAL, "Waar staan we?", "slecht", "goed")
    with pytest.raises(ValueError, match="not of this template"):
        replace(scan, second_question=question)
    with pytest.raises(ValueError, match="not of this template"):
        replace(scan, scale=replace(scan.scale, dont_know=False))
    # A one-language copy may be changed freely.
    assert replace(scan.localized("nl"), second_question=question).localized("en").second_question
