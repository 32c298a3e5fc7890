"""The record of an SVM case (kind 'svm'), built from a fit and its evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from mnistperf.records.base import Record
from mnistperf.records.base import round_or_none as _round

if TYPE_CHECKING:
    from mnistperf.config import SvmConfig
    from mnistperf.svm import FittedSvm, SvmResult


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
    train_accuracy: float | None = None  # on its own training images
    # On all 60,000 official training images (the three split parts): the study's
    # likely scoring (its figures are whole counts of 60,000). Only when the SVM is
    # fit on the full training part, as the study's was; None otherwise.
    all_train_accuracy: float | None = None
    n_support: int | None = None
    peak_memory_mb: float | None = None

    MATCH_KEYS: ClassVar[tuple[str, ...]] = ("experiment", "dataset", "kernel", "backend")

    @property
    def budget(self) -> dict:
        return {"images": self.train_size}

    @property
    def measured_seconds(self) -> float:
        return (self.fit_seconds or 0) + (self.predict_seconds or 0)

    @staticmethod
    def config_fields(config: "SvmConfig") -> dict:
        """The fields an SvmConfig fixes, for every record of it (failed ones too)."""
        return dict(case_id=config.case_id, experiment=config.experiment, dataset=config.dataset,
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
            train_accuracy=_round(result.train_accuracy),
            all_train_accuracy=_round(result.all_train_accuracy), n_support=fitted.n_support,
            peak_memory_mb=_round(max(fitted.peak_memory_mb, result.peak_memory_mb), 1),
        )

