"""The study as a Run: its published figures as ordinary records, so that every
table, finding and claim of the harness is computed on the study's own numbers
by the same code that computes them on a run.

    run = study_run()                 # profile "study", gpu T4, 10 epochs, 224x224x3
    run.records("resnet")             # Tables 1, 2 and 4 and the pin_memory list
    run.records("svm")                # Table 3

One record per configuration the study prints. Where it prints a figure twice
(Tables 3 and 4), the record takes version 2's digits (the pandas print, more of
them) and its `source` says which versions print it; every figure's flags are
the record's `flags`. Table 4's rows are records of the `devices` experiment
with the id token `table4`, apart from Tables 1-2's grid records of the same
configuration, because the study's Table 4 follows another protocol.
"""

from __future__ import annotations

import functools
import json

from mnistperf.config import OFFICIAL_TEST_SIZE, SvmConfig, TrainConfig
from mnistperf.records import SvmRecord, TrainRecord
from mnistperf.run import Case, Run
from mnistperf.study.figures import FIGURES, GPU_NAME, PROTOCOL, Figure

PROFILE = "study"
SOURCE = "the study (mnistperf/study/figures.py)"
# Extra id tokens per experiment: a study record's id says where it comes from.
TOKENS = {"grid": (), "devices": ("table4",), "pin_memory": ("dataloader",)}


def _train_config(fig: Figure) -> TrainConfig:
    settings = fig.settings
    pin = settings.pop("pin_memory", False)
    loader = settings.pop("loader", "tensor")
    tokens = TOKENS[fig.experiment] + (("pin" if pin else "nopin",)
                                       if fig.experiment == "pin_memory" else ())
    return TrainConfig(**settings, **PROTOCOL, profile=PROFILE,
                       official_test_size=OFFICIAL_TEST_SIZE, amp=settings["device"] == "gpu",
                       loader=loader, pin_memory=pin, experiment=fig.experiment,
                       extra_tokens=tokens)


def _svm_config(fig: Figure) -> SvmConfig:
    return SvmConfig(**fig.settings, profile=PROFILE, train_size=PROTOCOL["train_size"],
                     test_size=PROTOCOL["test_size"], score_all_training_images=True,
                     experiment=fig.experiment)


def _source(figures: list[Figure]) -> str:
    tables = sorted({f.table for f in figures})
    versions = sorted({f.version for f in figures if f.version})
    where = ", ".join(tables)
    if versions:
        where += (" (versions 1 and 2)" if versions == [1, 2] else
                  f" (version {versions[0]} only)")
    return f"the study, {where}"


def _record(figures: list[Figure]):
    """The record of one configuration from every figure printed for it."""
    first = figures[0]
    values: dict[str, float] = {}
    for fig in sorted(figures, key=lambda f: f.version):  # version 2 last: it wins
        values[fig.field] = fig.value
    flags = list(dict.fromkeys(flag for f in figures for flag in f.flags))
    common = dict(source=_source(figures), flags=flags)
    if first.kind == "svm":
        config = _svm_config(first)
        return SvmRecord(**SvmRecord.config_fields(config), **values, **common)
    config = _train_config(first)
    if "study_flops_per_image" in values:
        values["study_flops_per_image"] = int(values["study_flops_per_image"])
    return TrainRecord(**TrainRecord.config_fields(config), epochs_run=config.epochs,
                       **values, **common)


@functools.lru_cache(maxsize=1)
def _records() -> tuple:
    groups: dict[tuple, list[Figure]] = {}
    for fig in FIGURES:
        groups.setdefault((fig.kind, fig.experiment, fig.config), []).append(fig)
    return tuple(_record(figures) for figures in groups.values())


def study_run() -> Run:
    """A fresh Run of the study's records (callers may attach things to it)."""
    cases = [Case(record=record, seconds=None) for record in _records()]
    data = {
        "machine_info": {"mnistperf": {"gpu": f"{GPU_NAME} (the study's hardware)",
                                       "torch": "not stated", "torchvision": "not stated",
                                       "cuda": "not stated"}},
        "commit_info": {},
        "benchmarks": [{"name": c.case_id, "param": c.case_id, "stats": None,
                        "extra_info": json.loads(json.dumps(c.record.to_extra_info()))}
                       for c in cases],
        "datetime": "2026-01-24",
        "mnistperf": {"run": "study", "profile": PROFILE, "started_utc": "2026-01-24"},
    }
    return Run(source=SOURCE, data=data, cases=cases)


def is_study(run: Run) -> bool:
    return run.meta.get("profile") == PROFILE and run.source == SOURCE
