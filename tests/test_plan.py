"""mnistperf.plan: the counts of a case, the prediction arithmetic on crafted
timings, packing, the cache's machine key, the plan in a run (header, records,
the 24-hour guard) and the `plan` command."""

import dataclasses
import json
import sys

import pytest

from mnistperf.config import SvmConfig
from mnistperf.experiments import get_experiment
from mnistperf.plan.cache import CalibrationCache
from mnistperf.plan.calibrate import _scaled, timing_order
from mnistperf.plan.predict import (
    dispatch_slots, pack, svm_case_seconds, train_case_seconds,
)
from mnistperf.plan.work import train_unit, work_of
from mnistperf.profiles import get_profile
from mnistperf.progress import Sweep

TIMES = {"step": 0.1, "epoch_start": 0.5, "eval_image": 0.001, "eval_pass": 0.2,
         "build": 1.0, "warmup": 0.3, "data": 0.05, "source": "timed"}


def case(experiment: str, profile: str, case_id: str):
    (config,) = [c for c in get_experiment(experiment).cases(get_profile(profile))
                 if c.case_id == case_id]
    return config


def test_a_quick_grid_case_counts_and_predicts_as_by_hand():
    config = case("grid", "quick", "mnist-resnet18-bs16-sgd-lr0.001-e2-cpu")
    work = work_of(config, repeats=1)
    # 1,400 images in batches of 16: 88 steps, the last one short (2 batch shapes);
    # validation after each of 2 epochs, then both test sets.
    assert (work.rounds, work.epochs, work.steps_per_epoch, work.warmup_shapes,
            work.eval_parts, work.eval_images) == (1, 2, 88, 2, 3, 2 * 500 + 1000 + 1000)
    # data 0.05 + 3 evaluated parts' starts x 0.2 + one round: build 1.0 + warm-up (0.3 +
    # one more shape 0.1) + the input's start 0.5 + 2 x 88 steps x 0.1 + 3,000 images x 0.001
    assert train_case_seconds(work, TIMES) == pytest.approx(
        0.05 + 0.6 + 1.0 + 0.4 + 0.5 + 17.6 + 3.0)
    three = work_of(config, repeats=3)
    assert three.rounds == 3
    assert train_case_seconds(three, TIMES) == pytest.approx(0.05 + 0.6 + 3 * 22.5)


def test_timed_experiments_count_their_warm_up_round():
    pin = work_of(case("pin_memory", "quick",
                       "fashion-resnet18-bs16-adam-lr0.001-e1-dataloader-pin-cpu"))
    assert (pin.rounds, pin.epochs, pin.eval_parts, pin.eval_images) == (6, 1, 3, 2500)
    assert pin.unit.key == "resnet18-28x28x1-bs16-adam-cpu-dataloader-w2-pin-eval512"
    pipe = work_of(case("pipeline", "quick",
                        "fashion-resnet18-bs16-adam-lr0.001-s40-28px-studypipe-cpu"))
    # a warm-up round and 3 timed rounds of 1 warm-up step + 40 steps, no evaluation
    assert (pipe.rounds, pipe.epochs, pipe.steps_per_epoch, pipe.warmup_shapes,
            pipe.eval_parts) == (4, 1, 41, 0, 0)
    assert train_case_seconds(pipe, TIMES) == pytest.approx(0.05 + 4 * (1.0 + 0.5 + 4.1))
    # timed as the experiment runs it (all threads, no evaluation): not the pin unit
    assert pipe.unit.key == "resnet18-28x28x1-bs16-adam-cpu-dataloader-w2-nopin-throughput"


def test_units_ignore_what_does_not_change_a_step():
    a = case("grid", "quick", "mnist-resnet18-bs16-sgd-lr0.001-e2-cpu")
    b = case("grid", "quick", "fashion-resnet18-bs16-sgd-lr0.0001-e2-cpu")
    c = case("grid", "quick", "mnist-resnet18-bs16-adam-lr0.001-e2-cpu")
    assert train_unit(a).key == train_unit(b).key == "resnet18-28x28x1-bs16-sgd-cpu-tensor-eval512"
    assert train_unit(c).key != train_unit(a).key


def test_each_kind_is_timed_before_any_unit_is_scaled_and_only_within_its_kind():
    units = {work_of(c).unit.key: work_of(c).unit for e in ("grid", "pin_memory", "pipeline")
             for c in get_experiment(e).cases(get_profile("paper")) if c.device == "cpu"}
    firsts, rest = timing_order(units.values())
    # the cheapest of each kind (all but batch and optimizer): always timed
    assert [u.key for u in firsts] == [
        "resnet18-28x28x1-bs16-adam-cpu-dataloader-w4-nopin-throughput",
        "resnet18-28x28x1-bs16-adam-cpu-tensor-throughput",
        "resnet18-224x224x3-bs16-adam-cpu-dataloader-w4-nopin-eval512",
        "resnet18-224x224x3-bs16-adam-cpu-dataloader-w4-nopin-throughput",
        "resnet18-224x224x3-bs16-adam-cpu-dataloader-w4-pin-eval512",
        "resnet18-224x224x3-bs16-adam-cpu-tensor-eval512",
        "resnet18-224x224x3-bs16-adam-cpu-tensor-throughput",
        "resnet50-224x224x3-bs16-adam-cpu-tensor-eval512"]
    assert [u.key for u in rest] == [  # cheapest first, timed while the budget lasts
        "resnet18-28x28x1-bs32-adam-cpu-dataloader-w4-nopin-throughput",
        "resnet18-28x28x1-bs32-adam-cpu-tensor-throughput",
        "resnet18-224x224x3-bs16-sgd-cpu-tensor-eval512",
        "resnet18-224x224x3-bs32-adam-cpu-dataloader-w4-nopin-throughput",
        "resnet18-224x224x3-bs32-adam-cpu-tensor-eval512",
        "resnet18-224x224x3-bs32-adam-cpu-tensor-throughput",
        "resnet18-224x224x3-bs32-sgd-cpu-tensor-eval512",
        "resnet50-224x224x3-bs16-sgd-cpu-tensor-eval512",
        "resnet50-224x224x3-bs32-adam-cpu-tensor-eval512",
        "resnet50-224x224x3-bs32-sgd-cpu-tensor-eval512"]
    r18, r50 = (train_unit(case("grid", "paper", f"mnist-{m}-bs16-sgd-lr0.001-e10-cpu"))
                for m in ("resnet18", "resnet50"))
    r50_bs32 = train_unit(case("grid", "paper", "mnist-resnet50-bs32-sgd-lr0.001-e10-cpu"))
    times = {r18.key: TIMES, r50.key: dict(TIMES, step=0.5)}
    assert _scaled(r50, [r18], times) is None  # never from ResNet-18
    scaled = _scaled(r50_bs32, [r18, r50], times)
    # twice the batch: twice the step, the same time per evaluated image
    assert (scaled["step"], scaled["eval_image"]) == (pytest.approx(1.0), pytest.approx(0.001))
    assert scaled["source"] == f"scaled from {r50.key} by FLOPs"
    # nor across input sizes, nor between a pipeline unit and a training one
    pipe = {size: work_of(case("pipeline", "paper", f"fashion-resnet18-bs32-adam-lr0.001-"
                                                    f"{size}-fastpipe-cpu")).unit
            for size in ("s200-28px", "s100-224px")}
    train_224 = train_unit(case("grid", "paper", "mnist-resnet18-bs32-adam-lr0.001-e10-cpu"))
    assert _scaled(pipe["s100-224px"], [pipe["s200-28px"], train_224],
                   {pipe["s200-28px"].key: TIMES, train_224.key: TIMES}) is None


def test_svm_timing_anchors_its_law_at_the_larger_fit(data_root):
    from mnistperf.plan.calibrate import SVM_SIZES, time_svm
    from mnistperf.plan.work import svm_unit

    config = SvmConfig(dataset="mnist", kernel="rbf", backend="sklearn", profile="x",
                       train_size=600, test_size=300, experiment="svm")
    t = time_svm(svm_unit(config), data_root)
    assert t["n0"] == SVM_SIZES[1] == 2000 and 1.0 <= t["fit_b"] <= 2.5
    assert 0 < t["fit_a"] < 30 and t["source"] == "timed"  # one real fit of 2,000 images


def test_svm_power_laws_by_hand():
    times = {"n0": 300, "fit_a": 0.2, "fit_b": 2.0, "predict_a": 1e-4, "predict_b": 1.0,
             "data": 0.5, "source": "timed"}
    config = SvmConfig(dataset="mnist", kernel="rbf", backend="sklearn", profile="x",
                       train_size=600, test_size=300, experiment="svm")
    # fit 0.2 x 2^2; prediction of 300 test + 600 training images at 1e-4 x 2 each
    assert svm_case_seconds(work_of(config), times) == pytest.approx(0.5 + 0.8 + 0.18)
    everything = SvmConfig(dataset="mnist", kernel="rbf", backend="sklearn", profile="x",
                           train_size=600, test_size=300, experiment="svm",
                           score_all_training_images=True)
    assert svm_case_seconds(work_of(everything), times) == pytest.approx(
        0.5 + 0.8 + 60_900 * 2e-4)
    # Up to the larger probe (n0) the fits' own slope; beyond it, n^2 whatever the slope.
    flat = dict(times, fit_b=1.5, predict_b=0.5)
    smaller = dataclasses.replace(config, train_size=75)  # a quarter of n0
    assert svm_case_seconds(work_of(smaller), flat) == pytest.approx(
        0.5 + 0.2 * 0.25 ** 1.5 + (300 + 75) * 1e-4 * 0.25 ** 0.5)
    assert svm_case_seconds(work_of(config), flat) == pytest.approx(
        0.5 + 0.2 * 2 ** 2 + 900 * 1e-4 * 2 ** 0.5)


def test_packing_and_slots_as_dispatch_schedules():
    # two slots: 3 | 3, then 2 on the first free (3), 2 on the other (3), 2 on 5
    assert pack([3, 3, 2, 2, 2], 2) == 7
    assert pack([3, 3, 2, 2, 2], 1) == 12
    assert pack([], 4) == 0
    assert dispatch_slots(16, 2, 1, 0.5, any_gpu=True) == 4
    assert dispatch_slots(16, 2, 1, 0.5, any_gpu=False) == 16
    assert dispatch_slots(2, 0, 4, 1, any_gpu=False) == 1


def test_progress_starts_from_the_plan_and_corrects_itself():
    sweep = Sweep({"a": ("grid", 10.0), "b": ("grid", 10.0), "c": ("svm", 2.0)})
    assert sweep.left() == pytest.approx(22.0)
    sweep.seconds["a"] = 20.0
    # overall ratio (20 + 1 x 10) / (10 + 10) = 1.5, one median case (10 s) of weight;
    # grid: (20 + 1.5 x 10) / (10 + 10) = 1.75 of b's 10 s; svm: the overall 1.5 of 2 s
    assert sweep.left() == pytest.approx(17.5 + 3.0)
    # dispatched gpu cases this machine cannot time: no prediction, so the estimate is
    # the mean of finished cases, not 0 s
    unplanned = Sweep({"a": ("grid", None), "b": ("grid", None)})
    assert unplanned.left() is None
    unplanned.seconds["a"] = 4.0
    assert unplanned.left() == 4.0


def test_the_cache_is_keyed_on_the_machine(tmp_path, monkeypatch):
    path = tmp_path / "calibration.json"
    cache = CalibrationCache(path, {"cpu": "A", "threads": 2})
    cache.put({"unit": dict(TIMES)})
    assert cache.save()
    assert CalibrationCache(path, {"cpu": "A", "threads": 2}).get("unit") == TIMES
    assert CalibrationCache(path, {"cpu": "B", "threads": 2}).get("unit") is None
    monkeypatch.setenv("MNISTPERF_CACHE", str(tmp_path / "cache"))
    two, four = (CalibrationCache.for_this_machine(threads=n) for n in (2, 4))
    assert two.path != four.path and two.path.parent == tmp_path / "cache"
    assert two.machine["threads"] == 2 and "source" in two.machine
    (tmp_path / "file").write_text("")
    assert not CalibrationCache(tmp_path / "file" / "c.json", {}).save()  # never raises


@pytest.mark.parametrize("damage", ['{"machine": {"cpu": "A"}, "times": []}',
                                    '{"machine": {"cpu": "A"}, "times": {"unit": 3}}',
                                    '["not", "a", "cache"]', "{not json"])
def test_a_damaged_cache_is_timed_again_never_a_crash(tmp_path, damage):
    path = tmp_path / "calibration.json"
    path.write_text(damage)
    assert CalibrationCache(path, {"cpu": "A"}).get("unit") is None


def test_an_entry_missing_a_timing_counts_as_absent(tmp_path):
    cache = CalibrationCache(tmp_path / "c.json", {})
    cache.put({"unit": {"step": 0.1}, "load:mnist": {"seconds": 0.2}})
    assert cache.get("unit", ("step", "build")) is None
    assert cache.get("unit", ("step",)) == {"step": 0.1}
    assert cache.get("load:mnist", ("seconds",)) == {"seconds": 0.2}


GRID_ID = "mnist-resnet18-bs32-sgd-lr0.001-e1-cpu"
SELECT = "mnist and resnet18 and bs32 and sgd and lr0.001 and not pin and not pipe"


def crafted_cache(folder, step: float):
    """This machine's cache with the smoke grid case's unit at `step` seconds a step
    and nothing else costing anything, so nothing is timed."""
    config = case("grid", "smoke", GRID_ID)
    cache = CalibrationCache.for_this_machine()
    cache.path = folder / cache.path.name
    cache.put({train_unit(config).key: dict(TIMES, step=step, epoch_start=0.0,
                                            eval_image=0.0, eval_pass=0.0, build=0.0,
                                            warmup=0.0, data=0.0),
               "load:mnist": {"seconds": 0.0}, "flops:resnet18-1x28": {"seconds": 0.0}})
    assert cache.save()


def test_over_24_hours_stops_before_training_unless_yes(bench_project, tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTPERF_CACHE", str(tmp_path))
    # 16 steps (512 images, batch 32) of 10,000 s: 160,000 s and the harness's 0.3 s
    crafted_cache(tmp_path, 10_000.0)
    result = bench_project.runpytest_subprocess("benchmarks", "-k", SELECT + " and cpu",
                                                "--mnistperf-profile", "smoke")
    assert result.ret == 4
    result.stdout.fnmatch_lines([
        "mnistperf: plan: 1 case predicted to take 44:26:40 on this machine (every unit "
        "from this machine's earlier timings; python -m mnistperf plan shows each case)"])
    assert ("Exit: the plan predicts 44:26:40 for 1 case on this machine, over 24 "
            "hours, so nothing was trained; narrow the selection (-k, -m, a smaller "
            "--mnistperf-profile), see each case with `python -m mnistperf plan` and the same "
            "arguments, or add --mnistperf-yes") in result.stdout.str() + result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert not (bench_project.path / "results").exists() or not any(
        p.name.startswith("smoke-") for p in (bench_project.path / "results").iterdir())

    result = bench_project.runpytest_subprocess("benchmarks", "-k", SELECT + " and cpu",
                                                "--mnistperf-profile", "smoke", "--mnistperf-yes")
    assert result.ret == 0
    (record,) = (bench_project.path / "results" / "latest" / "cases").glob("*.json")
    info = json.loads(record.read_text())["benchmark"]["extra_info"]
    assert info["predicted_seconds"] == 160_000.0  # the harness's 0.05 s is the session's
    assert 0 < info["case_seconds"] < 600


def test_plan_and_run_agree_on_a_smoke_case(bench_project):
    """The plan times the unit (real timings, this machine), the run measures the case."""
    result = bench_project.runpytest_subprocess("benchmarks", "-k", SELECT + " and cpu",
                                                "--mnistperf-profile", "smoke")
    assert result.ret == 0
    (record,) = (bench_project.path / "results" / "latest" / "cases").glob("*.json")
    info = json.loads(record.read_text())["benchmark"]["extra_info"]
    # Loose: the machine is shared with the other tests.
    assert 1 / 3 < info["case_seconds"] / info["predicted_seconds"] < 3, info
    page = (bench_project.path / "results" / "latest" / "tables.md").read_text()
    assert "The plan against the run" in page
    # The plan of a resume predicts only what the run would train: here nothing.
    resumed = bench_project.run(sys.executable, "-m", "mnistperf", "plan", "-k",
                                SELECT + " and cpu", "--mnistperf-profile", "smoke",
                                "--mnistperf-resume")
    assert resumed.ret == 0, resumed.stderr.str()
    run = (bench_project.path / "results" / "latest").resolve().name
    resumed.stdout.fnmatch_lines([
        f"resume: 1 of 1 cases taken from results/{run}/, 0 to run",
        "plan: profile smoke, 0 cases to run, on this machine (*)",
        "total, one case after another on this machine: 0 s"])


def test_plan_command_prints_each_case_and_what_it_cannot_predict(bench_project, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setenv("MNISTPERF_CACHE", str(tmp_path))
    crafted_cache(tmp_path, 2.0)  # 16 steps x 2 s + 0.3 s
    result = bench_project.run(sys.executable, "-m", "mnistperf", "plan", "-k", SELECT,
                               "--mnistperf-profile", "smoke", "--gpus", "2", "--price", "3")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines([
        "plan: profile smoke, 2 cases selected, on this machine (*)",
        "grid: 1 case, 32 s",
        "case id * rounds * steps * eval images * predicted * unit timings",
        f"{GRID_ID} * 1 * 16 * 1,280 * 32 s * timed",
        "grid * 1 * 32 s",
        "not predicted: 1 case this machine would skip (gpu case needs CUDA*)",
        "total, one case after another on this machine: 32 s",
        "--gpus 2: the gpu cases (1) cannot be timed here (torch sees no CUDA GPU); run this "
        "plan on a machine with that GPU",
    ])
    bad = bench_project.run(sys.executable, "-m", "mnistperf", "plan", "--gpus", "0")
    assert bad.ret == 2
    assert bad.stderr.str().strip() == "mnistperf plan: error: --gpus 0 must be above 0"
    monkeypatch.setenv("MNISTPERF_DATA", str(tmp_path / "no-data"))
    (tmp_path / "no-data").mkdir()
    (tmp_path / "no-data" / "MNIST").write_text("")  # a file where a folder should be
    missing = bench_project.run(sys.executable, "-m", "mnistperf", "plan", "-k", SELECT,
                                "--mnistperf-profile", "smoke")
    assert missing.ret == 2 and missing.stdout.str() == ""  # nothing timed
    assert missing.stderr.str().startswith("mnistperf plan: error: ")
    assert len(missing.stderr.lines) == 1


def test_the_page_sets_predicted_beside_measured_for_cases_that_ended_ok():
    from mnistperf.records import TrainRecord
    from mnistperf.report.prediction import prediction_table
    from mnistperf.run import Case, Run

    grid = case("grid", "smoke", GRID_ID)
    pin = case("pin_memory", "smoke", [c.case_id for c in get_experiment("pin_memory").cases(
        get_profile("smoke")) if c.device == "cpu"][0])
    ok = TrainRecord(**TrainRecord.config_fields(grid), test_accuracy=50.0)
    other = TrainRecord(**TrainRecord.config_fields(pin), test_accuracy=50.0)
    run = Run(source="x", data={}, cases=[
        Case(ok, 1.0, case_seconds=12.0, predicted_seconds=10.0),
        Case(dataclasses.replace(ok, status="oom"), 1.0, case_seconds=2.0,
             predicted_seconds=10.0),  # ended early: left out
        Case(other, 1.0, case_seconds=15.0, predicted_seconds=20.0),
        Case(other, 1.0, case_seconds=None, predicted_seconds=None)])  # before the plan
    table = prediction_table(run)
    assert table.rows == [["grid", 1, 10.0, 12.0, 1.2, 1.2],
                          ["pin_memory", 1, 20.0, 15.0, 0.75, 0.75],
                          ["all", 2, 30.0, 27.0, 0.9, 0.75]]
    assert prediction_table(Run(source="x", data={}, cases=run.cases[3:])) is None


def test_the_run_header_says_how_much_of_the_overhead_was_the_plans_timing():
    from mnistperf.records import TrainRecord
    from mnistperf.report.render import header_lines
    from mnistperf.run import Case, Run

    record = TrainRecord(**TrainRecord.config_fields(case("grid", "smoke", GRID_ID)),
                         test_accuracy=50.0, train_seconds=3.0, eval_seconds=1.0)
    meta = {"wall_seconds": 10.0, "plan_seconds": 4.5}
    run = Run(source="x", data={"mnistperf": meta}, cases=[Case(record, 4.0)])
    measured = record.measured_seconds
    assert header_lines(run)[-1] == (
        f"harness overhead: {10 - measured:.1f} s of 10.0 s wall ({10 * (10 - measured):.1f}%): "
        f"everything but the cases' training, evaluation, fit/predict and pipeline steps "
        f"({measured:.1f} s); 4.5 s of it timing the plan's units of work")
    del meta["plan_seconds"]
    assert header_lines(run)[-1].endswith(f"({measured:.1f} s)")
