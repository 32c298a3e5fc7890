"""cases.csv and curves.csv: flat numeric data a program can read back."""

import csv
import dataclasses
from pathlib import Path

import pytest

from mnistperf.records import RECORD_TYPES
from mnistperf.suite.compose import write_report
from mnistperf.report.flat import CURVE_HEADERS, case_headers
from mnistperf.run import load_run
from tests.fakes import pipe_info, run_of, train_info

FIXTURE = Path(__file__).parent / "fixtures" / "run-0.1.0-smoke"


def _read(path):
    return list(csv.DictReader(path.read_text().splitlines()))


def _numeric_fields() -> set[str]:
    """Record fields typed int or float only (gamma, 'scale' or a float, is not)."""
    out = set()
    for cls in RECORD_TYPES.values():
        for f in dataclasses.fields(cls):
            kind = str(f.type).replace(" ", "")
            if set(kind.split("|")) - {"None"} <= {"int", "float"}:
                out.add(f.name)
    return out


def _crafted_run():
    return run_of([
        train_info(acc=91.5, train_seconds=20.0),
        train_info(model="resnet50", status="diverged", val=(12.0,), train=(10.0,),
                   train_loss=[2.5], epoch_seconds=[4.0]),
        pipe_info("cpu", 28, 16, "study", 150.0),
    ])


@pytest.mark.parametrize("source", ["crafted", "fixture"])
def test_cases_csv_has_one_row_per_case_with_numbers_as_numbers(tmp_path, source):
    run = _crafted_run() if source == "crafted" else load_run(FIXTURE)
    write_report(run, tmp_path)
    rows = _read(tmp_path / "cases.csv")
    assert [r["case_id"] for r in rows] == [c.case_id for c in run.cases]
    header = next(csv.reader((tmp_path / "cases.csv").read_text().splitlines()))
    assert header == case_headers() and len(header) == len(set(header))
    assert header[:2] == ["case_id", "kind"] and header[-3:] == ["status", "resumed", "message"]
    for needed in ("dataset", "model", "batch_size", "optimizer", "lr", "epochs", "device",
                   "loader", "pin_memory", "kernel", "backend", "pipeline", "test_accuracy",
                   "official_test_accuracy", "final_val_accuracy", "train_seconds",
                   "eval_seconds", "fit_seconds", "predict_seconds", "images_per_second",
                   "peak_memory_mb", "benchmark_mean_seconds"):
        assert needed in header, needed
    numeric = (_numeric_fields() | {"benchmark_mean_seconds"}
               | {h for h in header if h.startswith("final_")})
    for row in rows:
        for name in numeric & set(header):
            if row[name] != "":
                float(row[name])  # every number parses; missing is empty
        assert row["status"] in ("ok", "diverged", "oom", "timeout", "error", "interrupted")
        assert row["resumed"] in ("true", "false")
    by_id = {r["case_id"]: r for r in rows}
    for case in run.cases:
        record, row = case.record, by_id[case.case_id]
        assert row["kind"] == record.kind
        accuracy = getattr(record, "test_accuracy", None)
        assert row["test_accuracy"] == ("" if accuracy is None else row["test_accuracy"])
        if accuracy is not None:
            assert float(row["test_accuracy"]) == pytest.approx(accuracy)


def test_cases_csv_of_a_crafted_run_holds_exact_values(tmp_path):
    write_report(_crafted_run(), tmp_path)
    ok, diverged, pipe = _read(tmp_path / "cases.csv")
    assert (ok["test_accuracy"], ok["train_seconds"], ok["images_per_second"],
            ok["final_val_accuracy"], ok["batch_size"], ok["lr"]) == (
        "91.5", "20", "300", "85", "16", "0.001")
    assert (diverged["status"], diverged["test_accuracy"]) == ("diverged", "")
    assert (pipe["kind"], pipe["pipeline"], pipe["images_per_second"], pipe["seconds"],
            pipe["train_seconds"]) == ("pipeline", "study", "150", "10", "")


@pytest.mark.parametrize("source", ["crafted", "fixture"])
def test_curves_csv_has_one_row_per_training_case_and_epoch(tmp_path, source):
    run = _crafted_run() if source == "crafted" else load_run(FIXTURE)
    write_report(run, tmp_path)
    rows = _read(tmp_path / "curves.csv")
    header = next(csv.reader((tmp_path / "curves.csv").read_text().splitlines()))
    assert header == CURVE_HEADERS == ["case_id", "epoch", "train_loss", "train_accuracy",
                                       "val_accuracy", "epoch_seconds", "cumulative_seconds"]
    expected = [(r.case_id, e + 1) for r in run.records("resnet")
                for e in range(len(r.val_accuracy))]
    assert [(r["case_id"], int(r["epoch"])) for r in rows] == expected
    for row in rows:
        for name in header[2:]:
            float(row[name])  # training cases record every per-epoch value
    for record in run.records("resnet"):
        mine = [r for r in rows if r["case_id"] == record.case_id]
        if mine:
            assert float(mine[-1]["cumulative_seconds"]) == pytest.approx(
                sum(record.epoch_seconds))
            assert [float(r["val_accuracy"]) for r in mine] == pytest.approx(
                record.val_accuracy)


def test_curves_csv_of_a_crafted_run(tmp_path):
    write_report(_crafted_run(), tmp_path)
    assert (tmp_path / "curves.csv").read_text().splitlines() == [
        "case_id,epoch,train_loss,train_accuracy,val_accuracy,epoch_seconds,cumulative_seconds",
        "mnist-resnet18-bs16-adam-lr0.001-e2-cpu,1,1,70,80,10,10",
        "mnist-resnet18-bs16-adam-lr0.001-e2-cpu,2,0.5,82,85,10,20",
        "mnist-resnet50-bs16-adam-lr0.001-e2-cpu,1,2.5,10,12,4,4",
    ]
