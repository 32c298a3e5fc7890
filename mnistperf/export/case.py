"""What a case and a run export to a tracker, whichever the tracker.

    run_export = export_of_run(load_run("results/latest"), Path("results/latest"))
    case = export_of_document(doc)            # one case document (cases/<id>.json)
    case.params, case.metrics, case.series, case.tags

A case exports its configuration as params (every field of its record that is
not a measurement, a curve or a status), its measurements as final metrics,
its per-epoch curves as series ({name: [(epoch, value), ...]}) and its status,
device, profile, contention, resumption, package version and machine as tags.
A run exports its header (run.meta and the machine) and its files (tables.md,
index.html, the figures). Both the export of a saved run and the live trackers
build from here, so they log the same values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from mnistperf.records import Record, record_from_extra_info

# Record fields that are measurements (final metrics when they hold a number).
MEASUREMENTS = frozenset({
    "test_accuracy", "official_test_accuracy", "train_accuracy", "train_seconds",
    "eval_seconds", "input_seconds", "images_per_second", "peak_memory_mb",
    "macs_per_image", "flops_per_image", "study_flops_per_image", "train_flops_per_epoch",
    "params", "time_to_target_seconds", "test_accuracy_std", "official_test_accuracy_std",
    "work_seconds", "fit_seconds", "predict_seconds", "n_support", "images", "seconds",
    "warmup_seconds", "final_loss", "cpu_seconds", "load_average", "epochs_run",
    "copy_seconds", "eval_peak_memory_mb",
})
# Per-epoch lists of a training record -> the series name they export as. The
# live epoch events name them loss, train_accuracy, val_accuracy, seconds.
SERIES = {"train_loss": "loss", "train_accuracy": "train_accuracy",
          "val_accuracy": "val_accuracy", "epoch_seconds": "epoch_seconds"}
EVENT_SERIES = {"loss": "loss", "train_accuracy": "train_accuracy",
                "val_accuracy": "val_accuracy", "seconds": "epoch_seconds"}
LIVE_SERIES = frozenset(EVENT_SERIES.values())  # what a live tracker logs epoch by epoch
# Record fields that export as tags (and not as params or metrics).
TAG_FIELDS = ("status", "contended", "resumed", "timing_shared", "message")
ARTIFACTS = ("tables.md", "index.html", "*.png")


@dataclass
class CaseExport:
    case_id: str
    ok: bool
    params: dict = field(default_factory=dict)   # name -> str | int | float | bool
    metrics: dict = field(default_factory=dict)  # name -> float
    series: dict = field(default_factory=dict)   # name -> [(epoch, value), ...]
    tags: dict = field(default_factory=dict)     # name -> str


@dataclass
class RunExport:
    name: str
    params: dict
    tags: dict
    cases: list[CaseExport]
    artifacts: list[Path]


def tag_text(value) -> str:
    """A tag's text: JSON spelling for booleans and None, plain text otherwise."""
    return json.dumps(value) if isinstance(value, bool) or value is None else str(value)


def machine_text(machine: dict | None) -> str:
    """One line naming the hardware and versions a case ran with."""
    m = machine or {}
    if not m:
        return ""
    device = m.get("gpu") or "CPU only"
    text = f"{device}, torch {m.get('torch', '?')}, {m.get('torch_threads', '?')} threads"
    return f"{m['node']}: {text}" if m.get("node") else text


def series_of_epoch(values: dict) -> dict:
    """An epoch event's numbers under their series names."""
    return {EVENT_SERIES[k]: v for k, v in values.items() if k in EVENT_SERIES and v is not None}


def series_to_log(case: CaseExport, logged: dict | None) -> tuple[bool, dict]:
    """(afresh, series): what a tracker still logs when a case ends, given the
    series it logged live (None: none). When the live curves are not the record's
    (another round's, cut short), the case is written afresh, all of it."""
    if logged is None:
        return False, case.series
    if logged != {k: v for k, v in case.series.items() if k in LIVE_SERIES}:
        return True, case.series
    return False, {k: v for k, v in case.series.items() if k not in LIVE_SERIES}


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def export_of_record(record: Record, seconds: float | None = None, version: str = "",
                     machine: dict | None = None, run: str = "") -> CaseExport:
    """A record's params, metrics, series and tags; `seconds` is pytest-benchmark's
    mean time of the case."""
    case = CaseExport(case_id=record.case_id, ok=record.ok)
    for f in fields(record):
        value = getattr(record, f.name)
        if f.name in SERIES and isinstance(value, list):
            points = [(n, float(v)) for n, v in enumerate(value, 1) if v is not None]
            if points:
                case.series[SERIES[f.name]] = points
        elif f.name in MEASUREMENTS:
            if _number(value):
                case.metrics[f.name] = float(value)
        elif f.name in TAG_FIELDS:
            if value not in ("", None):
                case.tags[f.name] = tag_text(value)
        elif value is not None and isinstance(value, (str, int, float, bool)):
            case.params[f.name] = value
    case.params["kind"] = record.kind
    for epoch, values in sorted(getattr(record, "checkpoints", {}).items()):
        for name, value in values.items():
            if _number(value):
                case.series.setdefault(f"checkpoint_{name}", []).append((epoch, float(value)))
    if _number(seconds):
        case.metrics["benchmark_seconds"] = float(seconds)
    case.tags.update(case_id=record.case_id, device=record.device,
                     profile=tag_text(record.profile), contended=tag_text(record.contended),
                     resumed=tag_text(record.resumed), mnistperf_version=version,
                     machine=machine_text(machine), mnistperf_run=run)
    case.tags = {k: v for k, v in case.tags.items() if v != ""}
    return case


def export_of_document(doc: dict, run: str | None = None) -> CaseExport:
    """The export of one case document (what the store writes to cases/)."""
    bench = doc["benchmark"]
    stats = bench.get("stats")
    return export_of_record(record_from_extra_info(bench["extra_info"]),
                            stats.get("mean") if isinstance(stats, dict) else None,
                            doc.get("mnistperf_version", ""), doc.get("machine"),
                            run or doc.get("run", ""))


def run_header(run) -> tuple[dict, dict]:
    """(params, tags) of a loaded Run: its header and the machine it ran on."""
    meta = run.meta
    params = {k: v for k, v in meta.items()
              if v is not None and isinstance(v, (str, int, float, bool))}
    machine = dict(run.machine, node=(run.data.get("machine_info") or {}).get("node"))
    tags = {f"machine.{k}": tag_text(v) for k, v in machine.items() if v is not None}
    tags.update(mnistperf_run=run_name(run), machine=machine_text(machine))
    return params, tags


def run_name(run) -> str:
    return str(run.meta.get("run") or Path(run.source).parent.name or run.source)


def export_of_run(run, run_dir: Path | None = None) -> RunExport:
    """A loaded Run's export; `run_dir` (its folder, when it is one) gives each
    case's version and machine from cases/ and the files to attach."""
    from mnistperf.store import read_cases

    name = run_name(run)
    docs = {d["case_id"]: d for d in read_cases(run_dir)} if run_dir else {}
    cases = []
    for case in run.cases:
        doc = docs.get(case.case_id, {})
        cases.append(export_of_record(case.record, case.seconds,
                                      doc.get("mnistperf_version", ""),
                                      doc.get("machine") or run.machine, name))
    params, tags = run_header(run)
    artifacts = sorted(p for pattern in ARTIFACTS for p in run_dir.glob(pattern)) \
        if run_dir else []
    return RunExport(name=name, params=params, tags=tags, cases=cases, artifacts=artifacts)
