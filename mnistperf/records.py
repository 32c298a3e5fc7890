"""Typed records of finished cases, and the one definition of case statuses.

A record is what a case leaves behind: its configuration, its measurements and
its status. It travels as pytest-benchmark's `extra_info` (the contract's keys,
see DESIGN.md) and is read back from there by the report:

    record = TrainRecord.from_results(config, results, target=99.0)
    benchmark.extra_info.update(record.to_extra_info())
    ...
    record = record_from_extra_info(bench["extra_info"])   # TrainRecord | SvmRecord | ...
    record.ok, record.status, record.test_accuracy

Nothing here imports pytest; torch-dependent helpers are imported only by the
builders, so reading records (the report, `compare`) needs no torch.
"""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from mnistperf.stats import mean_std, time_to_target

if TYPE_CHECKING:
    from mnistperf.config import PipelineConfig, SvmConfig, TrainConfig
    from mnistperf.svm import FittedSvm, SvmResult
    from mnistperf.train import RunResult, ThroughputResult

# Every status a case can end with. Only "ok" cases have trustworthy numbers;
# every other case stays in the outputs and shows its status word instead.
STATUSES = ("ok", "diverged", "oom", "timeout", "error", "interrupted")
OK = "ok"
# The cell of a case that did not run at all (never used for a failed case).
NOT_RUN = "–"


# The extra_info keys DESIGN.md promises (the contract); records carry more.
TRAIN_KEYS = (
    "kind", "dataset", "model", "batch_size", "optimizer", "lr", "epochs", "device",
    "amp", "pin_memory", "loader", "input_size", "seed", "profile", "train_size",
    "val_size", "test_size", "test_accuracy", "official_test_accuracy", "train_accuracy",
    "val_accuracy", "train_loss", "epoch_seconds", "train_seconds", "eval_seconds",
    "macs_per_image", "flops_per_image", "params", "images_per_second", "peak_memory_mb",
    "momentum", "status", "resumed",
)
SVM_KEYS = (
    "kind", "dataset", "kernel", "backend", "C", "gamma", "degree", "train_size",
    "test_size", "fit_seconds", "predict_seconds", "test_accuracy", "peak_memory_mb", "status",
)


class RecordError(ValueError):
    """extra_info that is not a record of this version; the message is one line."""


def _round(value, digits=4):
    return None if value is None else round(float(value), digits)


@dataclass(kw_only=True)
class Record:
    """What every case kind records."""

    KIND: ClassVar[str] = ""
    case_id: str
    experiment: str
    dataset: str
    device: str = "cpu"
    seed: int = 0
    profile: str | None = None
    status: str = OK
    message: str = ""
    resumed: bool = False  # not trained in this run: taken from an earlier run's ok record
    # Measurement quality: CPU seconds of the case's process and workers, the 1-minute
    # load average at its end, and `contended` when other work used over half the
    # cores during the case (see mnistperf.plugin.session.Load).
    cpu_seconds: float | None = None
    load_average: float | None = None
    contended: bool = False
    timing_shared: bool = False  # dispatched with a fraction of a GPU: timing not comparable

    @property
    def timing_doubtful(self) -> bool:
        return self.contended or self.timing_shared

    @property
    def kind(self) -> str:
        return self.KIND

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def measured_seconds(self) -> float:
        """Seconds spent in the work the case measures (the harness overhead is
        wall time minus the sum of these)."""
        raise NotImplementedError

    def to_extra_info(self) -> dict:
        info = {"kind": self.KIND}
        info.update(dataclasses.asdict(self))
        return info

    @classmethod
    def from_extra_info(cls, info: dict) -> "Record":
        fields = {f.name: f for f in dataclasses.fields(cls)}
        required = [name for name, f in fields.items()
                    if f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING]
        missing = [name for name in required if name not in info]
        if missing:
            raise RecordError(f"case {info.get('case_id', '?')}: extra_info lacks "
                              + ", ".join(missing))
        record = cls(**{k: v for k, v in info.items() if k in fields})
        if record.status not in STATUSES:
            raise RecordError(f"case {record.case_id}: unknown status {record.status!r}; "
                              f"known: {', '.join(STATUSES)}")
        return record


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
    macs_per_image: int | None = None
    flops_per_image: int | None = None
    study_flops_per_image: int | None = None  # fvcore total in train mode (the study's count)
    train_flops_per_epoch: int | None = None
    params: int | None = None
    images_per_second: float | None = None
    peak_memory_mb: float | None = None
    compile: str = ""
    target_accuracy: float | None = None
    time_to_target_seconds: float | None = None
    # epoch -> {"test_accuracy": ..., "official_test_accuracy": ...}
    checkpoints: dict = field(default_factory=dict)
    repeats: int = 1
    seeds: list = field(default_factory=list)
    test_accuracy_std: float | None = None
    official_test_accuracy_std: float | None = None
    seed_test_accuracy: list = field(default_factory=list)
    seed_official_test_accuracy: list = field(default_factory=list)
    seed_val_accuracy: list = field(default_factory=list)
    seed_time_to_target_seconds: list = field(default_factory=list)
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

    @property
    def measured_seconds(self) -> float:
        if self.work_seconds is not None:
            return self.work_seconds
        return ((self.train_seconds or 0) + (self.eval_seconds or 0)) * (self.repeats or 1)

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
            epochs=config.epochs, device=config.device, amp=config.amp,
            pin_memory=config.pin_memory, loader=config.loader,
            num_workers=config.num_workers, input_size=config.input_size,
            channels=config.channels, seed=config.seed, profile=config.profile,
            train_size=config.train_size, val_size=config.val_size,
            test_size=config.test_size, official_test_size=config.official_test_size,
            compile=config.compile)

    @classmethod
    def from_results(cls, config: "TrainConfig", results: "RunResult | list[RunResult]",
                     seeds: list[int] | None = None, target: float | None = None,
                     timed_rounds: bool = False, warmup: list = ()) -> "TrainRecord":
        """The record of `config` trained once per seed (`results`, one per seed);
        `target` is the validation accuracy for `time_to_target_seconds`. With
        `timed_rounds` the results are rounds of the same seed: numbers from the
        first, training seconds the median of all, each round's kept; `warmup`
        holds the untimed rounds before them (counted in `work_seconds` only)."""
        from mnistperf.flops import macs_per_image, study_flops_per_image, training_flops

        if not isinstance(results, list):
            results = [results]
        if timed_rounds and len(results) > 1:
            record = cls.from_results(config, results[:1], seeds[:1], target)
            record.round_seconds = [_round(r.train_seconds) for r in results]
            median = statistics.median(r.train_seconds for r in results)
            record.train_seconds = _round(median)
            record.images_per_second = _round(results[0].images_trained / median, 2) \
                if median > 0 else None
            record.status = next((r.status for r in results if r.status != OK), OK)
            record.work_seconds = _round(sum(r.train_seconds + r.eval_seconds
                                             for r in [*warmup, *results]))
            return record
        seeds = seeds or [config.seed + i for i in range(len(results))]
        first = results[0]
        macs = macs_per_image(config.model, config.channels, config.input_size)
        ok = [r for r in results if r.status == OK]
        test, test_std = mean_std([r.test_accuracy for r in ok])
        official, official_std = mean_std([r.official_test_accuracy for r in ok])
        ttt = [time_to_target(r.val_accuracy, r.epoch_seconds, target) if target else None
               for r in results]
        reached = [t for t in ttt if t is not None]
        speeds = [r.images_per_second for r in results if r.images_per_second]
        return cls(
            **cls.config_fields(config), epochs_run=len(first.epoch_seconds),
            amp_dtype=first.amp_dtype, test_accuracy=_round(test),
            official_test_accuracy=_round(official),
            train_accuracy=[_round(v) for v in first.train_accuracy],
            val_accuracy=[_round(v) for v in first.val_accuracy],
            train_loss=[_round(v, 6) for v in first.train_loss],
            epoch_seconds=[_round(v) for v in first.epoch_seconds],
            train_seconds=_round(statistics.fmean(r.train_seconds for r in results)),
            eval_seconds=_round(statistics.fmean(r.eval_seconds for r in results)),
            input_seconds=_round(statistics.fmean(r.input_seconds for r in results)),
            macs_per_image=macs, flops_per_image=2 * macs,
            study_flops_per_image=study_flops_per_image(config.model, config.channels,
                                                        config.input_size),
            # ~3 forward passes per training image (see mnistperf.flops)
            train_flops_per_epoch=training_flops(config.model, config.channels,
                                                 config.input_size, config.train_size),
            params=first.params, torch_threads=first.torch_threads or None,
            images_per_second=_round(statistics.fmean(speeds), 2) if speeds else None,
            peak_memory_mb=_round(max(r.peak_memory_mb for r in results), 1),
            target_accuracy=target,
            time_to_target_seconds=_round(statistics.fmean(reached)) if reached else None,
            checkpoints={epoch: {k: _round(v) for k, v in values.items()}
                         for epoch, values in first.checkpoints.items()},
            repeats=len(results), seeds=seeds,
            test_accuracy_std=_round(test_std), official_test_accuracy_std=_round(official_std),
            seed_test_accuracy=[_round(r.test_accuracy) for r in results],
            seed_official_test_accuracy=[_round(r.official_test_accuracy) for r in results],
            seed_val_accuracy=[[_round(v) for v in r.val_accuracy] for r in results],
            seed_time_to_target_seconds=[_round(t) for t in ttt],
            status=next((r.status for r in results if r.status != OK), OK),
            message="; ".join(r.message for r in results if r.message),
        )


@dataclass(kw_only=True)
class SvmRecord(Record):
    """An SVM case (kind 'svm'): the benchmark times the fit."""

    KIND: ClassVar[str] = "svm"
    kernel: str
    backend: str
    C: float = 1.0
    gamma: str | float = "scale"
    degree: int = 3
    train_size: int
    test_size: int
    fit_seconds: float | None = None
    predict_seconds: float | None = None
    test_accuracy: float | None = None
    train_accuracy: float | None = None  # on its own training images (the study's likely figure)
    n_support: int | None = None
    peak_memory_mb: float | None = None

    @property
    def measured_seconds(self) -> float:
        return (self.fit_seconds or 0) + (self.predict_seconds or 0)

    @staticmethod
    def config_fields(config: "SvmConfig") -> dict:
        """The fields an SvmConfig fixes, for every record of it (failed ones too)."""
        return dict(case_id=config.case_id, experiment="svm", dataset=config.dataset,
                    kernel=config.kernel, backend=config.backend, device=config.device,
                    C=config.C, gamma=config.gamma, degree=config.degree, seed=config.seed,
                    profile=config.profile, train_size=config.train_size,
                    test_size=config.test_size)

    @classmethod
    def from_fit(cls, config: "SvmConfig", fitted: "FittedSvm",
                 result: "SvmResult") -> "SvmRecord":
        return cls(
            **cls.config_fields(config),
            fit_seconds=_round(fitted.fit_seconds),
            predict_seconds=_round(result.predict_seconds),
            test_accuracy=_round(result.test_accuracy),
            train_accuracy=_round(result.train_accuracy), n_support=fitted.n_support,
            peak_memory_mb=_round(max(fitted.peak_memory_mb, result.peak_memory_mb), 1),
        )


@dataclass(kw_only=True)
class PipelineRecord(Record):
    """A pipeline-comparison case (kind 'pipeline'): throughput, no accuracy."""

    KIND: ClassVar[str] = "pipeline"
    pipeline: str
    model: str
    batch_size: int
    optimizer: str
    lr: float
    amp: bool = False
    compile: str = ""
    loader: str = "tensor"
    num_workers: int = 0
    pin_memory: bool = False
    input_size: int = 28
    channels: int = 1
    steps: int
    warmup_steps: int = 0
    images: int | None = None
    seconds: float | None = None
    warmup_seconds: float | None = None
    input_seconds: float | None = None
    images_per_second: float | None = None
    final_loss: float | None = None
    peak_memory_mb: float | None = None
    round_images_per_second: list = field(default_factory=list)  # each timed round
    # timed and warm-up steps of every round, the warm-up round included
    work_seconds: float | None = None
    torch_threads: int | None = None  # intra-op threads it trained with

    def __post_init__(self):
        if self.pipeline == "seed":  # records written before 0.2 named the study's pipeline so
            self.pipeline = "study"

    @property
    def measured_seconds(self) -> float:
        if self.work_seconds is not None:
            return self.work_seconds
        # timed steps and the warm-up steps before them (training work too)
        return (self.seconds or 0.0) + (self.warmup_seconds or 0.0)

    @staticmethod
    def config_fields(case: "PipelineConfig") -> dict:
        """The fields a PipelineConfig fixes (but `steps`), for every record of it."""
        t = case.train
        return dict(case_id=case.case_id, experiment="pipeline", pipeline=case.pipeline,
                    dataset=t.dataset, model=t.model, batch_size=t.batch_size,
                    optimizer=t.optimizer, lr=t.lr, device=t.device, amp=t.amp,
                    compile=t.compile, loader=t.loader, num_workers=t.num_workers,
                    pin_memory=t.pin_memory, input_size=t.input_size, channels=t.channels,
                    seed=t.seed, profile=t.profile, warmup_steps=case.warmup)

    @classmethod
    def from_result(cls, case: "PipelineConfig",
                    result: "ThroughputResult | list[ThroughputResult]",
                    warmup: list = ()) -> "PipelineRecord":
        """One result, or the timed rounds of the same steps: the median round
        (by images/s) gives the numbers, every round's images/s is kept; `warmup`
        holds untimed rounds before them (counted in `work_seconds` only)."""
        rounds = result if isinstance(result, list) else [result]
        result = sorted(rounds, key=lambda r: r.images_per_second or 0)[len(rounds) // 2]
        return cls(
            **cls.config_fields(case), steps=result.steps,
            round_images_per_second=[_round(r.images_per_second, 2) for r in rounds],
            work_seconds=_round(sum(r.seconds + r.warmup_seconds
                                    for r in [*warmup, *rounds])),
            torch_threads=result.torch_threads or None,
            images=result.images, seconds=_round(result.seconds),
            warmup_seconds=_round(result.warmup_seconds),
            input_seconds=_round(result.input_seconds),
            images_per_second=_round(result.images_per_second, 2),
            final_loss=_round(result.final_loss, 6), peak_memory_mb=_round(result.peak_memory_mb, 1),
            status=next((r.status for r in rounds if r.status != OK), OK),
        )


RECORD_TYPES = {cls.KIND: cls for cls in (TrainRecord, SvmRecord, PipelineRecord)}


def failure_record(config, status: str, message: str) -> Record:
    """The record of a case that ended without results of its own (an exception,
    out of memory, an interrupt): its configuration and its status."""
    from mnistperf.config import PipelineConfig, SvmConfig

    common = dict(status=status, message=message)
    if isinstance(config, SvmConfig):
        return SvmRecord(**SvmRecord.config_fields(config), **common)
    if isinstance(config, PipelineConfig):
        return PipelineRecord(**PipelineRecord.config_fields(config), steps=config.steps,
                              **common)
    return TrainRecord(**TrainRecord.config_fields(config), epochs_run=0, **common)


def is_record(info) -> bool:
    """Whether a benchmark's extra_info is an mnistperf case at all."""
    return isinstance(info, dict) and "kind" in info


def record_from_extra_info(info: dict) -> Record:
    """The typed record of one benchmark's extra_info; RecordError names what is wrong."""
    if not isinstance(info, dict):
        raise RecordError(f"extra_info is a {type(info).__name__}, not an object")
    cls = RECORD_TYPES.get(info.get("kind"))
    if cls is None:
        raise RecordError(f"case {info.get('case_id', '?')}: unknown kind {info.get('kind')!r}; "
                          f"known: {', '.join(RECORD_TYPES)}")
    try:
        return cls.from_extra_info(info)
    except RecordError:
        raise
    except (TypeError, ValueError, AttributeError) as exc:  # a value of the wrong shape
        raise RecordError(f"case {info.get('case_id', '?')}: a value has the wrong type "
                          f"({type(exc).__name__}: {exc})") from None
