"""CPU vs GPU (the study's Table 4 and Figure 8): FashionMNIST, batch 16, lr 0.001,
SGD/Adam x ResNet-18/50 on cpu and gpu, with FLOPs and the GPU speed-up.

The cases are grid configurations with the grid's ids (`reuses_grid`): when the
grid's own case is selected in the same session, this copy is deselected, so
nothing trains twice; the table reads the grid's records either way. Finding:
the GPU speed-up over every grid configuration that ran on both devices.
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
from mnistperf.stats import pairs

# The configuration the study's Table 4 holds fixed.
TABLE4 = dict(dataset="fashion", batch_size=16, lr=1e-3)


def cases(profile: Profile, seed: int = 0):
    return [
        train_config(profile, **TABLE4, model=m, optimizer=o, device=d, seed=seed)
        for m, o, d in product(MODELS, OPTIMIZERS, DEVICES)
    ]


def _table4_records(run):
    return [r for r in grid_records(run)
            if all(getattr(r, k) == v for k, v in TABLE4.items())]


def tables(run) -> list[Table]:
    """Per model, optimizer and device: accuracy, time, FLOPs and the GPU speed-up."""
    records = _table4_records(run)
    if not records:
        return []
    index = {(r.model, r.optimizer, r.device): r for r in records}
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
                rows.append([
                    device, TABLE4["batch_size"], opt, TABLE4["lr"], MODEL_TITLES[model],
                    value_cell(r, "test_accuracy"),
                    r.train_seconds * 1000 if ok else unavailable(r),
                    r.study_flops_per_image if r else None,
                    r.flops_per_image if r else None,
                    r.train_flops_per_epoch if r else None,
                    achieved, speedup,
                ])
    sizes = sorted({f"{r.input_size}x{r.input_size}x{r.channels}" for r in records})
    return [Table(
        name="devices", title="CPU vs GPU (the study's Table 4): FashionMNIST, batch 16, lr 0.001",
        # The study's columns first (Compute, Batch, Opt, LR, Model, Accuracy, Time, FLOPs),
        # then the harness's own.
        columns=[Column("Compute"), Column("Batch"), Column("Opt"),
                 Column("LR", lambda v: format_lr(v)[2:]), Column("Model"),
                 Column("Accuracy %", ".2f"), Column("Time (ms)", ".0f"),
                 Column("fvcore FLOPs (study's count)", ".6g"),
                 Column("FLOPs = 2 x MACs", ".4g"), Column("train FLOPs/epoch (est.)", ".3g"),
                 Column("achieved TFLOP/s", ".3f"), Column("speed-up", ".1f", "x")],
        rows=rows,
        note=("per image, at the input actually trained (" + ", ".join(sizes) + "): "
              "fvcore FLOPs (study's count) = fvcore's MACs + 2 x BatchNorm activations, the "
              "study's FLOPs column; FLOPs = 2 x MACs counts a multiply-add as two; Time = "
              "training time of the case in ms (the study does not say what its Time "
              "includes); train FLOPs/epoch ~ 3 x (2 x MACs) x train images (forward + "
              "backward, an estimate); achieved = train FLOPs / train time; speed-up = cpu "
              "time / gpu time for the same configuration"))]


def figures(run) -> dict:
    """The study's Figure 8: training time and accuracy per device for Table 4."""
    records = [r for r in _table4_records(run) if r.ok]
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
    keys = tuple(k for k in CONFIG_KEYS if k != "device")
    found = pairs([r for r in grid_records(run) if r.ok], "device", "cpu", "gpu", keys)
    ratios = sorted(c.train_seconds / g.train_seconds for c, g in found
                    if c.train_seconds and g.train_seconds)
    if not ratios:
        return []
    return [f"GPU vs CPU: the GPU trains {statistics.median(ratios):.1f}x faster (median over "
            f"{len(ratios)} configuration{'s' if len(ratios) != 1 else ''}, range "
            f"{ratios[0]:.1f}x to {ratios[-1]:.1f}x)"]


EXPERIMENT = Experiment(name="devices", fixture="train_case", cases=cases, tables=tables,
                        figures=figures, findings=findings, reuses_grid=True)
