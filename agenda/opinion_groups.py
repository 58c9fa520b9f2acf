"""Opinion groups: participants who rate alike, found from their rating vectors.

Pure and deterministic, and the same for any order of the participants: the
vectors are sorted canonically before anything else happens.  The result
holds group sizes and per-norm medians, never who is in which group.

Steps (details and limits in ``docs/analysis.md``):

1. keep participants who rated at least half of the norms (``min_rated``);
2. impute each missing rating ("don't know" or unrated) with that norm's mean
   over the kept participants, divide by the scale's range, centre each norm;
3. project onto the first two principal components (eigenvectors of the
   norms' scatter matrix, i.e. PCA);
4. k-means for k = 2..``max_groups`` (best of a farthest-point start and three
   k-means++ starts with a fixed seed); dissolve clusters smaller than
   ``min_size`` into the nearest remaining one;
5. keep the k with the highest mean silhouette that reaches ``min_silhouette``
   and whose groups lie far enough apart: every two of them have medians at
   least ``min_distance`` of the scale's range apart on some norm; if no k
   qualifies, report one group ("no clear groups");
6. rank norms by how much of their variance lies between the groups
   (epsilon squared, a chance-corrected eta squared, on the actual ratings).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from agenda.stats import median as stats_median

#: Mean silhouette a grouping needs to be reported.  Kaufman & Rousseeuw call
#: above 0.5 "a reasonable structure"; in the 2-D projection k-means scores
#: about 0.3-0.45 on structureless ratings and 0.5-0.55 on a single continuum
#: (optimists to pessimists), which is not two groups either; planted camps
#: score 0.65-0.9.
MIN_SILHOUETTE: Final = 0.6
#: Every two reported groups must have medians at least this share of the
#: scale's range apart on at least one norm (default 0.3: 3 points on 0-10,
#: more than one on 1-5).  Silhouette measures how clean a division is, not
#: how large: three people rating every norm 6 and three rating it 7 form two
#: perfectly tight clusters (silhouette 1), but a table that agrees within a
#: point or two has no camps.  A consistent 3-point gap (a middle group at 5
#: between camps at 2 and 8) does count.  Like ``SPLIT_MIN_DISTANCE`` in
#: ``agenda.analysis`` (0.4 for one norm) it is a share of the range, so it
#: means the same on any scale.
MIN_GROUP_DISTANCE: Final = 0.3
#: A norm "separates" the groups when at least half of its variance lies
#: between them (chance-corrected; see ``_separation``).
MIN_SEPARATION: Final = 0.5
MAX_GROUPS: Final = 4
#: Silhouettes are computed on at most this many participants (an evenly
#: spaced, canonical subsample), to bound the pairwise-distance matrix.
SILHOUETTE_SAMPLE: Final = 1000
#: Fixed seed of the k-means++ starts.
SEED: Final = 20240611
KMEANS_PLUS_PLUS_STARTS: Final = 3
MAX_ITERATIONS: Final = 100
# Ratios are compared after rounding, so that floating-point noise never
# decides a threshold (as in ``agenda.analysis``).
_DIGITS: Final = 9

Outcome = Literal["groups", "no_clear_groups", "too_few_participants"]

_RATING_TYPES: Final = frozenset({int, type(None)})

_Floats = npt.NDArray[np.float64]
_Ints = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class Group:
    """One opinion group: how many, and what they typically said."""

    size: int
    #: Norm id -> median of the group's ratings; None when fewer than
    #: ``min_size`` of its members rated the norm.
    median_per_norm: dict[str, float | None]


@dataclass(frozen=True, slots=True)
class OpinionGroups:
    #: Largest first.  Empty when fewer than ``min_size`` participants qualify.
    groups: tuple[Group, ...]
    #: (norm id, epsilon squared) for norms with at least ``MIN_SEPARATION`` of
    #: their variance between the groups, most separating first (ties in norm
    #: order).  Empty for one group.
    separating_norms: tuple[tuple[str, float], ...]
    outcome: Outcome
    #: Mean silhouette of the reported grouping (None for a single group).
    silhouette: float | None
    #: Participants clustered, and those left out for rating too few norms.
    participants: int
    excluded: int
    #: Participants whose own cluster was smaller than ``min_size`` and who were
    #: moved to the nearest larger group.
    reassigned: int


# --- clustering steps --------------------------------------------------------


def _project(values: _Floats, scale_range: int) -> _Floats:
    """Impute, scale, centre and project onto (at most) two principal components."""
    observed = ~np.isnan(values)
    rated = observed.sum(axis=0)
    sums = np.where(observed, values, 0.0).sum(axis=0)
    # A norm nobody kept rated becomes a constant column, which centring zeroes.
    means = np.where(rated > 0, sums / np.maximum(rated, 1), 0.0)
    filled = np.where(observed, values, means) / scale_range
    centred = filled - filled.mean(axis=0)
    # The principal axes are the top eigenvectors of the (norms x norms)
    # scatter matrix: the same as an SVD of the data, but on a 20 x 20 matrix.
    # einsum, not BLAS: its summation order does not depend on the machine's
    # thread count, and BLAS threads are slow for such thin matrices on a
    # busy machine.
    eigenvalues, eigenvectors = np.linalg.eigh(np.einsum("ij,ik->jk", centred, centred))
    axes = eigenvectors[:, ::-1][:, : min(2, eigenvalues.shape[0])]
    # Fix each axis's sign (largest loading positive) so the scores are reproducible.
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(axes.shape[1])])
    scores: _Floats = np.einsum("ij,jk->ik", centred, axes * np.where(signs == 0, 1.0, signs))
    return scores


def _squared_distances(points: _Floats, others: _Floats) -> _Floats:
    """Pairwise squared distances, one coordinate at a time (elementwise, no BLAS:
    the matrices are thin, and a busy machine makes BLAS threads slow here)."""
    result: _Floats = np.zeros((points.shape[0], others.shape[0]))
    for d in range(points.shape[1]):
        result += (points[:, d, None] - others[None, :, d]) ** 2
    return result


def _assign(points: _Floats, centres: _Floats) -> _Ints:
    labels: _Ints = np.argmin(_squared_distances(points, centres), axis=1)
    return labels


def _centres(points: _Floats, labels: _Ints) -> _Floats:
    """The mean of each non-empty cluster, in label order."""
    k = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=k)
    sums = np.stack(
        [np.bincount(labels, weights=points[:, d], minlength=k) for d in range(points.shape[1])],
        axis=1,
    )
    present = counts > 0
    centres: _Floats = sums[present] / counts[present, None]
    return centres


def _compact(labels: _Ints) -> _Ints:
    """Relabel to 0..k-1 keeping the order of the labels (a cluster may have emptied)."""
    present = np.bincount(labels) > 0
    compact: _Ints = (np.cumsum(present) - 1)[labels].astype(np.intp)
    return compact


def _lloyd(points: _Floats, centres: _Floats) -> tuple[_Ints, float]:
    labels = _assign(points, centres)
    for _ in range(MAX_ITERATIONS):
        labels = _compact(labels)
        centres = _centres(points, labels)
        new_labels = _assign(points, centres)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
    inertia = float(((points - centres[labels]) ** 2).sum())
    return labels, inertia


def _farthest_point_start(points: _Floats, k: int) -> _Floats:
    # Start from the participant farthest from the centre (the scores are
    # centred), then repeatedly add the one farthest from all chosen so far;
    # argmax takes the first in canonical order on ties.
    chosen = [int(np.argmax((points**2).sum(axis=1)))]
    nearest = ((points - points[chosen[0]]) ** 2).sum(axis=1)
    while len(chosen) < k:
        chosen.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, ((points - points[chosen[-1]]) ** 2).sum(axis=1))
    start: _Floats = points[chosen]
    return start


def _kmeans_plus_plus_start(points: _Floats, k: int, rng: np.random.Generator) -> _Floats:
    chosen = [int(rng.integers(points.shape[0]))]
    nearest = ((points - points[chosen[0]]) ** 2).sum(axis=1)
    while len(chosen) < k:
        total = float(nearest.sum())
        if total == 0:
            break
        chosen.append(int(rng.choice(points.shape[0], p=nearest / total)))
        nearest = np.minimum(nearest, ((points - points[chosen[-1]]) ** 2).sum(axis=1))
    start: _Floats = points[chosen]
    return start


def _kmeans(points: _Floats, k: int) -> _Ints:
    """The best (lowest inertia, first on ties) of several deterministic starts."""
    rng = np.random.default_rng(SEED)
    starts = [_farthest_point_start(points, k)]
    starts += [_kmeans_plus_plus_start(points, k, rng) for _ in range(KMEANS_PLUS_PLUS_STARTS)]
    best: tuple[_Ints, float] | None = None
    for start in starts:
        labels, inertia = _lloyd(points, np.unique(start, axis=0))
        if best is None or inertia < best[1] - 1e-12:
            best = (labels, inertia)
    assert best is not None
    return best[0]


def _dissolve_small(points: _Floats, labels: _Ints, min_size: int) -> tuple[_Ints, int]:
    """Move the members of clusters under ``min_size`` to the nearest remaining
    centre, smallest cluster first; returns relabelled 0..k-1 and how many moved."""
    labels = labels.copy()
    moved = 0
    while True:
        used, sizes = np.unique(labels, return_counts=True)
        if used.shape[0] <= 1 or sizes.min() >= min_size:
            break
        # Smallest first; on a tie the one with the lowest label.
        small = int(used[np.argmin(sizes)])
        rest = used[used != small]
        centres = np.stack([points[labels == c].mean(axis=0) for c in rest])
        members = labels == small
        labels[members] = rest[_assign(points[members], centres)]
        moved += int(members.sum())
    return _compact(labels), moved


def _silhouette_sample(points: _Floats) -> tuple[_Ints, _Floats]:
    """An evenly spaced subsample (in canonical order) and its distance matrix."""
    n = points.shape[0]
    sample: _Ints = np.unique(
        np.linspace(0, n - 1, min(n, SILHOUETTE_SAMPLE)).round().astype(np.intp)
    )
    chosen = points[sample]
    distances: _Floats = np.sqrt(_squared_distances(chosen, chosen))
    return sample, distances


def _silhouette(distances: _Floats, labels: _Ints) -> float:
    """Mean silhouette (Rousseeuw 1987) of a labelling with at least two
    clusters; 0 for members of one-person clusters."""
    m = labels.shape[0]
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k)
    if np.count_nonzero(sizes) < 2:
        return 0.0
    # sums[i, c]: total distance from point i to the members of cluster c.
    sums = np.stack([distances[:, labels == c].sum(axis=1) for c in range(k)], axis=1)
    own_size = sizes[labels]
    a = sums[np.arange(m), labels] / np.maximum(own_size - 1, 1)
    mean_to = np.where(sizes > 0, sums / np.maximum(sizes, 1), np.inf)
    mean_to[np.arange(m), labels] = np.inf
    b = mean_to.min(axis=1)
    widest = np.maximum(a, b)
    valid = (own_size > 1) & (widest > 0)
    s = np.zeros(m)
    s[valid] = (b[valid] - a[valid]) / widest[valid]
    return float(s.mean())


# --- reporting ---------------------------------------------------------------


def _group_medians(
    values: _Floats, norm_ids: Sequence[str], scale_min: int, width: int, min_size: int
) -> dict[str, float | None]:
    result: dict[str, float | None] = {}
    for column, norm_id in enumerate(norm_ids):
        rated = values[:, column]
        rated = rated[~np.isnan(rated)]
        if rated.shape[0] < min_size:
            result[norm_id] = None
            continue
        counts = np.bincount((rated - scale_min).astype(np.intp), minlength=width)
        result[norm_id] = stats_median([int(c) for c in counts], scale_min)
    return result


def _groups_of(
    values: _Floats,
    labels: _Ints,
    norm_ids: Sequence[str],
    scale_min: int,
    width: int,
    min_size: int,
) -> list[Group]:
    """The groups of a labelling, largest first (ties by their medians, so the
    order does not depend on the labels)."""
    groups = [
        Group(
            int((labels == c).sum()),
            _group_medians(values[labels == c], norm_ids, scale_min, width, min_size),
        )
        for c in range(int(labels.max()) + 1)
    ]
    groups.sort(
        key=lambda g: (
            -g.size,
            tuple(-1.0 if m is None else m for m in g.median_per_norm.values()),
        )
    )
    return groups


def _medians_apart(first: Group, second: Group, scale_range: int, min_distance: float) -> bool:
    """Whether on some norm both groups have a median and they lie at least
    ``min_distance`` of the scale's range apart."""
    return any(
        a is not None
        and b is not None
        and round(abs(a - b) / scale_range, _DIGITS) >= round(min_distance, _DIGITS)
        for a, b in zip(
            first.median_per_norm.values(), second.median_per_norm.values(), strict=True
        )
    )


def _far_apart(groups: Sequence[Group], scale_range: int, min_distance: float) -> bool:
    """Whether every two groups are apart (``_medians_apart``): a pair that is
    close on every norm is one opinion, not two."""
    return all(
        _medians_apart(first, second, scale_range, min_distance)
        for first, second in combinations(groups, 2)
    )


def _separation(values: _Floats, labels: _Ints) -> list[float]:
    """Per norm, how much of its variance lies between the groups, on the actual
    ratings: Kelley's epsilon squared, ``(SS_between - (g - 1) MS_within) / SS_total``,
    i.e. eta squared corrected for what chance alone gives with few raters;
    clipped to [0, 1], and 0 for a norm without spread."""
    result = []
    k = int(labels.max()) + 1
    for column in range(values.shape[1]):
        rated = ~np.isnan(values[:, column])
        x = values[rated, column]
        counts = np.bincount(labels[rated], minlength=k)
        present = counts > 0
        groups = int(present.sum())
        if groups < 2 or x.shape[0] <= groups:
            result.append(0.0)
            continue
        grand = x.mean()
        total = float(((x - grand) ** 2).sum())
        if total == 0:
            result.append(0.0)
            continue
        sums = np.bincount(labels[rated], weights=x, minlength=k)
        group_means = sums[present] / counts[present]
        between = float((counts[present] * (group_means - grand) ** 2).sum())
        within_mean_square = (total - between) / (x.shape[0] - groups)
        epsilon = (between - (groups - 1) * within_mean_square) / total
        result.append(round(min(1.0, max(0.0, epsilon)), 9))
    return result


def _check(
    ratings: Sequence[Sequence[int | None]],
    norm_ids: Sequence[str],
    scale_min: int,
    scale_max: int,
    min_size: int,
    max_groups: int,
) -> None:
    if scale_max <= scale_min:
        raise ValueError("scale_max must be above scale_min")
    if min_size < 1:
        raise ValueError("min_size must be at least 1")
    if max_groups < 1:
        raise ValueError("max_groups must be at least 1")
    if not norm_ids or len(set(norm_ids)) != len(norm_ids):
        raise ValueError("norm_ids must be non-empty and unique")
    allowed = frozenset(range(scale_min, scale_max + 1)) | {None}
    for vector in ratings:
        if len(vector) != len(norm_ids):
            raise ValueError(f"every rating vector must have {len(norm_ids)} entries")
        # Whole numbers on the scale or None; not bools or floats, which compare
        # equal to ints.  (Set operations: this runs on 40,000 values.)
        if not allowed.issuperset(vector) or not _RATING_TYPES.issuperset(map(type, vector)):
            bad = next(v for v in vector if v not in allowed or type(v) not in _RATING_TYPES)
            raise ValueError(f"rating {bad!r} is not on the scale")


def opinion_groups(
    ratings: Sequence[Sequence[int | None]],
    norm_ids: Sequence[str],
    *,
    scale_min: int,
    scale_max: int,
    min_size: int,
    max_groups: int = MAX_GROUPS,
    min_silhouette: float = MIN_SILHOUETTE,
    min_separation: float = MIN_SEPARATION,
    min_distance: float = MIN_GROUP_DISTANCE,
    min_rated: int | None = None,
) -> OpinionGroups:
    """Group participants by their rating vectors (one vector per participant,
    ``None`` for "don't know" or unrated; see the module docstring).

    No group smaller than ``min_size`` is ever returned: small clusters are
    merged into the nearest larger one, and with fewer than ``2 * min_size``
    participants the answer is a single group (or none below ``min_size``).
    Groups are reported only when every two of them have medians at least
    ``min_distance`` of the scale's range apart on some norm.  ``min_rated``
    (default: half the norms, rounded up) is the fewest ratings a participant
    needs to be clustered.
    """
    _check(ratings, norm_ids, scale_min, scale_max, min_size, max_groups)
    needed = max(1, (len(norm_ids) + 1) // 2 if min_rated is None else min_rated)
    matrix: _Floats = np.array(
        [list(vector) for vector in ratings],
        dtype=np.float64,  # None becomes NaN
    ).reshape(len(ratings), len(norm_ids))
    kept = matrix[(~np.isnan(matrix)).sum(axis=1) >= needed]
    n = kept.shape[0]
    excluded = len(ratings) - n
    width = scale_max - scale_min + 1
    if n < min_size:
        return OpinionGroups((), (), "too_few_participants", None, n, excluded, 0)
    # Canonical order (lexicographic over the norms, "don't know" first): the
    # result cannot depend on the order of the input.
    keys = np.where(np.isnan(kept), scale_min - 1.0, kept)
    values: _Floats = kept[np.lexsort(keys.T[::-1])]

    def one_group(outcome: Outcome) -> OpinionGroups:
        group = Group(n, _group_medians(values, norm_ids, scale_min, width, min_size))
        return OpinionGroups((group,), (), outcome, None, n, excluded, 0)

    if n < 2 * min_size or max_groups < 2:
        return one_group("too_few_participants" if n < 2 * min_size else "no_clear_groups")
    points = _project(values, scale_max - scale_min)
    if float(np.abs(points).max(initial=0.0)) < 1e-12:
        return one_group("no_clear_groups")  # everybody rated alike

    sample, distances = _silhouette_sample(points)
    candidates: list[tuple[float, _Ints, int]] = []
    seen: list[_Ints] = []
    for k in range(2, min(max_groups, n // min_size) + 1):
        labels, moved = _dissolve_small(points, _kmeans(points, k), min_size)
        if int(labels.max()) == 0 or any(np.array_equal(labels, other) for other in seen):
            continue
        seen.append(labels)
        score = round(_silhouette(distances, labels[sample]), _DIGITS)
        if score >= min_silhouette:
            candidates.append((score, labels, moved))
    # Highest silhouette first, the smallest k on ties (the sort is stable).  A
    # grouping whose groups are not far enough apart gives way to the next: of
    # camps at 1, 6 and 7, the two at 6 and 7 are one group.
    candidates.sort(key=lambda candidate: -candidate[0])
    chosen: tuple[float, _Ints, int, list[Group]] | None = None
    for score, labels, moved in candidates:
        groups = _groups_of(values, labels, norm_ids, scale_min, width, min_size)
        if _far_apart(groups, scale_max - scale_min, min_distance):
            chosen = (score, labels, moved, groups)
            break
    if chosen is None:
        return one_group("no_clear_groups")
    score, labels, moved, groups = chosen

    separating = sorted(
        (
            (norm_id, separation)
            for norm_id, separation in zip(norm_ids, _separation(values, labels), strict=True)
            if separation >= min_separation
        ),
        key=lambda item: -item[1],
    )
    return OpinionGroups(tuple(groups), tuple(separating), "groups", score, n, excluded, moved)
