"""`python -m mnistperf dispatch`: the selected cases as Ray tasks, on an embedded
Ray started once for the module (CPU, smoke profile)."""

import contextlib
import io
import json
import re
import shutil
import subprocess
import sys

import pytest

ray = pytest.importorskip("ray")

from mnistperf.__main__ import main  # noqa: E402
from tests.conftest import REPO  # noqa: E402

FOUR = "mnist and resnet18 and bs32 and cpu and not pin and not pipe and not e4"
ONE = "mnist and resnet18 and bs32 and sgd and lr0.001 and cpu and not pin and not pipe " \
      "and not e4"
# Keys that measure time, memory or machine load, or say how the record was obtained: they may
# differ between two runs of the same case; everything else must not.
# Timing and how the machine was shared: dispatched cases run side by side, so they
# may be `contended` where the local run's were not.
NOT_COMPARED = {"epoch_seconds", "images_per_second", "peak_memory_mb",
                "eval_peak_memory_mb", "resumed",
                "resumed_from", "timing_shared", "load_average", "contended"}

KILLER = '''pytest_plugins = ["mnistperf.plugin"]

import os
import pathlib
import signal

ARM, FIRED = pathlib.Path({arm!r}), pathlib.Path({fired!r})


def pytest_runtest_call(item):
    # Test only: once armed, the first case kills the Ray worker that runs it (its
    # parent process), as a lost node or the kernel's OOM killer would.
    if ARM.exists() and not FIRED.exists():
        FIRED.write_text("killed")
        os.kill(os.getppid(), signal.SIGKILL)
        os._exit(1)
'''


@pytest.fixture(scope="module")
def marks(tmp_path_factory):
    """Where the test arms the worker killer, and where it notes that it fired."""
    return tmp_path_factory.mktemp("marks")


@pytest.fixture(scope="module")
def project(tmp_path_factory, marks):
    """A project with this repo's benchmarks/ and a conftest that can kill a worker."""
    path = tmp_path_factory.mktemp("project")
    (path / "benchmarks").mkdir()
    for src in (REPO / "benchmarks").glob("*.py"):
        shutil.copy(src, path / "benchmarks" / src.name)
    (path / "conftest.py").write_text(KILLER.format(arm=str(marks / "arm"),
                                                    fired=str(marks / "fired")))
    (path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    return path


@pytest.fixture(scope="module")
def embedded_ray(project, tmp_path_factory):
    # Workers inherit this environment: one torch thread, as in the local run below,
    # so that CPU training gives the same numbers in both.
    mp = pytest.MonkeyPatch()
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        mp.setenv(name, "1")
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT"):
        mp.delenv(name, raising=False)
    # "local": a Ray of its own, even where `ray start` left a cluster address behind.
    # Workers' temporary folders go under pytest's: a killed worker cannot remove its own.
    workers_tmp = str(tmp_path_factory.mktemp("workers-tmp"))
    ray.init(address="local", num_cpus=2, include_dashboard=False,
             object_store_memory=80 * 2**20, logging_level="WARNING",
             runtime_env={"working_dir": str(project), "env_vars": {"TMPDIR": workers_tmp}})
    yield
    ray.shutdown()
    mp.undo()


def dispatch(project, data_root, results, k, *args):
    return main(["dispatch", str(project / "benchmarks"), "-k", k, "--mnistperf-profile",
                 "smoke", "--mnistperf-data", str(data_root), "--mnistperf-results",
                 str(results), *args])


def benchmarks(run_dir):
    return {b["param"]: b for b in
            json.loads((run_dir / "benchmark.json").read_text())["benchmarks"]}


def compared(info):
    return {k: v for k, v in info.items() if k not in NOT_COMPARED and "seconds" not in k}


@pytest.fixture(scope="module")
def dispatched(embedded_ray, project, data_root, tmp_path_factory):
    """The four smoke cases, dispatched: (exit code, stdout, run folder)."""
    results, out = tmp_path_factory.mktemp("dispatched"), io.StringIO()
    with contextlib.redirect_stdout(out):  # capsys is per test, this run is per module
        code = dispatch(project, data_root, results, FOUR)
    return code, out.getvalue(), (results / "latest").resolve()


def test_time_left_packs_the_plan_corrected_by_the_finished_cases():
    from mnistperf.dispatch import time_left
    from mnistperf.plan.predict import CasePlan, Plan

    plan = Plan({i: CasePlan(i, "grid", "cpu", s) for i, s in
                 [("a", 10.0), ("b", 10.0), ("c", 20.0), ("d", 20.0), ("gpu", None)]})
    # a's own time was twice its 10 s: ratio (20 + 1 x 20) / (10 + 20), the median left
    # (20 s) the plan's weight; each case left + its worker's 5 s beyond its own time:
    # c, d 20 x 4/3 + 5 on 2 slots, then b (10 x 4/3 + 5) on the first free
    a = {"a": (20.0, 25.0)}
    assert time_left(plan, a, ["c", "d", "b"], 2) == pytest.approx(20 * 4 / 3 + 5 + 10 * 4 / 3 + 5)
    assert time_left(plan, a, [], 2) == 0.0
    assert time_left(plan, {}, ["c"], 2) is None  # nothing finished yet
    # a finished case not timed here leaves the ratio to the others
    assert time_left(plan, {**a, "gpu": (99.0, 104.0)}, ["c"], 2) == pytest.approx(
        20 * 4 / 3 + 5)
    # a case left not timed here, or no plan: the mean finished worker per wave
    assert time_left(plan, a, ["c", "gpu", "b"], 2) == pytest.approx(25 * 3 / 2)
    assert time_left(None, {"a": (20.0, 20.0), "b": (8.0, 10.0)}, ["c"], 2) == 15.0


def test_dispatched_cases_equal_a_local_run_but_for_timing(dispatched, project, data_root,
                                                           tmp_path):
    code, out, run_dir = dispatched
    assert code == 0, out
    progress = [line for line in out.splitlines() if line.startswith("dispatch: case ")]
    assert len(progress) == 4 and all(re.fullmatch(
        r"dispatch: case [1-4]/4 done mnist-resnet18-bs32-\S+-cpu ok in [\d.]+s; done [1-4], "
        r"running [0-2], failed 0; elapsed \d+ s, about \d+ s left", line)
        for line in progress), out
    assert "done 4, running 0, failed 0" in out and f"wrote {run_dir}/" in out
    data = json.loads((run_dir / "benchmark.json").read_text())
    assert data["mnistperf"]["dispatched"] is True and data["machine_info"]["node"]
    docs = [json.loads(p.read_text()) for p in (run_dir / "cases").glob("*.json")]
    assert len(docs) == 4 and all(d["machine"]["node"] and d["run"] == run_dir.name
                                  for d in docs)
    local = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks", "-k", FOUR, "--mnistperf-profile",
         "smoke", "--mnistperf-data", str(data_root), "--mnistperf-results", str(tmp_path)],
        cwd=project, capture_output=True, text=True)  # OMP_NUM_THREADS=1 from embedded_ray
    assert local.returncode == 0, local.stdout
    mine, theirs = benchmarks(run_dir), benchmarks((tmp_path / "latest").resolve())
    assert sorted(mine) == sorted(theirs) and len(mine) == 4
    for case_id, bench in theirs.items():
        assert mine[case_id]["extra_info"]["status"] == "ok"
        assert compared(mine[case_id]["extra_info"]) == compared(bench["extra_info"]), case_id
    # One RunSession ends both: the same files and the same sections.
    local_dir = (tmp_path / "latest").resolve()
    assert files(run_dir) == files(local_dir)
    assert "events.jsonl" in files(run_dir) and "index.html" in files(run_dir)
    assert sections(run_dir) == sections(local_dir)
    from mnistperf.report.render import CLAIMS_TITLE

    assert sections(run_dir)[-1] == f"## {CLAIMS_TITLE}"
    assert sections(run_dir)[0] == "## Findings"
    events = [json.loads(line)["event"]
              for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert events[0] == "run_start" and events[-1] == "run_end"
    assert events.count("case_start") == events.count("case_end") == 4


def files(run_dir):
    return sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if p.is_file())


def sections(run_dir):
    return [line for line in (run_dir / "tables.md").read_text().splitlines()
            if line.startswith("## ")]


def _without_run_lines(text):
    return [line for line in text.splitlines()
            if not line.startswith(("- run:", "- wall time:", "- harness overhead:"))]


def test_tables_equal_the_report_of_the_records(dispatched, tmp_path, capsys):
    _, _, run_dir = dispatched
    copy = tmp_path / run_dir.name  # the records alone: report rebuilds benchmark.json
    shutil.copytree(run_dir / "cases", copy / "cases")
    assert main(["report", str(copy)]) == 0
    ours, rebuilt = (run_dir / "tables.md").read_text(), (copy / "tables.md").read_text()
    assert _without_run_lines(ours) == _without_run_lines(rebuilt)
    assert "Test accuracy (%) — MNIST, cpu, 1 epoch" in ours


def test_resume_after_a_finished_run_trains_nothing(dispatched, project, data_root, capsys):
    _, _, run_dir = dispatched
    assert dispatch(project, data_root, run_dir.parent, FOUR, "--mnistperf-resume") == 0
    out = capsys.readouterr().out
    assert (f"dispatch: resume: 4 of 4 cases taken from {run_dir}/, 0 to run; "
            f"nothing to train") in out
    assert "dispatch: case " not in out
    again = benchmarks((run_dir.parent / "latest").resolve())
    first = benchmarks(run_dir)
    assert sorted(again) == sorted(first)
    for case_id, bench in again.items():
        assert bench["extra_info"]["resumed"] is True
        assert bench["extra_info"]["test_accuracy"] == first[case_id]["extra_info"][
            "test_accuracy"]


def test_the_driver_tracks_records_as_they_arrive_as_the_export_does(dispatched, project,
                                                                     data_root, tmp_path):
    pytest.importorskip("tensorboard")
    from tests.test_export import tensorboard_run

    _, _, run_dir = dispatched
    live, exported = tmp_path / "live", tmp_path / "export"
    assert dispatch(project, data_root, tmp_path / "results", FOUR,
                    f"--mnistperf-resume={run_dir}", f"--mnistperf-track=tensorboard={live}") == 0
    new_run = (tmp_path / "results" / "latest").resolve()
    assert main(["export", "tensorboard", str(new_run), str(exported)]) == 0
    cases = sorted(p.name for p in (live / new_run.name).iterdir() if p.is_dir())
    assert len(cases) == 4
    for case in cases:
        scalars, hparams = tensorboard_run(live / new_run.name / case)
        assert (scalars, hparams) == tensorboard_run(exported / new_run.name / case)
        assert len(scalars["epoch/val_accuracy"]) == 1 and hparams["resumed"] == "true"


def test_a_killed_worker_is_retried_and_the_run_completes(embedded_ray, project, marks, data_root,
                                                          tmp_path, capsys):
    (marks / "arm").write_text("armed")
    try:
        # No retries: the case fails without a record, the command says so and exits 1.
        assert dispatch(project, data_root, tmp_path, ONE, "--max-retries", "0") == 1
        out = capsys.readouterr().out
        assert "dispatch: case 1/1 FAILED mnist-resnet18-bs32-sgd-lr0.001-e1-cpu (no record)" \
            in out and "no case records; no run folder written" in out, out
        assert (marks / "fired").exists() and not list(tmp_path.iterdir())
        (marks / "fired").unlink()
        code = dispatch(project, data_root, tmp_path, ONE, "--max-retries", "1")
    finally:
        (marks / "arm").unlink()
    out = capsys.readouterr().out
    assert (marks / "fired").exists(), out  # the first attempt was killed again
    assert code == 0 and "done mnist-resnet18-bs32-sgd-lr0.001-e1-cpu ok" in out, out
    (bench,) = benchmarks((tmp_path / "latest").resolve()).values()
    assert bench["extra_info"]["status"] == "ok"


def test_a_running_ray_answers_the_address_check(embedded_ray):
    """--address HOST:PORT is checked to speak gRPC before ray.init (mnistperf.dispatch
    .address); Ray's own GCS must pass that check."""
    from mnistperf.dispatch.address import cluster_address

    gcs = ray.get_runtime_context().gcs_address
    assert cluster_address(gcs, 5) == gcs


def test_without_ray_dispatch_prints_the_install_hint_and_exits_2(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    assert main(["dispatch", "-k", FOUR, "--mnistperf-profile", "smoke"]) == 2
    captured = capsys.readouterr()
    assert captured.err == ("mnistperf dispatch: error: Ray is not installed; install the "
                            "extra: pip install -e '.[ray]'\n")
    assert captured.out == ""


def test_the_rest_of_the_package_never_imports_ray():
    code = ("import sys, mnistperf.__main__, mnistperf.plugin, mnistperf.suite.compose;"
            "sys.exit('ray' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


class _RayInterrupted:
    """Just enough of Ray for `_run_all`: tasks are submitted, then Ctrl-C arrives
    while the driver waits for the first of them."""

    def __init__(self):
        self.cancelled = []

    def remote(self, function):
        class Task:
            def options(self, **kwargs):
                return self

            def remote(self, nodeid, *args, **kwargs):
                return f"ref:{nodeid}"

        return Task()

    def cluster_resources(self):
        return {"CPU": 2.0}

    def wait(self, pending, num_returns):
        raise KeyboardInterrupt

    def cancel(self, ref, force):
        self.cancelled.append(ref)


def test_ctrl_c_records_every_unfinished_dispatched_case_as_interrupted(tmp_path, data_root,
                                                                        capsys):
    from types import SimpleNamespace

    from mnistperf.dispatch import _finish, _run_all
    from mnistperf.dispatch.collect import Task
    from mnistperf.experiments.grid import cases
    from mnistperf.profiles import get_profile
    from mnistperf.session import RunSession
    from mnistperf.settings import resolve_settings
    from mnistperf.store import read_cases

    settings = resolve_settings(profile="smoke", data=str(data_root), seed=0, repeats=1,
                                results=str(tmp_path), compile="", targets={})
    configs = cases(get_profile("smoke"))[:2]
    tasks = [Task(f"benchmarks/test_resnet_grid.py::test_train[{c.case_id}]", c.case_id, c,
                  False) for c in configs]
    session = RunSession(settings, dispatched=True)
    session.open()
    session.begin(configs)
    ray = _RayInterrupted()
    args = SimpleNamespace(gpus_per_case=1.0, cpus_per_case=1.0, max_retries=0)
    selection = SimpleNamespace(settings=settings, options=[], rootpath=tmp_path)
    assert _run_all(ray, args, selection, tasks, session) == 0
    assert ray.cancelled == [f"ref:{t.nodeid}" for t in tasks]
    assert "dispatch: interrupted; 2 cases did not finish (recorded as interrupted)" \
        in capsys.readouterr().out
    docs = {d["case_id"]: d for d in read_cases(session.run_dir)}
    assert sorted(docs) == sorted(c.case_id for c in configs)
    for task in tasks:
        info = docs[task.case_id]["benchmark"]["extra_info"]
        assert (info["status"], info["message"]) == (
            "interrupted", "interrupted (SIGINT) while dispatched")
        assert docs[task.case_id]["benchmark"]["fullname"] == task.nodeid
    assert _finish(session, 0) == 0
    assert "| interrupted" in (session.run_dir / "tables.md").read_text()
    ends = [json.loads(line) for line in (session.run_dir / "events.jsonl").read_text()
            .splitlines() if '"case_end"' in line]
    assert [e["status"] for e in ends] == ["interrupted", "interrupted"]
