"""Frozen run configurations, the study's grid and the size profiles.

Everything a case needs to know before it runs lives here: `Profile` says how big
a run is (subset sizes, epochs, input geometry), `TrainConfig` is one training
case, and `resnet_grid(profile)` is the one definition of the ResNet grid that
the benchmarks parametrise over. Case ids come from `TrainConfig.case_id`.

    >>> from mnistperf.config import get_profile, resnet_grid
    >>> cases = resnet_grid(get_profile("smoke"), seed=0)
    >>> cases[0].case_id
    'mnist-resnet18-bs16-sgd-lr0.001-e1-cpu'
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from itertools import product

DATASETS = ("mnist", "fashion")
MODELS = ("resnet18", "resnet50")
BATCH_SIZES = (16, 32)
OPTIMIZERS = ("sgd", "adam")
LEARNING_RATES = (1e-3, 1e-4)
DEVICES = ("cpu", "gpu")
LOADERS = ("tensor", "dataloader")

# torchvision's class names, used to find the raw files and in messages.
TORCHVISION_NAMES = {"mnist": "MNIST", "fashion": "FashionMNIST"}

# The full protocol: 60,000 official training images split 70/10/20.
SPLIT_SIZES = (42_000, 6_000, 12_000)
OFFICIAL_TEST_SIZE = 10_000


class ConfigError(ValueError):
    """A configuration value outside what the harness supports."""


def _check_choice(option: str, value, allowed) -> None:
    if value not in allowed:
        raise ConfigError(
            f"{option}={value!r} is not supported; choose one of: "
            + ", ".join(str(a) for a in allowed)
        )


@dataclass(frozen=True)
class Profile:
    """How big a run is. Sizes are taken from the front of each seeded split part.

    `train_size` maps model name -> training images, because ResNet-50 costs about
    three times ResNet-18 per image on a CPU and the quick profile is sized by time.
    """

    name: str
    description: str
    train_size: tuple[tuple[str, int], ...]
    val_size: int
    test_size: int
    official_test_size: int
    epochs: int
    input_size: int
    channels: int
    amp: bool  # fp16 autocast on CUDA; CPU cases never enable it from a profile
    eval_batch_size: int
    svm_train_size: int
    svm_test_size: int
    num_workers: int  # DataLoader workers for the cases that use the DataLoader path
    # The 10-vs-20-epoch experiment: (short, long) epochs and its training images.
    epochs_compare: tuple[int, int]
    epochs_train_size: int
    # The pipeline comparison: timed training steps per input size, after warm-up.
    pipeline_steps: tuple[tuple[int, int], ...]
    pipeline_warmup: int

    def train_size_for(self, model: str) -> int:
        return dict(self.train_size)[model]


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="smoke",
            description="seconds per case, for CI: 512 train images, 1 epoch, 28x28x1",
            train_size=(("resnet18", 512), ("resnet50", 256)),
            val_size=256,
            test_size=512,
            official_test_size=512,
            epochs=1,
            input_size=28,
            channels=1,
            amp=False,
            eval_batch_size=256,
            svm_train_size=1_000,
            svm_test_size=1_000,
            num_workers=0,
            epochs_compare=(2, 4),
            epochs_train_size=256,
            pipeline_steps=((28, 8), (224, 2)),
            pipeline_warmup=1,
        ),
        Profile(
            name="quick",
            description=(
                "minutes on a laptop CPU: 3,000 (ResNet-18) / 1,000 (ResNet-50) train "
                "images, 2 epochs, 28x28x1"
            ),
            train_size=(("resnet18", 3_000), ("resnet50", 1_000)),
            val_size=1_000,
            test_size=2_000,
            official_test_size=2_000,
            epochs=2,
            input_size=28,
            channels=1,
            amp=False,
            eval_batch_size=512,
            svm_train_size=15_000,
            svm_test_size=3_000,
            num_workers=2,
            epochs_compare=(10, 20),
            epochs_train_size=1_000,
            pipeline_steps=((28, 60), (224, 6)),
            pipeline_warmup=2,
        ),
        Profile(
            name="paper",
            description=(
                "the seed study: full 42,000/6,000/12,000 split, 10 epochs, 224x224x3, "
                "AMP on GPU"
            ),
            train_size=(("resnet18", SPLIT_SIZES[0]), ("resnet50", SPLIT_SIZES[0])),
            val_size=SPLIT_SIZES[1],
            test_size=SPLIT_SIZES[2],
            official_test_size=OFFICIAL_TEST_SIZE,
            epochs=10,
            input_size=224,
            channels=3,
            amp=True,
            eval_batch_size=512,
            svm_train_size=SPLIT_SIZES[0],
            svm_test_size=SPLIT_SIZES[2],
            num_workers=4,
            epochs_compare=(10, 20),
            epochs_train_size=SPLIT_SIZES[0],
            pipeline_steps=((28, 200), (224, 100)),
            pipeline_warmup=10,
        ),
    )
}


def get_profile(name: str) -> Profile:
    _check_choice("--mnistperf-profile", name, tuple(PROFILES))
    return PROFILES[name]


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
    input_size: int = 28
    channels: int = 1
    amp: bool = False
    loader: str = "tensor"
    pin_memory: bool = False
    num_workers: int = 0
    eval_batch_size: int = 512
    seed: int = 0
    momentum: float = 0.9  # SGD only; the seed study's value is not stated, 0.9 is the usual one
    compile: str = ""  # torch.compile backend ("inductor", "aot_eager"); "" = eager
    extra_tokens: tuple[str, ...] = ()  # an experiment's own id tokens (e.g. 'pin')
    experiment: str = "grid"  # which table family the case belongs to
    checkpoint_epochs: tuple[int, ...] = ()  # also evaluate the test sets after these epochs

    def __post_init__(self):
        _check_choice("dataset", self.dataset, DATASETS)
        _check_choice("model", self.model, MODELS)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("device", self.device, DEVICES)
        _check_choice("loader", self.loader, LOADERS)
        _check_choice("channels", self.channels, (1, 3))
        for name in ("batch_size", "epochs", "train_size", "val_size", "test_size",
                     "eval_batch_size", "input_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")
        for epoch in self.checkpoint_epochs:
            if not 1 <= epoch <= self.epochs:
                raise ConfigError(f"checkpoint epoch {epoch} is outside 1..{self.epochs}")

    @property
    def case_id(self) -> str:
        tokens = [
            self.dataset,
            self.model,
            f"bs{self.batch_size}",
            self.optimizer,
            format_lr(self.lr),
            f"e{self.epochs}",
            *self.extra_tokens,
            self.device,
        ]
        return "-".join(tokens)

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


def train_config(profile: Profile, *, dataset: str, model: str, batch_size: int,
                 optimizer: str, lr: float, device: str, seed: int = 0,
                 **overrides) -> TrainConfig:
    """A TrainConfig sized by `profile`; keyword overrides win over the profile."""
    fields = dict(
        dataset=dataset,
        model=model,
        batch_size=batch_size,
        optimizer=optimizer,
        lr=lr,
        epochs=profile.epochs,
        device=device,
        profile=profile.name,
        train_size=profile.train_size_for(model),
        val_size=profile.val_size,
        test_size=profile.test_size,
        official_test_size=profile.official_test_size,
        input_size=profile.input_size,
        channels=profile.channels,
        amp=profile.amp and device == "gpu",
        eval_batch_size=profile.eval_batch_size,
        seed=seed,
    )
    fields.update(overrides)
    return TrainConfig(**fields)


def resnet_grid(profile: Profile, seed: int = 0) -> list[TrainConfig]:
    """The study's grid: dataset x model x batch x optimizer x lr x device."""
    return [
        train_config(profile, dataset=d, model=m, batch_size=b, optimizer=o, lr=lr,
                     device=dev, seed=seed)
        for d, m, b, o, lr, dev in product(
            DATASETS, MODELS, BATCH_SIZES, OPTIMIZERS, LEARNING_RATES, DEVICES
        )
    ]


KERNELS = ("rbf", "poly")
SVM_BACKENDS = ("sklearn", "sklearnex")


@dataclass(frozen=True)
class SvmConfig:
    """One SVM case. Defaults are scikit-learn SVC's (C=1, gamma='scale', degree=3),
    which the seed study used unchanged."""

    dataset: str
    kernel: str
    backend: str
    profile: str
    train_size: int
    test_size: int
    device: str = "cpu"
    C: float = 1.0
    gamma: str | float = "scale"
    degree: int = 3
    seed: int = 0

    def __post_init__(self):
        _check_choice("dataset", self.dataset, DATASETS)
        _check_choice("kernel", self.kernel, KERNELS)
        _check_choice("backend", self.backend, SVM_BACKENDS)
        _check_choice("device", self.device, ("cpu",))
        if not self.C > 0:
            raise ConfigError(f"C must be positive, got {self.C}")
        if self.degree < 1:
            raise ConfigError(f"degree must be at least 1, got {self.degree}")
        if isinstance(self.gamma, str):
            _check_choice("gamma", self.gamma, ("scale", "auto"))
        elif not self.gamma > 0:
            raise ConfigError(f"gamma must be 'scale', 'auto' or positive, got {self.gamma}")
        for name in ("train_size", "test_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")

    @property
    def case_id(self) -> str:
        return f"{self.dataset}-svm-{self.kernel}-{self.backend}-{self.device}"


def svm_grid(profile: Profile, seed: int = 0) -> list[SvmConfig]:
    """dataset x kernel x backend, on the CPU, sized by the profile."""
    return [
        SvmConfig(dataset=d, kernel=k, backend=b, profile=profile.name,
                  train_size=profile.svm_train_size, test_size=profile.svm_test_size, seed=seed)
        for d, k, b in product(DATASETS, KERNELS, SVM_BACKENDS)
    ]


# ---------------------------------------------------------------- experiments
# Each experiment adds only cases the grid lacks; its tables reuse grid results
# where the configuration is the same (see mnistperf.report).

# The seed's pin_memory experiment and its CPU-vs-GPU table (Table 4) both use
# FashionMNIST, batch 16, lr 0.001.
PIN_MEMORY_BASE = dict(dataset="fashion", model="resnet18", batch_size=16, optimizer="adam",
                       lr=1e-3)
EPOCHS_BASES = tuple(dict(dataset=d, model="resnet18", batch_size=16, optimizer="adam", lr=1e-3)
                     for d in DATASETS)
TABLE4 = dict(dataset="fashion", batch_size=16, lr=1e-3)


def pin_memory_cases(profile: Profile, seed: int = 0) -> list[TrainConfig]:
    """The DataLoader path with pin_memory on and off, per device."""
    return [
        train_config(profile, **PIN_MEMORY_BASE, device=device, seed=seed, loader="dataloader",
                     pin_memory=pin, num_workers=profile.num_workers,
                     experiment="pin_memory",
                     extra_tokens=("dataloader", "pin" if pin else "nopin"))
        for device in DEVICES for pin in (True, False)
    ]


def epochs_cases(profile: Profile, seed: int = 0) -> list[TrainConfig]:
    """One long run per configuration; the short run is read from its first epochs
    (constant learning rate, same seed and batch order), not trained again."""
    short, long = profile.epochs_compare
    return [
        train_config(profile, **base, device=device, seed=seed, epochs=long,
                     train_size=profile.epochs_train_size, experiment="epochs",
                     checkpoint_epochs=(short,))
        for base in EPOCHS_BASES for device in DEVICES
    ]


def device_cases(profile: Profile, seed: int = 0) -> list[TrainConfig]:
    """The seed's Table 4: FashionMNIST, batch 16, lr 0.001, SGD/Adam x ResNet-18/50,
    cpu and gpu. These are grid configurations (same ids): when the grid's case is
    selected too, the plugin deselects this copy instead of training it twice."""
    return [
        train_config(profile, **TABLE4, model=m, optimizer=o, device=d, seed=seed)
        for m, o, d in product(MODELS, OPTIMIZERS, DEVICES)
    ]


PIPELINES = ("seed", "fast")
PIPELINE_BASE = dict(dataset="fashion", model="resnet18", optimizer="adam", lr=1e-3)


@dataclass(frozen=True)
class PipelineConfig:
    """One pipeline-comparison case: a fixed number of training steps through the
    seed study's input pipeline ('seed': PIL transforms in a DataLoader with
    workers) or the harness's ('fast': device-resident tensors)."""

    train: TrainConfig  # model, batch, optimizer, data, device, input geometry
    pipeline: str
    steps: int
    warmup: int

    def __post_init__(self):
        _check_choice("pipeline", self.pipeline, PIPELINES)
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


def pipeline_cases(profile: Profile, seed: int = 0) -> list[PipelineConfig]:
    """seed vs fast pipeline at 28x28x1 and 224x224x3, batch 16 and 32, per device."""
    cases = []
    for (size, steps), bs, device, pipe in product(profile.pipeline_steps, BATCH_SIZES,
                                                   DEVICES, PIPELINES):
        train = train_config(
            profile, **PIPELINE_BASE, batch_size=bs, device=device, seed=seed,
            input_size=size, channels=1 if size == 28 else 3, epochs=1,
            loader="dataloader" if pipe == "seed" else "tensor",
            num_workers=profile.num_workers if pipe == "seed" else 0,
            pin_memory=pipe == "seed" and device == "gpu",
            train_size=max(profile.train_size_for("resnet18"),
                           bs * (steps + profile.pipeline_warmup)),
            experiment="pipeline")
        cases.append(PipelineConfig(train=train, pipeline=pipe, steps=steps,
                                    warmup=profile.pipeline_warmup))
    return cases
