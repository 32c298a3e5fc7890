"""Flat numeric data of a run, for programs: one row per case, one row per epoch.

    headers, rows = case_rows(run)       # cases.csv: every scalar field of every record
    headers, rows = curve_rows(run)      # curves.csv: per training case and epoch
    write_flat(run, out_dir)             # both files

The columns of `cases.csv` are derived from the record dataclasses themselves
(`records.RECORD_TYPES`), so a field added to a record appears here without an
edit. Numbers are written as numbers, a missing value as an empty field, a
boolean as `true`/`false`; per-epoch lists go to `curves.csv` instead, with their
last value kept in `cases.csv` as `final_<name>`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

from mnistperf.records import RECORD_TYPES, TrainRecord
from mnistperf.run import Run
from mnistperf.report.tables import csv_value

# Per-epoch lists of a TrainRecord, in the order curves.csv shows them.
CURVES = ("train_loss", "train_accuracy", "val_accuracy", "epoch_seconds")
# Read at the end of every row: what happened to the case, then why.
LAST = ("status", "resumed", "message")
CURVE_HEADERS = ["case_id", "epoch", *CURVES, "cumulative_seconds"]


def _is_list(f: dataclasses.Field) -> bool:
    # `from __future__ import annotations` keeps annotations as strings.
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
    return kind.startswith(("list", "dict")) or f.default_factory in (list, dict)


def case_headers() -> list[str]:
    """case_id, kind, every scalar field of every record type (first seen first),
    pytest-benchmark's mean, final curve values, then status, resumed, message."""
    names: list[str] = []
    for cls in RECORD_TYPES.values():
        for f in dataclasses.fields(cls):
            if not _is_list(f) and f.name not in names:
                names.append(f.name)
    middle = [n for n in names if n not in ("case_id", *LAST)]
    return (["case_id", "kind", *middle, "benchmark_mean_seconds"]
            + [f"final_{name}" for name in CURVES if name != "epoch_seconds"] + list(LAST))


def _cell(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):  # a field that is a curve in this record type
        return ""
    return csv_value(value)


def case_rows(run: Run) -> tuple[list[str], list[list]]:
    headers = case_headers()
    rows = []
    for case in run.cases:
        record = case.record
        values = dataclasses.asdict(record)
        values["kind"] = record.kind
        values["benchmark_mean_seconds"] = case.seconds
        if isinstance(record, TrainRecord):
            for name in CURVES:
                curve = getattr(record, name) or []
                values[f"final_{name}"] = curve[-1] if curve else None
        rows.append([_cell(values.get(h)) for h in headers])
    return headers, rows


def curve_rows(run: Run) -> tuple[list[str], list[list]]:
    """One row per training case and epoch, as far as any of its curves reaches;
    cumulative_seconds sums epoch_seconds (empty once an epoch's time is missing)."""
    rows = []
    for record in run.records("resnet"):
        curves = [getattr(record, name) or [] for name in CURVES]
        total = 0.0
        for epoch in range(max(map(len, curves), default=0)):
            values = [c[epoch] if epoch < len(c) else None for c in curves]
            seconds = values[-1]
            total = None if total is None or seconds is None else total + seconds
            rows.append([record.case_id, epoch + 1, *map(_cell, values), _cell(total)])
    return CURVE_HEADERS, rows


def _write(path: Path, headers: list[str], rows: list[list]) -> None:
    from mnistperf.store import atomic_write

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    atomic_write(path, buffer.getvalue())


def write_flat(run: Run, out_dir: Path) -> list[Path]:
    """cases.csv and curves.csv in out_dir; the paths written."""
    out = Path(out_dir)
    _write(out / "cases.csv", *case_rows(run))
    _write(out / "curves.csv", *curve_rows(run))
    return [out / "cases.csv", out / "curves.csv"]
