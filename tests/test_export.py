"""Runs in MLflow and TensorBoard (`mnistperf export`, `--mnistperf-track`), read
back with the libraries themselves; structured events.jsonl."""

import json
import os
from pathlib import Path

import pytest

from mnistperf.__main__ import main
from mnistperf.records import SvmRecord
from tests.fakes import run_of, train_info

pytest.importorskip("mlflow")
pytest.importorskip("tensorboard")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # no usage reports from tests


@pytest.fixture(scope="module", autouse=True)
def _trackers_imported(tmp_path_factory):
    """One export to each tracker before any test: pytester drops the modules first
    imported during a test that uses it, and SQLAlchemy (imported by MLflow's SQL
    store on first use) breaks when imported a second time in one process."""
    from mnistperf.export import open_target, replay
    from mnistperf.export.case import export_of_run

    folder = tmp_path_factory.mktemp("warm")
    export = export_of_run(run_of([train_info()]))
    replay(open_target("mlflow", f"sqlite:///{folder}/mlflow.db"), export)
    replay(open_target("tensorboard", folder / "tb"), export)
    tensorboard_run(folder / "tb" / export.name / export.cases[0].case_id)

INFOS = [
    train_info(bs=16, opt="adam", lr=0.001, acc=91.5, official=90.25, train_seconds=20.0,
               checkpoints={1: {"test_accuracy": 84.0}, 2: {"test_accuracy": 91.5}}),
    train_info(bs=32, opt="sgd", lr=0.0001, status="diverged"),
    SvmRecord(case_id="mnist-svm-rbf-sklearn-cpu", experiment="svm", dataset="mnist",
              kernel="rbf", backend="sklearn", profile="quick", train_size=3000,
              test_size=2000, fit_seconds=3.0, predict_seconds=7.0,
              test_accuracy=92.0).to_extra_info(),
]
ADAM, SGD, SVM = (info["case_id"] for info in INFOS)


@pytest.fixture
def saved_run(fake_project, monkeypatch):
    """A run folder written by a real session of crafted cases (no training)."""
    project = fake_project(INFOS)
    project.runpytest("--mnistperf-profile", "quick").assert_outcomes(passed=3)
    monkeypatch.chdir(project.path)  # MLflow puts artifacts under ./mlruns
    return (project.path / "results" / "latest").resolve()


def mlflow_runs(uri: str) -> dict:
    """run name -> (params, {metric: [(step, value)]}, tags, status, artifacts)."""
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("mnistperf")
    runs = {}
    for run in client.search_runs([experiment.experiment_id]):
        history = {key: [(m.step, m.value) for m in client.get_metric_history(
            run.info.run_id, key)] for key in run.data.metrics}
        tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}
        tags["parent"] = run.data.tags.get("mlflow.parentRunId") and "yes"
        artifacts = sorted(a.path for a in client.list_artifacts(run.info.run_id))
        assert run.info.run_name not in runs, f"{run.info.run_name} twice"
        runs[run.info.run_name] = (run.data.params, history, tags, run.info.status, artifacts)
    return runs


def test_mlflow_export_one_child_per_case_and_a_second_export_duplicates_nothing(
        saved_run, tmp_path, capsys):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    for _ in range(2):
        assert main(["export", "mlflow", str(saved_run), "--tracking-uri", uri]) == 0
    assert f"exported {saved_run.name} (3 cases) to MLflow {uri}" in capsys.readouterr().out
    runs = mlflow_runs(uri)
    assert sorted(runs) == sorted([saved_run.name, ADAM, SGD, SVM])

    params, history, tags, status, _ = runs[ADAM]
    assert {k: params[k] for k in ("batch_size", "optimizer", "lr", "epochs", "train_size",
                                   "dataset", "model", "amp", "kind")} == {
        "batch_size": "16", "optimizer": "adam", "lr": "0.001", "epochs": "2",
        "train_size": "3000", "dataset": "mnist", "model": "resnet18", "amp": "false",
        "kind": "resnet"}
    assert history["val_accuracy"] == [(1, 80.0), (2, 85.0)]
    assert history["train_accuracy"] == [(1, 70.0), (2, 82.0)]
    assert history["loss"] == [(1, 1.0), (2, 0.5)]
    assert history["epoch_seconds"] == [(1, 10.0), (2, 10.0)]
    assert history["test_accuracy"] == [(0, 91.5)]
    assert history["checkpoint_test_accuracy"] == [(1, 84.0), (2, 91.5)]
    assert history["official_test_accuracy"] == [(0, 90.25)]
    assert history["train_seconds"] == [(0, 20.0)] and history["peak_memory_mb"] == [(0, 100.0)]
    assert history["images_per_second"] == [(0, 300.0)] and history["flops_per_image"] == [(0, 2)]
    assert {k: tags[k] for k in ("case_id", "status", "device", "profile", "contended",
                                 "resumed", "mnistperf_version", "mnistperf_run", "parent")} == {
        "case_id": ADAM, "status": "ok", "device": "cpu", "profile": "quick",
        "contended": "false", "resumed": "false", "mnistperf_version": "0.1.0",
        "mnistperf_run": saved_run.name, "parent": "yes"}
    assert tags["machine"].startswith("CPU only, torch ") and status == "FINISHED"

    assert runs[SGD][2]["status"] == "diverged" and runs[SGD][3] == "FAILED"
    svm_params, svm_history = runs[SVM][:2]
    assert svm_params["kernel"] == "rbf" and svm_params["backend"] == "sklearn"
    assert svm_history["fit_seconds"] == [(0, 3.0)] and svm_history["test_accuracy"] == [(0, 92.0)]

    header, _, parent_tags, _, artifacts = runs[saved_run.name]
    assert header["profile"] == "quick" and header["run"] == saved_run.name
    assert parent_tags["machine.device_kind"] == "cpu-only" and parent_tags["parent"] is None
    assert {"tables.md", "index.html", "accuracy-vs-time-mnist.png"} <= set(artifacts)


def tensorboard_run(folder: Path) -> tuple[dict, dict]:
    """({scalar tag: [(step, value)]}, {hparam: value}) of one TensorBoard run."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import metadata

    acc = EventAccumulator(str(folder))
    acc.Reload()
    scalars = {tag: [(e.step, e.value) for e in acc.Scalars(tag)]
               for tag in acc.Tags()["scalars"]}
    content = acc.PluginTagToContent("hparams")[metadata.SESSION_START_INFO_TAG]
    start = metadata.parse_session_start_info_plugin_data(content)
    hparams = {k: getattr(v, v.WhichOneof("kind")) for k, v in start.hparams.items()}
    return scalars, hparams


def test_tensorboard_export_has_per_epoch_scalars_and_hparams_and_replaces_itself(
        saved_run, tmp_path):
    logdir = tmp_path / "tb"
    for _ in range(2):
        assert main(["export", "tensorboard", str(saved_run), str(logdir)]) == 0
    root = logdir / saved_run.name
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == sorted([ADAM, SGD, SVM])
    assert all(len(list((root / case).iterdir())) == 1 for case in (ADAM, SGD, SVM))

    scalars, hparams = tensorboard_run(root / ADAM)
    assert scalars["epoch/val_accuracy"] == [(1, 80.0), (2, 85.0)]
    assert scalars["epoch/loss"] == [(1, 1.0), (2, 0.5)]
    assert scalars["final/test_accuracy"] == [(0, 91.5)]
    assert scalars["final/train_seconds"] == [(0, 20.0)]
    assert {k: hparams[k] for k in ("batch_size", "optimizer", "lr", "amp", "status")} == {
        "batch_size": 16, "optimizer": "adam", "lr": 0.001, "amp": False, "status": "ok"}
    _, svm_hparams = tensorboard_run(root / SVM)
    assert svm_hparams["kernel"] == "rbf" and svm_hparams["kind"] == "svm"


def test_export_without_the_extra_names_it_and_exits_2(saved_run, monkeypatch, capsys):
    import mnistperf.export as export

    monkeypatch.setattr(export, "find_spec", lambda name: None)
    assert main(["export", "tensorboard", str(saved_run), "tb"]) == 2
    err = capsys.readouterr().err
    assert err == ("mnistperf export: error: tensorboard is not installed; install the extra: "
                   "pip install -e '.[tensorboard]' (tox installs it)\n")
    assert not Path("tb").exists()


NUMBERS = ("time", "epoch", "round", "loss", "train_accuracy", "val_accuracy", "seconds",
           "cases", "to_run")


def test_live_mlflow_equals_the_export_and_events_are_structured(bench_project, tmp_path):
    live, exported = f"sqlite:///{tmp_path}/live.db", f"sqlite:///{tmp_path}/export.db"
    result = bench_project.runpytest_subprocess(
        "benchmarks", "-k", "mnist and resnet18 and bs32 and adam and lr0.001 and cpu and not pin "
        "and not pipe and not e4", "--mnistperf-profile", "smoke",
        f"--mnistperf-track=mlflow={live}")
    result.assert_outcomes(passed=1)
    run_dir = (bench_project.path / "results" / "latest").resolve()
    assert main(["export", "mlflow", str(run_dir), "--tracking-uri", exported]) == 0
    runs = mlflow_runs(live)
    assert len(runs) == 2 and runs == mlflow_runs(exported)
    case = "mnist-resnet18-bs32-adam-lr0.001-e1-cpu"
    record = json.loads((run_dir / "cases" / f"{case}.json").read_text())["benchmark"]
    assert runs[case][1]["val_accuracy"] == [(1, record["extra_info"]["val_accuracy"][0])]

    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    for event in events:
        assert all(isinstance(event[k], (int, float)) for k in NUMBERS if k in event), event
        assert event["event"] in ("run_start", "run_end") or event["case_id"]
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [(e["case_id"], e["round"], e["epoch"]) for e in epochs] == [(case, 1, 1)]
    assert epochs[0]["loss"] == record["extra_info"]["train_loss"][0]
    assert epochs[0]["seconds"] == record["extra_info"]["epoch_seconds"][0]


def _track_live(spec, run_dir):
    """Drive a live tracker through the saved run as a session would: each epoch of
    the record's curves (the sgd case's as another round's, which differ), each
    case's document, then the run."""
    from mnistperf.export.live import LiveTracker
    from mnistperf.records import record_from_extra_info
    from mnistperf.run import load_run
    from mnistperf.store import read_cases

    tracker = LiveTracker.start(spec, run_dir.name, warn=pytest.fail)
    for doc in read_cases(run_dir):
        record = record_from_extra_info(doc["benchmark"]["extra_info"])
        curves = ((record.train_loss, record.train_accuracy, record.val_accuracy,
                   record.epoch_seconds) if record.kind == "resnet" else ())
        for epoch, values in enumerate(zip(*curves), 1):
            values = dict(zip(("loss", "train_accuracy", "val_accuracy", "seconds"), values))
            if record.case_id == SGD:
                values["loss"] += 1.0
            tracker.on_epoch(record.case_id, epoch, values)
        tracker.on_case_end(doc)
    tracker.close(load_run(run_dir), run_dir)


def test_live_mlflow_of_a_saved_run_equals_its_export(saved_run, tmp_path):
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    live, exported = f"sqlite:///{tmp_path}/live.db", f"sqlite:///{tmp_path}/export.db"
    _track_live(f"mlflow={live}", saved_run)
    assert main(["export", "mlflow", str(saved_run), "--tracking-uri", exported]) == 0
    assert mlflow_runs(live) == mlflow_runs(exported)
    client = MlflowClient(live)
    deleted = client.search_runs([client.get_experiment_by_name("mnistperf").experiment_id],
                                 run_view_type=ViewType.DELETED_ONLY)
    assert [run.info.run_name for run in deleted] == [SGD]  # the others logged in place


def test_live_tensorboard_of_a_saved_run_equals_its_export(saved_run, tmp_path):
    _track_live(f"tensorboard={tmp_path / 'live'}", saved_run)
    assert main(["export", "tensorboard", str(saved_run), str(tmp_path / "export")]) == 0
    for case in (ADAM, SGD, SVM):
        live = tensorboard_run(tmp_path / "live" / saved_run.name / case)
        assert live == tensorboard_run(tmp_path / "export" / saved_run.name / case)


@pytest.mark.parametrize("track, error", [
    ("tensorboard=full", "NotADirectoryError"),  # the log dir cannot be written
    ("mlflow=http://127.0.0.1:9", "MlflowException"),  # no server there
])
def test_a_failing_tracker_costs_one_warning_and_keeps_every_case_and_the_run(
        fake_project, track, error):
    project = fake_project(INFOS)
    (project.path / "full").write_text("a file where the log dir should be\n")
    result = project.runpytest("--mnistperf-profile", "quick", "--mnistperf-track", track)
    result.assert_outcomes(passed=3)
    warnings = [line for line in result.outlines if "--mnistperf-track" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"mnistperf: warning: --mnistperf-track {track}: {error}")
    run_dir = project.path / "results" / "latest"
    assert len(json.loads((run_dir / "benchmark.json").read_text())["benchmarks"]) == 3
    assert len(list((run_dir / "cases").glob("*.json"))) == 3


def test_a_tracker_failing_mid_run_warns_once_then_stays_off():
    from mnistperf.export.live import LiveTracker

    class FullDisk:
        calls = 0

        def log_epoch(self, *args):
            FullDisk.calls += 1
            raise OSError(28, "No space left on device")

    lines = []
    tracker = LiveTracker("tensorboard=tb", warn=lines.append)
    tracker.target = FullDisk()
    for epoch in (1, 2, 3):
        tracker.on_epoch("case", epoch, {"loss": 1.0})
    tracker.on_case_end({"benchmark": {}})
    assert FullDisk.calls == 1 and len(lines) == 1
    assert "OSError: [Errno 28] No space left on device; tracking is off" in lines[0]


def test_an_unknown_tracker_is_a_usage_error(fake_project):
    result = fake_project(INFOS[:1]).runpytest("--mnistperf-track", "wandb")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines[0] == ("ERROR: --mnistperf-track='wandb': choose one of "
                                      "mlflow[=URI], tensorboard[=DIR]")
