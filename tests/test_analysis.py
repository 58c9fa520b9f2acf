"""Statistics of ordinal ratings (``agenda.analysis``), checked against plain
statements of each definition computed on the expanded list of ratings."""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Sequence
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenda import stats
from agenda.analysis import (
    NormStats,
    breakdown,
    compare_rounds,
    consensus,
    discussion_ranking,
    gap,
    is_split,
    median_band,
    median_rank_interval,
    norm_stats,
    priority,
    theme_stats,
    themes_of,
)
from agenda.templates import load_builtin_templates

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCALES = [(0, 10), (1, 5), (1, 7), (-3, 3)]


@st.composite
def rated(draw: st.DrawFn, max_size: int = 60) -> tuple[int, int, list[int]]:
    """A scale and a list of ratings on it (possibly empty)."""
    low, high = draw(st.sampled_from(SCALES))
    values = draw(st.lists(st.integers(low, high), max_size=max_size))
    return low, high, values


def to_counts(values: Sequence[int | None], low: int, high: int) -> tuple[list[int], int]:
    counts = [0] * (high - low + 1)
    dont_know = 0
    for value in values:
        if value is None:
            dont_know += 1
        else:
            counts[value - low] += 1
    return counts, dont_know


def reference_quantile(ordered: Sequence[int], p: Fraction) -> float:
    """Hyndman & Fan type 2, stated on the sorted list (1-based ranks)."""
    h = len(ordered) * p
    if h.denominator == 1:
        return (ordered[int(h) - 1] + ordered[int(h)]) / 2
    return float(ordered[math.ceil(h) - 1])


# --- order invariance ----------------------------------------------------------


@PROPERTY
@given(
    st.sampled_from(SCALES).flatmap(
        lambda scale: st.tuples(
            st.just(scale),
            st.lists(st.one_of(st.none(), st.integers(*scale)), max_size=60),
        )
    ),
    st.randoms(use_true_random=False),
)
def test_statistics_do_not_depend_on_the_order_of_the_votes(
    case: tuple[tuple[int, int], list[int | None]], rng: random.Random
) -> None:
    (low, high), votes = case
    shuffled = list(votes)
    rng.shuffle(shuffled)
    counts, dont_know = to_counts(votes, low, high)
    shuffled_counts, shuffled_dont_know = to_counts(shuffled, low, high)
    assert norm_stats(counts, low, dont_know) == norm_stats(
        shuffled_counts, low, shuffled_dont_know
    )


# --- quantiles, mean ---------------------------------------------------------


@PROPERTY
@given(rated())
def test_median_quartiles_and_mean_agree_with_the_expanded_list(
    case: tuple[int, int, list[int]],
) -> None:
    low, high, values = case
    counts, _ = to_counts(values, low, high)
    result = norm_stats(counts, low, dont_know=3)
    assert result.n == len(values)
    assert result.dont_know == 3
    if not values:
        assert result == NormStats(0, 3, None, None, None, None, None, None, False, None, None)
        return
    ordered = sorted(values)
    assert result.median == statistics.median(ordered)
    assert result.median == stats.median(counts, low)
    assert result.median == reference_quantile(ordered, Fraction(1, 2))
    assert result.q1 == reference_quantile(ordered, Fraction(1, 4))
    assert result.q3 == reference_quantile(ordered, Fraction(3, 4))
    assert result.q1 is not None and result.q3 is not None
    assert result.q1 <= result.median <= result.q3
    assert result.iqr == result.q3 - result.q1
    assert result.mean == pytest.approx(statistics.fmean(ordered))


def test_quartiles_on_small_examples() -> None:
    # 1 2 3 4: n p = 1 and 3 are whole, so the quartiles average two neighbours.
    four = norm_stats([1, 1, 1, 1, 0], 1)
    assert (four.q1, four.median, four.q3) == (1.5, 2.5, 3.5)
    # 1 2 3 4 5: n p = 1.25 and 3.75, so the next rating up.
    five = norm_stats([1, 1, 1, 1, 1], 1)
    assert (five.q1, five.median, five.q3) == (2.0, 3.0, 4.0)
    one = norm_stats([0, 0, 1, 0, 0], 1)
    assert (one.q1, one.median, one.q3, one.iqr) == (3.0, 3.0, 3.0, 0.0)


# --- consensus ---------------------------------------------------------------


@PROPERTY
@given(st.sampled_from(SCALES), st.data(), st.integers(1, 500))
def test_consensus_is_one_when_everybody_agrees(
    scale: tuple[int, int], data: st.DataObject, n: int
) -> None:
    low, high = scale
    value = data.draw(st.integers(low, high))
    counts, _ = to_counts([value] * n, low, high)
    assert consensus(counts) == 1.0
    result = norm_stats(counts, low)
    assert result.consensus == 1.0
    assert result.split is False


@PROPERTY
@given(st.sampled_from(SCALES), st.integers(1, 500))
def test_consensus_is_zero_for_an_even_split_between_the_ends(
    scale: tuple[int, int], half: int
) -> None:
    low, high = scale
    counts, _ = to_counts([low] * half + [high] * half, low, high)
    assert consensus(counts) == 0.0
    assert norm_stats(counts, low).split is (half >= 2)


@PROPERTY
@given(rated())
def test_consensus_lies_in_zero_one_and_matches_the_formula(
    case: tuple[int, int, list[int]],
) -> None:
    low, high, values = case
    counts, _ = to_counts(values, low, high)
    result = consensus(counts)
    if not values:
        assert result is None
        return
    assert result is not None
    assert 0.0 <= result <= 1.0
    # Tastle & Wierman, summed over people rather than over scale values.
    mu = statistics.fmean(values)
    reference = 1 + statistics.fmean(math.log2(1 - abs(x - mu) / (high - low)) for x in values)
    assert result == pytest.approx(max(0.0, reference), abs=1e-9)
    # Only the shape matters: the same pattern reversed gives the same value.
    assert consensus(counts[::-1]) == pytest.approx(result, abs=1e-12)


def test_consensus_orders_familiar_distributions() -> None:
    tight = consensus([0, 0, 0, 0, 0, 3, 6, 3, 0, 0, 0])
    spread = consensus([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    ends = consensus([6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6])
    assert tight is not None and spread is not None and ends is not None
    assert 1.0 > tight > spread > ends == 0.0


# --- split -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        ([7] * 12, False),  # all agree
        ([0] * 6 + [10] * 6, True),  # the two ends
        ([1, 2, 2, 3, 3, 2, 7, 8, 8, 9, 8, 7], True),  # two camps with noise
        ([2, 3, 3, 8, 8, 9], True),  # small camps of three
        ([0, 0, 10, 10], True),  # two against two
        ([0, 10, 10], False),  # too few for camps of two
        (list(range(11)), False),  # uniform: no hollow middle
        ([3, 4, 4, 5, 5, 5, 5, 5, 6, 6, 7, 8], False),  # bell curve
        ([5] * 10 + [0, 10], False),  # two dissenters are not a camp
        ([1] * 9 + [9, 9], False),  # a lone minority under a quarter
        ([6, 6, 6, 6, 9, 9, 9, 9], False),  # camps too close (3 < 0.4 * 10)
        ([5, 5, 5, 5, 9, 9, 9, 9], True),  # 4 apart: onvoldoende against goed
        ([0, 0, 0, 5, 5, 5, 10, 10, 10], False),  # three camps: low consensus, not two camps
    ],
)
def test_split_flags_two_camps_only(ratings: list[int], expected: bool) -> None:
    counts, _ = to_counts(ratings, 0, 10)
    assert is_split(counts) is expected


def test_split_on_a_five_point_scale() -> None:
    assert is_split([0, 4, 0, 4, 0]) is True  # 2 and 4: half the range apart
    assert is_split([0, 4, 4, 0, 0]) is False  # neighbours


@PROPERTY
@given(rated())
def test_split_does_not_depend_on_the_direction_of_the_scale(
    case: tuple[int, int, list[int]],
) -> None:
    low, high, values = case
    counts, _ = to_counts(values, low, high)
    assert is_split(counts) is is_split(counts[::-1])
    if is_split(counts):
        # Two camps at least 40 % of the range apart leave consensus well short of 1.
        value = consensus(counts)
        assert value is not None and value < 0.9


# --- median band -------------------------------------------------------------


def reference_k(n: int, confidence: float = 0.95) -> int:
    """Largest k with 1 - 2 P(B <= k - 1) >= confidence, by brute force."""
    best = 0
    for k in range(1, n + 1):
        tail = sum(math.comb(n, j) for j in range(k)) / 2**n
        if 1 - 2 * tail >= confidence - 1e-15:
            best = k
    return best


@pytest.mark.parametrize("n", [*range(0, 41), 57, 100, 333])
def test_median_rank_interval_is_the_exact_order_statistic_interval(n: int) -> None:
    k, coverage = median_rank_interval(n)
    assert k == reference_k(n)
    assert coverage >= Fraction(95, 100)
    if k:
        assert coverage == 1 - Fraction(2 * sum(math.comb(n, j) for j in range(k)), 2**n)
    assert (k == 0) is (n <= 5)


def test_median_band_of_twelve_ratings() -> None:
    # X(3) .. X(10): 1 - 2 (1 + 12 + 66) / 4096, about 96 %.
    assert median_rank_interval(12) == (3, Fraction(1969, 2048))
    assert median_band([0, 1, 1, 1, 1, 2, 2, 1, 1, 1, 1], 0) == (3, 8)


@PROPERTY
@given(rated())
def test_band_contains_the_median_and_uses_order_statistics(
    case: tuple[int, int, list[int]],
) -> None:
    low, high, values = case
    counts, _ = to_counts(values, low, high)
    result = norm_stats(counts, low)
    band = median_band(counts, low)
    if not values:
        assert band is None and result.median_low is None and result.median_high is None
        return
    assert band == (result.median_low, result.median_high)
    assert result.median_low is not None and result.median_high is not None
    assert result.median is not None
    assert low <= result.median_low <= result.median <= result.median_high <= high
    ordered = sorted(values)
    k = reference_k(len(values))
    if k == 0:
        assert band == (low, high)  # too few ratings: the whole scale
    else:
        assert band == (ordered[k - 1], ordered[len(values) - k])


@PROPERTY
@given(
    st.sampled_from(SCALES).flatmap(
        lambda scale: st.tuples(
            st.just(scale),
            st.lists(
                st.integers(0, 5),
                min_size=scale[1] - scale[0] + 1,
                max_size=scale[1] - scale[0] + 1,
            ).filter(any),
        )
    )
)
def test_band_narrows_as_n_grows_on_a_fixed_distribution(
    case: tuple[tuple[int, int], list[int]],
) -> None:
    (low, _), base = case
    bands = [median_band([count * 2**step for count in base], low) for step in range(7)]
    for before, after in itertools.pairwise(bands):
        assert before is not None and after is not None
        assert before[0] <= after[0] and after[1] <= before[1]


def test_band_narrows_on_a_bell_curve() -> None:
    base = [0, 1, 2, 3, 4, 5, 4, 3, 2, 1, 0]  # 25 ratings around 5
    widths = []
    for factor in (1, 4, 16, 64):
        band = median_band([c * factor for c in base], 0)
        assert band is not None
        widths.append(band[1] - band[0])
    assert widths == sorted(widths, reverse=True)
    assert widths[0] > widths[-1] == 0


# --- themes ------------------------------------------------------------------


SCAN = load_builtin_templates()["participatiescan"]


def test_theme_stats_pool_the_counts_and_average_the_medians() -> None:
    themes = {"a": ("x", "y"), "b": ("z",), "c": ("w",)}
    counts = {"x": [0, 2, 0, 0, 0], "y": [0, 0, 0, 0, 4], "z": [1, 1, 1, 1, 1]}
    result = theme_stats(themes, counts, 1, {"x": 1, "y": 2, "w": 5})
    a = result["a"]
    assert a.pooled.n == 6 and a.pooled.dont_know == 3
    assert a.pooled.median == 5.0  # 2 2 5 5 5 5
    assert a.mean_of_medians == (2 + 5) / 2
    assert (a.norms, a.rated_norms) == (2, 2)
    assert result["b"].pooled == norm_stats([1, 1, 1, 1, 1], 1)
    assert result["c"].pooled.n == 0 and result["c"].pooled.dont_know == 5
    assert result["c"].mean_of_medians is None and result["c"].rated_norms == 0


@PROPERTY
@given(st.lists(st.lists(st.integers(0, 4), min_size=11, max_size=11), min_size=1, max_size=6))
def test_theme_band_is_no_narrower_than_if_every_rating_were_a_person(
    norms: list[list[int]],
) -> None:
    counts = {f"n{i}": c for i, c in enumerate(norms)}
    result = theme_stats({"t": tuple(counts)}, counts, 0)["t"].pooled
    pooled = [sum(column) for column in zip(*norms, strict=True)]
    naive = median_band(pooled, 0)
    assert result.n == sum(pooled)
    if naive is None:
        assert result.median_low is None
        return
    assert result.median_low is not None and result.median_high is not None
    assert result.median is not None
    assert result.median_low <= naive[0] and naive[1] <= result.median_high
    assert result.median_low <= result.median <= result.median_high


def test_themes_of_a_template() -> None:
    themes = themes_of(SCAN)
    assert list(themes) == [theme.id for theme in SCAN.themes]
    assert sum(len(norms) for norms in themes.values()) == len(SCAN.norms) == 20


# --- ranking, rounds, gaps ---------------------------------------------------


def test_ranking_puts_low_and_disputed_norms_first_and_unrated_last() -> None:
    by_norm = {
        "fine": norm_stats([0, 0, 0, 0, 0, 0, 0, 0, 6, 6, 0], 0),  # high, agreed
        "unrated": norm_stats([0] * 11, 0, dont_know=12),
        "low": norm_stats([0, 0, 6, 6, 0, 0, 0, 0, 0, 0, 0], 0),  # low, agreed
        "torn": norm_stats([6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6], 0),  # disputed
        "also-fine": norm_stats([0, 0, 0, 0, 0, 0, 0, 0, 6, 6, 0], 0),
    }
    assert discussion_ranking(by_norm, 0, 10) == ["torn", "low", "fine", "also-fine", "unrated"]
    # No consensus and a middling median: 1 + 0.5.
    assert priority(by_norm["torn"], 0, 10) == pytest.approx(1.5)
    # Agreed on 2 or 3: consensus 1 + log2(0.95), median 2.5 of 10.
    assert priority(by_norm["low"], 0, 10) == pytest.approx(-math.log2(0.95) + 0.75)
    assert priority(by_norm["unrated"], 0, 10) is None


@PROPERTY
@given(st.lists(st.lists(st.integers(0, 3), min_size=5, max_size=5), min_size=1, max_size=20))
def test_ranking_is_by_priority_then_norm_order(norms: list[list[int]]) -> None:
    by_norm = {f"n{i:02}": norm_stats(c, 1) for i, c in enumerate(norms)}
    ranking = discussion_ranking(by_norm, 1, 5)
    assert sorted(ranking) == sorted(by_norm)
    keys = []
    for norm_id in ranking:
        score = priority(by_norm[norm_id], 1, 5)
        keys.append((score is None, -(score or 0.0), norm_id))
    assert keys == sorted(keys, key=lambda key: (key[0], round(key[1], 9), key[2]))


def test_compare_rounds() -> None:
    before = norm_stats([3, 0, 0, 0, 3], 1)
    after = norm_stats([0, 0, 1, 5, 0], 1)
    shift = compare_rounds(before, after)
    assert shift.median_delta == 4.0 - 3.0
    assert shift.consensus_delta is not None and shift.consensus_delta > 0.5
    assert (shift.n_before, shift.n_after) == (6, 6)
    empty = compare_rounds(norm_stats([0] * 5, 1), after)
    assert empty.median_delta is None and empty.consensus_delta is None and empty.n_before == 0


def test_gap_per_norm_and_theme() -> None:
    current = {
        "a": norm_stats([0, 4, 0, 0, 0], 1),  # 2
        "b": norm_stats([0, 0, 4, 0, 0], 1),  # 3
        "c": norm_stats([0, 0, 0, 0, 0], 1),  # unrated
    }
    ideal = {"a": norm_stats([0, 0, 0, 0, 4], 1), "b": norm_stats([0, 0, 0, 4, 0], 1)}
    result = gap(current, ideal, {"t": ("a", "b", "c"), "u": ("c",)})
    assert result.by_norm == {"a": 3.0, "b": 1.0, "c": None}
    assert result.by_theme == {"t": 2.0, "u": None}


# --- breakdown by organisation type -----------------------------------------


@st.composite
def group_tallies(
    draw: st.DrawFn,
) -> tuple[dict[str, list[int]], list[int], dict[str, int], int, int]:
    """Per-group counts on a 1-5 scale, with people of no organisation type and
    "don't know" answers; sizes near the minimum, where suppression matters."""
    width = 5
    names = draw(st.lists(st.sampled_from("abcdefg"), unique=True, max_size=7))
    by_group = {
        name: draw(st.lists(st.integers(0, 2), min_size=width, max_size=width)) for name in names
    }
    nobody = draw(st.lists(st.integers(0, 1), min_size=width, max_size=width))
    total = [sum(column) for column in zip(nobody, *by_group.values(), strict=True)]
    dont_know = {name: draw(st.integers(0, 2)) for name in names}
    total_dont_know = sum(dont_know.values()) + draw(st.integers(0, 2))
    return by_group, total, dont_know, total_dont_know, draw(st.integers(1, 7))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(group_tallies())
def test_breakdown_never_shows_fewer_than_min_size_not_even_by_subtraction(
    case: tuple[dict[str, list[int]], list[int], dict[str, int], int, int],
) -> None:
    by_group, total, dont_know, total_dont_know, min_size = case
    shown = breakdown(
        by_group,
        total,
        min_size,
        scale_min=1,
        dont_know_by_group=dont_know,
        total_dont_know=total_dont_know,
    )
    assert list(shown) == [group for group in by_group if group in shown]
    for group, result in shown.items():
        assert result.n >= min_size
        assert result == norm_stats(by_group[group], 1, dont_know[group])
    if not shown:
        return
    # The attacker knows the totals and every figure of the shown groups, down
    # to their counts per value.  Subtracting them leaves the hidden groups and
    # the people with no organisation type, together: that residual must hold
    # nobody, or at least min_size people, on the scale and over all answers.
    residual = [t - sum(by_group[g][value] for g in shown) for value, t in enumerate(total)]
    hidden_ratings = sum(residual)
    hidden_answers = hidden_ratings + total_dont_know - sum(dont_know[g] for g in shown)
    assert hidden_ratings == 0 or hidden_ratings >= min_size
    assert hidden_answers == 0 or hidden_answers >= min_size
    # Recovering any one hidden group (or the no-type remainder) means isolating
    # it in that residual, which holds it together with the rest that is hidden.
    for group in by_group:
        if group not in shown and sum(by_group[group]) > 0:
            assert hidden_ratings >= min_size
    nobody = sum(total) - sum(sum(counts) for counts in by_group.values())
    if nobody > 0:
        assert hidden_ratings >= min_size


@PROPERTY
@given(group_tallies())
def test_breakdown_shows_every_group_when_nothing_small_is_left(
    case: tuple[dict[str, list[int]], list[int], dict[str, int], int, int],
) -> None:
    by_group, _, _, _, min_size = case
    big = {group: [c + min_size for c in counts] for group, counts in by_group.items()}
    total = [sum(column) for column in zip([0] * 5, *big.values(), strict=True)]
    assert list(breakdown(big, total, min_size, scale_min=1)) == list(big)


def test_breakdown_hides_a_second_group_to_protect_a_small_one() -> None:
    by_group = {"onderwijs": [0, 5, 0], "uwv": [2, 0, 0], "gemeente": [0, 0, 5]}
    total = [2, 5, 5]
    # uwv (2) is too small; hiding it alone would show it as total - the rest,
    # so the smallest shown group (a tie at 5, broken by name) goes too.
    assert list(breakdown(by_group, total, 3, scale_min=0)) == ["onderwijs"]
    # Three people without an organisation type are enough cover on their own.
    assert list(breakdown(by_group, [5, 5, 5], 3, scale_min=0)) == ["onderwijs", "gemeente"]
    # "Don't know" answers are covered the same way: one hidden "don't know"
    # would single somebody out, so a group is hidden to cover it.
    assert list(
        breakdown(
            {"onderwijs": [0, 5, 0], "gemeente": [0, 0, 5]},
            [0, 5, 5],
            3,
            scale_min=0,
            dont_know_by_group={"onderwijs": 0, "gemeente": 0},
            total_dont_know=1,
        )
    ) == ["onderwijs"]


@pytest.mark.parametrize(
    ("by_group", "total", "kwargs"),
    [
        ({"a": [1, 2]}, [1, 2, 3], {}),  # wrong length
        ({"a": [3, 0, 0]}, [2, 0, 0], {}),  # more than the total
        ({"a": [1, 0, 0]}, [1, 0, 0], {"dont_know_by_group": {"b": 1}, "total_dont_know": 1}),
        ({"a": [1, 0, 0]}, [1, 0, 0], {"dont_know_by_group": {"a": 2}, "total_dont_know": 1}),
        ({"a": [-1, 0, 0]}, [1, 0, 0], {}),
    ],
)
def test_breakdown_rejects_inconsistent_counts(
    by_group: dict[str, list[int]], total: list[int], kwargs: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        breakdown(by_group, total, 3, scale_min=0, **kwargs)  # type: ignore[arg-type]


def test_bad_counts_are_rejected() -> None:
    with pytest.raises(ValueError):
        norm_stats([1], 0)
    with pytest.raises(ValueError):
        norm_stats([1, -1], 0)
    with pytest.raises(ValueError):
        norm_stats([1, 1], 0, dont_know=-1)
    with pytest.raises(ValueError):
        stats.quantile([1, 1], 0, Fraction(1))
