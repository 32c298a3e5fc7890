"""The vocabulary: what a case can be, and the frozen dataclasses of one case.

Everything here is plain data with no dependency on the rest of the package:
the allowed values of each configuration field, the dataset facts (torchvision
names, pixel statistics, split sizes), `ConfigError`, and the three case types
(`TrainConfig`, `SvmConfig`, `PipelineConfig`) whose `case_id` is the contract's
id. How big a case is comes from `mnistperf.profiles`; which cases an
experiment runs comes from `mnistperf.experiments`.

    >>> TrainConfig(dataset="mnist", model="resnet18", batch_size=16, optimizer="sgd",
    ...             lr=1e-3, epochs=1, device="cpu", profile="smoke", train_size=512,
    ...             val_size=256, test_size=512, official_test_size=512,
    ...             experiment="mine").case_id
    'mnist-resnet18-bs16-sgd-lr0.001-e1-cpu'
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

DATASETS = ("mnist", "fashion")
MODELS = ("resnet18", "resnet50")
BATCH_SIZES = (16, 32)
OPTIMIZERS = ("sgd", "adam")
LEARNING_RATES = (1e-3, 1e-4)
DEVICES = ("cpu", "gpu")
LOADERS = ("tensor", "dataloader")
KERNELS = ("rbf", "poly")
SVM_BACKENDS = ("sklearn", "sklearnex")
# Input pipelines compared by the pipeline experiment: the study's (PIL
# transforms in a DataLoader) and the harness's (device-resident tensors).
PIPELINES = ("study", "fast")
# Experiment trackers a run can be logged to (--mnistperf-track, `mnistperf export`).
TRACKERS = ("mlflow", "tensorboard")

# ---------------------------------------------------------------- dataset facts

# torchvision's class names: the folder of the raw files and the name in messages.
TORCHVISION_NAMES = {"mnist": "MNIST", "fashion": "FashionMNIST"}
DATASET_TITLES = TORCHVISION_NAMES
MODEL_TITLES = {"resnet18": "ResNet-18", "resnet50": "ResNet-50"}
# Training-set pixel statistics (MNIST: the usual published figures; FashionMNIST:
# the published 0.2860/0.3530, which the shared copy reproduces to 3 decimals).
MEAN_STD = {"mnist": (0.1307, 0.3081), "fashion": (0.2860, 0.3530)}
# The full protocol: 60,000 official training images split 70/10/20.
SPLIT_SIZES = (42_000, 6_000, 12_000)
OFFICIAL_TEST_SIZE = 10_000
# Optimizer settings beyond lr, passed to the torch optimizer as keywords: name ->
# (id token prefix, default). A case id carries a token for each non-default value
# (momentum 0.9 -> 'm0.9'), so runs with other settings never compare as the same case.
OPTIMIZER_OPTIONS = {"momentum": ("m", 0.0), "weight_decay": ("wd", 0.0)}
# Options only some optimizers take.
OPTIMIZER_ONLY = {"momentum": "sgd"}

# Validation-accuracy targets (percent) for time-to-target; options override them.
DEFAULT_TARGETS = {"mnist": 99.0, "fashion": 92.0}


class ConfigError(ValueError):
    """A configuration value outside what the harness supports."""


def check_choice(option: str, value, allowed) -> None:
    if value not in allowed:
        raise ConfigError(
            f"{option}={value!r} is not supported; choose one of: "
            + ", ".join(str(a) for a in allowed)
        )


def check_target(value: float, option: str) -> float:
    if not (0 < value <= 100) or math.isnan(value):
        raise ConfigError(f"{option}={value} is outside (0, 100]; give a validation accuracy "
                          f"in percent, e.g. {option}=99")
    return value


def format_lr(lr: float) -> str:
    """`0.001` -> 'lr0.001' (never scientific notation, so ids stay greppable)."""
    text = f"{lr:.10f}".rstrip("0").rstrip(".")
    return f"lr{text}"


@dataclass(frozen=True)
class TrainConfig:
    """One ResNet training case. `device` is the id token: 'cpu' or 'gpu' (CUDA)."""

    dataset: str
    model: str
    batch_size: int
    optimizer: str
    lr: float
    epochs: int
    device: str
    profile: str
    train_size: int
    val_size: int
    test_size: int
    official_test_size: int
    experiment: str  # the experiment (mnistperf.experiments) the case belongs to
    input_size: int = 28
    channels: int = 1
    amp: bool = False
    loader: str = "tensor"
    pin_memory: bool = False
    num_workers: int = 0
    eval_batch_size: int = 512
    seed: int = 0
    # (name, value) pairs of OPTIMIZER_OPTIONS, sorted by name. SGD momentum: the study
    # does not state it; its SGD figures at lr 1e-4 fit torch's default, 0 (see README,
    # "Differences from the study").
    optimizer_options: tuple[tuple[str, float], ...] = ()
    compile: str = ""  # torch.compile backend ("inductor", "aot_eager"); "" = eager
    extra_tokens: tuple[str, ...] = ()  # an experiment's own id tokens (e.g. 'pin')
    checkpoint_epochs: tuple[int, ...] = ()  # also evaluate the test sets after these epochs

    def __post_init__(self):
        check_choice("dataset", self.dataset, DATASETS)
        check_choice("model", self.model, MODELS)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("device", self.device, DEVICES)
        check_choice("loader", self.loader, LOADERS)
        check_choice("channels", self.channels, (1, 3))
        for name in ("batch_size", "epochs", "train_size", "val_size", "test_size",
                     "eval_batch_size", "input_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")
        for epoch in self.checkpoint_epochs:
            if not 1 <= epoch <= self.epochs:
                raise ConfigError(f"checkpoint epoch {epoch} is outside 1..{self.epochs}")
        for name, _ in self.optimizer_options:
            check_choice("optimizer option", name, tuple(OPTIMIZER_OPTIONS))
            if OPTIMIZER_ONLY.get(name, self.optimizer) != self.optimizer:
                raise ConfigError(f"optimizer option {name} applies to "
                                  f"{OPTIMIZER_ONLY[name]} only, not {self.optimizer}")

    def option(self, name: str) -> float:
        """An optimizer option's value: the case's, else the default."""
        return dict(self.optimizer_options).get(name, OPTIMIZER_OPTIONS[name][1])

    @property
    def momentum(self) -> float:
        return self.option("momentum")

    def with_options(self, **options: float) -> "TrainConfig":
        """The same case with these optimizer options set (defaults dropped)."""
        merged = dict(self.optimizer_options, **options)
        return self.replace(optimizer_options=tuple(sorted(
            (k, v) for k, v in merged.items() if v != OPTIMIZER_OPTIONS[k][1])))

    def _option_tokens(self) -> list[str]:
        return [f"{OPTIMIZER_OPTIONS[name][0]}{value:g}"
                for name, value in self.optimizer_options
                if value != OPTIMIZER_OPTIONS[name][1]]

    @property
    def case_id(self) -> str:
        tokens = [
            self.dataset,
            self.model,
            f"bs{self.batch_size}",
            self.optimizer,
            format_lr(self.lr),
            *self._option_tokens(),
            f"e{self.epochs}",
            *self.extra_tokens,
            self.device,
        ]
        return "-".join(tokens)

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class SvmConfig:
    """One SVM case. Defaults are scikit-learn SVC's (C=1, gamma='scale', degree=3);
    the study does not state its hyperparameters."""

    dataset: str
    kernel: str
    backend: str
    profile: str
    train_size: int
    test_size: int
    experiment: str  # the experiment (mnistperf.experiments) the case belongs to
    device: str = "cpu"
    C: float = 1.0
    gamma: str | float = "scale"
    degree: int = 3
    seed: int = 0
    # Also score the fitted SVM on all 60,000 official training images (the study's
    # likely scoring, see SvmRecord.all_train_accuracy): untimed, minutes at full size.
    score_all_training_images: bool = False

    def __post_init__(self):
        check_choice("dataset", self.dataset, DATASETS)
        check_choice("kernel", self.kernel, KERNELS)
        check_choice("backend", self.backend, SVM_BACKENDS)
        check_choice("device", self.device, ("cpu",))
        if not self.C > 0:
            raise ConfigError(f"C must be positive, got {self.C}")
        if self.degree < 1:
            raise ConfigError(f"degree must be at least 1, got {self.degree}")
        if isinstance(self.gamma, str):
            check_choice("gamma", self.gamma, ("scale", "auto"))
        elif not self.gamma > 0:
            raise ConfigError(f"gamma must be 'scale', 'auto' or positive, got {self.gamma}")
        for name in ("train_size", "test_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")

    @property
    def case_id(self) -> str:
        return f"{self.dataset}-svm-{self.kernel}-{self.backend}-{self.device}"


@dataclass(frozen=True)
class PipelineConfig:
    """One pipeline-comparison case: a fixed number of training steps through the
    study's input pipeline ('study': PIL transforms in a DataLoader with workers)
    or the harness's ('fast': device-resident tensors)."""

    train: TrainConfig  # model, batch, optimizer, data, device, input geometry
    pipeline: str
    steps: int
    warmup: int

    def __post_init__(self):
        check_choice("pipeline", self.pipeline, PIPELINES)
        if self.steps < 1 or self.warmup < 0:
            raise ConfigError(f"steps must be >= 1 and warmup >= 0, got {self.steps}, "
                              f"{self.warmup}")

    @property
    def device(self) -> str:
        return self.train.device

    @property
    def case_id(self) -> str:
        t = self.train
        return "-".join([t.dataset, t.model, f"bs{t.batch_size}", t.optimizer, format_lr(t.lr),
                         f"s{self.steps}", f"{t.input_size}px", f"{self.pipeline}pipe",
                         t.device])
