"""Small statistics over finished cases: time-to-target, mean and spread of
repeats, and pairs of cases that differ in one configuration field.

    time_to_target([97.1, 99.2], [30.0, 31.0], target=99.0)  -> 61.0
    mean_std([91.0, 93.0])                                    -> (92.0, 1.414...)
    pairs(records, "optimizer", "adam", "sgd", keys)          -> [(adam_rec, sgd_rec), ...]

No torch, no pytest: the experiments' findings are built on these.
"""

from __future__ import annotations

import statistics

# A difference below this many accuracy points is reported as "no clear effect"
# (when repeats give a larger spread, the spread is the bar instead).
MIN_EFFECT_POINTS = 0.5
# Relative time difference below which a speed comparison is "no clear effect".
MIN_TIME_EFFECT = 0.05


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
