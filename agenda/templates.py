"""Rating templates: the themes and norms a session rates, loaded from TOML.

A template is plain, frozen data.  ``parse_template`` turns a mapping (a parsed
TOML file, or the output of ``Template.to_public_dict``) into a ``Template`` and
checks everything on the way in; each problem raises ``TemplateError`` naming
the file and the field, e.g. ``participatiescan.toml: themes[1].norms[3].title:
must be a non-empty string``.  Indexes in field paths count from 0.

Text fields are stripped and runs of whitespace become one space, so a long
TOML string may be wrapped over several lines.

A text field is either a plain string, in the template's ``language``, or a
table with a text per language (``title.nl = "..."`` and ``title.en = "..."``,
or ``label = { nl = "...", en = "..." }``) that must hold the template's own
language.  ``Template.localized(lang)`` gives the template with plain strings
in one language (the own language where a text lacks ``lang``); the API and
the exports hand that on, so no reader downstream meets a table.
"""

from __future__ import annotations

import datetime
import functools
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Final, NoReturn

#: Languages a template may be written in.
LANGUAGES: Final = frozenset({"nl", "en"})

#: Longest title or label, and longest description, in characters.
MAX_TITLE_CHARS: Final = 120
MAX_DESCRIPTION_CHARS: Final = 400

#: Most answers a scale may offer (a 0-10 school grade has 11).
MAX_SCALE_VALUES: Final = 20

#: Ids of templates, themes, norms and organisation types.
SLUG_PATTERN: Final = "^[a-z0-9][a-z0-9-]{0,31}$"
_SLUG: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")  # used with fullmatch: no "\n" slips by


class TemplateError(ValueError):
    """A template file or mapping that is not a valid template."""

    def __init__(self, source: str, field: str, message: str) -> None:
        super().__init__(source, field, message)
        self.source = source
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.source}: {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class Scale:
    """The answers a participant may give to each norm."""

    min: int
    max: int
    dont_know: bool
    min_label: str
    max_label: str

    def __post_init__(self) -> None:
        if self.min >= self.max:
            raise ValueError(f"scale min ({self.min}) must be below max ({self.max})")
        if self.max - self.min + 1 > MAX_SCALE_VALUES:
            raise ValueError(f"scale offers more than {MAX_SCALE_VALUES} values")

    def allows(self, value: int | None) -> bool:
        """Whether ``value`` is a valid answer; ``None`` means "don't know"."""
        if value is None:
            return self.dont_know
        if isinstance(value, bool) or not isinstance(value, int):
            return False
        return self.min <= value <= self.max

    @property
    def values(self) -> tuple[int, ...]:
        """Every number on the scale, from ``min`` to ``max`` inclusive."""
        return tuple(range(self.min, self.max + 1))


class SecondQuestionKind(StrEnum):
    """What a template's optional second question asks, per norm."""

    #: How important the norm is to the table.
    IMPORTANCE = "importance"
    #: The level the table wants to reach (e.g. in two years).
    IDEAL = "ideal"


@dataclass(frozen=True, slots=True)
class SecondQuestion:
    """A second question asked of every norm, on the template's scale.

    Its answers never mix with the main ratings: they are tallied apart and
    give, per norm, a gap (its median minus the main median; see
    ``agenda.analysis.gap``).  The scale's numbers and "don't know" are the
    main scale's; only the question and the end labels are its own.
    """

    kind: SecondQuestionKind
    #: Shown to participants under each norm, e.g. "How important is this?".
    question: str
    min_label: str
    max_label: str


@dataclass(frozen=True, slots=True)
class Example:
    """A good-practice example shown while a norm is discussed."""

    text: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Figure:
    """A regional figure shown while a norm is discussed: always with its source and date."""

    label: str
    value: float
    unit: str
    source: str
    #: "YYYY", "YYYY-MM" or "YYYY-MM-DD": when the figure was measured or published.
    date: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Norm:
    """One statement of the ideal situation, rated on the template's scale."""

    id: str
    theme_id: str
    number: int  # 1-based position over the whole template
    title: str
    description: str
    examples: tuple[Example, ...] = ()
    figures: tuple[Figure, ...] = ()


@dataclass(frozen=True, slots=True)
class Theme:
    """A group of related norms, shown under one heading."""

    id: str
    title: str
    norms: tuple[Norm, ...]


@dataclass(frozen=True, slots=True)
class OrgType:
    """A kind of organisation (or role) a participant says they belong to."""

    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Template:
    """A complete questionnaire: scale, themes with norms, and organisation types."""

    id: str
    language: str
    title: str
    description: str
    scale: Scale
    themes: tuple[Theme, ...]
    org_types: tuple[OrgType, ...]
    second_question: SecondQuestion | None = None
    #: The same template in each other language its texts come in, one
    #: plain-string Template per language (see ``localized``); empty for a
    #: template in one language.
    translations: tuple[Template, ...] = ()
    _norms: tuple[Norm, ...] = field(init=False, repr=False, compare=False)
    _norm_by_id: Mapping[str, Norm] = field(init=False, repr=False, compare=False)
    _org_type_ids: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # parse_template reports these with file and field; this guards the
        # indexes below against a Template built by hand.
        norms = tuple(norm for theme in self.themes for norm in theme.norms)
        by_id: dict[str, Norm] = {}
        for theme in self.themes:
            for norm in theme.norms:
                if norm.theme_id != theme.id:
                    raise ValueError(
                        f"norm {norm.id!r} is in theme {theme.id!r}, not {norm.theme_id!r}"
                    )
                if norm.number != len(by_id) + 1:
                    raise ValueError(
                        f"norm {norm.id!r} has number {norm.number}, not {len(by_id) + 1}"
                    )
                if by_id.setdefault(norm.id, norm) is not norm:
                    raise ValueError(f"duplicate norm id {norm.id!r}")
        if len({theme.id for theme in self.themes}) != len(self.themes):
            raise ValueError("duplicate theme id")
        org_type_ids = frozenset(org.id for org in self.org_types)
        if len(org_type_ids) != len(self.org_types):
            raise ValueError("duplicate organisation type id")
        languages = [self.language, *(t.language for t in self.translations)]
        if len(set(languages)) != len(languages):
            raise ValueError(f"more than one text for a language: {languages}")
        for translation in self.translations:
            # A translation differs in its texts only: dataclasses.replace()
            # of, say, the scale on a bilingual template must not leave the
            # other language behind unnoticed.
            if translation.translations or _shape(translation) != _shape(self):
                raise ValueError(f"translation {translation.language!r} is not of this template")
        object.__setattr__(self, "_norms", norms)
        object.__setattr__(self, "_norm_by_id", by_id)
        object.__setattr__(self, "_org_type_ids", org_type_ids)

    @property
    def norms(self) -> tuple[Norm, ...]:
        """All norms of all themes, in order."""
        return self._norms

    def norm(self, norm_id: str) -> Norm:
        """The norm with this id; ``KeyError`` if there is none."""
        return self._norm_by_id[norm_id]

    def has_norm(self, norm_id: str) -> bool:
        return norm_id in self._norm_by_id

    def has_org_type(self, org_id: str) -> bool:
        return org_id in self._org_type_ids

    @property
    def languages(self) -> frozenset[str]:
        """The languages the template has texts in: its own, and its translations'."""
        return frozenset({self.language, *(t.language for t in self.translations)})

    def localized(self, lang: str) -> Template:
        """The template with every text in ``lang``, as plain strings and no translations.

        A text the template lacks in ``lang`` is in its own language; a
        template with no text at all in ``lang`` comes back in its own
        language (its ``language`` says so).
        """
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}")
        for translation in self.translations:
            if translation.language == lang:
                return translation
        return replace(self, translations=()) if self.translations else self

    def to_public_dict(self) -> dict[str, object]:
        """Everything in the template as JSON-able data; ``parse_template`` reads it back.

        A text that differs between languages is a table ``{"nl": ..., "en":
        ...}``; for plain strings throughout, use ``localized(lang).to_public_dict()``.
        """
        public = self._plain_dict()
        for translation in self.translations:
            public = _merge_texts(
                public, translation._plain_dict(), self.language, translation.language
            )
        return public

    def _plain_dict(self) -> dict[str, object]:
        scale = self.scale
        return {
            "id": self.id,
            "language": self.language,
            "title": self.title,
            "description": self.description,
            "scale": {
                "min": scale.min,
                "max": scale.max,
                "dont_know": scale.dont_know,
                "min_label": scale.min_label,
                "max_label": scale.max_label,
            },
            "themes": [
                {
                    "id": theme.id,
                    "title": theme.title,
                    "norms": [_norm_dict(norm) for norm in theme.norms],
                }
                for theme in self.themes
            ],
            "org_types": [{"id": org.id, "label": org.label} for org in self.org_types],
            # Always present (null when not asked), so clients need no guessing.
            "second_question": None
            if self.second_question is None
            else {
                "kind": self.second_question.kind.value,
                "question": self.second_question.question,
                "min_label": self.second_question.min_label,
                "max_label": self.second_question.max_label,
            },
        }


def _shape(template: Template) -> tuple[object, ...]:
    """Everything in ``template`` but its texts and translations."""
    scale = template.scale
    question = template.second_question
    return (
        template.id,
        (scale.min, scale.max, scale.dont_know),
        question and question.kind,
        tuple(
            (
                theme.id,
                tuple(
                    (
                        norm.id,
                        tuple(example.link for example in norm.examples),
                        tuple((f.value, f.date, f.link) for f in norm.figures),
                    )
                    for norm in theme.norms
                ),
            )
            for theme in template.themes
        ),
        tuple(org.id for org in template.org_types),
    )


def _merge_texts(
    own: dict[str, object], other: dict[str, object], lang: str, other_lang: str
) -> dict[str, object]:
    """``own``, with each string that ``other`` (the same template in ``other_lang``) words
    otherwise turned into a table of both."""

    def merge(a: object, b: object) -> object:
        if isinstance(a, dict) and isinstance(b, dict):
            return {key: a[key] if key == "language" else merge(a[key], b[key]) for key in a}
        if isinstance(a, list) and isinstance(b, list):
            return [merge(x, y) for x, y in zip(a, b, strict=True)]
        if isinstance(a, dict) and isinstance(b, str):  # a table from an earlier translation
            return a if b == a[lang] else {**a, other_lang: b}
        if isinstance(a, str) and isinstance(b, str) and a != b:
            return {lang: a, other_lang: b}
        return a

    merged = merge(own, other)
    assert isinstance(merged, dict)
    return merged


# --- parsing -----------------------------------------------------------------


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _fail(source: _Source | str, where: str, message: str) -> NoReturn:
    name = source.name if isinstance(source, _Source) else source
    raise TemplateError(name, where, message)


def _table(
    value: object,
    source: _Source | str,
    path: str,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> Mapping[str, object]:
    """``value`` as a table with exactly the ``required`` keys (plus any ``optional``)."""
    if not isinstance(value, Mapping):
        _fail(source, path or "<root>", "must be a table")
    allowed = required + optional
    for key in value:
        if key not in allowed:
            expected = ", ".join(allowed)
            _fail(source, _join(path, str(key)), f"unknown key (expected one of: {expected})")
    for key in required:
        if key not in value:
            _fail(source, _join(path, key), "missing required key")
    return value


def _norm_dict(norm: Norm) -> dict[str, object]:
    out: dict[str, object] = {
        "id": norm.id,
        "number": norm.number,
        "title": norm.title,
        "description": norm.description,
    }
    # Only when present, so that a template without them looks as it always did.
    if norm.examples:
        out["examples"] = [{"text": e.text, "link": e.link} for e in norm.examples]
    if norm.figures:
        out["figures"] = [
            {
                "label": f.label,
                "value": f.value,
                "unit": f.unit,
                "source": f.source,
                "date": f.date,
                "link": f.link,
            }
            for f in norm.figures
        ]
    return out


_LINK = re.compile(r"https?://[^\s]{1,300}")
_FIGURE_DATE = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")


def _is_figure_date(text: str) -> bool:
    """A year, a month or a day that exists ("2025-13" and "2025-02-30" do not)."""
    if not _FIGURE_DATE.fullmatch(text):
        return False
    parts = [int(part) for part in text.split("-")] + [1, 1]
    try:
        datetime.date(parts[0], parts[1], parts[2])
    except ValueError:
        return False
    return True


def _link(table: Mapping[str, object], source: _Source, path: str) -> str | None:
    if table.get("link") is None:
        return None
    value = table["link"]
    if not isinstance(value, str) or not _LINK.fullmatch(value):
        _fail(source, _join(path, "link"), "must be an http(s) address")
    return value


def _parse_examples(value: object, source: _Source, path: str) -> tuple[Example, ...]:
    examples = []
    for index, item in enumerate(_array(value, source, path)):
        where = f"{path}[{index}]"
        table = _table(item, source, where, ("text",), ("link",))
        examples.append(
            Example(
                _text(table, "text", source, where, MAX_DESCRIPTION_CHARS),
                _link(table, source, where),
            )
        )
    return tuple(examples)


def _parse_figures(value: object, source: _Source, path: str) -> tuple[Figure, ...]:
    figures = []
    for index, item in enumerate(_array(value, source, path)):
        where = f"{path}[{index}]"
        table = _table(item, source, where, ("label", "value", "source", "date"), ("unit", "link"))
        number = table["value"]
        if isinstance(number, bool) or not isinstance(number, int | float):
            _fail(source, _join(where, "value"), "must be a number")
        date = table["date"]
        if not isinstance(date, str) or not _is_figure_date(date):
            _fail(source, _join(where, "date"), "must be a real YYYY, YYYY-MM or YYYY-MM-DD")
        unit = _text(table, "unit", source, where, MAX_TITLE_CHARS) if "unit" in table else ""
        figures.append(
            Figure(
                label=_text(table, "label", source, where, MAX_TITLE_CHARS),
                value=float(number),
                unit=unit,
                source=_text(table, "source", source, where, MAX_TITLE_CHARS),
                date=date,
                link=_link(table, source, where),
            )
        )
    return tuple(figures)


def _array(value: object, source: _Source, where: str) -> Sequence[object]:
    """``value`` as a non-empty array."""
    if not isinstance(value, list | tuple):
        _fail(source, where, "must be an array")
    if not value:
        _fail(source, where, "must contain at least one entry")
    return value


def _text(table: Mapping[str, object], key: str, source: _Source, path: str, max_chars: int) -> str:
    """The text at ``key`` in the language being built (see ``_Source``).

    A plain string is in the template's own language; a table gives a text
    per language (``{ nl = "...", en = "..." }``) and must hold the own one,
    which stands in for any language it lacks.
    """
    where = _join(path, key)
    value = table[key]
    if not isinstance(value, Mapping):
        return _one_text(value, source, where, max_chars)
    if not value:
        _fail(source, where, "must be a non-empty string or a table of texts per language")
    texts: dict[str, str] = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            expected = ", ".join(sorted(LANGUAGES))
            _fail(
                source, _join(where, str(lang)), f"unknown language (expected one of: {expected})"
            )
        texts[lang] = _one_text(text, source, _join(where, lang), max_chars)
    if source.own not in texts:
        _fail(
            source, _join(where, source.own), f"missing: the template's language is {source.own!r}"
        )
    source.languages.update(texts)
    return texts.get(source.language, texts[source.own])


def _one_text(value: object, source: _Source, where: str, max_chars: int) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail(source, where, "must be a non-empty string")
    text = " ".join(value.split())
    if any(unicodedata.category(char) == "Cc" for char in text):
        _fail(source, where, "must not contain control characters")
    if len(text) > max_chars:
        _fail(source, where, f"must be at most {max_chars} characters, got {len(text)}")
    return text


def _slug(table: Mapping[str, object], key: str, source: _Source, path: str) -> str:
    where = _join(path, key)
    value = table[key]
    if not isinstance(value, str):
        _fail(source, where, "must be a string")
    if not _SLUG.fullmatch(value):
        _fail(source, where, f"must match {SLUG_PATTERN} (lowercase, digits, '-'), got {value!r}")
    return value


def _int(table: Mapping[str, object], key: str, source: _Source, path: str) -> int:
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(source, _join(path, key), "must be an integer")
    return value


def _bool(table: Mapping[str, object], key: str, source: _Source, path: str) -> bool:
    value = table[key]
    if not isinstance(value, bool):
        _fail(source, _join(path, key), "must be true or false")
    return value


def _unique(seen: dict[str, str], slug: str, source: _Source, where: str) -> None:
    """Record that ``slug`` is used at ``where``; fail if it was used before."""
    if slug in seen:
        _fail(source, where, f"duplicate id {slug!r} (already used at {seen[slug]})")
    seen[slug] = where


def _parse_scale(value: object, source: _Source) -> Scale:
    path = "scale"
    table = _table(value, source, path, ("min", "max", "dont_know", "min_label", "max_label"))
    low = _int(table, "min", source, path)
    high = _int(table, "max", source, path)
    if low >= high:
        _fail(source, "scale.max", f"must be greater than scale.min ({low}), got {high}")
    if high - low + 1 > MAX_SCALE_VALUES:
        count = high - low + 1
        _fail(source, "scale.max", f"scale offers {count} values, at most {MAX_SCALE_VALUES}")
    return Scale(
        min=low,
        max=high,
        dont_know=_bool(table, "dont_know", source, path),
        min_label=_text(table, "min_label", source, path, MAX_TITLE_CHARS),
        max_label=_text(table, "max_label", source, path, MAX_TITLE_CHARS),
    )


def _parse_second_question(value: object, source: _Source) -> SecondQuestion | None:
    if value is None:  # to_public_dict writes null for "not asked"
        return None
    path = "second_question"
    table = _table(value, source, path, ("kind", "question", "min_label", "max_label"))
    kind = table["kind"]
    kinds = {k.value: k for k in SecondQuestionKind}
    if not isinstance(kind, str) or kind not in kinds:
        expected = ", ".join(repr(k) for k in kinds)
        _fail(source, f"{path}.kind", f"must be one of {expected}, got {kind!r}")
    return SecondQuestion(
        kind=kinds[kind],
        question=_text(table, "question", source, path, MAX_TITLE_CHARS),
        min_label=_text(table, "min_label", source, path, MAX_TITLE_CHARS),
        max_label=_text(table, "max_label", source, path, MAX_TITLE_CHARS),
    )


def _parse_themes(value: object, source: _Source) -> tuple[Theme, ...]:
    theme_ids: dict[str, str] = {}
    norm_ids: dict[str, str] = {}
    themes: list[Theme] = []
    for theme_index, theme_value in enumerate(_array(value, source, "themes")):
        theme_path = f"themes[{theme_index}]"
        theme_table = _table(theme_value, source, theme_path, ("id", "title", "norms"))
        theme_id = _slug(theme_table, "id", source, theme_path)
        _unique(theme_ids, theme_id, source, f"{theme_path}.id")
        theme_title = _text(theme_table, "title", source, theme_path, MAX_TITLE_CHARS)
        norms: list[Norm] = []
        norm_values = _array(theme_table["norms"], source, f"{theme_path}.norms")
        for norm_index, norm_value in enumerate(norm_values):
            path = f"{theme_path}.norms[{norm_index}]"
            # "number" is derived; it is accepted (and checked) so that the
            # output of Template.to_public_dict parses back.
            table = _table(
                norm_value,
                source,
                path,
                ("id", "title", "description"),
                ("number", "examples", "figures"),
            )
            norm_id = _slug(table, "id", source, path)
            _unique(norm_ids, norm_id, source, f"{path}.id")
            number = len(norm_ids)
            if "number" in table and _int(table, "number", source, path) != number:
                _fail(source, f"{path}.number", f"must be {number} (its position) or left out")
            norms.append(
                Norm(
                    id=norm_id,
                    theme_id=theme_id,
                    number=number,
                    title=_text(table, "title", source, path, MAX_TITLE_CHARS),
                    description=_text(table, "description", source, path, MAX_DESCRIPTION_CHARS),
                    examples=_parse_examples(table["examples"], source, f"{path}.examples")
                    if "examples" in table
                    else (),
                    figures=_parse_figures(table["figures"], source, f"{path}.figures")
                    if "figures" in table
                    else (),
                )
            )
        themes.append(Theme(id=theme_id, title=theme_title, norms=tuple(norms)))
    return tuple(themes)


def _parse_org_types(value: object, source: _Source) -> tuple[OrgType, ...]:
    seen: dict[str, str] = {}
    org_types: list[OrgType] = []
    for index, org_value in enumerate(_array(value, source, "org_types")):
        path = f"org_types[{index}]"
        table = _table(org_value, source, path, ("id", "label"))
        org_id = _slug(table, "id", source, path)
        _unique(seen, org_id, source, f"{path}.id")
        org_types.append(
            OrgType(id=org_id, label=_text(table, "label", source, path, MAX_TITLE_CHARS))
        )
    return tuple(org_types)


@dataclass(frozen=True, slots=True)
class _Source:
    """What one parsing pass needs besides the data: its origin and the language it builds."""

    #: The file (or other origin) named in every ``TemplateError``.
    name: str
    #: The template's own language: its plain strings are in it.
    own: str
    #: The language whose texts this pass picks (``own`` for the first pass).
    language: str
    #: Every language a text table offered, filled in by ``_text``.
    languages: set[str] = field(default_factory=set)


def parse_template(data: Mapping[str, object], source: str) -> Template:
    """Check ``data`` and build a ``Template``; ``source`` names it in errors.

    The data is read once in the template's own language, which checks it
    all; then once more for each other language a text table offers, to
    build that language's version (``Template.localized``).
    """
    table = _table(
        data,
        source,
        "",
        ("id", "language", "title", "description", "scale", "themes", "org_types"),
        ("second_question",),
    )
    language = table["language"]
    if not isinstance(language, str) or language not in LANGUAGES:
        expected = ", ".join(repr(lang) for lang in sorted(LANGUAGES))
        _fail(source, "language", f"must be one of {expected}, got {language!r}")
    first = _Source(source, own=language, language=language)
    template = _parse_in(table, first)
    others = sorted(first.languages - {language})
    if not others:
        return template
    translations = tuple(
        _parse_in(table, _Source(source, own=language, language=lang)) for lang in others
    )
    return replace(template, translations=translations)


def _parse_in(table: Mapping[str, object], source: _Source) -> Template:
    """The template with its texts in ``source.language`` (the own one where a text lacks it)."""
    return Template(
        id=_slug(table, "id", source, ""),
        language=source.language,
        title=_text(table, "title", source, "", MAX_TITLE_CHARS),
        description=_text(table, "description", source, "", MAX_DESCRIPTION_CHARS),
        scale=_parse_scale(table["scale"], source),
        themes=_parse_themes(table["themes"], source),
        org_types=_parse_org_types(table["org_types"], source),
        second_question=_parse_second_question(table.get("second_question"), source),
    )


def load_template(path: Path) -> Template:
    """Read and check one TOML template; its ``id`` must equal the file's stem.

    Errors in the file raise ``TemplateError``; a missing or unreadable file
    raises ``OSError`` as usual.
    """
    source = path.name
    with path.open("rb") as file:
        try:
            data = tomllib.load(file)
        except tomllib.TOMLDecodeError as exc:
            raise TemplateError(source, "<toml>", str(exc)) from exc
        except UnicodeDecodeError as exc:
            raise TemplateError(source, "<toml>", f"not valid UTF-8: {exc}") from exc
    template = parse_template(data, source)
    if template.id != path.stem:
        _fail(
            source,
            "id",
            f"must equal the file name without .toml ({path.stem!r}), got {template.id!r}",
        )
    return template


def builtin_template_dir() -> Path:
    """The directory of the templates shipped with kleur."""
    return Path(__file__).resolve().parent / "templates"


@functools.cache
def load_builtin_templates() -> dict[str, Template]:
    """Every shipped template, keyed by id.  Cached: the dict is shared, do not change it."""
    return {
        template.id: template
        for template in (
            load_template(path) for path in sorted(builtin_template_dir().glob("*.toml"))
        )
    }
