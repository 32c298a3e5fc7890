"""The study's grid: dataset x model x batch x optimizer x lr x device, ResNet-18/50
trained from scratch (the study's Tables 1-2 and Figures 1-4).

Cases: `cases(profile, seed)`, ids `{dataset}-{model}-bs{N}-{opt}-lr{lr}-e{E}-{device}`.
Tables: per dataset and device, accuracy (test and official test) and time.
Figures: accuracy per epoch per dataset x model x device. Findings: Adam vs
SGD, batch 16 vs 32, lr 0.001 vs 0.0001, ResNet-18 vs ResNet-50.
"""

from __future__ import annotations

import math
import statistics
from itertools import product

from matplotlib.lines import Line2D

from mnistperf.config import (
    BATCH_SIZES, DATASET_TITLES, DATASETS, DEVICES, LEARNING_RATES, MODEL_TITLES, MODELS,
    OPTIMIZERS, format_lr,
)
from mnistperf.experiments.base import CONFIG_KEYS, Experiment
from mnistperf.profiles import Profile, train_config
from mnistperf.records import TrainRecord
from mnistperf.report.figures import (
    CHANCE_LOSS, accuracy_axis, label_points, new_figure, plot_curve, set_caption,
)
from mnistperf.report.tables import Column, Table, present, value_cell
from mnistperf.stats import MIN_EFFECT_POINTS, SIGNIFICANCE, format_p, pairs, sign_test


def cases(profile: Profile, seed: int = 0):
    return [
        train_config(profile, dataset=d, model=m, batch_size=b, optimizer=o, lr=lr,
                     device=dev, experiment="grid", seed=seed)
        for d, m, b, o, lr, dev in product(
            DATASETS, MODELS, BATCH_SIZES, OPTIMIZERS, LEARNING_RATES, DEVICES
        )
    ]


def grid_records(run) -> list[TrainRecord]:
    """Training records of the grid proper (no experiment's own id tokens)."""
    return [r for r in run.records("resnet") if r.experiment == "grid"]


def _time_to_target_cell(record: TrainRecord | None, target: float):
    """Seconds until `target` (derived from the curves now), 'not reached', or the
    usual None/status."""
    if record is None or not record.ok:
        return value_cell(record, "test_accuracy")
    value = record.time_to_target(target)
    return "not reached" if value is None else value


def _target_note(target: float) -> str:
    return (f"to target s = training seconds until validation accuracy first reached "
            f"{target:g} %")


LEAD = [Column("batch"), Column("optimizer"), Column("lr", lambda v: format_lr(v)[2:])]


def tables(run) -> list[Table]:
    """The study's Tables 1/2: per dataset (and device), rows (batch, optimizer, lr),
    ResNet-18 / ResNet-50 test accuracy with the official-test accuracy beside it,
    and a training-time table in the same layout."""
    records = grid_records(run)
    index = {(r.dataset, r.device, r.model, r.batch_size, r.optimizer, r.lr): r
             for r in records}
    out = []
    for dataset in present([r.dataset for r in records], DATASETS):
        of_dataset = [r for r in records if r.dataset == dataset]
        for device in present([r.device for r in of_dataset], DEVICES):
            here = [r for r in of_dataset if r.device == device]
            epochs = sorted({r.epochs for r in here})
            sizes = sorted({(r.model, r.train_size) for r in here})
            where = (f"{DATASET_TITLES.get(dataset, dataset)}, {device}, "
                     f"{'/'.join(str(e) for e in epochs)} "
                     f"epoch{'s' if epochs != [1] else ''}")
            note = ("train images: " + ", ".join(f"{MODEL_TITLES.get(m, m)} {n:,}"
                                                  for m, n in sizes)
                    + f"; test = {here[0].test_size:,} images of the split, "
                      f"official = the official test set")
            rows_acc, rows_time = [], []
            # The study's figure beside each cell trained on the study's budget.
            study = {(r.model, r.batch_size, r.optimizer, r.lr): run.reference_for(r)
                     for r in here}
            compared = any(study.values())
            for bs in present([r.batch_size for r in here], BATCH_SIZES):
                for opt in present([r.optimizer for r in here], OPTIMIZERS):
                    for lr in present([r.lr for r in here], LEARNING_RATES):
                        key = (bs, opt, lr)
                        row_records = [index.get((dataset, device, m) + key) for m in MODELS]
                        if not any(row_records):
                            continue  # no model ran this configuration: no row
                        acc_row, time_row = [bs, opt, lr], [bs, opt, lr]
                        for m, r in zip(MODELS, row_records):
                            acc_row += [value_cell(r, "test_accuracy"),
                                        value_cell(r, "official_test_accuracy")]
                            if compared:
                                acc_row.append(value_cell(study.get((m,) + key),
                                                          "test_accuracy"))
                            time_row += [value_cell(r, "train_seconds"),
                                         value_cell(r, "images_per_second"),
                                         _time_to_target_cell(r, run.target(dataset))]
                        rows_acc.append(acc_row)
                        rows_time.append(time_row)
            flags = sorted({f for r in [*here, *filter(None, study.values())] for f in r.flags})
            kinds = ("test", "official") + (("study",) if compared else ())
            out.append(Table(
                name=f"{dataset}-{device}-accuracy",
                title=f"Test accuracy (%) — {where}",
                columns=LEAD + [Column(f"{MODEL_TITLES[m]} {kind}", ".2f") for m in MODELS
                                for kind in kinds],
                rows=rows_acc,
                note=note + ("; study = the study's figure for the configuration (Tables "
                             "1-2), trained on the same budget" if compared else "")
                + ("; the study's own flags: " + "; ".join(flags) if flags else "")))
            if not any(r.train_seconds for r in here):
                continue  # no times at all (the study prints none for its grid)
            out.append(Table(
                name=f"{dataset}-{device}-time",
                title=f"Training time — {where}",
                columns=LEAD + [Column(f"{MODEL_TITLES[m]} {kind}", spec)
                                for m in MODELS for kind, spec in (
                                    ("train s", ".1f"), ("img/s", ".0f"),
                                    ("to target s", ".1f"))],
                rows=rows_time, note=note + "; " + _target_note(run.target(dataset))))
    return out


def figures(run) -> dict:
    """The study's Figures 1-4: per dataset x model (x device), training loss,
    training accuracy and validation accuracy against epoch for every
    configuration; then accuracy against training time per dataset."""
    records = [r for r in grid_records(run) if r.val_accuracy]
    groups: dict[tuple, list[TrainRecord]] = {}
    for r in records:
        groups.setdefault((r.dataset, r.model, r.device), []).append(r)
    out = {}
    # In the tables' order (MNIST before FashionMNIST), not alphabetical.
    rank = {v: i for order in (DATASETS, MODELS, DEVICES) for i, v in enumerate(order)}
    for (dataset, model, device), members in sorted(
            groups.items(), key=lambda kv: tuple(rank.get(v, 99) for v in kv[0])):
        members.sort(key=lambda r: (r.batch_size, r.optimizer, -r.lr))
        fig = new_figure(figsize=(15, 4.5))
        loss_ax, *acc_axes = fig.subplots(1, 3)
        acc_axes[1].sharey(acc_axes[0])
        last_epoch, losses = 1, []
        for r in members:
            label = f"bs{r.batch_size} {r.optimizer} {format_lr(r.lr)}"
            style = "-" if r.optimizer == "adam" else "--"
            line = plot_curve(loss_ax, r.train_loss, style, marker="o", markersize=4,
                              label=label)[0]
            for ax, values in zip(acc_axes, (r.train_accuracy, r.val_accuracy)):
                plot_curve(ax, values, style, marker="o", markersize=4, label=label,
                           color=line.get_color())
            last_epoch = max(last_epoch, len(r.val_accuracy), len(r.train_loss))
            losses += [v for v in r.train_loss if v is not None and math.isfinite(v)]
        loss_ax.axhline(CHANCE_LOSS, color="grey", linestyle=":", linewidth=1.2,
                        label="chance (ln 10)")
        # From 0; a diverging case is clipped at twice the chance loss so that it does
        # not flatten every other curve.
        loss_ax.set_ylim(0, 1.08 * max(CHANCE_LOSS, min(max(losses, default=0),
                                                          2 * CHANCE_LOSS)))
        loss_ax.set_ylabel("cross-entropy loss")
        for ax in acc_axes:
            accuracy_axis(ax)
        acc_axes[0].set_ylabel("accuracy (%)")
        for ax, what in zip((loss_ax, *acc_axes), (
                "Training loss (mean over each epoch)",
                "Training accuracy (running, during each epoch)",
                "Validation accuracy (after each epoch)")):
            ax.set_title(what, fontsize=11)
            ax.set_xlabel("epoch")
            ax.set_xticks(range(1, last_epoch + 1))
            ax.set_xlim(0.5, last_epoch + 0.5)
            ax.grid(alpha=0.3)
        # Outside the axes: with eight configurations a legend inside hides points.
        handles, labels = acc_axes[1].get_legend_handles_labels()
        handles += loss_ax.get_legend_handles_labels()[0][-1:]
        labels += ["chance loss (ln 10)"]
        fig.legend(handles, labels, title="configuration\n(solid: Adam, dashed: SGD)",
                   loc="outside right upper", fontsize=9)
        where = (f"{MODEL_TITLES.get(model, model)} on {DATASET_TITLES.get(dataset, dataset)}"
                 f" ({device})")
        fig.suptitle(f"{where}: loss and accuracy per epoch")
        epochs = "one epoch: each configuration is a single point" if last_epoch == 1 \
            else f"{last_epoch} epochs"
        set_caption(fig, f"{where}, every grid configuration ({epochs}): training loss, "
                         f"training accuracy and validation accuracy per epoch. Solid lines "
                         f"are Adam, dashed SGD; dotted lines mark chance (10 % accuracy, "
                         f"loss ln 10).")
        out[f"curves-{dataset}-{model}-{device}.png"] = fig
    out.update(_tradeoff_figures(run))
    return out


def _config_label(r: TrainRecord) -> str:
    extra = "" if r.loader == "tensor" else f" {r.loader}{' pin' if r.pin_memory else ''}"
    return (f"{'R18' if r.model == 'resnet18' else 'R50'} bs{r.batch_size} {r.optimizer} "
            f"{format_lr(r.lr)[2:]} e{r.epochs}{extra}")


def _tradeoff_figures(run) -> dict:
    """Per dataset: test accuracy against training seconds, one point per ok
    training case of any experiment, labelled by its configuration."""
    records = [r for r in run.records("resnet")
               if r.ok and r.test_accuracy is not None and r.train_seconds]
    out = {}
    for dataset in present([r.dataset for r in records], DATASETS):
        here = sorted((r for r in records if r.dataset == dataset),
                      key=lambda r: (r.model, r.device, r.train_seconds))
        fig = new_figure(figsize=(12, 6))
        ax = fig.subplots()
        seconds = [r.train_seconds for r in here]
        for model, color in zip(MODELS, ("tab:blue", "tab:orange")):
            for device, marker in zip(DEVICES, ("o", "s")):
                pts = [r for r in here if r.model == model and r.device == device]
                if pts:
                    ax.scatter([r.train_seconds for r in pts], [r.test_accuracy for r in pts],
                               color=color, marker=marker, s=40, zorder=3,
                               label=f"{MODEL_TITLES[model]}, {device}")
        # Log time when the cases span more than a factor of ten (cpu and gpu together).
        if max(seconds) > 10 * min(seconds):
            ax.set_xscale("log")
            ax.set_xlim(min(seconds) / 1.5, max(seconds) * 2.5)
        else:
            ax.set_xlim(0, max(seconds) * 1.3)  # room for the labels right of the points
        accuracy_axis(ax)
        key = label_points(ax, seconds, [r.test_accuracy for r in here],
                           [_config_label(r) for r in here],
                           [f"{_config_label(r)} {r.device}: {r.test_accuracy:.1f} %, "
                            f"{r.train_seconds:.3g} s" for r in here])
        ax.set_xlabel("training seconds (train_seconds: the epochs, without evaluation)")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        if key:  # numbered points: their key, best first, below the markers' legend
            handles += [Line2D([], [], linestyle="none")] * len(key)
            labels += key
            # Tall enough for every key line (~0.17 in each at 8 pt).
            fig.set_size_inches(12, max(6.0, 1.0 + 0.17 * len(labels)))
        # Outside the axes, so that it never covers a point.
        fig.legend(handles, labels, loc="outside right upper", fontsize=8,
                   handlelength=1.5, handletextpad=0.4)
        title = DATASET_TITLES.get(dataset, dataset)
        ax.set_title(f"{title}: test accuracy against training time, every ok training case")
        set_caption(fig, f"{title}: test accuracy against training time for each training "
                         f"case that ended ok ({len(here)}), from every experiment; label = "
                         f"model, batch, optimizer, lr, epochs (and the input path when not "
                         f"the default), or a number whose key, most accurate first, is "
                         f"beside the plot. Up and to the left is better; training-set sizes "
                         f"differ by model and experiment (see the tables).")
        out[f"accuracy-vs-time-{dataset}.png"] = fig
    return out


# (factor, a, b, label a, label b): "a vs b" comparisons over otherwise equal configs.
FACTORS = (
    ("optimizer", "adam", "sgd", "Adam", "SGD"),
    ("batch_size", 16, 32, "batch 16", "batch 32"),
    ("lr", 1e-3, 1e-4, "lr 0.001", "lr 0.0001"),
    ("model", "resnet18", "resnet50", "ResNet-18", "ResNet-50"),
)


def _spread(found) -> float:
    """The typical repeat spread (std) of the compared cases; 0 without repeats."""
    stds = [r.test_accuracy_std or 0.0 for pair in found for r in pair]
    return statistics.fmean(stds) if stds else 0.0


def budget_of(records) -> str:
    """'1,400 images, 2 epochs, 28x28x1': what these cases trained on."""
    return " / ".join(dict.fromkeys(r.budget_text() for r in records))


def accuracy_finding(records, factor, a, b, label_a, label_b, where: str = "") -> str:
    """`label_a` vs `label_b` over the configurations that differ only in `factor`.
    "X is better" only when the mean difference is at least MIN_EFFECT_POINTS and
    a sign test over the configurations gives p < SIGNIFICANCE, or, with repeats,
    when it lies outside the seed spread."""
    keys = tuple(k for k in CONFIG_KEYS if k != factor)
    found = pairs([r for r in records if r.ok and r.test_accuracy is not None],
                  factor, a, b, keys)
    if not found:
        return (f"{label_a} vs {label_b}{where}: too little data (no pair of "
                f"configurations differing only in {factor})")
    head = (f"{label_a} vs {label_b}{where}, at this budget "
            f"({budget_of([r for pair in found for r in pair])}):")
    diffs = [x.test_accuracy - y.test_accuracy for x, y in found]
    mean, p, spread = statistics.fmean(diffs), sign_test(diffs), _spread(found)
    wins = sum(d > 0 for d in diffs)
    detail = (f"{label_a} has the higher test accuracy in {wins} of {len(found)} "
              f"configuration{'s' if len(found) != 1 else ''}, by {mean:+.2f} points on "
              f"average (range {min(diffs):+.2f} to {max(diffs):+.2f}; sign test "
              f"{format_p(p)})")
    if spread > 0:  # repeats: the seeds' spread is the bar
        bar = max(MIN_EFFECT_POINTS, spread)
        why = None if abs(mean) > bar else (f"the mean difference is inside the seed spread "
                                            f"({bar:.2f} points)")
    elif abs(mean) < MIN_EFFECT_POINTS:
        why = f"the mean difference is below {MIN_EFFECT_POINTS} points"
    else:
        why = None if p < SIGNIFICANCE else (f"{wins} of {len(found)} is not p < "
                                             f"{SIGNIFICANCE}")
    if why:
        return f"{head} no clear effect: {detail}; {why}"
    better = label_a if mean > 0 else label_b
    return f"{head} {better} is better: {detail}"


def findings(run) -> list[str]:
    """Each factor per dataset (the study's claims are per dataset), then pooled
    over the datasets when more than one ran."""
    records = grid_records(run)
    datasets = present([r.dataset for r in records], DATASETS)
    out = []
    for factor in FACTORS:
        for dataset in datasets:
            out.append(accuracy_finding([r for r in records if r.dataset == dataset], *factor,
                                        where=f" on {DATASET_TITLES.get(dataset, dataset)}"))
        if len(datasets) > 1:
            out.append(accuracy_finding(records, *factor, where=" (datasets pooled)"))
    return out


EXPERIMENT = Experiment(
    name="grid", title="The grid: ResNet-18/50 by batch, optimizer and learning rate",
    version=1, fixture="train_case", cases=cases, tables=tables, figures=figures,
    findings=findings)
