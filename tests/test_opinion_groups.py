"""Opinion groups (``agenda.opinion_groups``): planted camps are found, the
answer ignores the order of the participants, no group is ever small, and
groups that are close on every norm are not reported as camps."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenda.opinion_groups import (
    MIN_GROUP_DISTANCE,
    MIN_SEPARATION,
    OpinionGroups,
    opinion_groups,
)

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NORMS = tuple(f"norm-{i:02}" for i in range(1, 21))
#: Themes 1-2 and 3-4 of a 20-norm template (5 norms per theme).
FIRST_HALF = NORMS[:10]
SECOND_HALF = NORMS[10:]

Vector = list[int | None]


def clamp(value: float) -> int:
    return max(0, min(10, round(value)))


def camps(
    rng: random.Random, per_camp: int = 6, *, agree_on_second_half: bool = False
) -> list[Vector]:
    """Camp A rates the first half low (about 2) and the second high (about 8);
    camp B the opposite, or (``agree_on_second_half``) both about 6 there.
    Noise of up to one point either way, and now and then a "don't know"."""
    people: list[Vector] = []
    for camp in ("A", "B"):
        for _ in range(per_camp):
            vector: Vector = []
            for index in range(len(NORMS)):
                if index < 10:
                    centre = 2 if camp == "A" else 8
                elif agree_on_second_half:
                    centre = 6
                else:
                    centre = 8 if camp == "A" else 2
                value = clamp(centre + rng.choice((-1, 0, 0, 1)))
                vector.append(None if rng.random() < 0.05 else value)
            people.append(vector)
    return people


def run(people: list[Vector], min_size: int = 3) -> OpinionGroups:
    return opinion_groups(people, NORMS, scale_min=0, scale_max=10, min_size=min_size)


def check_camps_found(result: OpinionGroups, per_camp: int) -> None:
    assert result.outcome == "groups"
    assert [group.size for group in result.groups] == [per_camp, per_camp]
    assert result.reassigned == 0
    low_first = [
        group
        for group in result.groups
        if all((group.median_per_norm[n] or 0) <= 3 for n in FIRST_HALF)
    ]
    high_first = [
        group
        for group in result.groups
        if all((group.median_per_norm[n] or 10) >= 7 for n in FIRST_HALF)
    ]
    # One group holds camp A (low on the first half), the other camp B: the
    # partition is recovered exactly, since the sizes add up and no group mixes.
    assert len(low_first) == len(high_first) == 1


@pytest.mark.parametrize("seed", range(20))
def test_two_planted_camps_are_recovered(seed: int) -> None:
    result = run(camps(random.Random(seed)))
    check_camps_found(result, 6)
    low_first = next(g for g in result.groups if (g.median_per_norm[NORMS[0]] or 0) <= 3)
    assert all((low_first.median_per_norm[n] or 10) >= 7 for n in SECOND_HALF)
    # Every norm was planted to separate the camps.
    assert {norm for norm, _ in result.separating_norms} == set(NORMS)
    assert result.silhouette is not None and result.silhouette >= 0.6


@pytest.mark.parametrize("seed", range(20))
def test_separating_norms_are_the_planted_ones(seed: int) -> None:
    result = run(camps(random.Random(seed), agree_on_second_half=True))
    check_camps_found(result, 6)
    top = [norm for norm, _ in result.separating_norms[: len(FIRST_HALF)]]
    assert set(top) == set(FIRST_HALF)
    assert all(score >= 0.8 for norm, score in result.separating_norms if norm in FIRST_HALF)
    # Where the camps agree, a norm is reported only when chance makes it look
    # separating, and then below every planted one.
    second = [score for norm, score in result.separating_norms if norm in SECOND_HALF]
    assert len(second) <= 1
    scores = [score for _, score in result.separating_norms]
    assert scores == sorted(scores, reverse=True)
    assert all(score >= MIN_SEPARATION for score in scores)
    for group in result.groups:
        assert all(5 <= (group.median_per_norm[n] or 6) <= 7 for n in SECOND_HALF)


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.randoms(use_true_random=False))
def test_the_order_of_the_participants_does_not_matter(seed: int, shuffler: random.Random) -> None:
    people = camps(random.Random(seed), per_camp=shuffler.randint(3, 12))
    shuffled = list(people)
    shuffler.shuffle(shuffled)
    assert run(shuffled) == run(people)


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.randoms(use_true_random=False))
def test_the_order_does_not_matter_without_structure_either(
    seed: int, shuffler: random.Random
) -> None:
    rng = random.Random(seed)
    people: list[Vector] = [
        [None if rng.random() < 0.2 else rng.randint(0, 10) for _ in NORMS]
        for _ in range(rng.randint(0, 40))
    ]
    shuffled = list(people)
    shuffler.shuffle(shuffled)
    assert run(shuffled, 2) == run(people, 2)


def test_bigger_camps_and_a_third_one() -> None:
    rng = random.Random(7)
    people = camps(rng, per_camp=40)
    people += [[clamp(5 + rng.choice((-1, 0, 1))) for _ in NORMS] for _ in range(25)]
    result = run(people, 5)
    assert result.outcome == "groups"
    assert sorted(group.size for group in result.groups) == [25, 40, 40]


def test_five_participants_give_one_group() -> None:
    rng = random.Random(1)
    people = camps(rng, per_camp=3)[:5]
    people[0][3] = None  # a "don't know"
    result = run(people)
    assert result.outcome == "too_few_participants"
    assert len(result.groups) == 1 and result.groups[0].size == 5
    assert result.separating_norms == ()
    for index, norm in enumerate(NORMS):
        ratings = [value for p in people if (value := p[index]) is not None]
        assert result.groups[0].median_per_norm[norm] == statistics.median(ratings)


def test_too_few_participants_for_any_group() -> None:
    people = camps(random.Random(1), per_camp=1)
    result = run(people)
    assert result.groups == () and result.outcome == "too_few_participants"
    assert run([], 3).groups == ()


def test_medians_need_min_size_ratings() -> None:
    people: list[Vector] = [[5] * 20 for _ in range(4)]
    for person in people[:2]:
        person[0] = None
    result = run(people, 3)
    assert result.groups[0].median_per_norm[NORMS[0]] is None  # only two rated it
    assert result.groups[0].median_per_norm[NORMS[1]] == 5.0


def test_everybody_alike_is_one_group() -> None:
    result = run([[4] * 20 for _ in range(30)])
    assert result.outcome == "no_clear_groups"
    assert [group.size for group in result.groups] == [30]


# --- minimum distance between groups -----------------------------------------


def test_three_sixes_and_three_sevens_are_not_two_groups() -> None:
    # Two perfectly tight clusters (silhouette 1), one point apart on 0-10.
    result = run([[6] * 20] * 3 + [[7] * 20] * 3)
    assert result.outcome == "no_clear_groups"
    assert [group.size for group in result.groups] == [6]
    assert result.silhouette is None and result.separating_norms == ()


@pytest.mark.parametrize(
    ("low", "high", "scale_min", "scale_max", "outcome"),
    [
        (5, 7, 0, 10, "no_clear_groups"),  # 0.2 of the range
        (2, 5, 0, 10, "groups"),  # 0.3: exactly MIN_GROUP_DISTANCE
        (2, 8, 0, 10, "groups"),
        (3, 4, 1, 5, "no_clear_groups"),  # one point on 1-5 is 0.25
        (2, 4, 1, 5, "groups"),
    ],
)
def test_groups_need_medians_far_enough_apart(
    low: int, high: int, scale_min: int, scale_max: int, outcome: str
) -> None:
    people: list[Vector] = [[low] * 20] * 4 + [[high] * 20] * 4
    result = opinion_groups(people, NORMS, scale_min=scale_min, scale_max=scale_max, min_size=3)
    assert result.outcome == outcome


def test_one_far_norm_is_enough() -> None:
    # The camps agree on 19 norms and lie 4 points apart on one.
    people: list[Vector] = [[5] * 20] * 4 + [[5] * 19 + [9]] * 4
    result = run(people)
    assert result.outcome == "groups"
    assert [norm for norm, _ in result.separating_norms] == [NORMS[-1]]


def test_two_close_camps_are_one_group_beside_a_far_one() -> None:
    # Three tight camps at 1, 6 and 7: splitting 6 from 7 scores the best
    # silhouette, but those two are one opinion, so two groups remain.
    people: list[Vector] = [[1] * 20] * 4 + [[6] * 20] * 4 + [[7] * 20] * 4
    result = run(people)
    assert result.outcome == "groups"
    assert [group.size for group in result.groups] == [8, 4]
    assert set(result.groups[0].median_per_norm.values()) == {6.5}
    assert set(result.groups[1].median_per_norm.values()) == {1.0}


def widest_close_spread(scale_range: int) -> int:
    """The most points by which ratings may differ and stay below the threshold."""
    return math.ceil(MIN_GROUP_DISTANCE * scale_range) - 1


def close_table(rng: random.Random, scale_min: int, scale_range: int, spread: int) -> list[Vector]:
    """A table in which every norm's ratings lie within ``spread`` points, in a
    few tight camps (offset patterns), so that clusters are clean but close."""
    bases = [scale_min + rng.randint(0, scale_range - spread) for _ in NORMS]
    patterns = [[rng.randint(0, spread) for _ in NORMS] for _ in range(rng.randint(1, 4))]
    people: list[Vector] = []
    for _ in range(rng.randint(0, 40)):
        pattern = rng.choice(patterns)
        people.append(
            [None if rng.random() < 0.05 else b + o for b, o in zip(bases, pattern, strict=True)]
        )
    return people


@PROPERTY
@given(
    st.integers(0, 2**32 - 1),
    st.integers(-1, 1),
    st.integers(1, 10),
    st.integers(1, 5),
    st.integers(2, 4),
    st.floats(0.0, 0.9),
)
def test_a_table_closer_than_the_threshold_never_gives_groups(
    seed: int, scale_min: int, scale_range: int, min_size: int, max_groups: int, silhouette: float
) -> None:
    rng = random.Random(seed)
    people = close_table(rng, scale_min, scale_range, widest_close_spread(scale_range))
    result = opinion_groups(
        people,
        NORMS,
        scale_min=scale_min,
        scale_max=scale_min + scale_range,
        min_size=min_size,
        max_groups=max_groups,
        min_silhouette=silhouette,
    )
    assert result.outcome != "groups"
    assert len(result.groups) <= 1


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.sampled_from([(0, 10), (1, 5), (1, 7), (0, 4)]))
def test_ratings_within_one_point_never_give_groups(seed: int, scale: tuple[int, int]) -> None:
    # On any scale of five values or more, one point is below the threshold.
    scale_min, scale_max = scale
    people = close_table(random.Random(seed), scale_min, scale_max - scale_min, 1)
    result = opinion_groups(people, NORMS, scale_min=scale_min, scale_max=scale_max, min_size=3)
    assert result.outcome != "groups"


@PROPERTY
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 10),
    # From 2: a one-person cluster has silhouette 0, so never clear groups.
    st.integers(2, 5),
    st.integers(0, 6),
    st.integers(0, 6),
)
def test_tight_camps_far_apart_on_one_norm_are_found(
    seed: int, scale_range: int, min_size: int, extra_a: int, extra_b: int
) -> None:
    rng = random.Random(seed)
    far = math.ceil(MIN_GROUP_DISTANCE * scale_range)
    camp_a = [rng.randint(0, scale_range) for _ in NORMS]
    camp_b = [rng.randint(0, scale_range) for _ in NORMS]
    # On one norm the camps lie at least MIN_GROUP_DISTANCE of the range apart.
    norm = rng.randrange(len(NORMS))
    camp_a[norm] = rng.randint(0, scale_range - far)
    camp_b[norm] = camp_a[norm] + rng.randint(far, scale_range - camp_a[norm])
    sizes = sorted([min_size + extra_a, min_size + extra_b], reverse=True)
    people: list[Vector] = [list(camp_a)] * sizes[0] + [list(camp_b)] * sizes[1]
    rng.shuffle(people)
    result = opinion_groups(people, NORMS, scale_min=0, scale_max=scale_range, min_size=min_size)
    assert result.outcome == "groups"
    assert [group.size for group in result.groups] == sizes


@pytest.mark.parametrize("seed", range(5))
def test_no_structure_gives_no_clear_groups(seed: int) -> None:
    rng = random.Random(seed)
    people: list[Vector] = [[rng.randint(0, 10) for _ in NORMS] for _ in range(200)]
    result = run(people, 3)
    assert result.outcome == "no_clear_groups"
    assert [group.size for group in result.groups] == [200]


def test_participants_who_rated_too_little_are_left_out() -> None:
    people = camps(random.Random(3))
    people.append([None] * 20)
    people.append([1] * 9 + [None] * 11)
    result = run(people)
    assert result.excluded == 2 and result.participants == 12
    check_camps_found(result, 6)


@PROPERTY
@given(
    st.integers(0, 2**32 - 1),
    st.integers(0, 60),
    st.integers(1, 8),
    st.integers(1, 4),
    st.floats(0.0, 0.9),
    st.floats(0.0, 0.5),
)
def test_no_group_is_ever_smaller_than_min_size(
    seed: int, n: int, min_size: int, max_groups: int, min_silhouette: float, min_distance: float
) -> None:
    rng = random.Random(seed)
    # A few camps of random sizes around random centres: small clusters happen.
    centres = [[rng.randint(0, 10) for _ in NORMS] for _ in range(rng.randint(1, 5))]
    people: list[Vector] = []
    for _ in range(n):
        centre = rng.choice(centres)
        people.append(
            [None if rng.random() < 0.1 else clamp(c + rng.gauss(0, 1.5)) for c in centre]
        )
    result = opinion_groups(
        people,
        NORMS,
        scale_min=0,
        scale_max=10,
        min_size=min_size,
        max_groups=max_groups,
        min_silhouette=min_silhouette,
        min_distance=min_distance,
    )
    assert all(group.size >= min_size for group in result.groups)
    assert len(result.groups) <= max_groups
    assert result.participants + result.excluded == n
    if result.groups:
        assert sum(group.size for group in result.groups) == result.participants
    else:
        assert result.participants < min_size
    if result.participants < 2 * min_size:
        assert len(result.groups) <= 1
    sizes = [group.size for group in result.groups]
    assert sizes == sorted(sizes, reverse=True)
    for group in result.groups:
        assert set(group.median_per_norm) == set(NORMS)
        assert all(m is None or 0 <= m <= 10 for m in group.median_per_norm.values())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scale_min": 5, "scale_max": 5, "min_size": 3},
        {"scale_min": 0, "scale_max": 10, "min_size": 0},
        {"scale_min": 0, "scale_max": 10, "min_size": 3, "max_groups": 0},
    ],
)
def test_bad_parameters_are_rejected(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        opinion_groups([[1] * 20], NORMS, **kwargs)


@pytest.mark.parametrize("vector", [[1] * 19, [11] + [1] * 19, [True] + [1] * 19])
def test_bad_vectors_are_rejected(vector: Vector) -> None:
    with pytest.raises(ValueError):
        run([vector])
