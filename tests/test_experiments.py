"""Each experiment's tables and findings from crafted records (no training)."""

import pytest

from mnistperf.experiments import EXPERIMENTS, devices, epochs, get_experiment, grid
from mnistperf.experiments import pin_memory, pipeline
from mnistperf.profiles import get_profile
from tests.fakes import pipe_info, run_of, train_info


def test_registry_order_names_and_fixtures():
    assert [(e.name, e.fixture, e.reuses_grid) for e in EXPERIMENTS] == [
        ("grid", "train_case", False), ("devices", "train_case", True),
        ("pin_memory", "train_case", False), ("epochs", "train_case", False),
        ("pipeline", "pipeline_case", False), ("svm", "svm_case", False)]
    with pytest.raises(KeyError, match="no experiment named 'nope'; known: grid, devices"):
        get_experiment("nope")


def test_every_experiment_case_id_is_unique_within_a_profile():
    for name in ("smoke", "quick", "paper"):
        ids = [c.case_id for e in EXPERIMENTS if not e.reuses_grid
               for c in e.cases(get_profile(name), 0)]
        assert len(ids) == len(set(ids)) == 64 + 4 + 4 + 16 + 8


def _pair(opt_a_acc, opt_b_acc, **common):
    return [train_info(opt="adam", acc=opt_a_acc, **common),
            train_info(opt="sgd", acc=opt_b_acc, **common)]


BUDGET = "at this budget (3,000 images, 2 epochs, 28x28x1)"


def test_better_needs_a_sign_test_below_five_percent():
    # diffs +2, +3, -1 -> mean +1.33, but 2 of 3 is a coin toss (p = 1.00)
    infos = (_pair(92.0, 90.0, bs=16) + _pair(93.0, 90.0, bs=32)
             + _pair(89.0, 90.0, lr=0.0001, bs=16))
    line = grid.findings(run_of(infos))[0]
    assert line == (f"Adam vs SGD on MNIST, {BUDGET}: no clear effect: Adam has the higher test "
                    f"accuracy in 2 of 3 configurations, by +1.33 points on average (range "
                    f"-1.00 to +3.00; sign test p = 1.00); 2 of 3 is not p < 0.05")


def test_better_when_six_of_six_configurations_agree():
    # 6 of 6: p = 2 / 2**6 = 0.03125 < 0.05
    infos = [info for bs in (16, 32) for lr in (0.001, 0.0001) for model in ("resnet18",)
             for info in _pair(92.0, 90.0, bs=bs, lr=lr, model=model)]
    infos += _pair(91.0, 90.0, model="resnet50") + _pair(91.5, 90.0, model="resnet50", bs=32)
    line = grid.findings(run_of(infos))[0]
    assert line == (f"Adam vs SGD on MNIST, {BUDGET}: Adam is better: Adam has the higher test "
                    f"accuracy in 6 of 6 configurations, by +1.75 points on average (range "
                    f"+1.00 to +2.00; sign test p = 0.03)")


def test_a_tie_is_no_clear_effect():
    line = grid.findings(run_of(_pair(90.2, 90.0) + _pair(89.9, 90.0, bs=32)))[0]
    assert line.startswith(f"Adam vs SGD on MNIST, {BUDGET}: no clear effect: Adam has the "
                           f"higher test accuracy in 1 of 2 configurations, by +0.05 points on "
                           f"average")
    assert line.endswith("the mean difference is below 0.5 points")


def test_a_difference_inside_the_spread_of_repeats_is_no_clear_effect():
    infos = [train_info(opt=o, acc=a, repeats=3, test_accuracy_std=2.0)
             for o, a in (("adam", 92.0), ("sgd", 90.5))]
    line = grid.findings(run_of(infos))[0]
    assert "no clear effect" in line and "inside the seed spread (2.00 points)" in line
    # outside the spread, one configuration is enough with repeats
    infos = [train_info(opt=o, acc=a, repeats=3, test_accuracy_std=0.4)
             for o, a in (("adam", 92.0), ("sgd", 90.5))]
    assert ": Adam is better: " in grid.findings(run_of(infos))[0]


def test_too_little_data_is_said_not_guessed():
    run = run_of([train_info(opt="adam")])
    assert grid.findings(run)[0] == ("Adam vs SGD on MNIST: too little data (no pair of "
                                     "configurations differing only in optimizer)")
    assert devices.findings(run) == []


def test_speedup_and_pin_memory_findings():
    run = run_of([train_info(device="cpu", train_seconds=100.0),
                  train_info(device="gpu", train_seconds=4.0)])
    assert devices.findings(run) == ["GPU vs CPU: the GPU trains 25.0x faster (median over 1 "
                                     "configuration, range 25.0x to 25.0x; faster in 1 of 1, "
                                     "sign test p = 1.00; same input path and size on both "
                                     "devices)"]
    pin = [train_info(experiment="pin_memory", pin_memory=p) for p in (True, False)]
    assert pin_memory.findings(run_of(pin))[0].startswith(
        "pin_memory: no clear effect can exist here: only CPU cases ran")
    gpu_pin = [train_info(device="gpu", train_seconds=t, experiment="pin_memory", pin_memory=p)
               for p, t in ((True, 8.0), (False, 10.0))]
    assert pin_memory.findings(run_of(gpu_pin)) == [
        "pin_memory: faster with pinning: training with pin_memory takes 0.80x the time "
        "without it on the GPU (1 configuration)"]


def _table(infos, experiment, name):
    return next(t for t in experiment.tables(run_of(infos)) if t.name == name)


def test_devices_table_speedup_flops_and_missing_gpu_cells():
    common = dict(dataset="fashion", bs=16, lr=0.001, train_flops_per_epoch=6e11,
                  flops_per_image=6.62e7, study_flops_per_image=1823526400, epochs_run=2)
    cpu = train_info(device="cpu", opt="sgd", acc=80.0, train_seconds=100.0, **common)
    gpu = train_info(device="gpu", opt="sgd", acc=81.0, train_seconds=4.0, **common)
    adam_cpu = train_info(device="cpu", opt="adam", acc=79.0, train_seconds=50.0, **common)
    table = _table([cpu, gpu, adam_cpu], devices, "devices")
    # achieved = 6e11 x 2 epochs / 4 s = 0.3 TFLOP/s; speed-up = 100 / 4
    assert table.headers[:8] == ["Compute", "Batch", "Opt", "LR", "Model", "Accuracy %",
                                 "Time (ms)", "FLOPs (the study's count, thop)"]
    lead = ["16", "sgd", "0.001", "ResNet-18"]
    # Without the study attached (the composition layer attaches it) the last column,
    # "in the study's Table 4", is empty.
    assert table.display_rows()[:4] == [
        ["cpu", *lead, "80.00", "100000", "1.823526e+09", "6.62e+07", "6e+11", "0.012", "–",
         "–"],
        ["gpu", *lead, "81.00", "4000", "1.823526e+09", "6.62e+07", "6e+11", "0.300", "25.0x",
         "–"],
        ["cpu", "16", "adam", "0.001", "ResNet-18", "79.00", "50000", "1.823526e+09",
         "6.62e+07", "6e+11", "0.024", "–", "–"],
        ["gpu", "16", "adam", "0.001", "ResNet-18", "–", "–", "–", "–", "–", "–", "–", "–"],
    ]
    # The CSV side holds the numbers themselves.
    assert table.csv_rows()[1] == ["gpu", 16, "sgd", "0.001", "ResNet-18", "81", "4000",
                                   1823526400, "66200000", "6e+11", "0.3", "25", ""]


def test_pin_memory_table_reuses_the_grid_row_and_says_cpu_has_no_effect():
    pin = [train_info(dataset="fashion", train_seconds=t, experiment="pin_memory",
                      loader="dataloader", pin_memory=p, num_workers=2, input_seconds=1.0,
                      torch_threads=1)
           for p, t in ((True, 20.0), (False, 25.0))]
    reference = train_info(dataset="fashion", train_seconds=10.0, input_seconds=0.1,
                           torch_threads=2)
    table = _table(pin + [reference], pin_memory, "pin-memory")
    assert [row[:6] + row[7:] for row in table.display_rows()] == [
        ["cpu", "dataloader", "2", "1", "on", "2", "20.0", "–", "300", "5.0"],
        ["cpu", "dataloader", "2", "1", "off", "2", "25.0", "–", "240", "4.0"],
        ["cpu", "tensor (grid)", "0", "2", "off", "2", "10.0", "–", "600", "1.0"],
    ]
    assert "pin_memory has no effect without CUDA" in table.note


def test_epochs_table_reads_the_short_run_from_the_long_one():
    long = train_info(epochs=4, acc=95.0, official=94.0, val=(80.0, 90.0, 88.0, 93.0),
                      train=(1, 2, 3, 4), experiment="epochs",
                      epoch_seconds=[5.0, 6.0, 7.0, 8.0],
                      checkpoints={"2": {"test_accuracy": 89.5, "official_test_accuracy": 88.0}})
    table = _table([long], epochs, "epochs")
    assert table.display_rows() == [
        ["MNIST ResNet-18 bs16 adam lr0.001", "cpu", "2", "first 2 of 4", "90.00", "90.00",
         "89.50", "88.00", "11.0"],
        ["MNIST ResNet-18 bs16 adam lr0.001", "cpu", "4", "this run", "93.00", "93.00",
         "95.00", "94.00", "26.0"],
    ]
    # One configuration can never be a clear effect: a sign test of 1 of 1 is p = 1.
    assert epochs.findings(run_of([long])) == [
        "Longer training, at this budget (3,000 images, 28x28x1): no clear effect: the longer "
        "run changes test accuracy by +5.50 points on average over 1 configuration (range "
        "+5.50 to +5.50; better in 1 of 1, sign test p = 1.00); not p < 0.05"]


def test_pipeline_table_ratio_and_missing_partner():
    infos = [pipe_info("cpu", 28, 16, "study", 150.0, input_seconds=2.0),
             pipe_info("cpu", 28, 16, "fast", 180.0),
             pipe_info("cpu", 224, 16, "study", 10.0)]
    (table,) = pipeline.tables(run_of(infos, seconds=[10.0] * 3))
    assert table.headers[3:6] == ["study img/s", "fast img/s", "fast / study"]
    assert table.display_rows() == [
        ["cpu", "28x28x1", "16", "150.0", "180.0", "1.20x", "one round each", "20.0", "5.0"],
        ["cpu", "224x224x3", "16", "10.0", "–", "–", "–", "5.0", "–"],
    ]


def test_findings_are_per_dataset_then_pooled():
    infos = (_pair(92.0, 90.0) + _pair(80.0, 83.0, dataset="fashion"))
    lines = [line for line in grid.findings(run_of(infos)) if line.startswith("Adam vs SGD")]
    assert [line.split(", at this budget")[0] for line in lines] == [
        "Adam vs SGD on MNIST", "Adam vs SGD on FashionMNIST", "Adam vs SGD (datasets pooled)"]
    # one configuration per dataset: never a clear effect (sign test p = 1)
    assert "no clear effect" in lines[0] and "by +2.00 points" in lines[0]
    assert "no clear effect" in lines[1] and "by -3.00 points" in lines[1]
    # pooled: +2 and -3 -> -0.50, 1 of 2
    assert "no clear effect" in lines[2] and "by -0.50 points" in lines[2]


def test_identical_timing_cases_inside_their_spread_are_no_clear_difference():
    rounds = dict(dataset="fashion", experiment="pin_memory", loader="dataloader")
    pin = train_info(pin_memory=True, train_seconds=10.2, round_seconds=[9.8, 10.2, 11.0],
                     **rounds)
    nopin = train_info(pin_memory=False, train_seconds=10.6, round_seconds=[10.1, 10.6, 12.0],
                       **rounds)
    lines = pin_memory.findings(run_of([pin, nopin]))
    assert lines[0] == ("pin_memory on vs off (cpu, 3 timed rounds each): no clear difference: "
                        "medians 10.20 s and 10.60 s (3.9 % apart), rounds 9.80-11.00 s and "
                        "10.10-12.00 s")
    apart = train_info(pin_memory=False, train_seconds=16.0, round_seconds=[15.0, 16.0, 17.0],
                       **rounds)
    assert pin_memory.findings(run_of([pin, apart]))[0].startswith(
        "pin_memory on vs off (cpu, 3 timed rounds each): on is faster by 1.57x")
    study = dict(pipe_info("cpu", 28, 16, "study", 150.0), round_images_per_second=[140, 150, 160])
    fast = dict(pipe_info("cpu", 28, 16, "fast", 155.0), round_images_per_second=[150, 155, 170])
    (table,) = pipeline.tables(run_of([study, fast], seconds=[10.0, 10.0]))
    assert table.display_rows()[0][5:7] == ["1.03x", "no clear difference"]


def test_contended_times_are_marked_and_accuracy_is_not():
    info = train_info(contended=True, load_average=3.5, train_seconds=20.0)
    (acc, time) = grid.tables(run_of([info]))
    assert acc.display_rows()[0][3] == "90.00"
    assert time.display_rows()[0][3:5] == ["20.0*", "300*"]
    assert time.csv_rows()[0][3] == "20"
