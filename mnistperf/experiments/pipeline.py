"""Input pipelines side by side: the study's (PIL Resize/Grayscale/ToTensor/
Normalize in a DataLoader with workers) against the harness's (uint8 tensors on
the device), same model, batch, optimizer and data, a fixed number of training
steps each after warm-up; at 28x28x1 and 224x224x3, batch 16 and 32, per device.

Case ids end in `-s{steps}-{28,224}px-{studypipe,fastpipe}-{device}`.
"""

from __future__ import annotations

from itertools import product

from mnistperf.config import (
    BATCH_SIZES, DATASET_TITLES, DEVICES, MODEL_TITLES, PIPELINES, PipelineConfig, format_lr,
)
from mnistperf.experiments.base import Experiment
from mnistperf.profiles import Profile, train_config
from mnistperf.records import PipelineRecord
from mnistperf.report.figures import bar_panels, set_caption
from mnistperf.report.tables import Column, Table, present, unavailable, value_cell

BASE = dict(dataset="fashion", model="resnet18", optimizer="adam", lr=1e-3)
# Per profile: timed training steps per input size, and the warm-up steps before them.
STEPS = {"smoke": (((28, 8), (224, 2)), 1), "quick": (((28, 40), (224, 2)), 1),
         "paper": (((28, 200), (224, 100)), 10)}


def cases(profile: Profile, seed: int = 0):
    out = []
    steps_per_size, warmup = STEPS[profile.name]
    for (size, steps), bs, device, pipe in product(steps_per_size, BATCH_SIZES,
                                                   DEVICES, PIPELINES):
        train = train_config(
            profile, **BASE, batch_size=bs, device=device, seed=seed,
            input_size=size, channels=1 if size == 28 else 3, epochs=1,
            loader="dataloader" if pipe == "study" else "tensor",
            num_workers=profile.num_workers if pipe == "study" else 0,
            pin_memory=pipe == "study" and device == "gpu",
            train_size=max(profile.train_size_for("resnet18"),
                           bs * (steps + warmup)),
            experiment="pipeline")
        out.append(PipelineConfig(train=train, pipeline=pipe, steps=steps,
                                  warmup=warmup))
    return out


def _verdict(study: PipelineRecord, fast: PipelineRecord) -> str:
    a, b = study.round_images_per_second, fast.round_images_per_second
    if len(a) < 2 or len(b) < 2:
        return "one round each"
    if min(a) <= max(b) and min(b) <= max(a):
        return "no clear difference"
    return "fast faster" if fast.images_per_second > study.images_per_second else "study faster"


def _share(record: PipelineRecord | None):
    if record is None or not record.ok or not record.seconds:
        return unavailable(record)
    return 100.0 * record.input_seconds / record.seconds


def tables(run) -> list[Table]:
    records = run.records("pipeline")
    if not records:
        return []
    index = {(r.device, r.input_size, r.batch_size, r.pipeline): r for r in records}
    rows = []
    for device in present([r.device for r in records], DEVICES):
        on_device = [r for r in records if r.device == device]
        for size in sorted({r.input_size for r in on_device}):
            for bs in sorted({r.batch_size for r in on_device if r.input_size == size}):
                study, fast = (index.get((device, size, bs, p)) for p in PIPELINES)
                ratio, verdict = None, None
                if study and fast and all(r.ok and r.images_per_second for r in (study, fast)):
                    ratio = fast.images_per_second / study.images_per_second
                    verdict = _verdict(study, fast)
                channels = (study or fast).channels
                rows.append([device, f"{size}x{size}x{channels}", bs,
                             value_cell(study, "images_per_second"),
                             value_cell(fast, "images_per_second"), ratio, verdict,
                             _share(study), _share(fast)])
    some = records[0]
    return [Table(
        name="pipeline", title="Input pipeline: the study's vs the harness's (images/s)",
        columns=[Column("device"), Column("input"), Column("batch"),
                 Column("study img/s", ".1f"), Column("fast img/s", ".1f"),
                 Column("fast / study", ".2f", "x"), Column("difference"),
                 Column("study input wait %", ".1f"),
                 Column("fast input wait %", ".1f")],
        rows=rows,
        note=(f"{MODEL_TITLES.get(some.model)} {some.optimizer} "
              f"{format_lr(some.lr)} on {DATASET_TITLES.get(some.dataset)}; timed steps "
              f"per case after {some.warmup_steps} warm-up: "
              + ", ".join(f"{size}px {steps}" for size, steps in sorted(
                  {(r.input_size, r.steps) for r in records}))
              + "; img/s = median of the timed rounds (warm-up round first); difference = "
              "'no clear difference' when the two cases' rounds overlap"
              + "; study = PIL Resize/Grayscale/ToTensor/Normalize in a DataLoader with "
              f"{max(r.num_workers for r in records)} workers; fast = uint8 tensors on "
              f"the device, gathered and normalised there"))]



def figures(run) -> dict:
    """Images/s of the study's pipeline and the harness's per batch, one panel per
    device and input size (224 px is an order of magnitude slower than 28 px, so
    they get their own scales)."""
    records = [r for r in run.records("pipeline") if r.ok and r.images_per_second]
    if not records:
        return {}
    panels = sorted({(r.device, r.input_size, r.channels) for r in records},
                    key=lambda p: (DEVICES.index(p[0]) if p[0] in DEVICES else 9, p[1]))
    batches = sorted({r.batch_size for r in records})
    index = {(r.device, r.input_size, r.batch_size, r.pipeline): r for r in records}
    names = {"study": "study (PIL + DataLoader)", "fast": "fast (uint8 on the device)"}
    series = {}
    for pipe in present([r.pipeline for r in records], PIPELINES):
        values = [tuple(r.images_per_second if (r := index.get((d, size, bs, pipe))) else None
                        for d, size, _ in panels) for bs in batches]
        series[names.get(pipe, pipe)] = [None if all(v is None for v in t) else t
                                         for t in values]
    fig = bar_panels(
        "Input pipeline: images/s of the study's pipeline vs the harness's",
        [f"batch {bs}" for bs in batches], series,
        [("images/s", f"{device}, {size}x{size}x{ch}", k, "%.0f")
         for k, (device, size, ch) in enumerate(panels)], legend="pipeline")
    some = records[0]
    set_caption(fig, f"Training throughput (images/s over the timed steps after warm-up) of "
                     f"the study's input pipeline and the harness's, per input size and "
                     f"batch, one panel per device; {MODEL_TITLES.get(some.model)} "
                     f"{some.optimizer} {format_lr(some.lr)} on "
                     f"{DATASET_TITLES.get(some.dataset)}. Higher is better; the table gives "
                     f"the ratio and the input wait.")
    return {"pipeline.png": fig}


EXPERIMENT = Experiment(name="pipeline", title="Input pipelines", version=1,
                        fixture="pipeline_case", cases=cases, tables=tables,
                        figures=figures, timed_rounds=3)
