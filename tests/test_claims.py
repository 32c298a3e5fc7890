"""The study's claims: each rule on crafted records, the study's own verdicts on
its tables, and the evidence rule that keeps a small run from judging."""

from itertools import product

import pytest

from mnistperf.__main__ import main
from mnistperf.records import SvmRecord
from mnistperf.study.as_run import study_run
from mnistperf.study.claims import (
    ACCURACY, AGREES, AT_THIS_BUDGET, CANNOT_TELL, CLAIMS, DISAGREES, judge, verdict,
)
from tests.fakes import bench_json, run_of, train_info, write

PAPER = dict(profile="paper", train_size=42000, epochs=10, input_size=224, channels=3)
QUICK = dict(profile="quick", train_size=1400, epochs=2)


def _claim(key):
    return next(c for c in CLAIMS if c.text.key == key)


def _study(key):
    return verdict(_claim(key), study_run())


def test_every_claim_of_section_6_has_a_rule_and_a_section():
    assert [(c.section, c.text.key) for c in CLAIMS][:3] == [
        ("6.1.2", "mnist_above_99"), ("6.1.2", "mnist_depth"), ("6.1.2", "adam_faster")]
    assert {c.section for c in CLAIMS} == {"6.1.2", "6.1.3", "6.2.2", "6.2.3", "6.3.2",
                                           "6.3.3", "6.4"}


def test_the_study_against_its_own_tables():
    # Table 2: ResNet-18 ahead or level in 7 of 8 rows, against "ResNet50 generally
    # outperforms ResNet18".
    assert _study("fashion_depth") == (
        DISAGREES, "ResNet-50 minus ResNet-18 on FashionMNIST: -0.28 points on average over 8 "
                   "configurations, positive in 1 of 8 (sign test p = 0.38)")
    # Adam's lead is larger at lr 1e-4 than at 1e-3 on FashionMNIST, against
    # "especially at a learning rate of 0.001".
    word, detail = _study("adam_fashion")
    assert word == DISAGREES
    assert detail.endswith("Adam's lead at lr 0.001: +1.57, at lr 0.0001: +6.73")
    # SVM fits of 326-399 s are shorter than every ResNet training of Table 4.
    word, detail = _study("svm_slower")
    assert word == DISAGREES and "SVM 326-399 s, ResNet 614-23000 s" in detail
    # Its text says 15-20x, its own Table 4 gives 25.1x and 35.5x.
    assert _study("gpu_speedup") == (
        DISAGREES, "sgd 25.1x, adam 35.5x (ResNet-18, FashionMNIST, batch 16, lr 0.001; cpu "
                   "time / gpu time); the claim: 15-20x")
    # 1,339 s vs 1,344 s: 0.34 %, inside the band identical runs differ by.
    assert _study("pin_time")[0] == CANNOT_TELL and "+0.34%" in _study("pin_time")[1]
    assert _study("pin_accuracy")[0] == AGREES
    assert _study("mnist_above_99") == (
        AGREES, "10 of 16 MNIST configurations above 99 % (most: more than 50%)")
    assert _study("adam_faster") == (
        CANNOT_TELL, "needs Adam/SGD pairs on MNIST with validation curves (the study prints "
                     "none: its Figures 1-2 are not in its text)")


def test_alike_takes_absolute_differences():
    # +3 and -3 points: the mean is 0, but neither configuration is alike.
    records = [train_info(dataset="fashion", bs=16, lr=0.001, opt=opt, device=dev, acc=acc,
                          experiment="grid", **PAPER)
               for opt, dev, acc in (("sgd", "cpu", 80.0), ("sgd", "gpu", 83.0),
                                     ("adam", "cpu", 90.0), ("adam", "gpu", 87.0))]
    word, detail = verdict(_claim("devices_alike"), run_of(records))
    assert word == DISAGREES
    assert detail.startswith("gpu minus cpu test accuracy (Table 4's configurations): largest "
                             "absolute difference 3.00 points over 2 configurations")


@pytest.mark.parametrize("pin_s, nopin_s, expected", [
    (90.0, 100.0, AGREES),      # pinning 10 % faster: an improvement beyond the 5 % band
    (98.0, 100.0, CANNOT_TELL),  # 2 %: inside the band identical runs differ by
    (110.0, 100.0, DISAGREES),  # pinning 10 % slower
])
def test_pin_memory_uses_the_experiments_band_and_direction(pin_s, nopin_s, expected):
    records = [train_info(dataset="fashion", device="gpu", experiment="pin_memory",
                          pin_memory=pin, loader="dataloader", train_seconds=s, **PAPER)
               for pin, s in ((True, pin_s), (False, nopin_s))]
    assert verdict(_claim("pin_time"), run_of(records))[0] == expected


def test_pin_memory_on_a_cpu_cannot_tell():
    records = [train_info(dataset="fashion", experiment="pin_memory", pin_memory=pin,
                          loader="dataloader", **PAPER) for pin in (True, False)]
    assert verdict(_claim("pin_time"), run_of(records)) == (
        CANNOT_TELL, "no gpu pin_memory pair (pin_memory does nothing without CUDA)")


def _grid(budget, datasets=("mnist", "fashion"), devices=("cpu",)):
    """Every grid configuration, ResNet-18 a point ahead of ResNet-50, Adam 2 ahead."""
    return [train_info(dataset=d, model=m, bs=bs, opt=o, lr=lr, device=dev,
                       acc=90.0 + (1.0 if m == "resnet18" else 0.0) + (2.0 if o == "adam" else 0),
                       **budget)
            for d, m, bs, o, lr, dev in product(datasets, ("resnet18", "resnet50"), (16, 32),
                                                ("sgd", "adam"), (0.001, 0.0001), devices)]


def _svms(budget):
    return [SvmRecord(case_id=f"{d}-svm-{k}-sklearn-cpu", experiment="svm", dataset=d,
                      kernel=k, backend="sklearn", profile=budget["profile"],
                      train_size=budget["train_size"], test_size=1000, fit_seconds=1.0,
                      predict_seconds=0.5, test_accuracy=88.0).to_extra_info()
            for d, k in product(("mnist", "fashion"), ("rbf", "poly"))]


def test_a_quick_run_cannot_tell_any_accuracy_claim():
    run = run_of(_grid(QUICK, devices=("cpu", "gpu")) + _svms(QUICK))
    verdicts = {v.claim.text.key: (v.run, v.run_detail) for v in judge(run)}
    for claim in CLAIMS:
        if claim.evidence == ACCURACY and claim.text.key != "pin_accuracy":
            assert verdicts[claim.text.key] == (
                AT_THIS_BUDGET, "this run: 1,400 images, 2 epochs, 28x28x1; the claim needs "
                                "42,000 images, 10 epochs, 224x224x3"), claim.text.key
    # no pin_memory case ran at all: not a question of budget
    assert verdicts["pin_accuracy"][0] == CANNOT_TELL
    # a speed ratio at 28 px says nothing about the study's 224 px
    assert verdicts["gpu_speedup"] == (
        AT_THIS_BUDGET, "this run: 1,400 images, 2 epochs, 28x28x1; the claim needs "
                        "224x224x3 input on both sides")


def test_a_paper_run_is_judged():
    run = run_of(_grid(PAPER))
    verdicts = {v.claim.text.key: v.run for v in judge(run)}
    # ResNet-18 a point ahead everywhere: comparable-or-better agrees on MNIST, and
    # ResNet-50 "generally outperforms" disagrees on FashionMNIST.
    assert verdicts["mnist_depth"] == AGREES
    assert verdicts["fashion_depth"] == DISAGREES
    # Adam 2 points ahead in 8 of 8 (p = 0.0078), but the same at both learning rates:
    # the claimed "especially at 0.001" is absent.
    assert verdicts["adam_fashion"] == DISAGREES
    assert verdicts["batch_mnist"] == AGREES  # batch 32 never ahead
    assert verdicts["mnist_above_99"] == DISAGREES  # 90-93 %


def test_report_study_and_compare_study_from_the_command_line(tmp_path, capsys):
    assert main(["report", "study", "--out", str(tmp_path / "study")]) == 0
    tables = (tmp_path / "study" / "tables.md").read_text()
    assert "| 32      | sgd         | 0.0001 | 82.72" in tables
    assert "version 1 only" in tables and "version 2 only" in tables
    assert ("§6.1.3 \"ResNet50 generally outperforms ResNet18\" (FashionMNIST). The study's "
            "own tables: disagrees") in tables
    capsys.readouterr()
    paper = [train_info(dataset="fashion", bs=32, opt="sgd", lr=0.0001, device="gpu",
                        acc=83.72, **PAPER)]
    path = write(tmp_path / "paper.json", bench_json(paper))
    assert main(["compare", "study", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("A: the study (mnistperf/study/figures.py) (profile study; GPU "
                          "NVIDIA T4 (the study's hardware), – torch threads, torch not stated)\n"
                          f"B: {path} (profile paper; ")
    assert "fashion-resnet18-bs32-sgd-lr0.0001-e10-gpu  82.72      83.72      +1.00" in out
