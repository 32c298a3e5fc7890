"""Short vs long training (the study's 10 vs 20 epochs, its Figure 6).

One long run per configuration (ResNet-18, batch 16, Adam, lr 0.001, per dataset
and device) with the test sets also evaluated after the short run's last
epoch; the short row is read from that run (constant learning rate, same seed
and batch order), not trained again.
"""

from __future__ import annotations

import statistics

from mnistperf.config import (
    DATASET_TITLES, DATASETS, DEVICES, MODEL_TITLES, SPLIT_SIZES, format_lr,
)
from mnistperf.experiments.base import Experiment
from mnistperf.profiles import Profile, train_config
from mnistperf.report.figures import accuracy_axis, new_figure, plot_curve, set_caption
from mnistperf.report.tables import Column, Table, unavailable
from mnistperf.stats import MIN_EFFECT_POINTS, SIGNIFICANCE, format_p, sign_test

BASES = tuple(dict(dataset=d, model="resnet18", batch_size=16, optimizer="adam", lr=1e-3)
              for d in DATASETS)
# Per profile: (short, long) epochs, and the training images of the long run.
SIZES = {"smoke": ((2, 4), 256), "quick": ((10, 20), 500), "paper": ((10, 20), SPLIT_SIZES[0])}


def cases(profile: Profile, seed: int = 0):
    (short, long), train_size = SIZES[profile.name]
    return [
        train_config(profile, **base, device=device, seed=seed, epochs=long,
                     train_size=train_size, experiment="epochs",
                     checkpoint_epochs=(short,))
        for base in BASES for device in DEVICES
    ]


def _records(run):
    return [r for r in run.records("resnet") if r.experiment == "epochs"]


def tables(run) -> list[Table]:
    long_runs = _records(run)
    if not long_runs:
        return []
    rows = []
    for r in sorted(long_runs, key=lambda r: (r.dataset != "mnist", r.device)):
        config = (f"{DATASET_TITLES.get(r.dataset, r.dataset)} "
                  f"{MODEL_TITLES.get(r.model, r.model)} bs{r.batch_size} "
                  f"{r.optimizer} {format_lr(r.lr)}")
        points = dict(r.checkpoints)
        points[r.epochs] = {"test_accuracy": r.test_accuracy,
                            "official_test_accuracy": r.official_test_accuracy}
        for epochs in sorted(points):
            val = r.val_accuracy[:epochs]
            point = points[epochs]
            ok = r.ok and len(val) == epochs
            source = "this run" if epochs == r.epochs else f"first {epochs} of {r.epochs}"
            rows.append([
                config, r.device, epochs, source,
                val[-1] if ok else unavailable(r),
                max(val) if ok else unavailable(r),
                point.get("test_accuracy") if ok else unavailable(r),
                point.get("official_test_accuracy") if ok else unavailable(r),
                sum(r.epoch_seconds[:epochs]) if ok else unavailable(r),
            ])
    note = ("each configuration trains once for the long run; the short row is read from "
            "its first epochs (constant learning rate, same seed and batch order, test sets "
            "also evaluated at that epoch), not trained separately; train images: "
            + ", ".join(sorted({f"{r.train_size:,}" for r in long_runs})))
    return [Table(name="epochs", title="Short vs long training (the study: 10 vs 20 epochs)",
                  columns=[Column("configuration"), Column("device"), Column("epochs"),
                           Column("read from"),
                           Column("final val %", ".2f"), Column("best val %", ".2f"),
                           Column("test %", ".2f"), Column("official %", ".2f"),
                           Column("train s", ".1f")],
                  rows=rows, note=note)]


def figures(run) -> dict:
    """Validation accuracy per epoch of each long run, the short run's end marked."""
    records = [r for r in _records(run) if r.val_accuracy]
    if not records:
        return {}
    fig = new_figure(figsize=(9, 4.8))
    ax = fig.subplots()
    shorts = set()
    # Colour per dataset, line per device: the same seed on cpu and gpu gives near
    # identical curves, which must stay told apart where they overlap.
    colours = dict(zip(DATASETS, ("tab:blue", "tab:orange")))
    for r in records:
        gpu = r.device == "gpu"
        plot_curve(ax, r.val_accuracy, "--" if gpu else "-", marker="s" if gpu else "o",
                   markersize=4, color=colours.get(r.dataset),
                   label=f"{DATASET_TITLES.get(r.dataset)} ({r.device})")
        shorts |= {e for e in r.checkpoints if e != r.epochs}
    for short in sorted(shorts):
        ax.axvline(short, color="grey", linestyle="--", label=f"end of the {short}-epoch run")
    accuracy_axis(ax)
    last = max(len(r.val_accuracy) for r in records)
    ax.set_xticks(range(1, last + 1))
    ax.set_xlim(0.5, last + 0.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title("Short vs long training: validation accuracy per epoch "
                 "(ResNet-18, batch 16, Adam, lr 0.001)")
    short_text = (f"the dashed line marks where the {'/'.join(str(e) for e in sorted(shorts))}"
                  f"-epoch run ends (read from the same run, not trained again); "
                  if shorts else "")
    set_caption(fig, f"Validation accuracy after each epoch of the long run per dataset and "
                     f"device (ResNet-18, batch 16, Adam, lr 0.001, {last} epochs); "
                     f"{short_text}the dotted line is chance (10 %).")
    return {"epochs.png": fig}


def findings(run) -> list[str]:
    diffs = [r.test_accuracy - values["test_accuracy"]
             for r in _records(run) if r.ok and r.test_accuracy is not None
             for epoch, values in r.checkpoints.items()
             if epoch != r.epochs and values.get("test_accuracy") is not None]
    if not diffs:
        return []
    mean, p = statistics.fmean(diffs), sign_test(diffs)
    budget = ", ".join(dict.fromkeys(f"{r.train_size:,} images, {r.input_size}x{r.input_size}"
                                     f"x{r.channels}" for r in _records(run) if r.ok))
    detail = (f"the longer run changes test accuracy by {mean:+.2f} points on average over "
              f"{len(diffs)} configuration{'s' if len(diffs) != 1 else ''} "
              f"(range {min(diffs):+.2f} to {max(diffs):+.2f}; better in "
              f"{sum(d > 0 for d in diffs)} of {len(diffs)}, sign test {format_p(p)})")
    head = f"Longer training, at this budget ({budget}):"
    if abs(mean) < MIN_EFFECT_POINTS:
        return [f"{head} no clear effect: {detail}; below {MIN_EFFECT_POINTS} points"]
    if p >= SIGNIFICANCE:
        return [f"{head} no clear effect: {detail}; not p < {SIGNIFICANCE}"]
    return [f"{head} {'helps' if mean > 0 else 'hurts'}: {detail}"]


EXPERIMENT = Experiment(name="epochs", title="Short vs long training", version=1,
                        fixture="train_case", cases=cases, tables=tables,
                        figures=figures, findings=findings)
