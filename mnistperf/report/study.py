"""A run against the study: its claims with this run's verdicts, and its
published figures (mnistperf.reference) beside the run's.

    claims(run)           -> [(claim, verdict, detail)], verdict "agrees" |
                             "disagrees" | "cannot tell"
    study_rows(run)       -> rows of `mnistperf compare study RUN`

Composition level: a claim may draw on several experiments' records.
"""

from __future__ import annotations

import statistics

from mnistperf.config import DATASET_TITLES
from mnistperf.experiments.base import CONFIG_KEYS
from mnistperf.experiments.grid import grid_records
from mnistperf.reference import FIGURES, GPU_SPEEDUP_TABLE, GPU_SPEEDUP_TEXT
from mnistperf.stats import MIN_EFFECT_POINTS, pairs

AGREES, DISAGREES, CANNOT_TELL = "agrees", "disagrees", "cannot tell"


def _pairs(records, factor, a, b):
    keys = tuple(k for k in CONFIG_KEYS if k != factor)
    return pairs([r for r in records if r.ok], factor, a, b, keys)


def _model_claim(run, dataset, better_or_equal: bool):
    found = _pairs([r for r in grid_records(run) if r.dataset == dataset],
                   "model", "resnet18", "resnet50")
    if not found:
        return CANNOT_TELL, f"no ResNet-18/50 pair on the same images on {dataset}"
    diff = statistics.fmean(a.test_accuracy - b.test_accuracy for a, b in found)
    detail = (f"ResNet-18 minus ResNet-50: {diff:+.2f} points over {len(found)} "
              f"configuration(s) trained on the same images")
    if better_or_equal:  # "ResNet-18 >= ResNet-50": a tie agrees
        return (AGREES if diff > -MIN_EFFECT_POINTS else DISAGREES), detail
    if diff < -MIN_EFFECT_POINTS:
        return AGREES, detail
    return (DISAGREES if diff > MIN_EFFECT_POINTS else CANNOT_TELL), detail + (
        "" if diff > MIN_EFFECT_POINTS else f" (inside {MIN_EFFECT_POINTS} points)")


def _adam_claim(run):
    found = _pairs(grid_records(run), "optimizer", "adam", "sgd")
    if not found:
        return CANNOT_TELL, "no Adam/SGD pair"
    by_lr = {lr: [a.test_accuracy - s.test_accuracy for a, s in found if a.lr == lr]
             for lr in (1e-3, 1e-4)}
    mean = statistics.fmean(a.test_accuracy - s.test_accuracy for a, s in found)
    parts = [f"{lr:g}: {statistics.fmean(d):+.2f}" for lr, d in by_lr.items() if d]
    detail = f"Adam minus SGD {mean:+.2f} points overall; by lr " + ", ".join(parts)
    if mean <= MIN_EFFECT_POINTS:
        return DISAGREES, detail
    if by_lr[1e-3] and by_lr[1e-4]:
        low_wins = statistics.fmean(by_lr[1e-4]) > statistics.fmean(by_lr[1e-3])
        return (AGREES if low_wins else DISAGREES), detail
    return CANNOT_TELL, detail + " (one learning rate only)"


def _speedups(run):
    found = _pairs(grid_records(run), "device", "cpu", "gpu")
    return sorted(c.train_seconds / g.train_seconds for c, g in found
                  if c.train_seconds and g.train_seconds)


def _gpu_claim(run):
    ratios = _speedups(run)
    if not ratios:
        return CANNOT_TELL, "no configuration ran on both cpu and gpu"
    median = statistics.median(ratios)
    low, high = GPU_SPEEDUP_TEXT
    detail = (f"median {median:.1f}x over {len(ratios)} configuration(s); the study's text "
              f"says {low:g}-{high:g}x, its Table 4 {GPU_SPEEDUP_TABLE[0]:g}-"
              f"{GPU_SPEEDUP_TABLE[1]:g}x")
    return (AGREES if low <= median <= high else DISAGREES), detail


def _accuracy_alike_claim(run):
    found = _pairs(grid_records(run), "device", "cpu", "gpu")
    if not found:
        return CANNOT_TELL, "no configuration ran on both cpu and gpu"
    diffs = [g.test_accuracy - c.test_accuracy for c, g in found]
    mean = statistics.fmean(diffs)
    detail = f"gpu minus cpu {mean:+.2f} points over {len(diffs)} configuration(s)"
    return (AGREES if abs(mean) < 1.0 else DISAGREES), detail


def _pin_claim(run):
    pin = [r for r in run.records("resnet") if r.experiment == "pin_memory" and r.ok]
    found = [(p, n) for p, n in _pairs(pin, "pin_memory", True, False) if p.device == "gpu"]
    if not found:
        return CANNOT_TELL, "no gpu pin_memory pair (pin_memory does nothing without CUDA)"
    ratio = statistics.fmean(n.train_seconds / p.train_seconds for p, n in found)
    detail = f"time without / with pinning {ratio:.2f}x"
    return (AGREES if abs(ratio - 1) < 0.10 else DISAGREES), detail


def _svm_slower_claim(run):
    out = []
    for dataset in DATASET_TITLES:
        svms = [r.fit_seconds for r in run.records("svm") if r.ok and r.dataset == dataset]
        nets = [r.train_seconds for r in grid_records(run) if r.ok and r.dataset == dataset]
        if svms and nets:
            out.append((dataset, statistics.median(svms), statistics.median(nets)))
    if not out:
        return CANNOT_TELL, "needs SVM and ResNet cases on the same dataset"
    detail = "; ".join(f"{DATASET_TITLES[d]}: SVM fit {s:.1f} s vs ResNet training {n:.1f} s "
                       f"(medians)" for d, s, n in out)
    return (AGREES if all(s > n for _, s, n in out) else DISAGREES), detail


def _resnet50_cost_claim(run):
    found = _pairs(grid_records(run), "model", "resnet50", "resnet18")
    if not found:
        return CANNOT_TELL, "no ResNet-18/50 pair"
    more_flops = all(a.flops_per_image > b.flops_per_image for a, b in found)
    ratio = statistics.median(a.train_seconds / b.train_seconds for a, b in found)
    detail = f"ResNet-50 takes {ratio:.2f}x ResNet-18's training time (median)"
    return (AGREES if more_flops and ratio > 1 else DISAGREES), detail


CLAIMS = (
    ("ResNet-18 is at least as accurate as ResNet-50 on MNIST",
     lambda run: _model_claim(run, "mnist", True)),
    ("ResNet-50 is more accurate than ResNet-18 on FashionMNIST",
     lambda run: _model_claim(run, "fashion", False)),
    ("Adam beats SGD, particularly at the low learning rate", _adam_claim),
    ("The GPU trains 15-20x faster than the CPU", _gpu_claim),
    ("pin_memory makes a marginal difference", _pin_claim),
    ("SVMs take longer to train than the networks", _svm_slower_claim),
    ("CPU and GPU reach alike accuracy", _accuracy_alike_claim),
    ("ResNet-50 costs more FLOPs and time than ResNet-18", _resnet50_cost_claim),
)


def claims(run) -> list[tuple[str, str, str]]:
    return [(claim, *check(run)) for claim, check in CLAIMS]


def claim_lines(run) -> list[str]:
    return [f"{claim}: {verdict} ({detail})" for claim, verdict, detail in claims(run)]


def _value(record, what):
    if what == "svm_accuracy":
        return record.train_accuracy  # the study's SVM figures: its own training images
    return getattr(record, what, None)


def study_rows(run) -> list[list]:
    """Per reference figure and matching record: table, configuration, the study's
    value, the run's, the difference, and the study's own flag."""
    rows = []
    for fig in FIGURES:
        kind = "svm" if fig.what == "svm_accuracy" else "resnet"
        for r in run.records(kind):
            if not all(getattr(r, k, None) == v for k, v in fig.config.items()):
                continue
            if kind == "resnet" and r.experiment != "grid":
                continue
            if fig.what == "study_flops_per_image" and (r.input_size, r.channels) != (224, 3):
                continue  # the study counted at 224x224x3
            ours = _value(r, fig.what) if r.ok else None
            rows.append([fig.table, r.case_id, f"{r.profile}, {getattr(r, 'epochs', '')}",
                         fig.what, fig.value, ours if r.ok else r.status,
                         None if ours is None else ours - fig.value, fig.flag])
    return rows


def study_table(run) -> str:
    """`mnistperf compare study RUN`: every reference figure a case of RUN matches."""
    from tabulate import tabulate

    rows = study_rows(run)
    lines = [f"study: mnistperf.reference ({len(FIGURES)} published figures); run: {run.source}",
             ""]
    if not rows:
        return "\n".join(lines + ["no case of this run matches a figure the study publishes "
                                   "(see mnistperf/reference.py)"]) + "\n"
    shown = [[t, case, where, what, f"{study:.6g}",
              ours if isinstance(ours, str) else f"{ours:.6g}",
              "–" if diff is None else f"{diff:+.4g}", flag]
             for t, case, where, what, study, ours, diff, flag in rows]
    lines.append(tabulate(shown, headers=["table", "case", "profile, epochs", "figure", "study",
                                          "this run", "difference", "study's own flag"],
                          tablefmt="simple", disable_numparse=True))
    return "\n".join(lines) + "\n"
