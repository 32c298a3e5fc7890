"""A finished case's record: the one place that turns a config and its result
into the contract's `extra_info` dict (see DESIGN.md, "extra_info keys").

    info = train_record(config, result)
    benchmark.extra_info.update(info)

Independent of pytest-benchmark, so per-case records on disk and a Ray
dispatcher can build the same dict.
"""

from __future__ import annotations

from mnistperf.config import TrainConfig
from mnistperf.flops import macs_per_image
from mnistperf.train import RunResult

TRAIN_KEYS = (
    "kind", "dataset", "model", "batch_size", "optimizer", "lr", "epochs", "device",
    "amp", "pin_memory", "loader", "input_size", "seed", "profile", "train_size",
    "val_size", "test_size", "test_accuracy", "official_test_accuracy", "train_accuracy",
    "val_accuracy", "train_loss", "epoch_seconds", "train_seconds", "eval_seconds",
    "macs_per_image", "flops_per_image", "params", "images_per_second", "peak_memory_mb",
    "status",
)


def _round(value, digits=4):
    return None if value is None else round(float(value), digits)


def train_record(config: TrainConfig, result: RunResult) -> dict:
    """Every contract key for a training case, plus a few that explain it."""
    macs = macs_per_image(config.model, config.channels, config.input_size)
    return {
        "kind": "resnet",
        "case_id": config.case_id,
        "experiment": "-".join(config.extra_tokens) or "grid",
        "dataset": config.dataset,
        "model": config.model,
        "batch_size": config.batch_size,
        "optimizer": config.optimizer,
        "lr": config.lr,
        "momentum": config.momentum if config.optimizer == "sgd" else None,
        "epochs": config.epochs,
        "epochs_run": len(result.epoch_seconds),
        "device": config.device,
        "amp": config.amp,
        "amp_dtype": result.amp_dtype,
        "pin_memory": config.pin_memory,
        "loader": config.loader,
        "num_workers": config.num_workers,
        "input_size": config.input_size,
        "channels": config.channels,
        "seed": config.seed,
        "profile": config.profile,
        "train_size": config.train_size,
        "val_size": config.val_size,
        "test_size": config.test_size,
        "official_test_size": config.official_test_size,
        "test_accuracy": _round(result.test_accuracy),
        "official_test_accuracy": _round(result.official_test_accuracy),
        "train_accuracy": [_round(v) for v in result.train_accuracy],
        "val_accuracy": [_round(v) for v in result.val_accuracy],
        "train_loss": [_round(v, 6) for v in result.train_loss],
        "epoch_seconds": [_round(v) for v in result.epoch_seconds],
        "train_seconds": _round(result.train_seconds),
        "eval_seconds": _round(result.eval_seconds),
        "macs_per_image": macs,
        "flops_per_image": 2 * macs,
        "params": result.params,
        "images_per_second": _round(result.images_per_second, 2),
        "peak_memory_mb": _round(result.peak_memory_mb, 1),
        "status": result.status,
        "message": result.message,
    }

