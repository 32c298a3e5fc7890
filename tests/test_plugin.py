"""The plugin and the benchmark cases, driven through pytester."""

import json

import pytest

from mnistperf.records import TRAIN_KEYS
from tests.fakes import OfflineDataset


def _collected(result):
    """(file, case id) of each collected item in `--collect-only -q` output."""
    out = []
    for line in result.outlines:
        if line.startswith("benchmarks/") and "[" in line:
            path, rest = line.split("::", 1)
            out.append((path.split("/")[-1], rest.split("[", 1)[1].rstrip("]")))
    return out


def test_k_fashion_and_gpu_selects_exactly_the_fashion_gpu_cases(bench_project):
    result = bench_project.runpytest("benchmarks", "--collect-only", "-q",
                                     "-k", "fashion and gpu", "--mnistperf-profile", "paper")
    cases = _collected(result)
    assert all(i.startswith("fashion-") and i.endswith("-gpu") for _, i in cases)
    grid = [i for f, i in cases if f == "test_resnet_grid.py"]
    assert len(grid) == 16 and "fashion-resnet18-bs16-adam-lr0.001-e10-gpu" in grid
    assert len([i for f, i in cases if f == "test_pipeline.py"]) == 8
    assert sorted(i for f, i in cases if f not in ("test_resnet_grid.py", "test_pipeline.py")) == [
        "fashion-resnet18-bs16-adam-lr0.001-e10-dataloader-nopin-gpu",
        "fashion-resnet18-bs16-adam-lr0.001-e10-dataloader-pin-gpu",
        "fashion-resnet18-bs16-adam-lr0.001-e20-gpu",
    ]


def test_k_mnist_never_selects_fashion(bench_project):
    result = bench_project.runpytest("benchmarks", "--collect-only", "-q", "-k", "mnist",
                                     "--mnistperf-profile", "quick")
    cases = _collected(result)
    assert all(i.startswith("mnist-") for _, i in cases)
    assert len([i for f, i in cases if f == "test_resnet_grid.py"]) == 32
    assert len([i for f, i in cases if f == "test_svm.py"]) == 4
    assert [i for f, i in cases if f == "test_epochs.py"] == [
        "mnist-resnet18-bs16-adam-lr0.001-e20-cpu", "mnist-resnet18-bs16-adam-lr0.001-e20-gpu"]


def test_k_not_pin_and_not_pipe_leaves_the_grid_intact(bench_project):
    result = bench_project.runpytest("benchmarks", "--collect-only", "-q",
                                     "-k", "not pin and not pipe", "--mnistperf-profile", "quick")
    cases = _collected(result)
    assert len([i for f, i in cases if f == "test_resnet_grid.py"]) == 64
    assert not [i for f, i in cases if f in ("test_pin_memory.py", "test_pipeline.py")]


def test_device_cases_reuse_the_grid_instead_of_training_twice(bench_project):
    both = bench_project.runpytest("benchmarks", "--collect-only", "-q", "-k",
                                   "fashion and bs16 and lr0.001 and cpu and not pin and not e20 "
                                   "and not pipe")
    assert sorted(f for f, _ in _collected(both)) == ["test_resnet_grid.py"] * 4
    alone = bench_project.runpytest("benchmarks/test_devices.py", "--collect-only", "-q")
    assert sorted(i for _, i in _collected(alone)) == sorted(
        f"fashion-{m}-bs16-{o}-lr0.001-e2-{d}" for m in ("resnet18", "resnet50")
        for o in ("sgd", "adam") for d in ("cpu", "gpu"))


def test_gpu_case_skips_with_a_reason_without_cuda(bench_project):
    result = bench_project.runpytest(
        "benchmarks", "-k", "mnist and resnet18 and bs32 and adam and lr0.001 and gpu",
        "--mnistperf-profile", "smoke", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*gpu case needs CUDA, but torch.cuda.is_available() is False*"])


def test_an_all_skipped_selection_says_one_line_per_reason(bench_project):
    result = bench_project.runpytest(
        "benchmarks", "-k", "mnist and resnet18 and bs32 and gpu and not pin and not pipe",
        "--mnistperf-profile", "smoke")
    result.assert_outcomes(skipped=4)  # 4 grid cases (the e4 epochs case: "not e20"...)
    out = result.stdout.str()
    assert "not run in" not in out and " start mnist-" not in out
    # After the header lines (profile, data, ...): one line for the four skips.
    lines = [line for line in out.splitlines() if line.startswith("mnistperf: ")]
    assert lines[-1] == ("mnistperf: 4 cases skipped: gpu case needs CUDA, but "
                         "torch.cuda.is_available() is False on this machine; run it where a "
                         "CUDA GPU is visible (tox -e cuda)"), lines
    assert sum("skipped" in line for line in lines) == 1


def _smoke_run(bench_project, k, *options):
    """A smoke-profile session of the cases `-k k` selects, in a subprocess:
    its result and its --benchmark-json report."""
    out = bench_project.path / "out.json"
    result = bench_project.runpytest_subprocess(
        "benchmarks", "-k", k, "--mnistperf-profile", "smoke", *options,
        f"--benchmark-json={out}")
    return result, json.loads(out.read_text()) if out.exists() else None


def test_smoke_case_writes_every_contract_key_to_benchmark_json(bench_project):
    result, report = _smoke_run(bench_project,
                                "mnist and resnet18 and bs32 and adam and lr0.001 and cpu")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "mnistperf: profile smoke *",
        "*[[]mnist-resnet18-bs32-adam-lr0.001-e1-cpu[]] epoch 1/1 loss *",
    ])
    (bench,) = report["benchmarks"]
    assert bench["param"] == "mnist-resnet18-bs32-adam-lr0.001-e1-cpu"
    assert bench["stats"]["rounds"] == 1
    info = bench["extra_info"]
    assert set(TRAIN_KEYS) <= set(info)
    assert (info["kind"], info["dataset"], info["model"], info["batch_size"], info["optimizer"],
            info["lr"], info["epochs"], info["device"], info["profile"]) == (
        "resnet", "mnist", "resnet18", 32, "adam", 0.001, 1, "cpu", "smoke")
    assert (info["train_size"], info["val_size"], info["test_size"]) == (512, 256, 512)
    assert len(info["val_accuracy"]) == len(info["epoch_seconds"]) == 1
    assert info["status"] == "ok" and 0 <= info["test_accuracy"] <= 100
    machine = report["machine_info"]["mnistperf"]
    assert machine["profile"] == "smoke" and machine["device_kind"] == "cpu-only"
    # --benchmark-json carries the run's name: the folder this session wrote.
    run_dir = (bench_project.path / "results" / "latest").resolve()
    assert report["mnistperf"]["run"] == run_dir.name and run_dir.name.startswith("smoke-")


def test_bad_profile_from_environment_is_a_usage_error(bench_project, monkeypatch):
    monkeypatch.setenv("MNISTPERF_PROFILE", "huge")
    result = bench_project.runpytest("benchmarks", "--collect-only", "-q")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--mnistperf-profile='huge' is not supported; choose one of: "
                                 "smoke, quick, paper (from MNISTPERF_PROFILE)*"])


def test_missing_data_ends_the_session_with_one_line(bench_project, tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTPERF_DATA", str(tmp_path / "empty"))
    monkeypatch.setattr("mnistperf.data._torchvision_class", lambda name: OfflineDataset)
    result = bench_project.runpytest(
        "benchmarks", "-k", "mnist and resnet18 and bs32 and adam and lr0.001 and cpu",
        "--mnistperf-profile", "smoke")
    assert result.ret == 4
    result.stdout.fnmatch_lines([f"*MNIST not found under data root '{tmp_path / 'empty'}'*"])
    assert "Traceback" not in result.stdout.str()



def test_session_writes_a_run_folder_that_report_reproduces_byte_for_byte(fake_project):
    from tests.fakes import train_info
    from tests.test_report import EXPECTED_MNIST_ACCURACY

    from mnistperf.__main__ import main

    infos = [
        train_info(bs=16, opt="adam", lr=0.001, acc=91.5, official=90.25, train_seconds=20.0),
        train_info(model="resnet50", bs=16, opt="adam", lr=0.001, acc=88.25, official=87.0,
                   train_seconds=61.0, train_size=1000),
        train_info(bs=32, opt="sgd", lr=0.0001, status="diverged"),
    ]
    project = fake_project(infos)
    result = project.runpytest("--mnistperf-profile", "quick")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*= mnistperf =*", "profile: quick; seed: 0; cases: 3; devices: cpu",
                                 "Test accuracy (%) — MNIST, cpu, 2 epochs",
                                 "*mnistperf: wrote results/quick-*"])
    latest = project.path / "results" / "latest"
    assert latest.is_symlink()
    session_md = (latest / "tables.md").read_text()
    assert EXPECTED_MNIST_ACCURACY in session_md
    data = json.loads((latest / "benchmark.json").read_text())
    assert data["mnistperf"]["run"] == latest.resolve().name
    assert data["machine_info"]["mnistperf"]["device_kind"] == "cpu-only"
    assert sorted(p.name for p in latest.iterdir()) == [
        "accuracy-vs-time-mnist.png", "benchmark.json", "cases", "cases.csv",
        "curves-mnist-resnet18-cpu.png", "curves-mnist-resnet50-cpu.png", "curves.csv",
        "events.jsonl",
        "index.html", "mnist-cpu-accuracy.csv", "mnist-cpu-time.csv", "tables.md"]

    out = project.path / "rerendered"
    assert main(["report", str(latest / "benchmark.json"), "--out", str(out)]) == 0
    assert (out / "tables.md").read_text() == session_md
    for csv in latest.glob("*.csv"):
        assert (out / csv.name).read_bytes() == csv.read_bytes()

    # A second session never overwrites the first; latest moves to the new one.
    first = latest.resolve()
    project.runpytest("--mnistperf-profile", "quick").assert_outcomes(passed=3)
    runs = sorted(p.name for p in (project.path / "results").iterdir() if p.name != "latest")
    assert len(runs) == 2 and latest.resolve() != first and first.is_dir()


def test_session_without_mnistperf_cases_writes_nothing(pytester, fake_project):
    pytester.makeconftest('pytest_plugins = ["mnistperf.plugin"]\n')
    pytester.makepyfile(test_plain="def test_x(benchmark):\n    benchmark(lambda: None)\n")
    pytester.runpytest().assert_outcomes(passed=1)
    assert not (pytester.path / "results").exists()


def test_saved_runs_of_cpu_and_cuda_machines_are_flagged_as_different(fake_project, monkeypatch):
    from tests.fakes import train_info

    project = fake_project([train_info()])
    project.runpytest("--benchmark-autosave").assert_outcomes(passed=1)
    from mnistperf.device import machine_summary

    cuda = dict(machine_summary(), cuda_available=True, cuda="13.0", gpu="NVIDIA H200",
                device_kind="cuda")
    monkeypatch.setattr("mnistperf.plugin.options.machine_summary", lambda: cuda)
    import pytest
    from pytest_benchmark.logger import PytestBenchmarkWarning

    with pytest.warns(PytestBenchmarkWarning, match=r'(?s)Benchmark machine_info is different.*'
                      r'"device_kind": "cuda".*VS saved.*"device_kind": "cpu-only"'):
        project.runpytest("--benchmark-compare").assert_outcomes(passed=1)


def test_bad_repeats_and_targets_are_usage_errors(bench_project):
    result = bench_project.runpytest("benchmarks", "--collect-only", "--mnistperf-repeats", "0")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--mnistperf-repeats=0 must be at least 1*"])
    result = bench_project.runpytest("benchmarks", "--collect-only",
                                     "--mnistperf-target-fashion", "101")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--mnistperf-target-fashion=101.0 is outside (0, 100]*"])


def test_repeats_train_one_round_per_seed(bench_project):
    result, report = _smoke_run(bench_project,
                                "mnist and resnet18 and bs32 and sgd and lr0.001 and cpu",
                                "--mnistperf-repeats", "2", "--mnistperf-seed", "5")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*] seed 5 (1/2)", "*] seed 6 (2/2)"])
    (bench,) = report["benchmarks"]
    info = bench["extra_info"]
    assert bench["stats"]["rounds"] == 2
    assert info["seeds"] == [5, 6] and len(info["seed_test_accuracy"]) == 2
    assert info["test_accuracy"] == pytest.approx(sum(info["seed_test_accuracy"]) / 2, abs=1e-3)
    # Time-to-target is derived when tables are built, from each seed's curves.
    assert "target_accuracy" not in info and len(info["seed_epoch_seconds"]) == 2
    assert report["mnistperf"]["targets"] == {"mnist": 99.0, "fashion": 92.0}
    assert bench["params"] == {"train_case": "mnist-resnet18-bs32-sgd-lr0.001-e1-cpu"}


def test_timing_cases_run_a_warm_up_then_their_timed_rounds(bench_project):
    result, report = _smoke_run(bench_project,
                                "(nopin and cpu) or (28px and fastpipe and bs16 and cpu)")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*] warm-up round", "*] round 5/5 (seed 0)",
                                 "*] warm-up round: *", "*] round 3/3: *"])
    benches = {b["param"]: b for b in report["benchmarks"]}
    pin = benches["fashion-resnet18-bs16-adam-lr0.001-e1-dataloader-nopin-cpu"]
    pipe = benches["fashion-resnet18-bs16-adam-lr0.001-s8-28px-fastpipe-cpu"]
    assert (pin["stats"]["rounds"], pipe["stats"]["rounds"]) == (5, 3)
    rounds = pin["extra_info"]["round_seconds"]
    assert len(rounds) == 5
    assert pin["extra_info"]["train_seconds"] == sorted(rounds)[2]
    # The harness-overhead line counts every round's work, the warm-up round's too.
    assert pin["extra_info"]["work_seconds"] > sum(rounds) + pin["extra_info"]["eval_seconds"]
    speeds = pipe["extra_info"]["round_images_per_second"]
    assert len(speeds) == 3
    timed = sum(pipe["extra_info"]["images"] / s for s in speeds)
    assert pipe["extra_info"]["work_seconds"] > timed + pipe["extra_info"]["warmup_seconds"]
    # one group per experiment: the table never ranks pin_memory cases against the grid
    assert pin["group"] == "pin_memory: resnet training"
    assert pipe["group"] == "pipeline: pipeline steps"


def test_progress_says_case_n_of_m_with_an_estimate_and_logs_events(bench_project):
    result = bench_project.runpytest_subprocess(
        "benchmarks", "-k", "mnist and resnet18 and bs32 and adam and cpu and not pin and not "
        "pipe and not e4", "--mnistperf-profile", "smoke")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "mnistperf: case 1/2 start mnist-resnet18-bs32-adam-lr0.001-e1-cpu",
        "*mnistperf: case 1/2 done mnist-resnet18-bs32-adam-lr0.001-e1-cpu ok in * s; elapsed *, "
        "about * left",
        "mnistperf: case 2/2 start mnist-resnet18-bs32-adam-lr0.0001-e1-cpu",
        "*mnistperf: case 2/2 done mnist-resnet18-bs32-adam-lr0.0001-e1-cpu ok in *, done",
    ])
    run_dir = (bench_project.path / "results" / "latest").resolve()
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_start" and kinds[-1] == "run_end"
    assert kinds.count("case_start") == kinds.count("case_end") == 2
    assert events[-1]["statuses"] == {"ok": 2}
    assert any(e["event"] == "progress" and e["message"].startswith("epoch 1/1 loss")
               for e in events)



def test_a_fully_resumed_run_still_writes_pytest_benchmarks_json_with_every_case(
        bench_project):
    k = "mnist and resnet18 and bs32 and sgd and lr0.001 and cpu and not pin and not pipe"
    result, first = _smoke_run(bench_project, k, "-W", "error::UserWarning")
    result.assert_outcomes(passed=1)
    (trained,) = first["benchmarks"]
    result, report = _smoke_run(bench_project, k, "--mnistperf-resume", "--benchmark-autosave")
    result.assert_outcomes(passed=1)
    assert "Not saving anything" not in result.stdout.str() + result.stderr.str()
    assert "Benchmark fixture was not used" not in result.stdout.str() + result.stderr.str()
    (bench,) = report["benchmarks"]
    case_id = "mnist-resnet18-bs32-sgd-lr0.001-e1-cpu"
    assert bench["params"] == {"train_case": case_id} and bench["param"] == case_id
    assert bench["extra_info"]["resumed"] is True
    assert bench["stats"] == trained["stats"]  # the recorded stats, not new ones
    assert bench["extra_info"]["test_accuracy"] == trained["extra_info"]["test_accuracy"]
    (saved,) = (bench_project.path / ".benchmarks").rglob("*.json")
    assert [b["param"] for b in json.loads(saved.read_text())["benchmarks"]] == [case_id]
