"""Predicted seconds of every case, of each experiment and of the selection.

    plan = make_plan(configs, repeats=1, data_root=root, say=print)
    plan.seconds("mnist-resnet18-bs16-sgd-lr0.001-e2-cpu")    # None: skipped here
    plan.total()                                             # one after another
    plan.packed(slots=4)                                     # dispatch on 4 slots

A network case is its rounds (warm-up rounds included) of: building the model and
optimizer, the warm-up step of each batch shape, starting the training input, the
epochs' steps and the evaluated images; plus making its batches and starting the
input of each evaluated part, once. An SVM
case is its data, its fit and its predictions by the power laws of its unit.
A session adds what it pays once (each dataset's load, each model's FLOPs
count) and the harness's own cost per case.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

from mnistperf.plan.work import SvmWork, TrainUnit, TrainWork, datasets_of, work_of

# Per case, besides what its record's wall time holds (its data, rounds and record):
# pytest's protocol between cases and the session's end. Measured: the main job's
# pytest wall time less its calibration and its cases' wall times, over its 52
# cases (680.4 - 56 - 621.5 s; BENCHMARKS.md).
HARNESS_SECONDS = 0.05
# A selection predicted to take longer stops before anything trains, unless the
# user says yes (--mnistperf-yes).
GUARD_SECONDS = 24 * 3600.0


def train_case_seconds(work: TrainWork, t: dict) -> float:
    warmup = t["warmup"] + (work.warmup_shapes - 1) * t["step"] if work.warmup_shapes else 0.0
    one_round = (t["build"] + warmup + t["epoch_start"]
                 + work.epochs * work.steps_per_epoch * t["step"]
                 + work.eval_images * t["eval_image"])
    return t["data"] + work.eval_parts * t["eval_pass"] + work.rounds * one_round


# Beyond the larger of its two small fits (calibrate.SVM_SIZES) an SVM's fit is
# predicted to grow as n^2, not by the two fits' own slope: an SMO solver evaluates
# the kernel between most pairs of images once its fixed costs fade, and the small
# fits' slope is flatter than what follows (seen here, 7 of the 8 dataset x kernel x
# backend units: 1,000 -> 2,000 grew n^0.9-1.8, 2,000 -> 21,000 n^1.8-2.1, and MNIST
# RBF 2,000 -> 42,000 n^1.7 (sklearnex) and n^2.0 (libsvm); BENCHMARKS.md).
SVM_FIT_EXPONENT_BEYOND = 2.0


def svm_case_seconds(work: SvmWork, t: dict) -> float:
    scale = work.fit_images / t["n0"]
    fit = t["fit_a"] * scale ** (t["fit_b"] if scale <= 1 else SVM_FIT_EXPONENT_BEYOND)
    predict = work.predict_images * t["predict_a"] * scale ** t["predict_b"]
    return t["data"] + fit + predict


@dataclass
class CasePlan:
    case_id: str
    experiment: str
    device: str
    seconds: float | None  # None: this machine cannot run it (skip)
    skip: str | None = None
    source: str = "timed"  # of its unit's times: "timed" or "scaled from ..."


@dataclass
class Plan:
    cases: dict[str, CasePlan]
    once: float = 0.0  # what the session pays once
    calibration_seconds: float = 0.0  # spent timing units now (0: all from the cache)
    timed_units: int = 0  # units timed now
    scaled_units: int = 0  # units scaled by FLOPs now (the budget ran out)
    units: int = 0

    def seconds(self, case_id: str) -> float | None:
        """The case's own wall time, start to record (what its record's case_seconds
        measures); the harness's cost between cases is in `total` and `packed`."""
        case = self.cases.get(case_id)
        return None if case is None else case.seconds

    def runnable(self) -> list[CasePlan]:
        return [c for c in self.cases.values() if c.seconds is not None]

    def total(self) -> float:
        """Wall seconds of the selection run here, one case after another."""
        return self.once + sum(c.seconds + HARNESS_SECONDS for c in self.runnable())

    def by_experiment(self) -> dict[str, tuple[int, float]]:
        """experiment -> (cases, predicted seconds), in the order cases appear."""
        out: dict[str, tuple[int, float]] = {}
        for c in self.runnable():
            n, s = out.get(c.experiment, (0, 0.0))
            out[c.experiment] = (n + 1, s + self.seconds(c.case_id))
        return out

    def packed(self, slots: int, case_ids=None) -> float:
        """Wall seconds on `slots` parallel slots, cases started in order each on the
        first free slot (as dispatch submits them and Ray starts them)."""
        chosen = [c for c in self.runnable() if case_ids is None or c.case_id in case_ids]
        return self.once + pack([c.seconds + HARNESS_SECONDS for c in chosen], slots)


def plan_line(plan: Plan) -> str:
    """The run header's line: the predicted total and where the timings came from."""
    from mnistperf.progress import cases as count, clock

    cases = plan.runnable()
    timed = (f"{plan.timed_units} of {plan.units} units timed now in "
             f"{plan.calibration_seconds:.0f} s"
             + (f", {plan.scaled_units} scaled by FLOPs" if plan.scaled_units else "")
             if plan.timed_units or plan.scaled_units else
             "every unit from this machine's earlier timings")
    return (f"plan: {count(len(cases))} predicted to take "
            f"{clock(plan.total())} on this machine ({timed}; python -m mnistperf plan "
            f"shows each case)")


def pack(seconds: list[float], slots: int) -> float:
    free = [0.0] * max(1, slots)
    for s in seconds:
        heapq.heapreplace(free, free[0] + s)
    return max(free)


def dispatch_slots(cpus: float, gpus: float, cpus_per_case: float, gpus_per_case: float,
                   any_gpu: bool) -> int:
    """How many cases dispatch runs at once: what the cluster's CPUs (and GPUs, when a
    gpu case is selected) allow."""
    slots = int(cpus // cpus_per_case)
    if any_gpu and gpus_per_case > 0:
        slots = min(slots, int(gpus // gpus_per_case))
    return max(1, slots)


def make_plan(configs, *, repeats: int, data_root, budget: float | None = None, say=None,
              cache=None) -> Plan:
    """The plan of `configs` on this machine: units from the cache, the rest timed
    now (about `budget` seconds, calibrate.BUDGET_SECONDS by default; more where the
    first unit of each kind takes longer)."""
    from mnistperf.device import absent_reason
    from mnistperf.experiments import experiment_of
    from mnistperf.plan import calibrate
    from mnistperf.plan.cache import CalibrationCache

    say = say or (lambda line: None)
    # keyed on this process's torch threads: a dispatch driver plans inside its
    # workers' (session.RunSession._plan)
    cache = cache if cache is not None else CalibrationCache.for_this_machine()
    works = {}
    cases = {}
    for config in configs:
        reason = absent_reason(config)
        cases[config.case_id] = CasePlan(config.case_id, experiment_of(config).name,
                                         config.device, None, reason)
        if reason is None:
            works[config.case_id] = work_of(config, repeats)
    units = {w.unit.key: w.unit for w in works.values()}
    trained = [w for w in works.values() if isinstance(w, TrainWork)]
    datasets, shapes = datasets_of(works.values()), sorted({w.shape for w in trained})
    once_keys = [f"load:{d}" for d in datasets] + \
        [f"flops:{m}-{c}x{s}" for m, c, s in shapes]
    missing = [u for k, u in units.items() if cache.get(k, _needs(u)) is None]
    t0, changed = time.perf_counter(), bool(missing)
    if any(cache.get(k, ("seconds",)) is None for k in once_keys):  # first: units load them
        costs = calibrate.once_costs(datasets, shapes, data_root)
        cache.put({k: {"seconds": v} for k, v in costs.items()})
        changed = True
    if missing:
        say(f"timing {len(missing)} of {len(units)} units of work on this machine "
            f"(about {budget or calibrate.BUDGET_SECONDS:.0f} s, more where a kind's first "
            f"unit takes longer; kept for the next plan)")
        cache.put(calibrate.calibrate(missing, data_root, say=say,
                                      budget=budget or calibrate.BUDGET_SECONDS))
    if changed:
        cache.save()
    for case_id, work in works.items():
        t = cache.get(work.unit.key)
        predict = train_case_seconds if isinstance(work, TrainWork) else svm_case_seconds
        cases[case_id].seconds = predict(work, t)
        cases[case_id].source = t["source"]
    timed = sum(cache.get(u.key)["source"] == "timed" for u in missing)
    return Plan(cases, once=sum(cache.get(k)["seconds"] for k in once_keys),
                calibration_seconds=time.perf_counter() - t0 if missing else 0.0,
                timed_units=timed, scaled_units=len(missing) - timed, units=len(units))


def _needs(unit) -> tuple[str, ...]:
    """The timings a unit's prediction reads: an entry lacking one is timed again."""
    if isinstance(unit, TrainUnit):
        return ("step", "epoch_start", "eval_image", "eval_pass", "build", "warmup", "data")
    return ("n0", "fit_a", "fit_b", "predict_a", "predict_b", "data")
