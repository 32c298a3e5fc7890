"""The study's claims and published figures against crafted runs."""

from mnistperf.__main__ import main
from mnistperf.records import SvmRecord
from mnistperf.report.study import claims, study_rows
from tests.fakes import bench_json, run_of, train_info, write


def _verdicts(infos):
    return {claim: verdict for claim, verdict, _ in claims(run_of(infos))}


def test_claims_agree_disagree_and_cannot_tell():
    infos = [
        # MNIST: ResNet-18 ahead -> ">=" agrees; FashionMNIST: ResNet-18 ahead -> disagrees
        train_info(model="resnet18", acc=95.0, train_seconds=10.0),
        train_info(model="resnet50", acc=93.0, train_seconds=30.0, flops_per_image=8),
        train_info(dataset="fashion", model="resnet18", acc=85.0),
        train_info(dataset="fashion", model="resnet50", acc=82.0, flops_per_image=8),
        # GPU 25x faster: outside the text's 15-20x -> disagrees; accuracy alike -> agrees
        train_info(device="gpu", acc=95.2, train_seconds=0.4),
    ]
    verdicts = _verdicts(infos)
    assert verdicts == {
        "ResNet-18 is at least as accurate as ResNet-50 on MNIST": "agrees",
        "ResNet-50 is more accurate than ResNet-18 on FashionMNIST": "disagrees",
        "Adam beats SGD, particularly at the low learning rate": "cannot tell",
        "The GPU trains 15-20x faster than the CPU": "disagrees",
        "pin_memory makes a marginal difference": "cannot tell",
        "SVMs take longer to train than the networks": "cannot tell",
        "CPU and GPU reach alike accuracy": "agrees",
        "ResNet-50 costs more FLOPs and time than ResNet-18": "agrees",
    }
    (gpu,) = [d for c, v, d in claims(run_of(infos)) if c.startswith("The GPU")]
    assert gpu.startswith("median 25.0x over 1 configuration(s)")


def test_adam_claim_needs_the_low_learning_rate_gap_to_be_larger():
    pairs = [train_info(opt="adam", lr=1e-3, acc=92.0), train_info(opt="sgd", lr=1e-3, acc=91.0),
             train_info(opt="adam", lr=1e-4, acc=90.0), train_info(opt="sgd", lr=1e-4, acc=80.0)]
    assert _verdicts(pairs)["Adam beats SGD, particularly at the low learning rate"] == "agrees"
    pairs[3] = train_info(opt="sgd", lr=1e-4, acc=89.9)
    assert _verdicts(pairs)["Adam beats SGD, particularly at the low learning rate"] == (
        "disagrees")


def test_compare_study_lists_the_published_figures_and_differences(tmp_path, capsys):
    paper = dict(epochs=10, bs=32, opt="sgd", lr=1e-4, input_size=224, channels=3,
                 profile="paper")
    infos = [
        train_info(dataset="fashion", acc=83.72, study_flops_per_image=1823526400, **paper),
        SvmRecord(case_id="mnist-svm-rbf-sklearn-cpu", experiment="svm", dataset="mnist",
                  kernel="rbf", backend="sklearn", profile="paper", train_size=42000,
                  test_size=12000, fit_seconds=100.0, predict_seconds=10.0,
                  test_accuracy=97.6, train_accuracy=98.9).to_extra_info(),
    ]
    rows = study_rows(run_of(infos))
    assert [(r[0], r[1], r[3], r[4], round(r[6], 6)) for r in rows] == [
        ("Table 4", "fashion-resnet18-bs32-sgd-lr0.0001-e10-cpu", "study_flops_per_image",
         1.823527e9, -600.0),
        ("Table 2", "fashion-resnet18-bs32-sgd-lr0.0001-e10-cpu", "test_accuracy", 82.72, 1.0),
        ("Table 3", "mnist-svm-rbf-sklearn-cpu", "svm_accuracy", 98.663333, 0.236667),
    ]
    assert "copied cell" in rows[1][7]
    path = write(tmp_path / "paper.json", bench_json(infos))
    assert main(["compare", "study", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Table 2  fashion-resnet18-bs32-sgd-lr0.0001-e10-cpu" in out and "+1" in out
