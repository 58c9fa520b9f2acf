"""Benchmark (not a test) of the analysis of one conference-sized room.

Synthetic room: 2,000 participants rate the 20 norms of the Participatiescan
template on 0-10 (three latent camps plus noise, about 10 % "don't know").
Timed, best of 5 runs with ``time.perf_counter``: statistics of the 20 norms
(with the median band's per-n rank table cached, and with it cleared first),
theme statistics, the discussion ranking, and opinion groups.  Prints one
Markdown table row with the figures and the command.

Run from the repository root:

    python -m loadtests.bench_analysis
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence

from agenda.analysis import (
    discussion_ranking,
    median_rank_interval,
    norm_stats,
    theme_stats,
    themes_of,
)
from agenda.opinion_groups import opinion_groups
from agenda.templates import load_builtin_templates

COMMAND = "python -m loadtests.bench_analysis"


def synthetic_room(participants: int, norms: int, seed: int = 1) -> list[list[int | None]]:
    rng = random.Random(seed)
    camps = [[rng.randint(1, 9) for _ in range(norms)] for _ in range(3)]
    people: list[list[int | None]] = []
    for _ in range(participants):
        centre = rng.choice(camps)
        people.append(
            [
                None if rng.random() < 0.1 else max(0, min(10, round(c + rng.gauss(0, 1.5))))
                for c in centre
            ]
        )
    return people


def best_of(runs: int, work: Callable[[], object]) -> float:
    """Fastest of ``runs`` timings, in milliseconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def tallies(
    people: Sequence[Sequence[int | None]], norm_ids: Sequence[str], width: int
) -> tuple[dict[str, list[int]], dict[str, int]]:
    counts = {norm_id: [0] * width for norm_id in norm_ids}
    dont_know = dict.fromkeys(norm_ids, 0)
    for vector in people:
        for norm_id, value in zip(norm_ids, vector, strict=True):
            if value is None:
                dont_know[norm_id] += 1
            else:
                counts[norm_id][value] += 1
    return counts, dont_know


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    template = load_builtin_templates()["participatiescan"]
    scale = template.scale
    norm_ids = [norm.id for norm in template.norms]
    themes = themes_of(template)
    people = synthetic_room(args.participants, len(norm_ids))
    counts, dont_know = tallies(people, norm_ids, scale.max - scale.min + 1)

    def all_norm_stats() -> dict[str, object]:
        return {n: norm_stats(counts[n], scale.min, dont_know[n]) for n in norm_ids}

    by_norm = {n: norm_stats(counts[n], scale.min, dont_know[n]) for n in norm_ids}
    groups = opinion_groups(people, norm_ids, scale_min=scale.min, scale_max=scale.max, min_size=3)

    def all_norm_stats_cold() -> object:
        # The median band's rank table is cached per n; a live room meets new n's.
        median_rank_interval.cache_clear()
        return all_norm_stats()

    cold_ms = best_of(args.runs, all_norm_stats_cold)
    norms_ms = best_of(args.runs, all_norm_stats)
    themes_ms = best_of(args.runs, lambda: theme_stats(themes, counts, scale.min, dont_know))
    ranking_ms = best_of(args.runs, lambda: discussion_ranking(by_norm, scale.min, scale.max))
    groups_ms = best_of(
        args.runs,
        lambda: opinion_groups(
            people, norm_ids, scale_min=scale.min, scale_max=scale.max, min_size=3
        ),
    )
    total_ms = norms_ms + themes_ms + ranking_ms + groups_ms
    print(
        "| participants x norms | norm stats (20), cold / warm cache | theme stats | ranking "
        "| opinion groups | total (warm) | groups found | command |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.participants} x {len(norm_ids)} | {cold_ms:.1f} ms / {norms_ms:.2f} ms "
        f"| {themes_ms:.2f} ms "
        f"| {ranking_ms:.3f} ms | {groups_ms:.1f} ms | {total_ms:.1f} ms "
        f"| {[g.size for g in groups.groups]} | `{' '.join([COMMAND, *sys.argv[1:]])}` "
        f"(best of {args.runs}) |"
    )


if __name__ == "__main__":
    main()
