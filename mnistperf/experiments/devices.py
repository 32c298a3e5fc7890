"""CPU vs GPU (the study's Table 4 and Figure 8): FashionMNIST, batch 16, lr 0.001,
SGD/Adam x ResNet-18/50 on cpu and gpu, with FLOPs and the GPU speed-up.

The cases are grid configurations with the grid's ids (`reuses_grid`): when the
grid's own case is selected in the same session, this copy is deselected, so
nothing trains twice; the table reads the grid's records either way. A run that
holds records of this experiment itself (the study's, whose Table 4 followed its
own protocol) is tabled from those. Each row says whether the study prints it
(version 1, 2 or both of its Table 4) or it is the harness's own, and, where the
run is at the study's budget, the study's figures beside it. Finding: the GPU
speed-up over every grid configuration that ran on both devices.

    table4_records(run)     the rows of Table 4 this run has
    speedups(run)           [(cpu, gpu, cpu s / gpu s)] on the same input path and size
"""

from __future__ import annotations

import statistics
from itertools import product

from mnistperf.config import DEVICES, MODEL_TITLES, MODELS, OPTIMIZERS, format_lr
from mnistperf.experiments.base import CONFIG_KEYS, Experiment
from mnistperf.experiments.grid import grid_records
from mnistperf.profiles import Profile, train_config
from mnistperf.report.figures import bar_panels, set_caption
from mnistperf.report.tables import Column, Table, present, unavailable, value_cell
from mnistperf.stats import format_p, pairs, sign_test

# The configuration the study's Table 4 holds fixed.
TABLE4 = dict(dataset="fashion", batch_size=16, lr=1e-3)


def cases(profile: Profile, seed: int = 0):
    return [
        train_config(profile, **TABLE4, model=m, optimizer=o, device=d, seed=seed,
                     experiment="grid")  # the grid's own cases
        for m, o, d in product(MODELS, OPTIMIZERS, DEVICES)
    ]


def table4_records(run):
    """The run's records of Table 4's configuration: this experiment's own when it
    has any (the study's), else the grid's."""
    own = [r for r in run.records("resnet") if r.experiment == "devices"]
    return own or [r for r in grid_records(run)
                   if all(getattr(r, k) == v for k, v in TABLE4.items())]


def speedups(run) -> list[tuple]:
    """(cpu record, gpu record, cpu seconds / gpu seconds) for every Table 4
    configuration that ended ok on both devices with the same input path, size and
    budget: the GPU speed-up as the study measured it."""
    keys = tuple(k for k in CONFIG_KEYS if k != "device") + ("input_size", "channels")
    found = pairs([r for r in table4_records(run) if r.ok and r.train_seconds],
                  "device", "cpu", "gpu", keys)
    return [(c, g, c.train_seconds / g.train_seconds) for c, g in found]


def _in_study(run, record) -> str:
    """Which versions of the study's Table 4 print this row, from the study's own
    record of it: "versions 1 and 2", "version 1 only", ... or "no (the harness's)"."""
    study = record if record.source else run.reference_for(record, same_budget=False,
                                                           experiment="devices")
    if study is None:
        return "no (the harness's own)" if run.reference is not None else None
    return study.source.partition("(")[2].rstrip(")") or "yes"


def tables(run) -> list[Table]:
    """Per model, optimizer and device: accuracy, time, FLOPs and the GPU speed-up."""
    records = table4_records(run)
    if not records:
        return []
    index = {(r.model, r.optimizer, r.device): r for r in records}
    studied = {key: run.reference_for(r, experiment="devices") for key, r in index.items()}
    compared = any(studied.values())
    rows = []
    for model in MODELS:
        for opt in OPTIMIZERS:
            cpu = index.get((model, opt, "cpu"))
            for device in DEVICES:
                r = index.get((model, opt, device))
                ok = r is not None and r.ok
                achieved = (r.train_flops_per_epoch * r.epochs_run / r.train_seconds / 1e12
                            if ok and r.train_flops_per_epoch and r.train_seconds else None)
                speedup = None
                if device == "gpu" and ok and cpu is not None and cpu.ok:
                    speedup = cpu.train_seconds / r.train_seconds
                study = studied.get((model, opt, device))
                rows.append([
                    device, TABLE4["batch_size"], opt, TABLE4["lr"], MODEL_TITLES[model],
                    value_cell(r, "test_accuracy"),
                    r.train_seconds * 1000 if ok else unavailable(r),
                    r.study_flops_per_image if r else None,
                    *([value_cell(study, "test_accuracy"),
                       study.train_seconds * 1000 if study else None] if compared else []),
                    r.flops_per_image if r else None,
                    r.train_flops_per_epoch if r else None,
                    achieved, speedup, _in_study(run, r) if r else None,
                ])
    sizes = sorted({f"{r.input_size}x{r.input_size}x{r.channels}" for r in records})
    flags = sorted({flag for s in studied.values() if s for flag in s.flags}
                   | {flag for r in records for flag in r.flags})
    return [Table(
        name="devices", title="CPU vs GPU (the study's Table 4): FashionMNIST, batch 16, lr 0.001",
        # The study's columns first (Compute, Batch, Opt, LR, Model, Accuracy, Time, FLOPs),
        # then the harness's own.
        columns=[Column("Compute"), Column("Batch"), Column("Opt"),
                 Column("LR", lambda v: format_lr(v)[2:]), Column("Model"),
                 Column("Accuracy %", ".2f"), Column("Time (ms)", ".0f"),
                 Column("FLOPs (the study's count, thop)", ".7g", key="study_flops_thop"),
                 *([Column("study Accuracy %", ".2f"), Column("study Time (ms)", ".0f")]
                   if compared else []),
                 Column("FLOPs = 2 x MACs (fvcore)", ".4g", key="flops_fvcore"),
                 Column("train FLOPs/epoch (est.)", ".3g"),
                 Column("achieved TFLOP/s", ".3f"), Column("speed-up", ".1f", "x"),
                 Column("in the study's Table 4")],
        rows=rows, key_columns=5,
        note=("per image, at the input actually trained (" + ", ".join(sizes) + "): "
              "FLOPs (the study's count, thop) = thop's count, which reproduces the study's "
              "FLOPs column digit for digit at 3x224x224 (a multiply-add counted once, "
              "BatchNorm and pooling included); FLOPs = 2 x MACs = fvcore's multiply-adds "
              "counted twice, the harness's own; Time = training time of the case in ms "
              "(the study does not say what its Time includes); train FLOPs/epoch ~ 3 x "
              "(2 x MACs) x train images (forward + backward, an estimate); achieved = "
              "train FLOPs / train time; speed-up = cpu time / gpu time for the same "
              "configuration; in the study's Table 4 = which of the two versions the study "
              "prints of its Table 4 hold the row, or the harness's own row"
              + ("; study = the study's Table 4 figure for the row (same budget)"
                 if compared else "")
              + ("; the study's own flags: " + "; ".join(flags) if flags else "")))]


def figures(run) -> dict:
    """The study's Figure 8: training time and accuracy per device for Table 4."""
    records = [r for r in table4_records(run) if r.ok]
    if not records:
        return {}
    groups = [(m, o) for m in MODELS for o in OPTIMIZERS
              if any(r.model == m and r.optimizer == o for r in records)]
    index = {(r.model, r.optimizer, r.device): r for r in records}
    series = {}
    for device in present([r.device for r in records], DEVICES):
        series[device] = [(r.train_seconds, r.test_accuracy)
                          if (r := index.get((m, o, device))) else None for m, o in groups]
    missing = [d for d in DEVICES if d not in series]
    fig = bar_panels(
        "CPU vs GPU: FashionMNIST, batch 16, lr 0.001"
        + (f" ({', '.join(missing)} did not run)" if missing else ""),
        [f"{MODEL_TITLES[m]}\n{o}" for m, o in groups], series,
        [("seconds", "Training time", 0, "%.3g"), ("accuracy (%)", "Test accuracy", 1, "%.1f")],
        legend="device")
    set_caption(fig, "The study's Table 4 as bars: training time (train_seconds) and test "
                     "accuracy of ResNet-18/50 with SGD and Adam on FashionMNIST, batch 16, "
                     "lr 0.001, one bar per device"
                + (f"; {', '.join(missing)} did not run" if missing else "")
                + ". Dotted line: chance (10 %).")
    return {"devices.png": fig}


def findings(run) -> list[str]:
    keys = tuple(k for k in CONFIG_KEYS if k != "device") + ("input_size", "channels")
    found = pairs([r for r in grid_records(run) if r.ok], "device", "cpu", "gpu", keys)
    ratios = sorted(c.train_seconds / g.train_seconds for c, g in found
                    if c.train_seconds and g.train_seconds)
    if not ratios:
        return []
    p = sign_test([r - 1 for r in ratios])
    return [f"GPU vs CPU: the GPU trains {statistics.median(ratios):.1f}x faster (median over "
            f"{len(ratios)} configuration{'s' if len(ratios) != 1 else ''}, range "
            f"{ratios[0]:.1f}x to {ratios[-1]:.1f}x; faster in "
            f"{sum(r > 1 for r in ratios)} of {len(ratios)}, sign test {format_p(p)}; same "
            f"input path and size on both devices)"]


EXPERIMENT = Experiment(name="devices", title="CPU vs GPU", version=1,
                        fixture="train_case", cases=cases, tables=tables,
                        figures=figures, findings=findings, reuses_grid=True)
