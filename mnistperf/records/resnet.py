"""The record of a ResNet training case (kind 'resnet'), built from train.RunResults.

    TrainRecord.from_seeds(config, results, seeds)          # one result per seed
    TrainRecord.from_timed_rounds(config, rounds, warmup)   # rounds of the same seed
    record.time_to_target(99.0)        # derived from the curves, for any target

Time-to-target is not stored: it is derived from the validation curves and the
epoch times when a table is built, so a new target applies to old records.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from mnistperf.records.base import OK, Record
from mnistperf.records.base import round_or_none as _round
from mnistperf.stats import mean_std, time_to_target

if TYPE_CHECKING:
    from mnistperf.config import TrainConfig
    from mnistperf.train import RunResult

# Digits each per-epoch number keeps, in a record's curves and in the live epoch
# events and trackers alike (so a live tracker logs what the record keeps).
EPOCH_DIGITS = {"loss": 6, "train_accuracy": 4, "val_accuracy": 4, "seconds": 4}


def epoch_point(**values: float) -> dict:
    """One epoch's numbers (loss, train_accuracy, val_accuracy, seconds), rounded
    as a TrainRecord keeps them."""
    return {k: _round(v, EPOCH_DIGITS[k]) for k, v in values.items()}


@dataclass(kw_only=True)
class TrainRecord(Record):
    """A ResNet training case (kind 'resnet'). With repeats, the headline numbers
    are means over the seeds, `*_std` their sample standard deviation, the
    `seed_*` lists every seed's value; curves are the first seed's."""

    KIND: ClassVar[str] = "resnet"
    model: str
    batch_size: int
    optimizer: str
    lr: float
    momentum: float | None = None
    optimizer_options: dict = field(default_factory=dict)  # the non-default ones
    epochs: int
    epochs_run: int | None = None
    amp: bool = False
    amp_dtype: str | None = None
    pin_memory: bool = False
    loader: str = "tensor"
    num_workers: int = 0
    input_size: int = 28
    channels: int = 1
    train_size: int
    val_size: int | None = None
    test_size: int | None = None
    official_test_size: int | None = None
    test_accuracy: float | None = None
    official_test_accuracy: float | None = None
    train_accuracy: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    epoch_seconds: list = field(default_factory=list)
    train_seconds: float | None = None
    eval_seconds: float | None = None
    input_seconds: float | None = None
    copy_seconds: float | None = None  # host-to-device copies, timed apart from input_seconds
    # the untimed warm-up steps before the first epoch (autotuning, compilation): not
    # in train_seconds, but measured work (measured_seconds)
    warmup_seconds: float | None = None
    macs_per_image: int | None = None
    flops_per_image: int | None = None
    study_flops_per_image: int | None = None  # thop's count (the study's FLOPs column)
    train_flops_per_epoch: int | None = None
    params: int | None = None
    images_per_second: float | None = None
    peak_memory_mb: float | None = None  # training epochs only, after the warm-up
    eval_peak_memory_mb: float | None = None
    fused_optimizer: bool | None = None  # torch's fused Adam/SGD (CUDA only)
    cudnn_benchmark: bool | None = None  # cuDNN autotuning (off on a shared GPU)
    compile: str = ""
    # epoch -> {"test_accuracy": ..., "official_test_accuracy": ...}
    checkpoints: dict = field(default_factory=dict)
    repeats: int = 1
    seeds: list = field(default_factory=list)
    test_accuracy_std: float | None = None
    official_test_accuracy_std: float | None = None
    seed_test_accuracy: list = field(default_factory=list)
    seed_official_test_accuracy: list = field(default_factory=list)
    seed_val_accuracy: list = field(default_factory=list)
    seed_epoch_seconds: list = field(default_factory=list)
    # Timing experiments: train seconds of each timed round of the same work, and
    # training + evaluation seconds of every round, the warm-up round included.
    round_seconds: list = field(default_factory=list)
    work_seconds: float | None = None
    torch_threads: int | None = None  # intra-op threads it trained with

    def __post_init__(self):
        # JSON object keys are strings; the record's epochs are ints.
        self.checkpoints = {int(e): dict(v) for e, v in (self.checkpoints or {}).items()}

    def to_extra_info(self) -> dict:
        info = super().to_extra_info()
        info["checkpoints"] = {str(e): v for e, v in self.checkpoints.items()}
        return info

    MATCH_KEYS: ClassVar[tuple[str, ...]] = (
        "experiment", "dataset", "model", "batch_size", "optimizer", "lr", "device", "loader",
        "pin_memory")

    @property
    def budget(self) -> dict:
        return {"images": self.train_size, "epochs": self.epochs,
                "input": f"{self.input_size}x{self.input_size}x{self.channels}"}

    @property
    def measured_seconds(self) -> float:
        if self.work_seconds is not None:
            return self.work_seconds
        return ((self.train_seconds or 0) + (self.eval_seconds or 0)
                + (self.warmup_seconds or 0)) * (self.repeats or 1)

    @property
    def spread_seconds(self) -> float | None:
        """max - min of the timed rounds' training seconds (None without rounds)."""
        return max(self.round_seconds) - min(self.round_seconds) if self.round_seconds else None

    @staticmethod
    def config_fields(config: "TrainConfig") -> dict:
        """The fields a TrainConfig fixes, for every record of it (failed ones too)."""
        return dict(
            case_id=config.case_id, experiment=config.experiment, dataset=config.dataset,
            model=config.model, batch_size=config.batch_size, optimizer=config.optimizer,
            lr=config.lr, momentum=config.momentum if config.optimizer == "sgd" else None,
            optimizer_options=dict(config.optimizer_options),
            epochs=config.epochs, device=config.device, amp=config.amp,
            pin_memory=config.pin_memory, loader=config.loader,
            num_workers=config.num_workers, input_size=config.input_size,
            channels=config.channels, seed=config.seed, profile=config.profile,
            train_size=config.train_size, val_size=config.val_size,
            test_size=config.test_size, official_test_size=config.official_test_size,
            compile=config.compile)

    def seed_time_to_target(self, target: float) -> list[float | None]:
        """Per seed, training seconds until validation accuracy first reached
        `target` (None: never); records without per-seed epoch times (older ones)
        give the first seed's only."""
        curves = list(zip(self.seed_val_accuracy, self.seed_epoch_seconds)) \
            or [(self.val_accuracy, self.epoch_seconds)]
        return [time_to_target(val, seconds, target) for val, seconds in curves]

    def time_to_target(self, target: float) -> float | None:
        """Mean over the seeds that reached `target`; None when none did."""
        reached = [t for t in self.seed_time_to_target(target) if t is not None]
        return _round(statistics.fmean(reached)) if reached else None

    @classmethod
    def from_timed_rounds(cls, config: "TrainConfig", rounds: "list[RunResult]",
                          warmup: "list[RunResult]" = ()) -> "TrainRecord":
        """The record of a speed experiment's case: `rounds` of the same seed, numbers
        from the first, training seconds the median of all, each round's kept;
        `warmup` holds the untimed rounds before them (counted in `work_seconds`)."""
        record = cls.from_seeds(config, rounds[:1], [config.seed])
        record.round_seconds = [_round(r.train_seconds) for r in rounds]
        median = statistics.median(r.train_seconds for r in rounds)
        record.train_seconds = _round(median)
        record.images_per_second = _round(rounds[0].images_trained / median, 2) \
            if median > 0 else None
        record.status = next((r.status for r in rounds if r.status != OK), OK)
        record.work_seconds = _round(sum(r.train_seconds + r.eval_seconds + r.warmup_seconds
                                         for r in [*warmup, *rounds]))
        return record

    @classmethod
    def from_seeds(cls, config: "TrainConfig", results: "RunResult | list[RunResult]",
                   seeds: list[int] | None = None) -> "TrainRecord":
        """The record of `config` trained once per seed (`results`, one per seed;
        seeds default to config.seed, config.seed + 1, ...)."""
        from mnistperf.flops import macs_per_image, study_flops_per_image, training_flops

        if not isinstance(results, list):
            results = [results]
        seeds = seeds or [config.seed + i for i in range(len(results))]
        first = results[0]
        macs = macs_per_image(config.model, config.channels, config.input_size)
        ok = [r for r in results if r.status == OK]
        test, test_std = mean_std([r.test_accuracy for r in ok])
        official, official_std = mean_std([r.official_test_accuracy for r in ok])
        speeds = [r.images_per_second for r in results if r.images_per_second]
        return cls(
            **cls.config_fields(config), epochs_run=len(first.epoch_seconds),
            amp_dtype=first.amp_dtype, test_accuracy=_round(test),
            official_test_accuracy=_round(official),
            train_accuracy=[_round(v, EPOCH_DIGITS["train_accuracy"])
                            for v in first.train_accuracy],
            val_accuracy=[_round(v, EPOCH_DIGITS["val_accuracy"]) for v in first.val_accuracy],
            train_loss=[_round(v, EPOCH_DIGITS["loss"]) for v in first.train_loss],
            epoch_seconds=[_round(v, EPOCH_DIGITS["seconds"]) for v in first.epoch_seconds],
            train_seconds=_round(statistics.fmean(r.train_seconds for r in results)),
            eval_seconds=_round(statistics.fmean(r.eval_seconds for r in results)),
            input_seconds=_round(statistics.fmean(r.input_seconds for r in results)),
            copy_seconds=_round(statistics.fmean(r.copy_seconds for r in results)),
            warmup_seconds=_round(statistics.fmean(r.warmup_seconds for r in results)),
            macs_per_image=macs, flops_per_image=2 * macs,
            study_flops_per_image=study_flops_per_image(config.model, config.channels,
                                                        config.input_size),
            # ~3 forward passes per training image (see mnistperf.flops)
            train_flops_per_epoch=training_flops(config.model, config.channels,
                                                 config.input_size, config.train_size),
            params=first.params, torch_threads=first.torch_threads or None,
            images_per_second=_round(statistics.fmean(speeds), 2) if speeds else None,
            peak_memory_mb=_round(max(r.peak_memory_mb for r in results), 1),
            eval_peak_memory_mb=_round(max(r.eval_peak_memory_mb for r in results), 1),
            fused_optimizer=first.fused_optimizer, cudnn_benchmark=first.cudnn_benchmark,
            checkpoints={epoch: {k: _round(v) for k, v in values.items()}
                         for epoch, values in first.checkpoints.items()},
            repeats=len(results), seeds=seeds,
            test_accuracy_std=_round(test_std), official_test_accuracy_std=_round(official_std),
            seed_test_accuracy=[_round(r.test_accuracy) for r in results],
            seed_official_test_accuracy=[_round(r.official_test_accuracy) for r in results],
            seed_val_accuracy=[[_round(v) for v in r.val_accuracy] for r in results],
            seed_epoch_seconds=[[_round(v) for v in r.epoch_seconds] for r in results],
            status=next((r.status for r in results if r.status != OK), OK),
            message="; ".join(r.message for r in results if r.message),
        )
