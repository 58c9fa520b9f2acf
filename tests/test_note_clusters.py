"""Suggested note groups (``agenda.note_clusters``): notes on one subject are
grouped, compounds meet their parts, unrelated notes stay alone, and the
answer ignores the order of the notes."""

from __future__ import annotations

import itertools
import random
import unicodedata

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenda.note_clusters import (
    MAX_LABEL_CHARS,
    MIN_SIMILARITY,
    Language,
    SuggestedGroup,
    _add_dense_product,
    _add_sparse_product,
    _average_linkage,
    _label,
    suggest_groups,
)

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Notes = list[tuple[str, str]]
LANGUAGES: tuple[Language, ...] = ("nl", "en")

UNRELATED: Notes = [
    ("u1", "Kinderopvang flexibeler maken"),
    ("u2", "Minder regels en bureaucratie"),
    ("u3", "Duurzaamheid als thema meenemen"),
    ("u4", "Goede voorbeelden delen 👍"),
]

#: Notes of a made-up session, by theme ("misc" notes have none).
THEMES: dict[str, list[str]] = {
    "stage": [
        "Stagebank voor de hele regio",
        "Regionale stagebank voor jongeren",
        "Meer stageplaatsen bij gemeenten",
        "Eén overzicht van alle stages in de regio",
        "Stages beter begeleiden",
        "Stageplekken bij kleine bedrijven",
        "Stagevergoeding gelijk trekken",
        "Stagebegeleiding door ervaren collega's",
    ],
    "loket": [
        "Eén loket voor werkgevers",
        "Werkgeversloket samen met UWV",
        "Eén aanspreekpunt voor werkgevers",
        "Regionaal werkgeversservicepunt versterken",
        "Loket voor werkzoekenden in elke gemeente",
        "Werkgevers weten niet waar ze terecht kunnen",
    ],
    "taal": [
        "Taalles voor nieuwkomers",
        "Meer taalcursussen op de werkvloer",
        "Laaggeletterdheid aanpakken",
        "Taalcoaches inzetten bij nieuwkomers",
        "Taal op de werkvloer oefenen",
        "Nederlandse taal als voorwaarde loslaten",
    ],
    "vervoer": [
        "Beter openbaar vervoer naar bedrijventerreinen",
        "Busverbinding naar het industrieterrein",
        "Deelfietsen bij het station",
        "Vervoer voor nachtdiensten regelen",
        "Openbaar vervoer in de avond uitbreiden",
    ],
    "scholing": [
        "Subsidie voor scholing",
        "Scholingsbudget per werknemer",
        "Financiering van omscholing regelen",
        "Omscholing naar de zorg stimuleren",
        "Bijscholing in de techniek",
        "Leven lang leren voor iedereen",
    ],
    "wonen": [
        "Wonen voor arbeidsmigranten",
        "Huisvesting arbeidsmigranten verbeteren",
        "Betaalbare woningen voor starters",
        "Woningen bouwen bij werklocaties",
    ],
    "jong": [
        "Jongeren betrekken bij beleid",
        "Jongerenraad in de regio",
        "Jongeren zonder startkwalificatie begeleiden",
        "Voortijdig schoolverlaters opvangen",
    ],
    "zorg": [
        "Personeelstekort in de zorg aanpakken",
        "Zorgmedewerkers beter betalen",
        "Zij-instromers in de zorg begeleiden",
        "Werkdruk in de zorg verlagen",
    ],
    "digitaal": [
        "Digitale vaardigheden van ouderen",
        "Cursus digitale vaardigheden",
        "Digitaal platform voor vacatures",
        "Vacatureplatform voor de hele regio",
    ],
    "misc": [
        "Kinderopvang flexibeler maken",
        "Minder regels en bureaucratie",
        "Vaker bij elkaar komen als netwerk",
        "Duurzaamheid als thema meenemen",
        "Ondernemers meer betrekken",
        "Evaluatie na een jaar",
        "Goede voorbeelden delen 👍",
        "Wat gebeurt er met deze resultaten?",
    ],
    "en-internships": ["more internships", "internship bank for the region"],
    "en-transport": ["better public transport", "public transport at night"],
}
SESSION: Notes = [
    (f"{theme}-{i}", text) for theme, texts in THEMES.items() for i, text in enumerate(texts)
]
THEME_OF = {note_id: note_id.rsplit("-", 1)[0] for note_id, _ in SESSION}

#: Words for generated notes: a few themes, compounds, stop words, accents and
#: an emoji, so that generated notes do form groups.
WORDS = (
    "stagebank",
    "stages",
    "regio",
    "regionale",
    "loket",
    "werkgevers",
    "werkgeversloket",
    "taalles",
    "taal",
    "nieuwkomers",
    "vervoer",
    "bus",
    "Eén",
    "één",
    "café",
    "voor",
    "de",
    "het",
    "en",
    "van",
    "internship",
    "the",
    "for",
    "🙂",
    "zorg",
    "zorgen",
)

note_texts = st.one_of(
    st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
    st.text(max_size=40),
)
note_lists = st.lists(
    st.tuples(st.text(min_size=1, max_size=6), note_texts),
    max_size=30,
    unique_by=lambda note: note[0],
)


#: The vocabulary of ``synthetic_notes``.
NOUNS = "stage bank loket werkgever jongere regio gemeente taal les cursus vervoer bus fiets station subsidie scholing budget werknemer woning huis zorg personeel tekort platform vacature ouder vaardigheid opvang kind regel netwerk thema ondernemer evaluatie voorbeeld resultaat techniek school leraar onderwijs arbeid markt migrant starter locatie terrein bedrijf dienst avond nacht coach vloer plek plaats raad beleid kwalificatie begeleiding werkdruk loon"
OTHER_WORDS = "betaalbaar regionaal digitaal flexibel duurzaam lokaal samenwerken verbinden bouwen uitbreiden verlagen betalen delen leren oefenen opvangen meenemen aanbieden ontwikkelen"
STOP_WORDS = "de het een voor van in op met bij en naar meer alle ook"


def synthetic_notes(n: int, seed: int = 1) -> Notes:
    """``n`` Dutch-looking notes of 3-9 words from a fixed vocabulary, with made-up
    compounds, for timing (``docs/note-clusters.md``) and size tests."""
    nouns = NOUNS.split()
    others = OTHER_WORDS.split()
    stop = STOP_WORDS.split()
    rng = random.Random(seed)
    notes: Notes = []
    for i in range(n):
        words: list[str] = []
        for _ in range(rng.randint(3, 9)):
            r = rng.random()
            if r < 0.35:
                words.append(rng.choice(stop))
            elif r < 0.6:
                words.append(rng.choice(nouns) + rng.choice(["", "en", "s"]))
            elif r < 0.8:
                words.append(rng.choice(nouns) + rng.choice(nouns))
            else:
                words.append(rng.choice(others))
        notes.append((f"n{i:05}", " ".join(words).capitalize()))
    return notes


def check_invariants(
    notes: Notes, groups: tuple[SuggestedGroup, ...], max_groups: int = 20
) -> None:
    texts = dict(notes)
    grouped = [note_id for group in groups for note_id in group.note_ids]
    assert len(grouped) == len(set(grouped)), "a note is in two groups"
    assert set(grouped) <= set(texts)
    assert len(groups) <= max_groups
    for group in groups:
        assert len(group.note_ids) >= 2
        assert list(group.note_ids) == sorted(group.note_ids)
        # The title is a word of one of the group's notes, as written (lower case).
        assert group.title
        assert any(
            group.title in unicodedata.normalize("NFC", texts[i]).lower() for i in group.note_ids
        )
    keys = [(-len(g.note_ids), g.title, g.note_ids) for g in groups]
    assert keys == sorted(keys)


def group_of(groups: tuple[SuggestedGroup, ...], note_id: str) -> SuggestedGroup | None:
    return next((g for g in groups if note_id in g.note_ids), None)


# --- the examples ------------------------------------------------------------


def test_stagebank_and_loket_notes_are_grouped_and_unrelated_notes_stay_alone() -> None:
    notes = [
        ("s1", "Stagebank voor de hele regio"),
        ("s2", "Regionale stagebank voor jongeren"),
        ("l1", "Eén loket voor werkgevers"),
        ("l2", "Werkgeversloket samen met UWV"),
        *UNRELATED,
    ]
    assert suggest_groups(notes) == (
        SuggestedGroup(title="loket", note_ids=("l1", "l2")),
        SuggestedGroup(title="stagebank", note_ids=("s1", "s2")),
    )


def test_a_compound_meets_its_parts() -> None:
    # "werkgeversloket" shares no whole word with "loket voor werkgevers";
    # only the 4-grams of its parts bring them together.
    notes = [("a", "Eén loket voor werkgevers"), ("b", "Werkgeversloket samen met UWV"), *UNRELATED]
    assert suggest_groups(notes) == (SuggestedGroup(title="loket", note_ids=("a", "b")),)


@pytest.mark.parametrize("language", LANGUAGES)
def test_english_notes(language: Language) -> None:
    notes = [
        ("e1", "more internships"),
        ("e2", "internship bank for the region"),
        ("e3", "better public transport"),
        ("e4", "childcare that is flexible"),
    ]
    # The Dutch stemmer leaves "internships" as it is; the 4-grams still match.
    groups = suggest_groups(notes, language=language)
    assert groups == (SuggestedGroup(title="internship", note_ids=("e1", "e2")),)


def test_dutch_and_english_notes_together() -> None:
    notes = [
        ("s1", "Stagebank voor de hele regio"),
        ("s2", "Regionale stagebank voor jongeren"),
        ("e1", "more internships"),
        ("e2", "internship bank for the region"),
        *UNRELATED,
    ]
    assert suggest_groups(notes) == (
        SuggestedGroup(title="internship", note_ids=("e1", "e2")),
        SuggestedGroup(title="stagebank", note_ids=("s1", "s2")),
    )


def test_a_made_up_session() -> None:
    groups = suggest_groups(SESSION)
    check_invariants(SESSION, groups)
    by_title = {g.title: g.note_ids for g in groups}
    assert by_title["stagebank"] == ("stage-0", "stage-1")
    assert by_title["internship"] == ("en-internships-0", "en-internships-1")
    assert by_title["transport"] == ("en-transport-0", "en-transport-1")
    assert set(by_title["vervoer"]) >= {"vervoer-0", "vervoer-4"}
    assert not any(
        group_of(groups, note_id) for note_id in ("misc-0", "misc-1", "misc-2", "misc-7")
    )
    # Lexical similarity cannot know that a bus goes to an industrial estate,
    # but most pairs it suggests are on one theme (about 0.7 at the time of writing).
    pairs = [pair for g in groups for pair in itertools.combinations(g.note_ids, 2)]
    same_theme = sum(THEME_OF[a] == THEME_OF[b] != "misc" for a, b in pairs)
    assert same_theme / len(pairs) >= 0.6


def test_a_lower_threshold_suggests_more() -> None:
    strict = suggest_groups(SESSION, min_similarity=0.4)
    loose = suggest_groups(SESSION, min_similarity=0.15)
    grouped = {i for g in strict for i in g.note_ids}
    assert len(grouped) < len({i for g in loose for i in g.note_ids})
    # The strict pairs are still together at the lower threshold.
    for group in strict:
        loose_group = group_of(loose, group.note_ids[0])
        assert loose_group is not None and set(group.note_ids) <= set(loose_group.note_ids)


# --- edge cases --------------------------------------------------------------


def test_empty_input() -> None:
    assert suggest_groups([]) == ()
    assert suggest_groups([("only", "Stagebank voor de regio")]) == ()


def test_identical_notes_form_one_group() -> None:
    notes = [(str(i), "Stagebank voor de hele regio") for i in range(3)] + UNRELATED
    assert suggest_groups(notes) == (SuggestedGroup(title="stagebank", note_ids=("0", "1", "2")),)


def test_notes_of_only_stop_words_or_short_tokens_stay_alone() -> None:
    notes = [
        ("a", "de het een en van"),
        ("b", "de het een en van"),
        ("c", "the and for with"),
        ("d", "ik ga nu op"),
        ("e", "ab cd ef"),
        ("f", "ab cd ef"),
        ("g", ""),
        ("h", "   ... !!! 123 2024"),
    ]
    assert suggest_groups(notes) == ()


def test_a_500_character_note() -> None:
    sentence = "Een regionale stagebank waar jongeren en werkgevers elkaar vinden. "
    long_note = (sentence * 10)[:500]
    assert len(long_note) == 500
    notes = [("long", long_note), ("short", "Stagebank voor jongeren"), *UNRELATED]
    assert suggest_groups(notes) == (SuggestedGroup(title="stagebank", note_ids=("long", "short")),)
    many_words = " ".join(f"woord{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}" for i in range(200))[
        :500
    ]
    notes = [("words", many_words), ("long", long_note), *UNRELATED]
    check_invariants(notes, suggest_groups(notes))


def test_accents_case_and_emoji() -> None:
    notes = [
        ("a", "Één LOKET!! 👍"),
        ("b", "een loket 🙂🙂"),
        ("c", "Café-overleg"),
        ("d", "cafe overleg 😀"),
        ("e", "👍👍👍"),
        ("f", "👍👍👍"),
        ("g", "🇳🇱 ✅"),
    ]
    assert suggest_groups(notes) == (
        SuggestedGroup(title="loket", note_ids=("a", "b")),
        SuggestedGroup(title="overleg", note_ids=("c", "d")),
    )
    # A title is a form as written: "café" and "cafe" are used once each, and
    # "cafe" comes first; with two "café" it wins.
    assert suggest_groups([("c", "Café"), ("d", "cafe 😀")])[0].title == "cafe"
    assert suggest_groups([("c", "Café"), ("d", "café"), ("e", "CAFE")])[0].title == "café"


def test_the_title_is_the_most_shared_term_in_its_most_used_form() -> None:
    notes = [
        ("a", "Regionale stagebank"),
        ("b", "Stagebank regionaal"),
        ("c", "stagebank voor stages"),
        ("d", "Één stagebank, één regionale aanpak"),
    ]
    (group,) = suggest_groups(notes)
    assert group == SuggestedGroup(title="stagebank", note_ids=("a", "b", "c", "d"))
    notes = [("a", "Regionale aanpak"), ("b", "Aanpak regionaal"), ("c", "regionale samenwerking")]
    assert suggest_groups(notes)[0].title == "regionale"


def test_max_groups_keeps_the_largest() -> None:
    notes = [
        ("a1", "Stagebank voor de regio"),
        ("a2", "Stagebank regio"),
        ("a3", "Regionale stagebank"),
        ("b1", "Taalles voor nieuwkomers"),
        ("b2", "Taalles nieuwkomers"),
        ("c1", "more internships"),
        ("c2", "internships"),
        *UNRELATED,
    ]
    every = suggest_groups(notes)
    assert [(len(g.note_ids), g.title) for g in every] == [
        (3, "stagebank"),
        (2, "internships"),
        (2, "nieuwkomers"),
    ]
    assert suggest_groups(notes, max_groups=2) == every[:2]


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("language", "de"), ("min_similarity", 0.0), ("min_similarity", 1.5), ("max_groups", 0)],
)
def test_arguments_out_of_range_are_refused(keyword: str, value: object) -> None:
    with pytest.raises(ValueError, match=keyword):
        suggest_groups(UNRELATED, **{keyword: value})  # type: ignore[arg-type]


def test_repeated_note_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        suggest_groups([("a", "Stagebank"), ("a", "Stagebank regio")])


def test_a_thousand_notes() -> None:
    notes = synthetic_notes(1000)
    groups = suggest_groups(notes)
    check_invariants(notes, groups)
    assert len(groups) == 20


def test_a_thousand_identical_notes() -> None:
    # One cluster that everyone's nearest neighbour joins: quadratic, not cubic.
    notes = [(f"{i:04}", "Stagebank!") for i in range(1000)]
    assert suggest_groups(notes) == (
        SuggestedGroup(title="stagebank", note_ids=tuple(i for i, _ in notes)),
    )


# --- properties ----------------------------------------------------------------


@PROPERTY
@given(note_lists, st.randoms(use_true_random=False))
def test_the_order_of_the_notes_does_not_matter(notes: Notes, shuffler: random.Random) -> None:
    shuffled = list(notes)
    shuffler.shuffle(shuffled)
    assert suggest_groups(shuffled) == suggest_groups(notes)


@PROPERTY
@given(note_lists, st.floats(0.05, 1.0), st.integers(1, 5), st.sampled_from(LANGUAGES))
def test_groups_are_well_formed_and_deterministic(
    notes: Notes, min_similarity: float, max_groups: int, language: Language
) -> None:
    groups = suggest_groups(
        notes, language=language, min_similarity=min_similarity, max_groups=max_groups
    )
    check_invariants(notes, groups, max_groups)
    assert (
        suggest_groups(
            notes, language=language, min_similarity=min_similarity, max_groups=max_groups
        )
        == groups
    )


@PROPERTY
@given(note_lists)
def test_notes_without_words_are_never_grouped(notes: Notes) -> None:
    empty = [
        (f"empty-{i}", text) for i, text in enumerate(["", "de het", "👍", "the for", "12 34"])
    ]
    groups = suggest_groups([*notes, *empty])
    assert not any(note_id.startswith("empty-") for g in groups for note_id in g.note_ids)


# --- the clustering step against a plain restatement -----------------------------


def plain_average_linkage(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """Average linkage by the book: recompute every mean pairwise similarity
    from the original matrix at every step."""
    clusters = [[i] for i in range(similarity.shape[0])]
    while True:
        best: tuple[float, int, int] | None = None
        for a, b in itertools.combinations(range(len(clusters)), 2):
            mean = float(similarity[np.ix_(clusters[a], clusters[b])].mean())
            if best is None or mean > best[0]:
                best = (mean, a, b)
        if best is None or best[0] < threshold:
            return sorted(sorted(c) for c in clusters)
        _, a, b = best
        clusters[a] = clusters[a] + clusters[b]
        del clusters[b]


@PROPERTY
@given(st.integers(0, 40), st.integers(0, 2**32 - 1), st.floats(0.05, 0.95))
def test_average_linkage_matches_a_plain_restatement(n: int, seed: int, threshold: float) -> None:
    rng = np.random.default_rng(seed)
    # Mostly low similarities with a few high ones, as between notes.
    raw = rng.random((n, n)) ** 3
    similarity = (raw + raw.T) / 2
    np.fill_diagonal(similarity, 0.0)
    assert sorted(_average_linkage(similarity, threshold)) == plain_average_linkage(
        similarity, threshold
    )


def test_every_group_reaches_the_threshold_on_average() -> None:
    # Average linkage guarantees it: each merge joined parts whose mean
    # similarity reached the threshold.
    rng = np.random.default_rng(7)
    raw = rng.random((60, 60)) ** 2
    similarity = (raw + raw.T) / 2
    np.fill_diagonal(similarity, 0.0)
    for cluster in _average_linkage(similarity, MIN_SIMILARITY):
        if len(cluster) > 1:
            block = similarity[np.ix_(cluster, cluster)]
            assert block.sum() / (len(cluster) * (len(cluster) - 1)) >= MIN_SIMILARITY


@PROPERTY
@given(st.integers(1, 30), st.integers(1, 300), st.integers(0, 2**32 - 1))
def test_both_matrix_products_equal_the_plain_one(n: int, width: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    matrix = np.where(rng.random((n, width)) < 0.1, rng.random((n, width)), 0.0)
    rows, columns = np.nonzero(matrix)
    # Entries in any order: the products must not rely on it.
    order = rng.permutation(rows.size)
    rows, columns = rows[order], columns[order]
    values = matrix[rows, columns]
    plain = matrix @ matrix.T
    for add_product in (_add_dense_product, _add_sparse_product):
        product = np.ones((n, n), dtype=np.float32)
        add_product(product, rows, columns, values)
        np.testing.assert_allclose(product, plain + 1, atol=1e-5)


def test_the_products_in_many_small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agenda.note_clusters.COLUMN_BLOCK", 3)
    monkeypatch.setattr("agenda.note_clusters.PAIR_CHUNK", 7)
    rng = np.random.default_rng(5)
    matrix = np.where(rng.random((40, 50)) < 0.2, rng.random((40, 50)), 0.0)
    rows, columns = np.nonzero(matrix)
    values = matrix[rows, columns]
    plain = matrix @ matrix.T
    for add_product in (_add_dense_product, _add_sparse_product):
        product = np.zeros((40, 40), dtype=np.float32)
        add_product(product, rows, columns, values)
        np.testing.assert_allclose(product, plain, atol=1e-5)
    # The whole pipeline gives the same groups in small pieces, and with
    # every feature multiplied the dense way or the sparse way.
    monkeypatch.undo()
    expected = suggest_groups(SESSION)
    monkeypatch.setattr("agenda.note_clusters.COLUMN_BLOCK", 3)
    monkeypatch.setattr("agenda.note_clusters.PAIR_CHUNK", 7)
    for dense_share in (1, 32, 10**9):
        monkeypatch.setattr("agenda.note_clusters.DENSE_SHARE", dense_share)
        assert suggest_groups(SESSION) == expected


def test_a_suggested_group_is_labelled_with_its_most_central_note() -> None:
    notes = [
        ("a", "Eén loket voor werkgevers in de regio"),
        ("b", "werkgeversloket samen met UWV"),
        ("c", "een loket voor alle werkgevers"),
        ("d", "Stagebank voor de hele regio"),
        ("e", "stagebank"),
    ]
    by_title = {g.title: g.label for g in suggest_groups(notes)}
    # "c" is the most like the two others; shown with a capital, as a title.
    assert by_title == {"loket": "Een loket voor alle werkgevers", "stagebank": "Stagebank"}


def test_a_long_label_is_cut_on_a_word() -> None:
    words = "een regionale stagebank met plaatsen bij bedrijven en gemeenten " * 3
    similarity = np.array([[0.0, 0.9, 0.8], [0.9, 0.0, 0.1], [0.8, 0.1, 0.0]])
    label = _label([0, 1, 2], similarity, [words, "kort", "ook kort"])
    assert label.startswith("Een regionale stagebank") and label.endswith("…")
    assert len(label) <= MAX_LABEL_CHARS and " …" not in label
    assert words.startswith(label[:-1].lower()[:1] + label[1:-1])


@given(note_lists)
def test_every_label_comes_from_one_of_its_notes(notes: list[tuple[str, str]]) -> None:
    for group in suggest_groups(notes):
        assert group.label
        sources = [" ".join(dict(notes)[i].split()) for i in group.note_ids]
        assert any(
            source[:1].upper() + source[1:] == group.label
            or (
                group.label.endswith("…")
                and (source[:1].upper() + source[1:]).startswith(group.label[:-1])
            )
            for source in sources
        )
