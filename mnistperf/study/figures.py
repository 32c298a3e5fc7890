"""Every figure the study prints, as data: Tables 1-4 (both versions of Tables 3
and 4), the pin_memory list, and the claims of its section 6.

    for fig in FIGURES:
        fig.table, fig.version, fig.config, fig.field, fig.text, fig.value, fig.flags
    for claim in CLAIM_TEXTS: claim.key, claim.section, claim.quote

A figure keeps the digits the study printed (`text`; "1.54e7" where the study
typeset $1.54 \\times 10^7$) and says which record field of which
configuration it is (`kind`, `experiment`, `config`, `field`, in the record's
units: `scale` turns the study's milliseconds into seconds). Where the study
prints a table twice, `version` tells them apart (1 = the rounded table, 2 =
the pandas print below it). The study's own inconsistencies are `flags`,
shown wherever the figure is. Its text is `../shared/study/report.txt`;
tests/test_study_figures.py reads every figure back from there. Nothing here
reads that file at run time.

Plain data only: no torch, no records; `mnistperf.study.as_run` turns these
into the records of a Run.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# The study's protocol, what every figure here was measured at (section 1):
# the 70/10/20 split of the 60,000 training images, 10 epochs, AMP, a T4 GPU.
# The input size is inferred: thop's count matches its FLOPs only at 3x224x224.
PROTOCOL = dict(train_size=42_000, val_size=6_000, test_size=12_000, epochs=10,
                input_size=224, channels=3)
GPU_NAME = "NVIDIA T4"

# --------------------------------------------------------------------- flags

COPIED = ("the study's Table 2 gives ResNet-18 and ResNet-50 the same value to four "
          "decimals in this row (a copied cell?)")
TABLE4_PROTOCOL = ("Table 4's accuracy for this configuration differs from Table 2's by "
                   "1 to 10 points: Table 4 follows a separate, unstated protocol")
ONLY_V1 = "printed only in version 1 of Table 4 (the rounded table)"
ONLY_V2 = "printed only in version 2 of Table 4 (the pandas print)"
TRUNCATED = ("version 1 of Table 3 cuts this accuracy where version 2 rounds it "
             "(97.766667 -> 97.76, 91.848333 -> 91.84)")
SCORED_ON_60000 = ("a whole count of 60,000 images: most likely scored on all the "
                   "training images, the SVM's own included, not on a held-out set")
PIN_UNSTATED = ("the study does not state the configuration of its pin_memory runs; the "
                "harness assumes FashionMNIST (its accuracies are FashionMNIST's), "
                "ResNet-18, batch 16, Adam, lr 0.001, and milliseconds as in Tables 3 and 4")
TIME_UNSTATED = "the study does not say what its times include"


@dataclass(frozen=True)
class Figure:
    table: str  # where the study prints it: "Table 1", ..., "pin_memory list"
    version: int  # 0: printed once; 1 or 2: the two prints of Tables 3 and 4
    kind: str  # the record kind it belongs to: "resnet" | "svm"
    experiment: str  # the experiment whose record it is
    config: tuple[tuple[str, object], ...]  # record fields, (name, value) pairs
    field: str  # the record field, e.g. "test_accuracy", "train_seconds"
    text: str  # the digits as printed
    scale: float = 1.0  # printed unit -> the record's (ms -> s: 0.001)
    flags: tuple[str, ...] = ()

    @property
    def value(self) -> float:
        """The figure in the record's units (a decimal shift: no binary noise)."""
        return float(Decimal(self.text) * Decimal(str(self.scale)))

    @property
    def printed(self) -> float:
        return float(self.text)

    @property
    def settings(self) -> dict:
        return dict(self.config)


@dataclass(frozen=True)
class ClaimText:
    """A claim of the study's section 6, quoted; mnistperf.study.claims judges it."""

    key: str
    section: str
    quote: str  # verbatim from the report (so a test can find it)
    scope: str = ""  # what the study says it of: "MNIST", "FashionMNIST", ""


# --------------------------------------------------------------- Tables 1 and 2

_OPT = {"SGD": "sgd", "Adam": "adam"}
# (batch, optimizer, lr, ResNet-18, ResNet-50), as printed.
TABLE1_ROWS = (
    (16, "SGD", "0.001", "99.26", "99.12"),
    (16, "SGD", "0.0001", "98.58", "98.12"),
    (16, "Adam", "0.001", "99.11", "99.26"),
    (16, "Adam", "0.0001", "99.33", "99.06"),
    (32, "SGD", "0.001", "99.25", "98.85"),
    (32, "SGD", "0.0001", "97.96", "96.90"),
    (32, "Adam", "0.001", "99.18", "98.98"),
    (32, "Adam", "0.0001", "99.22", "99.32"),
)
TABLE2_ROWS = (
    (16, "SGD", "0.001", "92.2250", "91.7000"),
    (16, "SGD", "0.0001", "90.1417", "88.6583"),
    (16, "Adam", "0.001", "93.4500", "92.9917"),
    (16, "Adam", "0.0001", "93.1250", "92.8583"),
    (32, "SGD", "0.001", "91.1083", "91.1083"),
    (32, "SGD", "0.0001", "82.7167", "82.7167"),
    (32, "Adam", "0.001", "92.9833", "92.9833"),
    (32, "Adam", "0.0001", "92.3333", "92.8250"),
)


def _grid_figures(table: str, dataset: str, rows) -> list[Figure]:
    out = []
    for batch, opt, lr, *accuracies in rows:
        copied = accuracies[0] == accuracies[1]
        for model, text in zip(("resnet18", "resnet50"), accuracies):
            config = (("dataset", dataset), ("model", model), ("batch_size", batch),
                      ("optimizer", _OPT[opt]), ("lr", float(lr)), ("device", "gpu"))
            out.append(Figure(table, 0, "resnet", "grid", config, "test_accuracy", text,
                              flags=(COPIED,) if copied else ()))
    return out


# ------------------------------------------------------------- pin_memory list

# [pin_memory, accuracy, time], printed under section 3.1.
PIN_ROWS = (
    (True, "93.06666666666666", "1339424.6487617493"),
    (False, "92.85833333333333", "1343947.2312927246"),
)
PIN_CONFIG = (("dataset", "fashion"), ("model", "resnet18"), ("batch_size", 16),
              ("optimizer", "adam"), ("lr", 0.001), ("device", "gpu"),
              ("loader", "dataloader"))


def _pin_figures() -> list[Figure]:
    out = []
    for pin, accuracy, ms in PIN_ROWS:
        config = PIN_CONFIG + (("pin_memory", pin),)
        out += [Figure("pin_memory list", 0, "resnet", "pin_memory", config, "test_accuracy",
                       accuracy, flags=(PIN_UNSTATED,)),
                Figure("pin_memory list", 0, "resnet", "pin_memory", config, "train_seconds",
                       ms, scale=1e-3, flags=(PIN_UNSTATED, TIME_UNSTATED))]
    return out


# --------------------------------------------------------------------- Table 3

# (dataset, kernel, accuracy %, training time ms) per version.
TABLE3_ROWS = {
    1: (("mnist", "rbf", "98.66", "341791.91"), ("mnist", "poly", "97.76", "736730.70"),
        ("fashion", "rbf", "92.37", "326469.81"), ("fashion", "poly", "91.84", "398622.18")),
    2: (("mnist", "rbf", "98.663333", "341791.916847"),
        ("mnist", "poly", "97.766667", "736730.702877"),
        ("fashion", "rbf", "92.370000", "326469.811678"),
        ("fashion", "poly", "91.848333", "398622.182846")),
}


def _svm_figures() -> list[Figure]:
    out = []
    for version, rows in TABLE3_ROWS.items():
        for dataset, kernel, accuracy, ms in rows:
            # The study ran scikit-learn's SVC (its times are libsvm's, single-threaded).
            config = (("dataset", dataset), ("kernel", kernel), ("backend", "sklearn"))
            cut = version == 1 and accuracy in ("97.76", "91.84")
            out += [Figure("Table 3", version, "svm", "svm", config, "all_train_accuracy",
                           accuracy, flags=(SCORED_ON_60000,) + ((TRUNCATED,) if cut else ())),
                    Figure("Table 3", version, "svm", "svm", config, "fit_seconds", ms,
                           scale=1e-3, flags=(TIME_UNSTATED,))]
    return out


# --------------------------------------------------------------------- Table 4

# (device, optimizer, model, accuracy %, time ms, FLOPs) per version, as printed.
TABLE4_ROWS = {
    1: (("cpu", "sgd", "resnet18", "86.64", "1.54e7", "1.82e9"),
        ("cpu", "adam", "resnet18", "92.30", "2.30e7", "1.82e9"),
        ("gpu", "sgd", "resnet18", "86.75", "6.14e5", "1.82e9"),
        ("gpu", "adam", "resnet18", "92.39", "6.49e5", "1.82e9"),
        ("gpu", "adam", "resnet50", "91.69", "1.98e6", "4.13e9")),
    2: (("cpu", "sgd", "resnet18", "86.641667", "1.539237e+07", "1.823527e+09"),
        ("gpu", "sgd", "resnet18", "86.750000", "6.140942e+05", "1.823527e+09"),
        ("gpu", "sgd", "resnet50", "81.891667", "1.909748e+06", "4.131715e+09"),
        ("gpu", "adam", "resnet18", "92.391667", "6.486101e+05", "1.823527e+09"),
        ("gpu", "adam", "resnet50", "91.691667", "1.980587e+06", "4.131715e+09")),
}
# Table 4 holds these fixed (its caption and columns).
TABLE4_CONFIG = (("dataset", "fashion"), ("batch_size", 16), ("lr", 0.001))


def table4_versions(device: str, optimizer: str, model: str) -> tuple[int, ...]:
    """The versions of Table 4 that print this row: (1,), (2,), (1, 2) or ()."""
    return tuple(v for v, rows in TABLE4_ROWS.items()
                 if any(row[:3] == (device, optimizer, model) for row in rows))


def _table4_figures() -> list[Figure]:
    out = []
    for version, rows in TABLE4_ROWS.items():
        for device, opt, model, accuracy, ms, flops in rows:
            config = TABLE4_CONFIG + (("model", model), ("optimizer", opt), ("device", device))
            versions = table4_versions(device, opt, model)
            only = () if len(versions) == 2 else (ONLY_V1,) if versions == (1,) else (ONLY_V2,)
            out += [Figure("Table 4", version, "resnet", "devices", config, "test_accuracy",
                           accuracy, flags=only + ((TABLE4_PROTOCOL,) if device == "gpu"
                                                   else ())),
                    Figure("Table 4", version, "resnet", "devices", config, "train_seconds",
                           ms, scale=1e-3, flags=only + (TIME_UNSTATED,)),
                    Figure("Table 4", version, "resnet", "devices", config,
                           "study_flops_per_image", flops, flags=only)]
    return out


FIGURES: tuple[Figure, ...] = tuple(
    _grid_figures("Table 1", "mnist", TABLE1_ROWS)
    + _grid_figures("Table 2", "fashion", TABLE2_ROWS)
    + _pin_figures() + _svm_figures() + _table4_figures())

# ------------------------------------------------------------------- section 6

CLAIM_TEXTS: tuple[ClaimText, ...] = (
    ClaimText("mnist_above_99", "6.1.2",
              "both ResNet18 and ResNet50 achieve very high test accuracy on the MNIST "
              "dataset, exceeding 99% across most configurations", "MNIST"),
    ClaimText("mnist_depth", "6.1.2",
              "ResNet18 consistently achieves comparable or slightly better accuracy than "
              "ResNet50", "MNIST"),
    ClaimText("adam_faster", "6.1.2", "Adam optimizer generally converges faster", "MNIST"),
    ClaimText("adam_mnist", "6.1.2",
              "provides marginally better accuracy compared to SGD, particularly at lower "
              "learning rates", "MNIST"),
    ClaimText("batch_mnist", "6.1.2",
              "Larger batch sizes (32) show stable convergence but do not significantly "
              "outperform smaller batch sizes (16)", "MNIST"),
    ClaimText("fashion_best", "6.1.3",
              "Test accuracy on FashionMNIST is lower than MNIST, with best results around "
              "93%", "FashionMNIST"),
    ClaimText("fashion_depth", "6.1.3", "ResNet50 generally outperforms ResNet18",
              "FashionMNIST"),
    ClaimText("adam_fashion", "6.1.3",
              "Adam optimizer significantly outperforms SGD, especially at a learning rate "
              "of 0.001", "FashionMNIST"),
    ClaimText("sgd_low_lr", "6.1.3",
              "SGD with lower learning rates exhibits slower convergence and noticeably "
              "reduced accuracy, particularly for ResNet50", "FashionMNIST"),
    ClaimText("svm_mnist", "6.2.2",
              "SVMs achieve competitive accuracy on MNIST, particularly with non-linear "
              "kernels", "MNIST"),
    ClaimText("svm_slower", "6.2.2",
              "Training time for SVMs is significantly higher compared to deep neural "
              "networks"),
    ClaimText("svm_fashion", "6.2.2",
              "On FashionMNIST, SVM performance degrades noticeably", "FashionMNIST"),
    ClaimText("svm_scaling", "6.2.3",
              "they scale poorly in both computation and memory compared to convolutional "
              "neural networks"),
    ClaimText("gpu_speedup", "6.3.2",
              "GPU-based training provides a speedup of approximately 15–20× compared to "
              "CPU training", "FashionMNIST"),
    ClaimText("devices_alike", "6.3.2",
              "Accuracy remains nearly identical across CPU and GPU executions",
              "FashionMNIST"),
    ClaimText("resnet50_cost", "6.3.2",
              "ResNet50 incurs significantly higher FLOPs and training time compared to "
              "ResNet18", "FashionMNIST"),
    ClaimText("adam_gpu", "6.3.2",
              "Adam optimizer benefits more from GPU acceleration", "FashionMNIST"),
    ClaimText("pin_time", "6.3.3",
              "Enabling pin memory slightly reduces data transfer overhead between host and "
              "device memory, resulting in marginal improvements in training time"),
    ClaimText("pin_accuracy", "6.3.3", "without affecting accuracy"),
    ClaimText("depth_by_dataset", "6.4",
              "Simpler datasets benefit less from deep architectures, while complex datasets "
              "require higher representational capacity"),
)
# The study's text says 15-20x (section 6.3.2); its Table 4 gives 25-35x.
GPU_SPEEDUP_TEXT = (15.0, 20.0)
