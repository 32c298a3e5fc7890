"""One rule per claim of the study's section 6: each reads a Run's records through
the experiments' own functions (grid_records, devices.table4_records / speedups,
...) and answers (verdict, detail) with the thresholds of mnistperf.stats, the
same the findings use. mnistperf.study.claims holds the claims, the evidence each
needs and the judging.

    verdict, detail = RULES["fashion_depth"][1](run)

"A is better than B" needs the mean difference above MIN_EFFECT_POINTS and a
sign test below SIGNIFICANCE (a mean at or below zero disagrees; anything
between cannot tell); "alike" is every absolute difference below
MIN_EFFECT_POINTS; a time ratio is an effect beyond MIN_TIME_EFFECT. A rule that
finds none of the records it needs answers NO_DATA.
"""

from __future__ import annotations

import math
import statistics

from mnistperf.config import DATASET_TITLES
from mnistperf.experiments.base import CONFIG_KEYS
from mnistperf.experiments.devices import speedups, table4_records
from mnistperf.experiments.grid import grid_records
from mnistperf.run import Run
from mnistperf.stats import (
    AROUND_POINTS, COMPETITIVE_POINTS, MIN_EFFECT_POINTS, MIN_TIME_EFFECT, MOST,
    SIGNIFICANCE, format_p, pairs, sign_test,
)
from mnistperf.study.figures import GPU_SPEEDUP_TEXT

AGREES, DISAGREES, CANNOT_TELL = "agrees", "disagrees", "cannot tell"
AT_THIS_BUDGET = "cannot tell at this budget"
NO_DATA = "no data"  # a rule's word for "none of the records it needs": never shown


# ------------------------------------------------------------------ the tests


def _better(diffs: list[float], what: str) -> tuple[str, str]:
    """'A better than B' from per-configuration differences A - B (points); `what`
    reads "A minus B ..."."""
    if not diffs:
        return NO_DATA, f"no pair of configurations for {what}"
    mean = statistics.fmean(diffs)
    p = sign_test(diffs)
    detail = (f"{what}: {mean:+.2f} points on average over {len(diffs)} configuration"
              f"{'s' if len(diffs) != 1 else ''}, positive in {sum(d > 0 for d in diffs)} "
              f"of {len(diffs)} (sign test {format_p(p)})")
    if mean <= 0:
        return DISAGREES, detail
    if mean >= MIN_EFFECT_POINTS and p < SIGNIFICANCE:
        return AGREES, detail
    return CANNOT_TELL, detail + (f"; below {MIN_EFFECT_POINTS} points" if mean <
                                  MIN_EFFECT_POINTS else f"; not p < {SIGNIFICANCE}")


def _alike(diffs: list[float], what: str) -> tuple[str, str]:
    """'A and B alike': every absolute difference below MIN_EFFECT_POINTS."""
    if not diffs:
        return NO_DATA, f"no pair of configurations for {what}"
    worst = max(diffs, key=abs)
    detail = (f"{what}: largest absolute difference {abs(worst):.2f} points over "
              f"{len(diffs)} configuration{'s' if len(diffs) != 1 else ''} (alike: below "
              f"{MIN_EFFECT_POINTS})")
    return (AGREES if abs(worst) < MIN_EFFECT_POINTS else DISAGREES), detail


def _not_worse(diffs: list[float], what: str) -> tuple[str, str]:
    """'A comparable or better than B' in every configuration."""
    if not diffs:
        return NO_DATA, f"no pair of configurations for {what}"
    worst = min(diffs)
    detail = (f"{what}: {statistics.fmean(diffs):+.2f} points on average over {len(diffs)} "
              f"configurations, worst {worst:+.2f}")
    return (AGREES if worst > -MIN_EFFECT_POINTS else DISAGREES), detail


# ------------------------------------------------------------------ records


def _grid(run: Run, dataset: str | None = None):
    return [r for r in grid_records(run) if r.ok and r.test_accuracy is not None
            and (dataset is None or r.dataset == dataset)]


def _pairs(records, factor, a, b):
    keys = tuple(k for k in CONFIG_KEYS if k != factor)
    return pairs(records, factor, a, b, keys)


def _diffs(records, factor, a, b) -> list[float]:
    return [x.test_accuracy - y.test_accuracy for x, y in _pairs(records, factor, a, b)]


def _svm_accuracy(record) -> float | None:
    """The held-out accuracy, or, for the study's figures, all 60,000."""
    return record.test_accuracy if record.test_accuracy is not None \
        else record.all_train_accuracy


def _svms(run: Run, dataset: str):
    return [r for r in run.records("svm") if r.ok and r.dataset == dataset
            and r.backend == "sklearn" and _svm_accuracy(r) is not None]


# ------------------------------------------------------------------ the rules


def _mnist_above_99(run):
    records = _grid(run, "mnist")
    if not records:
        return NO_DATA, "no MNIST grid case"
    above = [r for r in records if r.test_accuracy > 99.0]
    detail = (f"{len(above)} of {len(records)} MNIST configurations above 99 % (most: more "
              f"than {MOST:.0%})")
    return (AGREES if len(above) > MOST * len(records) else DISAGREES), detail


def _mnist_depth(run):
    return _not_worse(_diffs(_grid(run, "mnist"), "model", "resnet18", "resnet50"),
                      "ResNet-18 minus ResNet-50 on MNIST")


def _adam_faster(run):
    records = [r for r in _grid(run, "mnist") if r.val_accuracy]
    diffs = [a.val_accuracy[0] - s.val_accuracy[0]
             for a, s in _pairs(records, "optimizer", "adam", "sgd")]
    if not diffs:
        return NO_DATA, ("needs Adam/SGD pairs on MNIST with validation curves (the study "
                         "prints none: its Figures 1-2 are not in its text)")
    return _better(diffs, "Adam minus SGD, validation accuracy after the first epoch")


def _adam_by_lr(run, dataset: str, claimed_lr: float):
    """Adam better than SGD, and its lead larger at `claimed_lr` than at the other."""
    found = _pairs(_grid(run, dataset), "optimizer", "adam", "sgd")
    verdict, detail = _better([a.test_accuracy - s.test_accuracy for a, s in found],
                              f"Adam minus SGD on {DATASET_TITLES[dataset]}")
    leads = {}
    for a, s in found:
        leads.setdefault(a.lr, {})[(a.model, a.batch_size)] = a.test_accuracy - s.test_accuracy
    other = next((lr for lr in leads if lr != claimed_lr), None)
    if verdict == NO_DATA or claimed_lr not in leads or other is None:
        return verdict, detail
    both = leads[claimed_lr].keys() & leads[other].keys()
    gaps = [leads[claimed_lr][k] - leads[other][k] for k in both]
    detail += (f"; Adam's lead at lr {claimed_lr:g}: "
               f"{statistics.fmean(leads[claimed_lr].values()):+.2f}, at lr {other:g}: "
               f"{statistics.fmean(leads[other].values()):+.2f}")
    particular = DISAGREES if statistics.fmean(gaps) <= 0 else (
        AGREES if statistics.fmean(gaps) >= MIN_EFFECT_POINTS else CANNOT_TELL)
    # The claim holds when both parts do; either part contradicted contradicts it.
    if DISAGREES in (verdict, particular):
        return DISAGREES, detail
    return (AGREES if verdict == particular == AGREES else CANNOT_TELL), detail


def _batch_mnist(run):
    verdict, detail = _better(_diffs(_grid(run, "mnist"), "batch_size", 32, 16),
                              "batch 32 minus batch 16 on MNIST")
    # The claim is that 32 does NOT clearly beat 16.
    flipped = {AGREES: DISAGREES, DISAGREES: AGREES}
    return flipped.get(verdict, AGREES if verdict == CANNOT_TELL else verdict), detail


def _fashion_best(run):
    fashion, mnist = _grid(run, "fashion"), _grid(run, "mnist")
    if not fashion or not mnist:
        return NO_DATA, "needs grid cases on both datasets"
    best_f = max(r.test_accuracy for r in fashion)
    best_m = max(r.test_accuracy for r in mnist)
    detail = (f"best FashionMNIST {best_f:.2f} % vs best MNIST {best_m:.2f} % (around 93: "
              f"within {AROUND_POINTS:g} point)")
    return (AGREES if best_f < best_m and abs(best_f - 93.0) <= AROUND_POINTS
            else DISAGREES), detail


def _fashion_depth(run):
    return _better(_diffs(_grid(run, "fashion"), "model", "resnet50", "resnet18"),
                   "ResNet-50 minus ResNet-18 on FashionMNIST")


def _sgd_low_lr(run):
    sgd = [r for r in _grid(run, "fashion") if r.optimizer == "sgd"]
    drops = {(h.model, h.batch_size): h.test_accuracy - low.test_accuracy
             for h, low in _pairs(sgd, "lr", 1e-3, 1e-4)}
    verdict, detail = _better(list(drops.values()), "SGD at lr 0.001 minus at lr 0.0001")
    deeper = [drops[("resnet50", b)] - drops[("resnet18", b)] for m, b in drops
              if m == "resnet50" and ("resnet18", b) in drops]
    if verdict == NO_DATA or not deeper:
        return verdict, detail
    extra = statistics.fmean(deeper)
    detail += f"; the drop is {extra:+.2f} points larger for ResNet-50"
    particular = DISAGREES if extra <= 0 else AGREES if extra >= MIN_EFFECT_POINTS \
        else CANNOT_TELL
    if DISAGREES in (verdict, particular):
        return DISAGREES, detail
    return (AGREES if verdict == particular == AGREES else CANNOT_TELL), detail


def _svm_gap(run, dataset):
    """(best ResNet - best scikit-learn SVM, detail) on a dataset, or None."""
    nets, svms = _grid(run, dataset), _svms(run, dataset)
    if not nets or not svms:
        return None
    net = max(nets, key=lambda r: r.test_accuracy)
    svm = max(svms, key=_svm_accuracy)
    scored = ("held-out" if svm.test_accuracy is not None
              else "on all 60,000 training images, its own included")
    return (net.test_accuracy - _svm_accuracy(svm),
            f"best ResNet {net.test_accuracy:.2f} % vs best SVM ({svm.kernel}) "
            f"{_svm_accuracy(svm):.2f} % ({scored}) on {DATASET_TITLES[dataset]}")


def _svm_mnist(run):
    gap = _svm_gap(run, "mnist")
    if gap is None:
        return NO_DATA, "needs SVM and ResNet cases on MNIST"
    return (AGREES if gap[0] <= COMPETITIVE_POINTS else DISAGREES), (
        f"{gap[1]}: {gap[0]:+.2f} points (competitive: within {COMPETITIVE_POINTS:g})")


def _svm_fashion(run):
    mnist, fashion = _svm_gap(run, "mnist"), _svm_gap(run, "fashion")
    if mnist is None or fashion is None:
        return NO_DATA, "needs SVM and ResNet cases on both datasets"
    grows = fashion[0] - mnist[0]
    detail = (f"the SVM's gap to the best ResNet is {fashion[0]:+.2f} points on "
              f"FashionMNIST vs {mnist[0]:+.2f} on MNIST ({grows:+.2f})")
    return (DISAGREES if grows <= 0 else AGREES if grows >= MIN_EFFECT_POINTS
            else CANNOT_TELL), detail


def _svm_slower(run):
    nets = [r for r in table4_records(run) if r.ok and r.train_seconds]
    out = []
    for dataset in {r.dataset for r in nets}:
        for svm in (r for r in run.records("svm") if r.ok and r.dataset == dataset
                    and r.backend == "sklearn" and r.fit_seconds):
            out += [(svm, net, svm.fit_seconds / net.train_seconds) for net in nets
                    if net.dataset == dataset]
    if not out:
        return NO_DATA, ("needs scikit-learn SVM fits and ResNet training of Table 4's "
                         "configuration on the same dataset")
    ratios = [ratio for _, _, ratio in out]
    detail = (f"scikit-learn SVM fit / ResNet training (Table 4's configuration): "
              f"{min(ratios):.2f}x to {max(ratios):.2f}x over {len(out)} pairs (SVM "
              f"{min(s.fit_seconds for s, _, _ in out):.0f}-"
              f"{max(s.fit_seconds for s, _, _ in out):.0f} s, ResNet "
              f"{min(n.train_seconds for _, n, _ in out):.0f}-"
              f"{max(n.train_seconds for _, n, _ in out):.0f} s)")
    if all(r > 1 + MIN_TIME_EFFECT for r in ratios):
        return AGREES, detail
    if all(r < 1 - MIN_TIME_EFFECT for r in ratios):
        return DISAGREES, detail
    return CANNOT_TELL, detail + "; mixed"


def _slope(points) -> float | None:
    """log-log slope between the smallest and largest training-set size."""
    by_size: dict[int, list[float]] = {}
    for size, value in points:
        if value:
            by_size.setdefault(size, []).append(value)
    if len(by_size) < 2:
        return None
    lo, hi = min(by_size), max(by_size)
    return (math.log(statistics.fmean(by_size[hi])) - math.log(statistics.fmean(by_size[lo]))
            ) / (math.log(hi) - math.log(lo))


def _svm_scaling(run):
    svms = [r for r in run.records("svm") if r.ok and r.backend == "sklearn"]
    nets = [r for r in grid_records(run) if r.ok]
    slopes = {what: (_slope((s.train_size, getattr(s, svm_key)) for s in svms),
                     _slope((n.train_size, getattr(n, net_key)) for n in nets))
              for what, svm_key, net_key in (("time", "fit_seconds", "train_seconds"),
                                             ("memory", "peak_memory_mb", "peak_memory_mb"))}
    if any(None in pair for pair in slopes.values()):
        return NO_DATA, ("needs SVM and ResNet cases at two or more training-set sizes (the "
                         "study prints one size; merge runs of two profiles to judge it)")
    detail = "; ".join(f"{what} grows as images^{s:.2f} for the SVM vs images^{n:.2f} for "
                       f"the ResNets" for what, (s, n) in slopes.items())
    worse = all(s > n for s, n in slopes.values())
    return (AGREES if worse else DISAGREES), detail


def _gpu_speedup(run):
    found = [(c, g, x) for c, g, x in speedups(run) if c.model == "resnet18"]
    if not found:
        return NO_DATA, "no ResNet-18 configuration of Table 4 ran on both cpu and gpu"
    low, high = GPU_SPEEDUP_TEXT
    detail = ", ".join(f"{c.optimizer} {x:.1f}x" for c, _, x in found) + (
        f" (ResNet-18, FashionMNIST, batch 16, lr 0.001; cpu time / gpu time); the claim: "
        f"{low:g}-{high:g}x")
    inside = all(low * (1 - MIN_TIME_EFFECT) <= x <= high * (1 + MIN_TIME_EFFECT)
                 for _, _, x in found)
    return (AGREES if inside else DISAGREES), detail


def _devices_alike(run):
    return _alike([g.test_accuracy - c.test_accuracy for c, g, _ in speedups(run)
                   if c.test_accuracy is not None and g.test_accuracy is not None],
                  "gpu minus cpu test accuracy (Table 4's configurations)")


def _resnet50_cost(run):
    records = [r for r in table4_records(run) if r.ok and r.train_seconds]
    found = _pairs(records, "model", "resnet50", "resnet18")
    if not found:
        return NO_DATA, "no ResNet-18/50 pair of Table 4's configuration"
    time_ratios = [a.train_seconds / b.train_seconds for a, b in found]
    flops = all((a.study_flops_per_image or 0) > (b.study_flops_per_image or 0)
                for a, b in found)
    detail = (f"ResNet-50 / ResNet-18 training time {min(time_ratios):.2f}x to "
              f"{max(time_ratios):.2f}x over {len(found)} pair(s); FLOPs "
              f"{'higher' if flops else 'not higher'}")
    more = flops and all(x > 1 + MIN_TIME_EFFECT for x in time_ratios)
    return (AGREES if more else DISAGREES), detail


def _adam_gpu(run):
    by_opt = {(c.model, c.optimizer): x for c, _, x in speedups(run)}
    models = [m for m, o in by_opt if o == "adam" and (m, "sgd") in by_opt]
    if not models:
        return NO_DATA, "needs Adam and SGD speed-ups of the same model (Table 4)"
    ratios = [by_opt[(m, "adam")] / by_opt[(m, "sgd")] for m in models]
    detail = "; ".join(f"{m}: Adam {by_opt[(m, 'adam')]:.1f}x vs SGD {by_opt[(m, 'sgd')]:.1f}x"
                       for m in models)
    if all(x > 1 + MIN_TIME_EFFECT for x in ratios):
        return AGREES, detail
    if all(x < 1 - MIN_TIME_EFFECT for x in ratios):
        return DISAGREES, detail
    return CANNOT_TELL, detail + f" (within {MIN_TIME_EFFECT:.0%})"


def _pin_pairs(run):
    pin = [r for r in run.records("resnet") if r.experiment == "pin_memory" and r.ok]
    return [(p, n) for p, n in _pairs(pin, "pin_memory", True, False) if p.device == "gpu"]


def _pin_time(run):
    found = _pin_pairs(run)
    if not found:
        return NO_DATA, "no gpu pin_memory pair (pin_memory does nothing without CUDA)"
    gains = [1 - p.train_seconds / n.train_seconds for p, n in found]
    mean = statistics.fmean(gains)
    detail = (f"pinning saves {mean:+.2%} of the training time on the GPU (the band "
              f"identical timed cases differ by: {MIN_TIME_EFFECT:.0%})")
    if mean > MIN_TIME_EFFECT:
        return AGREES, detail
    if mean < -MIN_TIME_EFFECT:
        return DISAGREES, detail
    return CANNOT_TELL, detail + ": inside the band"


def _pin_accuracy(run):
    return _alike([p.test_accuracy - n.test_accuracy for p, n in _pin_pairs(run)],
                  "pin_memory on minus off, test accuracy")


def _depth_by_dataset(run):
    gains = {}
    for dataset in ("mnist", "fashion"):
        for a, b in _pairs(_grid(run, dataset), "model", "resnet50", "resnet18"):
            gains.setdefault((a.batch_size, a.optimizer, a.lr, a.device), {})[dataset] = \
                a.test_accuracy - b.test_accuracy
    diffs = [g["fashion"] - g["mnist"] for g in gains.values() if len(g) == 2]
    return _better(diffs, "ResNet-50's gain over ResNet-18 on FashionMNIST minus on MNIST")


# What a rule's verdict needs of a run's records (mnistperf.study.claims): the
# study's budget (accuracy), the study's input size (speed ratios), or anything.
ACCURACY, SPEED, ANY = "accuracy", "speed", "any"

RULES = {
    "mnist_above_99": (ACCURACY, _mnist_above_99), "mnist_depth": (ACCURACY, _mnist_depth),
    "adam_faster": (ACCURACY, _adam_faster),
    "adam_mnist": (ACCURACY, lambda run: _adam_by_lr(run, "mnist", 1e-4)),
    "batch_mnist": (ACCURACY, _batch_mnist), "fashion_best": (ACCURACY, _fashion_best),
    "fashion_depth": (ACCURACY, _fashion_depth),
    "adam_fashion": (ACCURACY, lambda run: _adam_by_lr(run, "fashion", 1e-3)),
    "sgd_low_lr": (ACCURACY, _sgd_low_lr), "svm_mnist": (ACCURACY, _svm_mnist),
    "svm_slower": (ACCURACY, _svm_slower), "svm_fashion": (ACCURACY, _svm_fashion),
    "svm_scaling": (ANY, _svm_scaling), "gpu_speedup": (SPEED, _gpu_speedup),
    "devices_alike": (ACCURACY, _devices_alike), "resnet50_cost": (SPEED, _resnet50_cost),
    "adam_gpu": (SPEED, _adam_gpu), "pin_time": (SPEED, _pin_time),
    "pin_accuracy": (ACCURACY, _pin_accuracy), "depth_by_dataset": (ACCURACY, _depth_by_dataset),
}
