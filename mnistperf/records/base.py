"""What every record shares: the `Record` base, the one definition of case
statuses, the contract's extra_info keys and `RecordError`. The kinds of record
are in the sibling modules; `mnistperf.records` gathers them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

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


def round_or_none(value, digits=4):
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
    # cores during the case (see mnistperf.timing.Load).
    cpu_seconds: float | None = None
    load_average: float | None = None
    contended: bool = False
    timing_shared: bool = False  # dispatched with a fraction of a GPU: timing not comparable
    # Where the numbers come from when not measured by this run: "" for a case this
    # harness ran; for the study's published figures, e.g. "the study, Table 4
    # (versions 1 and 2)". `flags`: the source's own inconsistencies, shown with it.
    source: str = ""
    flags: list = dataclasses.field(default_factory=list)
    # An oom case: MiB in use when it failed (CUDA: allocated, reserved, peak, free,
    # total; CPU: rss), read before its memory was freed (mnistperf.oom).
    memory_at_failure_mb: dict = dataclasses.field(default_factory=dict)

    # The fields that make two records "the same configuration" whatever their size
    # (a run's case and the study's figure for it; see `budget`).
    MATCH_KEYS: ClassVar[tuple[str, ...]] = ("experiment", "dataset", "device")

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
    def budget(self) -> dict:
        """How much this case trained on: what must match before its numbers can be
        held against another's of the same configuration (the study's, say)."""
        raise NotImplementedError

    def budget_text(self) -> str:
        return ", ".join(f"{v:,} {k}" if isinstance(v, int) else f"{v}"
                         for k, v in self.budget.items())

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

