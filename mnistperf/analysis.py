"""Numbers derived from finished cases: time-to-target, repeat statistics, and
the written findings (each a claim with its numbers and how many
configurations agree).

    time_to_target([97.1, 99.2], [30.0, 31.0], target=99.0)  -> 61.0
    mean_std([91.0, 93.0])                                    -> (92.0, 1.414...)
    findings(cases)                                           -> list[str]

Nothing here imports pytest or torch: it works on plain extra_info dicts.
"""

from __future__ import annotations

import math
import statistics

# Validation-accuracy targets (percent) for time-to-target; options override them.
DEFAULT_TARGETS = {"mnist": 99.0, "fashion": 92.0}

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


def check_target(value: float, option: str) -> float:
    if not (0 < value <= 100) or math.isnan(value):
        raise ValueError(f"{option}={value} is outside (0, 100]; give a validation accuracy "
                         f"in percent, e.g. {option}=99")
    return value


# ---------------------------------------------------------------- findings

# (factor, a, b, label a, label b): "a vs b" comparisons over otherwise equal configs.
FACTORS = (
    ("optimizer", "adam", "sgd", "Adam", "SGD"),
    ("batch_size", 16, 32, "batch 16", "batch 32"),
    ("lr", 1e-3, 1e-4, "lr 0.001", "lr 0.0001"),
    ("model", "resnet18", "resnet50", "ResNet-18", "ResNet-50"),
)
CONFIG_KEYS = ("dataset", "model", "batch_size", "optimizer", "lr", "epochs", "device",
               "train_size", "loader", "pin_memory", "experiment")


def _ok(info: dict) -> bool:
    return info.get("status", "ok") == "ok" and info.get("test_accuracy") is not None


def _pairs(infos, factor, a, b):
    """(info_a, info_b) for configurations that differ in `factor` alone (for the
    model, training-set size may differ too: profiles give ResNet-50 fewer images)."""
    others = [k for k in CONFIG_KEYS if k != factor
              and not (factor == "model" and k == "train_size")]
    index = {}
    for info in infos:
        index.setdefault(tuple(info.get(k) for k in others), {})[info.get(factor)] = info
    return [(group[a], group[b]) for group in index.values() if a in group and b in group]


def _spread(pairs) -> float:
    """The typical repeat spread (std) of the compared cases; 0 without repeats."""
    stds = [i.get("test_accuracy_std") or 0.0 for pair in pairs for i in pair]
    return statistics.fmean(stds) if stds else 0.0


def accuracy_finding(infos, factor, a, b, label_a, label_b) -> str:
    pairs = _pairs([i for i in infos if _ok(i)], factor, a, b)
    head = f"{label_a} vs {label_b}:"
    if not pairs:
        return f"{head} too little data (no pair of configurations differing only in {factor})"
    diffs = [x["test_accuracy"] - y["test_accuracy"] for x, y in pairs]
    mean = statistics.fmean(diffs)
    bar = max(MIN_EFFECT_POINTS, _spread(pairs))
    wins = sum(d > 0 for d in diffs)
    detail = (f"{label_a} has the higher test accuracy in {wins} of {len(pairs)} "
              f"configuration{'s' if len(pairs) != 1 else ''}, by {mean:+.2f} points on "
              f"average (range {min(diffs):+.2f} to {max(diffs):+.2f})")
    if abs(mean) < bar:
        why = (f"the mean difference is below {bar:.2f} points"
               + (" (the spread of repeats)" if bar > MIN_EFFECT_POINTS else ""))
        return f"{head} no clear effect: {detail}; {why}"
    sizes = {(x["train_size"], y["train_size"]) for x, y in pairs}
    caveat = ""
    if any(m != n for m, n in sizes):
        caveat = ("; note: trained on different numbers of images ("
                  + ", ".join(f"{m:,} vs {n:,}" for m, n in sorted(sizes)) + ")")
    better = label_a if mean > 0 else label_b
    return f"{head} {better} is better: {detail}{caveat}"


def speedup_finding(infos) -> str | None:
    pairs = _pairs([i for i in infos if i.get("status", "ok") == "ok"], "device", "cpu", "gpu")
    if not pairs:
        return None
    ratios = sorted(c["train_seconds"] / g["train_seconds"] for c, g in pairs
                    if c.get("train_seconds") and g.get("train_seconds"))
    if not ratios:
        return None
    return (f"GPU vs CPU: the GPU trains {statistics.median(ratios):.1f}x faster (median over "
            f"{len(ratios)} configuration{'s' if len(ratios) != 1 else ''}, range "
            f"{ratios[0]:.1f}x to {ratios[-1]:.1f}x)")


def pin_memory_finding(infos) -> str | None:
    pin = [i for i in infos if i.get("experiment") == "pin_memory"
           and i.get("status", "ok") == "ok"]
    if not pin:
        return None
    pairs = _pairs(pin, "pin_memory", True, False)
    cuda_pairs = [(p, n) for p, n in pairs if p["device"] == "gpu"]
    if not cuda_pairs:
        return ("pin_memory: no clear effect can exist here: only CPU cases ran, and "
                "pin_memory does nothing without CUDA")
    ratios = [n["train_seconds"] / p["train_seconds"] for p, n in cuda_pairs]
    mean = statistics.fmean(ratios)
    detail = (f"training with pin_memory takes {1 / mean:.2f}x the time without it on the GPU "
              f"({len(ratios)} configuration{'s' if len(ratios) != 1 else ''})")
    if abs(mean - 1) < MIN_TIME_EFFECT:
        return f"pin_memory: no clear effect: {detail}; below {MIN_TIME_EFFECT:.0%}"
    return f"pin_memory: {'faster' if mean > 1 else 'slower'} with pinning: {detail}"


def epochs_finding(infos) -> str | None:
    rows = []
    for info in infos:
        if info.get("experiment") != "epochs" or not _ok(info):
            continue
        for epoch, values in (info.get("checkpoints") or {}).items():
            if int(epoch) != info["epochs"] and values.get("test_accuracy") is not None:
                rows.append(info["test_accuracy"] - values["test_accuracy"])
    if not rows:
        return None
    mean = statistics.fmean(rows)
    detail = (f"the longer run changes test accuracy by {mean:+.2f} points on average over "
              f"{len(rows)} configuration{'s' if len(rows) != 1 else ''} "
              f"(range {min(rows):+.2f} to {max(rows):+.2f})")
    if abs(mean) < MIN_EFFECT_POINTS:
        return f"Longer training: no clear effect: {detail}"
    return f"Longer training: {'helps' if mean > 0 else 'hurts'}: {detail}"


def svm_finding(infos) -> list[str]:
    out = []
    for dataset in ("mnist", "fashion"):
        svms = [i for i in infos if i.get("kind") == "svm" and i["dataset"] == dataset and _ok(i)]
        nets = [i for i in infos if i.get("kind") == "resnet" and i["dataset"] == dataset
                and _ok(i)]
        if not svms or not nets:
            continue
        svm = max(svms, key=lambda i: i["test_accuracy"])
        net = max(nets, key=lambda i: i["test_accuracy"])
        diff = net["test_accuracy"] - svm["test_accuracy"]
        name = {"mnist": "MNIST", "fashion": "FashionMNIST"}[dataset]
        verdict = ("no clear difference" if abs(diff) < MIN_EFFECT_POINTS else
                   ("the best ResNet is more accurate" if diff > 0
                    else "the best SVM is more accurate"))
        out.append(
            f"SVM vs CNN on {name}: {verdict}: ResNet {net['test_accuracy']:.2f}% "
            f"({net['case_id']}, {net['train_seconds']:.1f} s training) vs SVM "
            f"{svm['test_accuracy']:.2f}% ({svm['case_id']}, {svm['fit_seconds']:.1f} s fit), "
            f"{diff:+.2f} points")
    return out


def findings(infos: list[dict]) -> list[str]:
    """Statements the run's data supports, each with its numbers."""
    grid = [i for i in infos if i.get("kind") == "resnet"
            and i.get("experiment", "grid") == "grid"]
    out = []
    if grid:
        out += [accuracy_finding(grid, *factor) for factor in FACTORS]
        out.append(speedup_finding(grid))
    out.append(pin_memory_finding(infos))
    out.append(epochs_finding(infos))
    out += svm_finding(infos)
    return [line for line in out if line]
