"""The record of an input-pipeline case (kind 'pipeline'): throughput, no accuracy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from mnistperf.records.base import OK, Record
from mnistperf.records.base import round_or_none as _round

if TYPE_CHECKING:
    from mnistperf.config import PipelineConfig
    from mnistperf.throughput import ThroughputResult


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
    copy_seconds: float | None = None  # host-to-device copies, timed apart from input_seconds
    images_per_second: float | None = None
    final_loss: float | None = None
    peak_memory_mb: float | None = None
    fused_optimizer: bool | None = None  # torch's fused Adam/SGD (CUDA only)
    round_images_per_second: list = field(default_factory=list)  # each timed round
    # timed and warm-up steps of every round, the warm-up round included
    work_seconds: float | None = None
    torch_threads: int | None = None  # intra-op threads it trained with

    MATCH_KEYS: ClassVar[tuple[str, ...]] = (
        "experiment", "dataset", "model", "batch_size", "pipeline", "device")

    @property
    def budget(self) -> dict:
        return {"steps": self.steps, "input": f"{self.input_size}x{self.input_size}x{self.channels}"}

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
        return dict(case_id=case.case_id, experiment=t.experiment, pipeline=case.pipeline,
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
            copy_seconds=_round(result.copy_seconds), fused_optimizer=result.fused_optimizer,
            images_per_second=_round(result.images_per_second, 2),
            final_loss=_round(result.final_loss, 6), peak_memory_mb=_round(result.peak_memory_mb, 1),
            status=next((r.status for r in rounds if r.status != OK), OK),
        )

