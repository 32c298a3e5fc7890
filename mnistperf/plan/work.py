"""What a case's time is made of, counted from its configuration alone.

    work = work_of(config, repeats=1)
    work.unit.key        # 'resnet18-28x28x1-bs16-sgd-cpu-tensor-eval512'
    work.rounds, work.epochs, work.steps_per_epoch, work.eval_images

A *unit* is what sets the time of one step: for training, the model, input
geometry, batch, optimizer, device, input path (tensors or a DataLoader with its
workers and pin_memory), AMP and compile; for an SVM, the dataset, kernel,
backend and hyperparameters. Learning rate, seed and (for a network) dataset do
not change a step's cost, so cases that differ only there share one calibration.
The counts follow what the case fixtures run (mnistperf.plugin.cases): each
experiment's warm-up and measured rounds, one untimed warm-up step per batch
shape before each round (mnistperf.warmup), an evaluation of the validation part
after each epoch and of both test sets at the end and at checkpoint epochs. The
input of a case is started once a round for training (a new shuffle) and once a
case for each evaluated part (mnistperf.loader keeps its workers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mnistperf.config import (PipelineConfig, SPLIT_SIZES, SvmConfig, TrainConfig,
                              TORCHVISION_NAMES)
from mnistperf.experiments import experiment_of
from mnistperf.warmup import warmup_sizes

# The SVM case also scores the images it was fit on (train accuracy), and at the
# study's size all 60,000 official training images (SvmConfig).
ALL_TRAINING_IMAGES = sum(SPLIT_SIZES)  # every part of the split: 60,000


@dataclass(frozen=True)
class TrainUnit:
    model: str
    input_size: int
    channels: int
    batch_size: int
    optimizer: str
    device: str
    loader: str
    pin_memory: bool
    num_workers: int
    amp: bool
    compile: str
    eval_batch_size: int
    dataset: str  # what the calibration reads; not part of the key
    # Timed as the pipeline experiment runs it (mnistperf.throughput.measure_throughput: all
    # torch threads, no evaluation), not as a training case (train()).
    throughput: bool = False

    @property
    def key(self) -> str:
        parts = [self.model, f"{self.input_size}x{self.input_size}x{self.channels}",
                 f"bs{self.batch_size}", self.optimizer, self.device, self.loader]
        if self.loader == "dataloader":
            parts += [f"w{self.num_workers}", "pin" if self.pin_memory else "nopin"]
        parts += ["amp"] * self.amp + [f"compile={self.compile}"] * bool(self.compile)
        if self.throughput:
            return "-".join(parts + ["throughput"])
        return "-".join(parts + [f"eval{self.eval_batch_size}"])

    @property
    def kin(self) -> tuple:
        """Units alike but for batch and optimizer: a step of one scales to another's
        by FLOPs (mnistperf.plan.calibrate, when the budget runs out). Not across
        models or input sizes: there FLOPs were 30 % to 6x off (BENCHMARKS.md)."""
        return (self.model, self.input_size, self.channels, self.device, self.loader,
                self.num_workers, self.pin_memory, self.amp, self.compile, self.throughput)


@dataclass(frozen=True)
class SvmUnit:
    dataset: str
    kernel: str
    backend: str
    C: float
    gamma: str | float
    degree: int

    @property
    def key(self) -> str:
        return (f"svm-{self.dataset}-{self.kernel}-{self.backend}-C{self.C:g}-"
                f"g{self.gamma}-d{self.degree}")


@dataclass(frozen=True)
class TrainWork:
    """The counts of a network case (a pipeline case: one epoch of its steps a
    round, no warm-up step of train()'s own, no evaluation)."""

    unit: TrainUnit
    rounds: int  # warm-up rounds included
    epochs: int
    steps_per_epoch: int
    warmup_shapes: int  # untimed warm-up steps before each round
    eval_parts: int  # parts evaluated (val, test, official test): each starts its input once
    eval_images: int  # per round

    @property
    def shape(self) -> tuple[str, int, int]:
        """(model, channels, input size): what the record's FLOPs are counted for."""
        u = self.unit
        return (u.model, u.channels, u.input_size)


@dataclass(frozen=True)
class SvmWork:
    unit: SvmUnit
    fit_images: int
    predict_images: int  # timed test set, plus the untimed scoring of training images


def train_unit(config: TrainConfig, throughput: bool = False) -> TrainUnit:
    return TrainUnit(throughput=throughput,
        model=config.model, input_size=config.input_size, channels=config.channels,
        batch_size=config.batch_size, optimizer=config.optimizer, device=config.device,
        loader=config.loader, pin_memory=config.pin_memory,
        num_workers=config.num_workers if config.loader == "dataloader" else 0,
        amp=config.amp, compile=config.compile, eval_batch_size=config.eval_batch_size,
        dataset=config.dataset)


def svm_unit(config: SvmConfig) -> SvmUnit:
    return SvmUnit(dataset=config.dataset, kernel=config.kernel, backend=config.backend,
                   C=config.C, gamma=config.gamma, degree=config.degree)


def work_of(config, repeats: int = 1) -> TrainWork | SvmWork:
    """The counts of one case of its experiment, at `repeats` seeds."""
    if isinstance(config, SvmConfig):
        scored = config.test_size + config.train_size
        if config.score_all_training_images:
            scored += ALL_TRAINING_IMAGES
        return SvmWork(svm_unit(config), config.train_size, scored)
    warmup, measured = experiment_of(config).rounds(repeats)
    if isinstance(config, PipelineConfig):
        return TrainWork(train_unit(config.train, throughput=True), rounds=warmup + measured,
                         epochs=1,
                         steps_per_epoch=config.warmup + config.steps, warmup_shapes=0,
                         eval_parts=0, eval_images=0)
    c = config
    tests = 1 + len([e for e in c.checkpoint_epochs if e != c.epochs])  # test-set passes
    return TrainWork(
        train_unit(c), rounds=warmup + measured, epochs=c.epochs,
        steps_per_epoch=math.ceil(c.train_size / c.batch_size),
        warmup_shapes=len(warmup_sizes(c.batch_size, c.train_size)), eval_parts=3,
        eval_images=c.epochs * c.val_size + tests * (c.test_size + c.official_test_size))


def datasets_of(works) -> list[str]:
    """The datasets the cases read, each loaded once a session."""
    names = {w.unit.dataset for w in works}
    return [d for d in TORCHVISION_NAMES if d in names]
