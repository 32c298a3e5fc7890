"""SVMs with RBF and polynomial kernels on flattened pixels, two backends.

    data = svm_data(config, split)              # float32 [n, 784] in [0, 1]
    fitted = fit_svm(make_svc(config), data)   # the timed part: SVC.fit
    result = evaluate_svm(fitted, data)        # accuracy, predict seconds
    record = SvmRecord.from_fit(config, fitted, result)   # mnistperf.records

Features are the raw pixels flattened and divided by 255, so every feature
lies in [0, 1] and gamma='scale' (1 / (n_features * X.var())) adapts to the
data; no standardisation, which would blow up the many always-zero border
pixels. Hyperparameters default to scikit-learn SVC's (C=1, gamma='scale',
degree=3); the study does not state its own.

Backends: `sklearn` is scikit-learn's libsvm SVC (single-threaded);
`sklearnex` is scikit-learn-intelex's SVC (oneDAL, multi-threaded), same
estimator API, installed by the optional extra `.[fast-svm]`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mnistperf.config import SVM_BACKENDS, ConfigError, SvmConfig
from mnistperf.data import Split
from mnistperf.timing import DeviceClock, PeakMemory

CPU = torch.device("cpu")


class BackendUnavailable(RuntimeError):
    """The backend's package is not installed."""


def svc_class(backend: str):
    if backend == "sklearn":
        from sklearn.svm import SVC

        return SVC
    if backend == "sklearnex":
        try:
            from sklearnex.svm import SVC
        except ImportError as exc:
            raise BackendUnavailable(
                f"backend 'sklearnex' needs scikit-learn-intelex ({exc}); install the "
                f"extra: pip install -e '.[fast-svm]'") from None
        return SVC
    raise ConfigError(f"backend={backend!r} is not supported; choose one of: "
                      + ", ".join(SVM_BACKENDS))


@dataclass(frozen=True)
class SvmData:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    # All 60,000 official training images (every split part), when the config asks
    # for the study's likely scoring; None otherwise.
    x_all: np.ndarray | None = None
    y_all: np.ndarray | None = None


def flatten(images_u8: torch.Tensor) -> np.ndarray:
    """uint8 [n, 28, 28] -> float32 [n, 784] in [0, 1]."""
    return images_u8.reshape(len(images_u8), -1).numpy().astype(np.float32) / 255.0


def svm_data(config: SvmConfig, split: Split) -> SvmData:
    """The profile's train part and the split's test part, as flat pixel arrays."""
    train, test = split.train, split.test
    if config.train_size > len(train) or config.test_size > len(test):
        raise ConfigError(f"{config.case_id} asks for {config.train_size}/{config.test_size} "
                          f"images, the split has {len(train)}/{len(test)}")
    everything = (split.train, split.val, split.test)
    return SvmData(
        x_train=flatten(train.images[:config.train_size]),
        y_train=train.labels[:config.train_size].numpy(),
        x_test=flatten(test.images[:config.test_size]),
        y_test=test.labels[:config.test_size].numpy(),
        x_all=(np.concatenate([flatten(p.images) for p in everything])
               if config.score_all_training_images else None),
        y_all=(np.concatenate([p.labels.numpy() for p in everything])
               if config.score_all_training_images else None),
    )


@dataclass
class FittedSvm:
    model: object
    fit_seconds: float
    peak_memory_mb: float
    n_support: int


@dataclass
class SvmResult:
    test_accuracy: float
    predict_seconds: float
    predictions: np.ndarray
    peak_memory_mb: float
    # On the images the SVM was fit on, shown beside the held-out headline.
    train_accuracy: float | None = None
    # On all 60,000 official training images, fit images included: what the study's
    # SVM figures most likely are (whole counts only out of 60,000).
    all_train_accuracy: float | None = None


def make_svc(config: SvmConfig):
    return svc_class(config.backend)(kernel=config.kernel, C=config.C, gamma=config.gamma,
                                     degree=config.degree)


def fit_svm(model, data: SvmData) -> FittedSvm:
    """Fit an unfitted SVC (from make_svc, which also does the backend's imports,
    so they stay out of the timed region)."""
    with PeakMemory(CPU) as memory, DeviceClock(CPU) as clock:
        model.fit(data.x_train, data.y_train)
    return FittedSvm(model=model, fit_seconds=clock.seconds, peak_memory_mb=memory.mb,
                     n_support=int(np.sum(model.n_support_)))


def evaluate_svm(fitted: FittedSvm, data: SvmData) -> SvmResult:
    with PeakMemory(CPU) as memory, DeviceClock(CPU) as clock:
        predictions = fitted.model.predict(data.x_test)
    accuracy = 100.0 * float(np.mean(predictions == data.y_test))
    # Untimed: predict_seconds stays the held-out test set's.
    train_accuracy = _accuracy(fitted, data.x_train, data.y_train)
    return SvmResult(test_accuracy=accuracy, predict_seconds=clock.seconds,
                     predictions=predictions, peak_memory_mb=memory.mb,
                     train_accuracy=train_accuracy,
                     all_train_accuracy=None if data.x_all is None else
                     _accuracy(fitted, data.x_all, data.y_all))


def _accuracy(fitted: FittedSvm, x: np.ndarray, y: np.ndarray) -> float:
    return 100.0 * float(np.mean(fitted.model.predict(x) == y))
