"""A finished case's record: the one place that turns a config and its result
into the contract's `extra_info` dict (see DESIGN.md, "extra_info keys").

    info = train_record(config, result)      # or svm_record(config, fitted, result)
    benchmark.extra_info.update(info)

Independent of pytest-benchmark, so per-case records on disk and a Ray
dispatcher can build the same dict.
"""

from __future__ import annotations

import statistics

from mnistperf.config import PipelineConfig, SvmConfig, TrainConfig
from mnistperf.analysis import mean_std, time_to_target
from mnistperf.flops import macs_per_image, training_flops
from mnistperf.svm import FittedSvm, SvmResult
from mnistperf.train import RunResult, ThroughputResult

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


def train_record(config: TrainConfig, results: RunResult | list[RunResult],
                 seeds: list[int] | None = None, target: float | None = None) -> dict:
    """Every contract key for a training case, plus a few that explain it.

    With several results (repeats, one per seed) the headline numbers are means
    over the seeds, `*_std` their sample standard deviation, and the `seed_*`
    lists keep every seed's value; curves are the first seed's. `target` is the
    validation accuracy for `time_to_target_seconds`.
    """
    if isinstance(results, RunResult):
        results = [results]
    seeds = seeds or [config.seed + i for i in range(len(results))]
    first = results[0]
    macs = macs_per_image(config.model, config.channels, config.input_size)
    ok = [r for r in results if r.status == "ok"]
    test, test_std = mean_std([r.test_accuracy for r in ok])
    official, official_std = mean_std([r.official_test_accuracy for r in ok])
    ttt = [time_to_target(r.val_accuracy, r.epoch_seconds, target) if target else None
           for r in results]
    reached = [t for t in ttt if t is not None]
    train_seconds = statistics.fmean(r.train_seconds for r in results)
    images_per_second = [r.images_per_second for r in results if r.images_per_second]
    return {
        "kind": "resnet",
        "case_id": config.case_id,
        "experiment": config.experiment,
        "dataset": config.dataset,
        "model": config.model,
        "batch_size": config.batch_size,
        "optimizer": config.optimizer,
        "lr": config.lr,
        "momentum": config.momentum if config.optimizer == "sgd" else None,
        "epochs": config.epochs,
        "epochs_run": len(first.epoch_seconds),
        "device": config.device,
        "amp": config.amp,
        "amp_dtype": first.amp_dtype,
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
        "test_accuracy": _round(test),
        "official_test_accuracy": _round(official),
        "train_accuracy": [_round(v) for v in first.train_accuracy],
        "val_accuracy": [_round(v) for v in first.val_accuracy],
        "train_loss": [_round(v, 6) for v in first.train_loss],
        "epoch_seconds": [_round(v) for v in first.epoch_seconds],
        "train_seconds": _round(train_seconds),
        "eval_seconds": _round(statistics.fmean(r.eval_seconds for r in results)),
        "input_seconds": _round(statistics.fmean(r.input_seconds for r in results)),
        "macs_per_image": macs,
        "flops_per_image": 2 * macs,
        # ~3 forward passes per training image (see mnistperf.flops)
        "train_flops_per_epoch": training_flops(config.model, config.channels,
                                                config.input_size, config.train_size),
        "params": first.params,
        "images_per_second": _round(statistics.fmean(images_per_second), 2)
        if images_per_second else None,
        "peak_memory_mb": _round(max(r.peak_memory_mb for r in results), 1),
        "compile": config.compile,
        "target_accuracy": target,
        "time_to_target_seconds": _round(statistics.fmean(reached)) if reached else None,
        "checkpoints": {str(epoch): {k: _round(v) for k, v in values.items()}
                        for epoch, values in first.checkpoints.items()},
        "repeats": len(results),
        "seeds": seeds,
        "test_accuracy_std": _round(test_std),
        "official_test_accuracy_std": _round(official_std),
        "seed_test_accuracy": [_round(r.test_accuracy) for r in results],
        "seed_official_test_accuracy": [_round(r.official_test_accuracy) for r in results],
        "seed_val_accuracy": [[_round(v) for v in r.val_accuracy] for r in results],
        "seed_time_to_target_seconds": [_round(t) for t in ttt],
        "status": next((r.status for r in results if r.status != "ok"), "ok"),
        "message": "; ".join(r.message for r in results if r.message),
    }


SVM_KEYS = (
    "kind", "dataset", "kernel", "backend", "C", "gamma", "degree", "train_size",
    "test_size", "fit_seconds", "predict_seconds", "test_accuracy", "peak_memory_mb", "status",
)


def svm_record(config: SvmConfig, fitted: FittedSvm, result: SvmResult) -> dict:
    """Every contract key for an SVM case."""
    return {
        "kind": "svm",
        "case_id": config.case_id,
        "experiment": "svm",
        "dataset": config.dataset,
        "kernel": config.kernel,
        "backend": config.backend,
        "device": config.device,
        "C": config.C,
        "gamma": config.gamma,
        "degree": config.degree,
        "seed": config.seed,
        "profile": config.profile,
        "train_size": config.train_size,
        "test_size": config.test_size,
        "fit_seconds": _round(fitted.fit_seconds),
        "predict_seconds": _round(result.predict_seconds),
        "test_accuracy": _round(result.test_accuracy),
        "n_support": fitted.n_support,
        "peak_memory_mb": _round(max(fitted.peak_memory_mb, result.peak_memory_mb), 1),
        "status": "ok",
    }


def pipeline_record(case: PipelineConfig, result: ThroughputResult) -> dict:
    """The record of a pipeline-comparison case (kind 'pipeline': no accuracy)."""
    t = case.train
    return {
        "kind": "pipeline",
        "case_id": case.case_id,
        "experiment": "pipeline",
        "pipeline": case.pipeline,
        "dataset": t.dataset,
        "model": t.model,
        "batch_size": t.batch_size,
        "optimizer": t.optimizer,
        "lr": t.lr,
        "device": t.device,
        "amp": t.amp,
        "compile": t.compile,
        "loader": t.loader,
        "num_workers": t.num_workers,
        "pin_memory": t.pin_memory,
        "input_size": t.input_size,
        "channels": t.channels,
        "seed": t.seed,
        "profile": t.profile,
        "steps": result.steps,
        "warmup_steps": case.warmup,
        "images": result.images,
        "seconds": _round(result.seconds),
        "warmup_seconds": _round(result.warmup_seconds),
        "input_seconds": _round(result.input_seconds),
        "images_per_second": _round(result.images_per_second, 2),
        "final_loss": _round(result.final_loss, 6),
        "peak_memory_mb": _round(result.peak_memory_mb, 1),
        "status": result.status,
    }
