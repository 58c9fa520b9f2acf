"""Suggested groups of similar brainstorm notes, for the facilitator to merge.

Pure, synchronous and local: no I/O, no model, no network.  Deterministic and
the same for any order of the notes: they are sorted by id before anything
else happens, and every tie is broken in that order.

Steps (details, figures and limits in ``docs/note-clusters.md``):

1. fold each note (NFKD, accents dropped, case-folded), split it on everything
   that is not a letter, drop Dutch and English stop words and tokens shorter
   than three letters;
2. stem each token with Snowball's classic Dutch (``dutch_porter``) or English
   stemmer, and add the padded character 4-grams of each stem, so that a
   compound ("werkgeversloket") meets its parts ("loket", "werkgevers");
3. weigh stems and 4-grams by TF-IDF over the notes of this call; the
   similarity of two notes is ``STEM_SHARE`` times the cosine of their stem
   vectors plus the rest times the cosine of their 4-gram vectors;
4. average-linkage agglomerative clustering, cut at ``min_similarity``: two
   clusters are joined only if the mean similarity of the note pairs
   between them reaches it;
5. keep clusters of two or more notes; title each with its most shared stem,
   shown as the form the notes used most.

The result is a suggestion: the facilitator decides what is merged.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol

import numpy as np
import numpy.typing as npt
import snowballstemmer  # type: ignore[import-untyped]

Language = Literal["nl", "en"]

#: Mean similarity two clusters need to be joined.  In the made-up session of
#: the tests, 21 % of the pairs of notes on one theme reach 0.25 and 0.9 % of
#: the other pairs do; "Eén loket voor werkgevers" and "Werkgeversloket samen
#: met UWV" score about 0.3 (the IDF depends on the other notes).  See
#: ``docs/note-clusters.md``.
MIN_SIMILARITY: Final = 0.25
#: Weight of the whole-stem cosine in the similarity; the 4-gram cosine gets
#: the rest.  Stems alone miss compounds; 4-grams alone overrate notes that
#: merely share common endings ("-ing", "-heid").
STEM_SHARE: Final = 0.5
MAX_GROUPS: Final = 20
#: Shorter tokens are dropped.
MIN_TOKEN_LENGTH: Final = 3
GRAM_SIZE: Final = 4
#: Longest suggested label (a group title holds up to protocol.limits.MAX_GROUP_TITLE_CHARS).
MAX_LABEL_CHARS = 80

#: A stem counts as part of a longer stem (for titles) from this length on.
MIN_PART_LENGTH: Final = 4
#: A feature (column) shared by at least 1/DENSE_SHARE of the notes goes into
#: a dense matrix product (BLAS); the others, most of them, are multiplied
#: pair by pair.  The cheaper way for each, measured at 1,000-2,000 notes.
DENSE_SHARE: Final = 32
#: Dense columns multiplied at a time: bounds the dense block to
#: 4 bytes x notes x COLUMN_BLOCK (8 MB at 1,000 notes).
COLUMN_BLOCK: Final = 2048
#: Pairs of sparse entries made at a time (about 40 bytes each).
PAIR_CHUNK: Final = 1 << 20
#: Similarities are rounded to this many decimals, so that the last bits of a
#: BLAS sum cannot decide a tie; exact ties go to the note with the lower id.
SIMILARITY_DECIMALS: Final = 6

#: Snowball algorithm per language.  For Dutch the classic (Porter-style)
#: stemmer: the newer "dutch" algorithm of snowballstemmer 3 removes "ge"
#: inside words (stagebank -> stabank, gemeente -> meen), which breaks the
#: match between a compound and its parts.
_SNOWBALL: Final[dict[str, str]] = {"nl": "dutch_porter", "en": "english"}

_DUTCH_STOP_WORDS: Final = """
    aan al alle alleen alles als altijd ander andere anders ben bent bij binnen
    daar daarom dan dat de der deze die dit doch doen door dus echt een eens
    elkaar en er erg ge geen geweest graag haar had heb hebben heeft heel hele
    hem hen het hier hij hoe hun iedereen iemand iets ik in is ja je jij jou
    jullie kan komen kunnen laten maar maken me meer men met mij mijn moet
    moeten na naar niet niets nog nu of om omdat onder ons onze ook op over per
    samen te tegen toch toen tot tussen uit van veel via voor vooral waar
    wanneer want waren was wat we wel welke werd wezen wie wij wil worden wordt
    zal ze zeer zelf zich zij zijn zo zoals zodat zonder zou zouden zullen
"""
#: Verbs and adjectives that brainstorm notes use for any topic ("... aanpakken",
#: "beter ..."): they would group notes by their phrasing, not their subject.
_FILLER_WORDS: Final = """
    aanpakken beter betere extra gaan goed goede inzetten krijgen nieuwe
    organiseren regelen stimuleren verbeteren versterken zorgen
    better improve good new
"""
_ENGLISH_STOP_WORDS: Final = """
    about all also and any are because been but can could did does each for from
    get had has have her here his how into its just like make more most much must
    need not now only other our should some such than that the their them then
    there these they this those too very was way were what when where which while
    who why will with would you your
"""

_Floats = npt.NDArray[np.float64]
_Ints = npt.NDArray[np.intp]
_Floats32 = npt.NDArray[np.float32]
#: A run of letters: word characters that are neither digits nor underscores.
_LETTERS: Final = re.compile(r"[^\W\d_]+")


def _fold(text: str) -> str:
    """Case-fold and drop accents (é -> e, ï -> i), for matching only."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


_STOP_WORDS: Final = frozenset(
    _fold(_DUTCH_STOP_WORDS + _ENGLISH_STOP_WORDS + _FILLER_WORDS).split()
)


@dataclass(frozen=True, slots=True)
class SuggestedGroup:
    """Notes that look alike, with a short label for the facilitator."""

    #: The most shared term of the group, in the form the notes used most
    #: (lower case, accents as written), e.g. "stagebank".
    title: str
    #: Sorted; always at least two.
    note_ids: tuple[str, ...]
    #: A title a person would write: the text of the group's most central note
    #: (see ``_label``), so that the facilitator starts from a sentence, not a
    #: keyword, and a promoted group becomes a readable action.  Derived from
    #: the notes, so not part of a group's identity (left out of ``==``).
    label: str = field(default="", compare=False)


def suggest_groups(
    notes: Sequence[tuple[str, str]],
    *,
    language: Language = "nl",
    min_similarity: float = MIN_SIMILARITY,
    max_groups: int = MAX_GROUPS,
) -> tuple[SuggestedGroup, ...]:
    """Suggest groups of similar notes: ``notes`` are ``(note_id, text)`` pairs.

    Only groups of two or more notes, each note in at most one group; largest
    first, then by title (then by the ids); at most ``max_groups``.  ``language``
    picks the stemmer; stop words of both Dutch and English are always dropped.
    Raises ``ValueError`` on a repeated note id or an argument out of range.
    """
    if language not in _SNOWBALL:
        raise ValueError(f"language must be one of {sorted(_SNOWBALL)}, not {language!r}")
    if not 0 < min_similarity <= 1:
        raise ValueError(f"min_similarity must be in (0, 1], not {min_similarity!r}")
    if max_groups < 1:
        raise ValueError(f"max_groups must be at least 1, not {max_groups!r}")
    ordered = sorted(notes)
    ids = [note_id for note_id, _ in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError("note ids must be unique")

    stem = _Stemmer(language)
    parsed = [_parse(text, stem) for _, text in ordered]
    similarity = _similarity([stems for stems, _ in parsed])
    clusters = [c for c in _average_linkage(similarity, min_similarity) if len(c) >= 2]

    whole_stem_df = Counter(s for stems, _ in parsed for s in set(stems))
    groups = [
        SuggestedGroup(
            title=_title([parsed[i] for i in cluster], whole_stem_df),
            note_ids=tuple(sorted(ids[i] for i in cluster)),
            label=_label(cluster, similarity, [text for _, text in ordered]),
        )
        for cluster in clusters
    ]
    groups.sort(key=lambda g: (-len(g.note_ids), g.title, g.note_ids))
    return tuple(groups[:max_groups])


# --- text to stems -----------------------------------------------------------


class _SnowballStemmer(Protocol):
    def stemWord(self, word: str) -> str: ...


class _Stemmer:
    """One Snowball stemmer with a cache: notes repeat their words a lot.

    Made per call, because a Snowball stemmer keeps state while it works and
    must not be shared between threads.
    """

    __slots__ = ("_cache", "_snowball")

    def __init__(self, language: Language) -> None:
        self._snowball: _SnowballStemmer = snowballstemmer.stemmer(_SNOWBALL[language])
        self._cache: dict[str, str] = {}

    def __call__(self, folded: str) -> str:
        stem = self._cache.get(folded)
        if stem is None:
            stem = self._cache[folded] = self._snowball.stemWord(folded)
        return stem


def _parse(text: str, stem: _Stemmer) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The content tokens of a note: (stems, surface forms), in text order.

    The surface form is the token lower-cased with its accents kept (for
    titles); matching uses the folded token.
    """
    stems: list[str] = []
    surfaces: list[str] = []
    for token in _LETTERS.findall(unicodedata.normalize("NFC", text).lower()):
        # Keep only letters: a compatibility decomposition can bring in other
        # characters (an Arabic ligature holds spaces).
        folded = "".join(_LETTERS.findall(_fold(token)))
        if len(folded) < MIN_TOKEN_LENGTH or folded in _STOP_WORDS:
            continue
        stems.append(stem(folded))
        surfaces.append(token)
    return tuple(stems), tuple(surfaces)


def _grams(stem: str) -> list[str]:
    """Character 4-grams of the stem padded with a space at either end, so that
    a word's start and end count as characters ("loket" -> " lok", "loke",
    "oket", "ket ")."""
    padded = f" {stem} "
    return [padded[i : i + GRAM_SIZE] for i in range(len(padded) - GRAM_SIZE + 1)]


# --- similarity ----------------------------------------------------------------


def _similarity(notes: Sequence[Sequence[str]]) -> _Floats:
    """Pairwise similarity of the notes (given as stems): STEM_SHARE x cosine of
    the TF-IDF stem vectors + (1 - STEM_SHARE) x cosine of the 4-gram vectors.
    The diagonal is 0; a note without content tokens is 0 to every note."""
    n = len(notes)
    stems = _tfidf([Counter(s) for s in notes], math.sqrt(STEM_SHARE))
    grams = _tfidf(
        [Counter(g for s in note for g in _grams(s)) for note in notes],
        math.sqrt(1 - STEM_SHARE),
    )
    # Scaling each part by the square root of its share makes the dot product
    # of the joined rows the weighted sum of the two cosines.
    rows = np.concatenate([stems.rows, grams.rows])
    columns = np.concatenate([stems.columns, grams.columns + stems.width])
    values = np.concatenate([stems.values, grams.values])
    df = np.bincount(columns, minlength=stems.width + grams.width)
    frequent = df[columns] * DENSE_SHARE >= n
    product = np.zeros((n, n), dtype=np.float32)
    _add_dense_product(product, rows[frequent], columns[frequent], values[frequent])
    _add_sparse_product(product, rows[~frequent], columns[~frequent], values[~frequent])
    # Exactly symmetric whatever order BLAS summed in (in place: these are the
    # largest arrays here), then rounded (see SIMILARITY_DECIMALS); a note is
    # not its own neighbour.
    product += product.T
    product *= 0.5
    similarity: _Floats = product.astype(np.float64)
    del product
    np.round(similarity, SIMILARITY_DECIMALS, out=similarity)
    np.fill_diagonal(similarity, 0.0)
    return similarity


def _add_dense_product(product: _Floats32, rows: _Ints, columns: _Ints, values: _Floats) -> None:
    """Add X @ X.T for the (row, column, value) entries of X to ``product``, as
    dense float32 blocks of COLUMN_BLOCK columns: BLAS, fast for columns that
    many notes share.  float32 halves the time; the rounding of the result is
    far above its precision."""
    n = product.shape[0]
    used, compact = np.unique(columns, return_inverse=True)
    for first in range(0, used.size, COLUMN_BLOCK):
        width = min(COLUMN_BLOCK, used.size - first)
        in_block = (compact >= first) & (compact < first + width)
        block = np.zeros((n, width), dtype=np.float32)
        block[rows[in_block], compact[in_block] - first] = values[in_block]
        product += block @ block.T


def _add_sparse_product(product: _Floats32, rows: _Ints, columns: _Ints, values: _Floats) -> None:
    """Add X @ X.T for the (row, column, value) entries of X to ``product``,
    column by column: every pair of entries in a column adds its product.  A
    column in d notes costs d^2, so this is for the many columns that few
    notes share; the pairs are made PAIR_CHUNK at a time to bound the memory."""
    n = product.shape[0]
    if columns.size == 0:
        return
    order = np.argsort(columns, kind="stable")
    rows, columns, values = rows[order], columns[order], values[order]
    # Entries of one column are contiguous: column c spans [start, start + df).
    _, start, df = np.unique(columns, return_index=True, return_counts=True)
    first_of_entry = np.repeat(start, df)
    pairs_of_entry = np.repeat(df, df)
    ends = np.cumsum(pairs_of_entry)
    chunk_ends = np.searchsorted(ends, np.arange(PAIR_CHUNK, int(ends[-1]), PAIR_CHUNK))
    bounds = [0, *np.unique(chunk_ends).tolist(), columns.size]
    for lo, hi in itertools.pairwise(bounds):
        if lo == hi:
            continue
        # Entry e pairs with each entry of its column: first_of_entry[e] + k.
        per_entry = pairs_of_entry[lo:hi]
        left = np.repeat(np.arange(lo, hi), per_entry)
        offset = np.arange(left.size) - np.repeat(np.cumsum(per_entry) - per_entry, per_entry)
        right = first_of_entry[left] + offset
        flat = np.bincount(
            rows[left] * n + rows[right], weights=values[left] * values[right], minlength=n * n
        )
        np.add(product, flat.reshape(n, n), out=product, casting="unsafe")


@dataclass(frozen=True, slots=True)
class _SparseRows:
    """A matrix with a row per note, as (row, column, value) triples."""

    rows: _Ints
    columns: _Ints
    values: _Floats
    width: int


def _tfidf(counts: Sequence[Counter[str]], scale: float) -> _SparseRows:
    """TF-IDF rows (tf = 1 + ln count, smooth idf), L2-normalised and then
    multiplied by ``scale``.  Only features in at least two notes get a column:
    the others add to a row's norm but never to a dot product."""
    n = len(counts)
    # Features are numbered in order of first use: the notes are in canonical
    # order, so the numbering is too.
    number: dict[str, int] = {}
    row_list: list[int] = []
    feature_list: list[int] = []
    count_list: list[int] = []
    for r, row in enumerate(counts):
        for feature, count in row.items():
            row_list.append(r)
            feature_list.append(number.setdefault(feature, len(number)))
            count_list.append(count)
    rows = np.array(row_list, dtype=np.intp)
    features = np.array(feature_list, dtype=np.intp)
    df = np.bincount(features, minlength=len(number))
    idf = np.log((1 + n) / (1 + df)) + 1
    weights = (1 + np.log(np.array(count_list, dtype=np.float64))) * idf[features]
    norms = np.sqrt(np.bincount(rows, weights=weights**2, minlength=n))
    shared = df[features] >= 2
    used, columns = np.unique(features[shared], return_inverse=True)
    return _SparseRows(
        rows=rows[shared],
        columns=columns.astype(np.intp),
        values=scale * weights[shared] / norms[rows[shared]],
        width=used.size,
    )


# --- clustering ----------------------------------------------------------------


def _average_linkage(similarity: _Floats, threshold: float) -> list[list[int]]:
    """Agglomerative clustering with average linkage, stopped at ``threshold``:
    the clusters of the dendrogram cut where the mean pairwise similarity of
    the two merged clusters falls below ``threshold``.

    Built with the nearest-neighbour chain (Murtagh 1983), O(n^2) in all
    cases: follow each cluster's most similar cluster until two are each
    other's (then merge them, Lance-Williams update), and drop a cluster
    whose best similarity is below the threshold, since average linkage can
    only lower it.  Ties go to the lowest index (and to the chain's previous
    cluster, which keeps the chain from cycling).  Returns every cluster
    (singletons too), each as sorted indices.
    """
    n = similarity.shape[0]
    linkage = similarity.copy()
    np.fill_diagonal(linkage, -np.inf)
    sizes = np.ones(n)
    members: list[list[int]] = [[i] for i in range(n)]
    open_ = [True] * n
    chain: list[int] = []
    start = 0
    while True:
        if not chain:
            while start < n and not open_[start]:
                start += 1
            if start == n:
                break
            chain.append(start)
        top = chain[-1]
        row = linkage[top]
        nearest = int(np.argmax(row))
        if not row[nearest] >= threshold:
            # Nothing reaches the threshold now, and merges elsewhere only
            # average similarities to top: it is final.  (Only a chain's first
            # cluster can be here: the one before it is at least this similar.)
            open_[top] = False
            linkage[top] = -np.inf
            linkage[:, top] = -np.inf
            chain.pop()
            continue
        if len(chain) >= 2 and row[chain[-2]] == row[nearest]:
            nearest = chain[-2]
        if len(chain) < 2 or nearest != chain[-2]:
            chain.append(nearest)
            continue
        chain.pop()
        chain.pop()
        a, b = sorted((top, nearest))
        merged = (sizes[a] * linkage[a] + sizes[b] * linkage[b]) / (sizes[a] + sizes[b])
        merged[a] = merged[b] = -np.inf
        linkage[a] = merged
        linkage[:, a] = merged
        linkage[b] = -np.inf
        linkage[:, b] = -np.inf
        sizes[a] += sizes[b]
        members[a] += members[b]
        members[b] = []
        open_[b] = False
    return [sorted(cluster) for cluster in members if cluster]


# --- titles ----------------------------------------------------------------------


def _title(
    notes: Sequence[tuple[tuple[str, ...], tuple[str, ...]]], whole_stem_df: Counter[str]
) -> str:
    """The group's most shared stem, shown in the form its notes used most.

    A stem is found in a note when the note has it, or (from MIN_PART_LENGTH
    letters) has a stem that contains it, so "loket" is found in
    "werkgeversloket".  Ranked by the number of notes it is found in; then by
    the number where it is the whole stem or its end (the head of a Dutch
    compound: a werkgeversloket is a loket); then by rarity over all notes
    (the IDF order); then longest first (a compound says more than a part);
    then alphabetically.
    """
    notes_with: defaultdict[str, set[int]] = defaultdict(set)
    for index, (stems, _) in enumerate(notes):
        for s in stems:
            notes_with[s].add(index)
    found: dict[str, set[int]] = {}
    heads: dict[str, set[int]] = {}
    for part in notes_with:
        found[part] = set(notes_with[part])
        heads[part] = set(notes_with[part])
        if len(part) < MIN_PART_LENGTH:
            continue
        for whole, indices in notes_with.items():
            if part != whole and part in whole:
                found[part] |= indices
                if whole.endswith(part):
                    heads[part] |= indices
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    for stems, forms in notes:
        for s, form in zip(stems, forms, strict=True):
            surfaces[s][form] += 1
    ranked = []
    for s in notes_with:
        form = _most_used(surfaces[s])
        ranked.append((-len(found[s]), -len(heads[s]), whole_stem_df[s], -len(form), form))
    return min(ranked)[-1]


def _label(cluster: Sequence[int], similarity: _Floats, texts: Sequence[str]) -> str:
    """The text of the note most like the rest of its group (highest mean similarity
    to the others); on a tie the shorter text, then the first.  Cut at
    MAX_LABEL_CHARS on a word boundary, first letter upper case."""
    members = list(cluster)
    # The diagonal is 0, so a row's sum is its similarity to the others.
    closeness = similarity[np.ix_(members, members)].sum(axis=1)
    best = min(
        range(len(members)),
        key=lambda k: (-round(float(closeness[k]), 6), len(texts[members[k]]), members[k]),
    )
    best = members[best]
    text = " ".join(texts[best].split())
    if len(text) > MAX_LABEL_CHARS:
        text = text[: MAX_LABEL_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:.-") + "…"
    return text[:1].upper() + text[1:]


def _most_used(forms: Counter[str]) -> str:
    """The most frequent form, alphabetically first on a tie."""
    return min(forms.items(), key=lambda item: (-item[1], item[0]))[0]
