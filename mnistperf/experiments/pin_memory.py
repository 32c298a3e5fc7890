"""pin_memory on and off on the DataLoader path (the study's pin_memory experiment:
FashionMNIST, ResNet-18, batch 16, Adam, lr 0.001), per device.

Cases add the tokens `dataloader-pin` / `dataloader-nopin`. The table sets them
beside the grid's tensor-path case of the same configuration when it ran.
"""

from __future__ import annotations

import statistics

from mnistperf.config import DEVICES
from mnistperf.experiments.base import CONFIG_KEYS, WARMUP_ROUNDS, Experiment
from mnistperf.experiments.grid import grid_records
from mnistperf.profiles import Profile, train_config
from mnistperf.report.figures import bar_panels, set_caption
from mnistperf.report.tables import Column, Table, present, unavailable, value_cell
from mnistperf.stats import MIN_TIME_EFFECT, pairs

BASE = dict(dataset="fashion", model="resnet18", batch_size=16, optimizer="adam", lr=1e-3)
# Epochs per round, per profile: the question is speed, so each case runs several
# rounds of the same work, shorter than the grid's in the small profiles.
EPOCHS = {"smoke": 1, "quick": 1, "paper": 10}


def cases(profile: Profile, seed: int = 0):
    return [
        train_config(profile, **BASE, device=device, seed=seed, loader="dataloader",
                     epochs=EPOCHS[profile.name],
                     pin_memory=pin, num_workers=profile.num_workers,
                     experiment="pin_memory",
                     extra_tokens=("dataloader", "pin" if pin else "nopin"))
        for device in DEVICES for pin in (True, False)
    ]


def _records(run):
    return [r for r in run.records("resnet") if r.experiment == "pin_memory"]


def tables(run) -> list[Table]:
    pin = _records(run)
    if not pin:
        return []
    reference = [r for r in grid_records(run)
                 if all(getattr(r, k) == v for k, v in BASE.items())]
    study = {id(r): run.reference_for(r) for r in pin}
    compared = any(study.values())
    rows = []
    for device in present([r.device for r in pin + reference], DEVICES):
        for r in sorted((r for r in pin + reference if r.device == device),
                        key=lambda r: (r.loader != "dataloader", not r.pin_memory)):
            share = (100.0 * r.input_seconds / r.train_seconds
                     if r.input_seconds is not None and r.train_seconds else None)
            ref = study.get(id(r))
            rows.append([
                device, r.loader + (" (grid)" if r.experiment == "grid" else ""),
                r.num_workers, r.torch_threads, "on" if r.pin_memory else "off", r.epochs,
                value_cell(r, "test_accuracy"), value_cell(r, "train_seconds"),
                r.spread_seconds if r.ok else unavailable(r),
                value_cell(r, "images_per_second"),
                None if share is None or not r.ok else share,
                *([value_cell(ref, "test_accuracy"), value_cell(ref, "train_seconds")]
                  if compared else []),
            ])
    devices = {r.device for r in pin}
    note = ("FashionMNIST, ResNet-18, batch 16, Adam, lr 0.001; train s = median of "
            f"{EXPERIMENT.timed_rounds} timed rounds of the same work after {WARMUP_ROUNDS} "
            "warm-up round (the grid row: one round of the grid's epochs, so compare its "
            "img/s, not its seconds), spread = slowest minus fastest round; "
            "threads = torch threads (on a CPU, one fewer per DataLoader worker, so that "
            "the workers do not stall the training threads); "
            "input wait = host time "
            "spent waiting for the next batch (transforms, collation; the host-to-device "
            "copy after it is timed apart, copy_seconds), as a share of training time")
    if "gpu" not in devices:
        note += ("; cpu: pin_memory has no effect without CUDA (nothing is pinned), so "
                 "differences between on and off are run-to-run noise, not an effect")
    flags = sorted({f for r in [*pin, *filter(None, study.values())] for f in r.flags})
    if compared:
        note += "; study = the study's pin_memory list, at the same budget"
    if flags:
        note += "; the study's own flags: " + "; ".join(flags)
    return [Table(name="pin-memory", title="pin_memory: accuracy, time and input wait",
                  columns=[Column("device"), Column("loader"), Column("workers"),
                           Column("threads"), Column("pin_memory"), Column("epochs"), Column("test acc %", ".2f"),
                           Column("train s", ".1f"), Column("spread s", ".2f"),
                           Column("img/s", ".0f"),
                           Column("input wait %", ".1f"),
                           *([Column("study acc %", ".2f"), Column("study train s", ".1f")]
                             if compared else [])],
                  rows=rows, note=note)]


def figures(run) -> dict:
    records = [r for r in _records(run) if r.ok]
    if not records:
        return {}
    devices = present([r.device for r in records], DEVICES)
    index = {(r.device, r.pin_memory): r for r in records}
    series = {}
    for pin in (True, False):
        series[f"pin_memory {'on' if pin else 'off'}"] = [
            (r.train_seconds, r.test_accuracy) if (r := index.get((d, pin))) else None
            for d in devices]
    title = "pin_memory on the DataLoader path: FashionMNIST, ResNet-18, batch 16"
    if "gpu" not in devices:
        title += ("\ncpu only: pin_memory does nothing without CUDA, so the difference "
                  "is run-to-run noise")
    fig = bar_panels(title, devices, series,
                     [("seconds", "Training time", 0, "%.3g"),
                      ("accuracy (%)", "Test accuracy", 1, "%.1f")], legend="")
    set_caption(fig, "Training time and test accuracy of the DataLoader path with pin_memory "
                     "on and off, per device (FashionMNIST, ResNet-18, batch 16, Adam, lr "
                     "0.001)" + ("; only the CPU ran, where pinning does nothing, so any "
                                 "difference is noise" if "gpu" not in devices else "")
                + ". Dotted line: chance (10 %).")
    return {"pin-memory.png": fig}


def findings(run) -> list[str]:
    pin = [r for r in _records(run) if r.ok]
    if not pin:
        return []
    keys = tuple(k for k in CONFIG_KEYS if k != "pin_memory")
    found = pairs(pin, "pin_memory", True, False, keys)
    out = [spread_finding(p, n) for p, n in found if p.round_seconds and n.round_seconds]
    cuda_pairs = [(p, n) for p, n in found if p.device == "gpu"]
    if not cuda_pairs:
        return out + ["pin_memory: no clear effect can exist here: only CPU cases ran, and "
                      "pin_memory does nothing without CUDA"]
    ratios = [n.train_seconds / p.train_seconds for p, n in cuda_pairs]
    mean = statistics.fmean(ratios)
    detail = (f"training with pin_memory takes {1 / mean:.2f}x the time without it on the GPU "
              f"({len(ratios)} configuration{'s' if len(ratios) != 1 else ''})")
    if abs(mean - 1) < MIN_TIME_EFFECT:
        return out + [f"pin_memory: no clear effect: {detail}; below {MIN_TIME_EFFECT:.0%}"]
    return out + [f"pin_memory: {'faster' if mean > 1 else 'slower'} with pinning: {detail}"]


def spread_finding(pin, nopin) -> str:
    """Two timed cases: a difference inside the spread of their rounds is no
    clear difference (the rounds' ranges overlap)."""
    head = f"pin_memory on vs off ({pin.device}, {len(pin.round_seconds)} timed rounds each):"
    apart = 100.0 * abs(pin.train_seconds - nopin.train_seconds) / min(pin.train_seconds,
                                                                       nopin.train_seconds)
    detail = (f"medians {pin.train_seconds:.2f} s and {nopin.train_seconds:.2f} s "
              f"({apart:.1f} % apart), rounds "
              f"{min(pin.round_seconds):.2f}-{max(pin.round_seconds):.2f} s and "
              f"{min(nopin.round_seconds):.2f}-{max(nopin.round_seconds):.2f} s")
    overlap = (min(pin.round_seconds) <= max(nopin.round_seconds)
               and min(nopin.round_seconds) <= max(pin.round_seconds))
    if overlap:
        return f"{head} no clear difference: {detail}"
    faster = "on" if pin.train_seconds < nopin.train_seconds else "off"
    ratio = max(pin.train_seconds, nopin.train_seconds) / min(pin.train_seconds,
                                                              nopin.train_seconds)
    return f"{head} {faster} is faster by {ratio:.2f}x: {detail}"


EXPERIMENT = Experiment(name="pin_memory", title="pin_memory on the DataLoader path", version=1,
                        fixture="train_case", cases=cases, tables=tables,
                        figures=figures, findings=findings, timed_rounds=5)
