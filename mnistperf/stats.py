"""Small statistics over finished cases: time-to-target, mean and spread of
repeats, and pairs of cases that differ in one configuration field.

    time_to_target([97.1, 99.2], [30.0, 31.0], target=99.0)  -> 61.0
    mean_std([91.0, 93.0])                                    -> (92.0, 1.414...)
    pairs(records, "optimizer", "adam", "sgd", keys)          -> [(adam_rec, sgd_rec), ...]
    sign_test([+1.2, +0.4, -0.1, +2.0])                       -> 0.625

No torch, no pytest: the experiments' findings and the study's claims are built
on these, and every threshold they judge with is defined here, once.
"""

from __future__ import annotations

import math
import statistics

# An accuracy difference below this many points is "no clear effect"; two
# accuracies closer than this are "alike" (when repeats give a larger spread, the
# spread is the bar instead).
MIN_EFFECT_POINTS = 0.5
# A relative time difference below this is "no clear effect" (speed comparisons,
# pin_memory: identical timed cases on a quiet machine differ by up to ~5 %).
MIN_TIME_EFFECT = 0.05
# "X is better" over several configurations needs a two-sided sign test below this.
SIGNIFICANCE = 0.05
# An SVM within this many points of the best network is "competitive".
COMPETITIVE_POINTS = 1.0
# "around N %": within this many points of N.
AROUND_POINTS = 1.0
# "most configurations": more than this share of them.
MOST = 0.5


def time_to_target(val_accuracy, epoch_seconds, target: float) -> float | None:
    """Training seconds until validation accuracy first reaches `target`, or None."""
    elapsed = 0.0
    for accuracy, seconds in zip(val_accuracy, epoch_seconds):
        elapsed += seconds
        if accuracy is not None and accuracy >= target:
            return elapsed
    return None


def mean_std(values) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (0 for one value) of the non-None values."""
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    if len(values) == 1:
        return float(values[0]), 0.0
    return statistics.fmean(values), statistics.stdev(values)


def pairs(records, factor: str, a, b, keys: tuple[str, ...]):
    """(record_a, record_b) for configurations equal in every field of `keys` and
    differing in `factor`, which is `a` in the first and `b` in the second."""
    index: dict[tuple, dict] = {}
    for record in records:
        group = index.setdefault(tuple(getattr(record, k) for k in keys), {})
        group[getattr(record, factor)] = record
    return [(group[a], group[b]) for group in index.values() if a in group and b in group]


def clear_gap(acc_a: float, n_a: int, acc_b: float, n_b: int) -> float:
    """Points two single accuracies (percent, on n_a and n_b test images) must differ
    by to be a clear difference: twice the standard error of their difference
    (binomial sampling of the test images), and never less than MIN_EFFECT_POINTS.
    Two accuracies near 90 % on 1,000 images each need 2.7 points."""
    var = sum(p * (100 - p) / n for p, n in ((acc_a, n_a), (acc_b, n_b)) if n)
    return max(MIN_EFFECT_POINTS, 2 * math.sqrt(var))


def sign_test(diffs) -> float:
    """Two-sided sign test: the chance of a split of wins and losses at least this
    uneven if each configuration were a coin toss. Ties (0) are dropped; no
    non-tied difference gives 1.0."""
    wins = sum(d > 0 for d in diffs)
    losses = sum(d < 0 for d in diffs)
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(wins, losses) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def format_p(p: float) -> str:
    """'p = 0.0078' / 'p < 0.0001' for findings and claims."""
    return "p < 0.0001" if p < 1e-4 else f"p = {p:.2g}" if p < 0.01 else f"p = {p:.2f}"
