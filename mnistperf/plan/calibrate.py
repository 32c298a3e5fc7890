"""Timing each unit of work on this machine, within a budget of about a minute (more
where the first unit of each kind takes longer).

    times = calibrate(units, data_root, budget=60.0, say=print)
    times["resnet18-28x28x1-bs16-sgd-cpu-tensor-eval512"]["step"]   # seconds

A training unit is timed by the harness's own `train()` on two tiny cases of
that unit (k and more steps; m and 2m evaluated images), so the probe pays what
a case pays: model build, the warm-up step, the DataLoader's workers starting
each epoch and each evaluation, the copy to the device. Two sizes separate the
cost of a step from what an epoch or an evaluation pass pays once. An SVM unit
is two small fits (and predictions) whose times give a power law in the number
of training images (a kernel SVM's fit grows faster than linearly).

The cheapest unit of each kind (model, input size, device, input path, AMP,
compile, pipeline or training: all but batch and optimizer) is timed first,
whatever the budget; then the others, cheapest first. When the budget is spent,
a unit left is scaled by FLOPs per step from a timed one of its kind, and says
so (`source`). Once-a-session costs are timed too: loading a dataset, counting a
model's FLOPs for its records.
"""

from __future__ import annotations

import math
import time
import warnings
from contextlib import contextmanager

from mnistperf.plan.work import SvmUnit, TrainUnit

BUDGET_SECONDS = 60.0
# The longer probe aims at about this much training, enough for a steady step time
# on a shared machine and little enough to time 20 units in the budget.
PROBE_SECONDS = 1.5
SHORT_STEPS = 2  # the shorter probe's steps
MAX_STEPS = 24
# The longer probe has at least this many steps more: a step is the difference of
# the two, and one step's difference is at the mercy of one slow step on a shared
# machine (ResNet-50 at 224x224x3 on this CPU: 1.56 s a step from 3 - 2 steps, where
# train() with 2, 6 and 12 steps averaged 2.24, 2.09 and 1.80 s; BENCHMARKS.md).
MIN_MORE_STEPS = 4
# Images of the two small fits: below about 1,000 a fit is mostly fixed cost and the
# slope comes out flatter still (300 -> 600: n^1.3; 1,000 -> 2,000: n^0.9-1.8, seen here).
SVM_SIZES = (1000, 2000)
SVM_PREDICT = 300  # images each fit predicts
# A kernel SVM's fit time grows between linearly and cubically in its images (and
# prediction with its support vectors, at most linearly); two small fits on a
# shared machine can give any slope, so it is kept within these. The fit's slope
# serves sizes up to the larger fit; beyond it, predict.SVM_FIT_EXPONENT_BEYOND.
FIT_EXPONENT = (1.0, 2.5)
PREDICT_EXPONENT = (0.3, 1.2)


def calibrate(units, data_root, budget: float = BUDGET_SECONDS, say=None) -> dict[str, dict]:
    """{unit key: its times} for every unit: timed, or scaled when the budget ran out."""
    say = say or (lambda line: None)
    deadline = time.perf_counter() + budget
    firsts, rest = timing_order(u for u in units if isinstance(u, TrainUnit))
    train = firsts + rest
    svm = [u for u in units if isinstance(u, SvmUnit)]
    times: dict[str, dict] = {}
    for unit in svm:  # cheap (a second each at most), and nothing to scale them from
        times[unit.key] = time_svm(unit, data_root)
    if train:  # the process's first steps pay one-off costs (allocator, kernels): not a unit's
        _probe(train[0], data_root, 1, 16, 16)
    for i, unit in enumerate(train):
        left = deadline - time.perf_counter()
        scaled = _scaled(unit, train[:i], times) if i >= len(firsts) else None
        if scaled is not None and left < _guess(scaled):
            times[unit.key] = scaled
            continue
        say(f"calibrating {unit.key} ({i + 1}/{len(train)})")
        timer = time_throughput if unit.throughput else time_train
        times[unit.key] = timer(unit, data_root, share=max(left, 0.0) / (len(train) - i))
    return times


def once_costs(datasets, shapes, data_root) -> dict[str, float]:
    """Seconds of what a session pays once: each dataset's first load, each model
    shape's FLOPs counts (mnistperf.flops caches both in the process)."""
    from mnistperf.data import load_raw
    from mnistperf.flops import macs_per_image, study_flops_per_image

    costs = {}
    for dataset in datasets:
        t0 = time.perf_counter()
        load_raw(dataset, data_root)
        costs[f"load:{dataset}"] = time.perf_counter() - t0
    for model, channels, size in shapes:
        t0 = time.perf_counter()
        macs_per_image(model, channels, size)
        study_flops_per_image(model, channels, size)
        costs[f"flops:{model}-{channels}x{size}"] = time.perf_counter() - t0
    return costs


def timing_order(units) -> tuple[list[TrainUnit], list[TrainUnit]]:
    """The cheapest unit of each kind (TrainUnit.kin: model, input size, input path,
    device...), timed whatever the budget, as FLOPs do not carry a step from one
    model or input size to another (ResNet-50's at 224x224x3, batch 16, Adam, took
    3.2-4.1x ResNet-18's in bare loops on this 2-core CPU, for 2.26x the FLOPs; a
    pipeline's 28x28 step scaled to 224x224x3 was 3-6x high); then the rest,
    cheapest first."""
    by_cost = sorted(units, key=lambda u: (_cost(u), u.key))  # the same order every plan
    firsts, seen = [], set()
    for unit in by_cost:
        if unit.kin not in seen:
            seen.add(unit.kin)
            firsts.append(unit)
    return firsts, [u for u in by_cost if u not in firsts]


def _cost(unit: TrainUnit) -> float:
    """A step's relative cost (for ordering and scaling): the forward pass's
    multiply-adds of a batch."""
    from mnistperf.flops import macs_per_image

    return macs_per_image(unit.model, unit.channels, unit.input_size) * unit.batch_size


def _guess(times: dict) -> float:
    """What timing a unit would take, from its scaled times: the two probes."""
    return 2 * times["build"] + 2 * times["warmup"] + (SHORT_STEPS + MAX_STEPS // 3) * \
        times["step"]


def _scaled(unit: TrainUnit, timed: list[TrainUnit], times: dict) -> dict | None:
    """The times of the timed unit of the same kind (another batch or optimizer)
    nearest in cost, scaled by FLOPs."""
    kin = [u for u in timed if u.kin == unit.kin and times[u.key]["source"] == "timed"]
    if not kin:
        return None
    cost = _cost(unit)
    # nearest in cost; at equal cost, the same optimizer
    near = min(kin, key=lambda u: (abs(math.log(_cost(u) / cost)),
                                   u.optimizer != unit.optimizer))
    ratio = cost / _cost(near)
    per_image = ratio * near.batch_size / unit.batch_size
    base = times[near.key]
    return dict(base, step=base["step"] * ratio, warmup=base["warmup"] * ratio,
                eval_image=base["eval_image"] * per_image,
                source=f"scaled from {near.key} by FLOPs")


# ---------------------------------------------------------------- training units


def _probe_config(unit: TrainUnit, steps: int, val: int, test: int):
    from mnistperf.config import TrainConfig

    return TrainConfig(
        dataset=unit.dataset, model=unit.model, batch_size=unit.batch_size,
        optimizer=unit.optimizer, lr=1e-3, epochs=1, device=unit.device, profile="plan",
        train_size=steps * unit.batch_size, val_size=val, test_size=test,
        official_test_size=test, experiment="plan", input_size=unit.input_size,
        channels=unit.channels, amp=unit.amp, loader=unit.loader,
        pin_memory=unit.pin_memory, num_workers=unit.num_workers,
        eval_batch_size=unit.eval_batch_size, compile=unit.compile)


@contextmanager
def _quiet_loader():
    """torch's warning about more DataLoader workers than cores is the case's own (it
    says it when it runs), not the plan's."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="This DataLoader will create")
        yield


def _probe(unit: TrainUnit, data_root, steps: int, val: int, test: int) -> dict:
    """One tiny case of the unit through train(): its parts' seconds."""
    from mnistperf.data import make_batches
    from mnistperf.device import resolve_device
    from mnistperf.timing import synchronize
    from mnistperf.train import train

    config = _probe_config(unit, steps, val, test)
    device = resolve_device(unit.device)
    t0 = time.perf_counter()
    batches = make_batches(config, data_root, device)
    t1 = time.perf_counter()
    with _quiet_loader():
        result = train(config, batches, device)
    synchronize(device)
    wall = time.perf_counter() - t1
    return {"data": t1 - t0, "wall": wall, "train": result.train_seconds,
            "eval": result.eval_seconds, "warmup": result.warmup_seconds}


def time_train(unit: TrainUnit, data_root, share: float = PROBE_SECONDS) -> dict:
    """Seconds of a step, of starting a round's training input, of an evaluated
    image and of starting an evaluated part, of building a round (model,
    optimizer) and of its warm-up step, and of making a case's batches."""
    m = min(unit.eval_batch_size, 128 if unit.input_size <= 64 else 16)
    short = _probe(unit, data_root, SHORT_STEPS, m, m)
    rough = max(short["train"] / SHORT_STEPS, 1e-4)
    aim = min(PROBE_SECONDS, max(share / 2, 0.0))
    steps = max(SHORT_STEPS + MIN_MORE_STEPS, min(MAX_STEPS, SHORT_STEPS + round(aim / rough)))
    long = _probe(unit, data_root, steps, 2 * m, m)
    step = (long["train"] - short["train"]) / (steps - SHORT_STEPS)
    if step <= 0:  # noise larger than the difference: the long probe's mean
        step = long["train"] / steps
    eval_image = (long["eval"] - short["eval"]) / m
    if eval_image <= 0:
        eval_image = long["eval"] / (4 * m)
    return {
        "step": step,
        # what starting the training input costs a round (a DataLoader's workers)
        "epoch_start": max(0.0, short["train"] - SHORT_STEPS * step),
        "eval_image": eval_image,
        # what starting an evaluated part's input costs (3 parts in each probe)
        "eval_pass": max(0.0, (short["eval"] - 3 * m * eval_image) / 3),
        "build": max(0.0, short["wall"] - short["train"] - short["eval"] - short["warmup"]),
        "warmup": short["warmup"],
        "data": short["data"],
        "source": "timed",
    }


def time_throughput(unit: TrainUnit, data_root, share: float = PROBE_SECONDS) -> dict:
    """A pipeline unit, as its experiment runs it (measure_throughput): one warm-up
    step, which starts the input path, then steps. A round is building the model and
    starting the input (`build`) plus its steps."""
    from mnistperf.data import make_batches
    from mnistperf.device import resolve_device
    from mnistperf.timing import synchronize
    from mnistperf.throughput import measure_throughput

    device = resolve_device(unit.device)
    config = _probe_config(unit, SHORT_STEPS + MAX_STEPS + 1, unit.batch_size, unit.batch_size)
    t0 = time.perf_counter()
    batches = make_batches(config, data_root, device)
    t1 = time.perf_counter()
    with _quiet_loader():
        rough = measure_throughput(config, batches, device, steps=1, warmup=1).seconds
        aim = min(PROBE_SECONDS, max(share / 2, 0.0))
        steps = max(SHORT_STEPS, min(MAX_STEPS, round(aim / max(rough, 1e-4))))
        t2 = time.perf_counter()
        result = measure_throughput(config, batches, device, steps=steps, warmup=1)
    synchronize(device)
    wall = time.perf_counter() - t2
    step = result.seconds / steps
    return {"step": step, "epoch_start": 0.0, "eval_image": 0.0, "eval_pass": 0.0,
            "build": max(0.0, wall - (steps + 1) * step), "warmup": 0.0, "data": t1 - t0,
            "source": "timed"}


# ---------------------------------------------------------------- SVM units


def time_svm(unit: SvmUnit, data_root) -> dict:
    """A power law for the fit, t = fit_a * (n / n0) ** fit_b, and for prediction
    per image, t = predict_a * (n / n0) ** predict_b, from two small fits (n0 the
    larger)."""
    from mnistperf.config import SvmConfig
    from mnistperf.data import load_raw, make_split
    from mnistperf.svm import make_svc, svm_data

    raw = load_raw(unit.dataset, data_root)  # once a session (once_costs), not per case
    t0 = time.perf_counter()
    split = make_split(raw, 0)
    data_seconds = time.perf_counter() - t0
    fits, predicts = [], []
    for n in SVM_SIZES:
        config = SvmConfig(dataset=unit.dataset, kernel=unit.kernel, backend=unit.backend,
                           profile="plan", train_size=n, test_size=SVM_PREDICT,
                           experiment="plan", C=unit.C, gamma=unit.gamma, degree=unit.degree)
        data, model = svm_data(config, split), make_svc(config)
        t0 = time.perf_counter()
        model.fit(data.x_train, data.y_train)
        t1 = time.perf_counter()
        model.predict(data.x_test)
        fits.append(max(t1 - t0, 1e-6))
        predicts.append(max(time.perf_counter() - t1, 1e-6) / SVM_PREDICT)
    growth = math.log(SVM_SIZES[1] / SVM_SIZES[0])
    return {  # from the larger fit: the nearer to a paper-size case's
        "n0": SVM_SIZES[1], "fit_a": fits[1],
        "fit_b": _clamp(math.log(fits[1] / fits[0]) / growth, FIT_EXPONENT),
        "predict_a": predicts[1],
        "predict_b": _clamp(math.log(predicts[1] / predicts[0]) / growth, PREDICT_EXPONENT),
        "data": data_seconds, "source": "timed",
    }


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])
