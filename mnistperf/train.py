"""Training and evaluation: one loop for every device.

    batches = make_batches(config, root, device)      # TensorBatches or LoaderBatches
    result = train(config, batches, device, progress=print)
    result.test_accuracy, result.val_accuracy, result.status

SGD and Adam take the config's optimizer options (momentum: the study does not
state it), else torch's defaults. AMP: fp16 autocast with a GradScaler on CUDA;
on a CPU, `amp=True` means bf16 autocast (no scaler needed), and no profile
turns it on there. Each epoch records train loss, train accuracy (on the fly,
in train mode), validation accuracy and seconds; at the end the model is
evaluated on the split's test part and on the official test set. A NaN or inf
loss ends training with status "diverged" instead of an exception.

Timing: before the first epoch, one untimed warm-up step per batch shape
(`warmup_seconds`, see mnistperf.warmup: autotuning, compilation and lazy
initialisation are visible there, not in `train_seconds`; the trained result is
the same as without it). `train_seconds` covers the optimisation steps only,
`eval_seconds` all evaluation; both are read after a device synchronise.
`input_seconds` is the host time spent waiting for the input path's next batch
(inside train_seconds), `copy_seconds` the host-to-device copy after it, timed
apart (DataLoader path; on the tensor path batches are made on the device).
Peak memory: `peak_memory_mb` over the training epochs only (reset after the
warm-up), `eval_peak_memory_mb` over evaluation. On CUDA, Adam and SGD use
their fused implementations where torch has them (`fused_optimizer`). With
`checkpoint_epochs`, the test sets are also evaluated after those epochs
(evaluation draws no random numbers, so the training that follows is
unchanged). Seeds make a CPU run
repeatable (same seed, same thread count -> same numbers). On a CPU, a case
with DataLoader workers trains with one torch thread fewer per worker
(`timing.loader_threads`), restored after. A fixed number of steps for their
images per second is mnistperf.throughput's.
"""

from __future__ import annotations

import inspect
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from mnistperf.config import TrainConfig
from mnistperf.models import count_params, make_model
from mnistperf.timing import (DeviceClock, PeakMemory, autotunes, cudnn_autotuning,
                              loader_threads, torch_threads)
from mnistperf.warmup import warm_up

# Check the loss for NaN/inf every this many steps: each check is a host sync on
# CUDA, so not every step, but often enough that a diverged run stops early.
DIVERGENCE_CHECK_STEPS = 50
# Within an epoch, a progress line at most this often.
PROGRESS_SECONDS = 10.0


@dataclass
class RunResult:
    status: str = "ok"
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    test_accuracy: float | None = None
    official_test_accuracy: float | None = None
    # epoch -> {"test_accuracy": ..., "official_test_accuracy": ...} for checkpoint_epochs
    checkpoints: dict[int, dict[str, float]] = field(default_factory=dict)
    input_seconds: float = 0.0  # host time spent waiting for the next training batch
    copy_seconds: float = 0.0  # host time in its host-to-device copy (DataLoader path)
    warmup_seconds: float = 0.0  # the untimed warm-up steps (not in train_seconds)
    images_trained: int = 0
    params: int = 0
    peak_memory_mb: float = 0.0  # training epochs only (after the warm-up)
    eval_peak_memory_mb: float = 0.0
    fused_optimizer: bool = False
    cudnn_benchmark: bool = False
    amp_dtype: str | None = None
    message: str = ""
    torch_threads: int = 0  # intra-op threads it trained with (see timing.loader_threads)

    @property
    def images_per_second(self) -> float | None:
        if self.train_seconds <= 0:
            return None
        return self.images_trained / self.train_seconds


OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}


def fused_available(name: str, device: torch.device) -> bool:
    """Whether the optimizer runs fused on `device`: on CUDA, where this torch's
    class takes `fused` (Adam and SGD in every torch >= 2.3). One kernel for all
    parameters instead of several per tensor, and with a GradScaler no host sync
    per step: at batch 16 the paper case is 26,250 launch-bound steps. Never on a
    CPU, where the study's plain implementation is kept."""
    return (device.type == "cuda" and name in OPTIMIZERS
            and "fused" in inspect.signature(OPTIMIZERS[name]).parameters)


def make_optimizer(name: str, params, lr: float, options: dict | None = None,
                   fused: bool = False):
    """torch's optimizer `name` with `lr` and the case's optimizer options
    (config.OPTIMIZER_OPTIONS: momentum, weight_decay) as keywords; `fused` on CUDA
    (see fused_available)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer={name!r} is not supported; choose one of: "
                         + ", ".join(OPTIMIZERS))
    extra = {"fused": True} if fused else {}
    return OPTIMIZERS[name](params, lr=lr, **(options or {}), **extra)


def amp_dtype(config: TrainConfig, device: torch.device) -> torch.dtype | None:
    if not config.amp:
        return None
    return torch.float16 if device.type == "cuda" else torch.bfloat16


@torch.inference_mode()
def evaluate(model: nn.Module, batches, part: str, batch_size: int,
             device: torch.device, dtype: torch.dtype | None = None) -> float:
    """Accuracy in percent of `model` on one part of the split."""
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=device)
    total = 0
    for images, labels in batches.batches(part, batch_size):
        with torch.autocast(device_type=device.type, dtype=dtype or torch.float32,
                            enabled=dtype is not None):
            logits = model(images)
        correct += (logits.argmax(1) == labels).sum()
        total += len(labels)
    return 100.0 * correct.item() / max(total, 1)


class TrainSetup:
    """Model, optimizer, AMP and the training step for a config on a device.

    `step(images, labels) -> (loss, logits)` is one optimisation step. With
    `config.compile` the model's forward/backward runs through torch.compile
    with that backend; the optimizer step stays eager.
    """

    def __init__(self, config: TrainConfig, device: torch.device):
        model = make_model(config.model, in_channels=config.channels).to(device)
        if device.type == "cuda":
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        self.forward = torch.compile(model, backend=config.compile) if config.compile else model
        self.fused = fused_available(config.optimizer, device)
        self.optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr,
                                        dict(config.optimizer_options), fused=self.fused)
        self.dtype = amp_dtype(config, device)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.dtype == torch.float16)
        self.criterion = nn.CrossEntropyLoss()
        self.device = device

    def step(self, images, labels):
        with torch.autocast(device_type=self.device.type, dtype=self.dtype or torch.float32,
                            enabled=self.dtype is not None):
            logits = self.forward(images)
            loss = self.criterion(logits, labels)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss, logits


def next_batch(batch_iter, batches, result):
    """The next training batch on the device (None at the end), adding the wait for
    the input path to `result.input_seconds` and the host-to-device copy after it
    to `result.copy_seconds`.

    Apart, because a copy from pageable memory blocks the host until the queued
    steps finish: timed together, the previous step's backward and optimizer step
    counted as waiting for input. The wait needs no synchronise once the copy is
    apart (fetching never waits for the device), and a synchronise per step would
    take away the very overlap of copy and compute that pin_memory exists for."""
    started = time.perf_counter()
    batch = next(batch_iter, None)
    fetched = time.perf_counter()
    result.input_seconds += fetched - started
    if batch is None:
        return None
    batch = batches.to_device(batch)
    result.copy_seconds += time.perf_counter() - fetched
    return batch


def train(config: TrainConfig, batches, device: torch.device,
          progress: Callable[[str], None] | None = None,
          deadline: float | None = None,
          on_epoch: Callable[[int, dict], None] | None = None,
          warmup: bool = True) -> RunResult:
    """Train `config.model` on `batches` (TensorBatches or LoaderBatches).

    `deadline` (a time.perf_counter() value) ends training with status "timeout":
    the epochs finished by then are kept, the unfinished one is dropped.
    `on_epoch(epoch, {"loss", "train_accuracy", "val_accuracy", "seconds"})` is
    called after each epoch that is kept, with the numbers as floats.
    `warmup=False` skips the untimed warm-up step (for tests: same numbers)."""
    result = RunResult(torch_threads=loader_threads(config, device),
                       cudnn_benchmark=autotunes(device))
    memory = (PeakMemory(device), PeakMemory(device))  # training, evaluation
    with cudnn_autotuning(device), torch_threads(result.torch_threads):
        _train(config, batches, device, progress, result, deadline, memory, warmup, on_epoch)
    result.peak_memory_mb, result.eval_peak_memory_mb = memory[0].mb, memory[1].mb
    return result


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.perf_counter() > deadline


class _Run:
    """One training run in progress: the model and its step, the batch order, the
    result being filled, and where to report progress."""

    def __init__(self, config, batches, device, progress, result: RunResult, deadline,
                 memory: tuple, warmup: bool = True, on_epoch=None):
        torch.manual_seed(config.seed)
        self.setup = TrainSetup(config, device)
        self.config, self.batches, self.device = config, batches, device
        self.progress = progress or (lambda message: None)
        self.result, self.deadline = result, deadline
        # Peak memory in two windows: the training epochs and the evaluations.
        self.train_memory, self.eval_memory = memory
        self.on_epoch = on_epoch or (lambda epoch, values: None)
        result.params = count_params(self.setup.model)
        result.fused_optimizer = self.setup.fused
        if warmup:  # before the order generator and the clocks: nothing of it counts
            result.warmup_seconds = warm_up(self.setup, batches, config)
            self.progress(f"warm-up {result.warmup_seconds:.1f}s (untimed; state restored)")
        self.order = torch.Generator().manual_seed(config.seed + 1)
        self.steps_per_epoch = -(-config.train_size // config.batch_size)
        self.last_line = time.perf_counter()
        dtype = self.setup.dtype
        result.amp_dtype = str(dtype).replace("torch.", "") if dtype else None

    def evaluate(self, part: str) -> float:
        return evaluate(self.setup.model, self.batches, part, self.config.eval_batch_size,
                        self.device, self.setup.dtype)

    def test_accuracies(self) -> dict[str, float]:
        return {"test_accuracy": self.evaluate("test"),
                "official_test_accuracy": self.evaluate("official_test")}

    def epoch(self, epoch: int) -> tuple[float, int, int]:
        """Train one epoch: (its seconds, images seen, correct predictions); the loss
        sum stays in `self.loss_sum`. Stops early on a non-finite loss
        (checked every DIVERGENCE_CHECK_STEPS) or past the deadline (status timeout)."""
        config, result, device = self.config, self.result, self.device
        self.setup.model.train()
        self.loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        seen = step = 0
        with self.train_memory, DeviceClock(device) as clock:
            batch_iter = self.batches.fetch("train", config.batch_size, shuffle=True,
                                            generator=self.order)
            while True:
                batch = next_batch(batch_iter, self.batches, result)
                if batch is None:
                    break
                images, labels = batch
                loss, logits = self.setup.step(images, labels)
                self.loss_sum += loss.detach() * len(labels)
                correct += (logits.detach().argmax(1) == labels).sum()
                seen += len(labels)
                if step % DIVERGENCE_CHECK_STEPS == 0 and not torch.isfinite(loss).item():
                    break
                if _past(self.deadline):
                    result.status = "timeout"
                    break
                step += 1
                self._say_step(epoch, step, loss, clock)
        return clock.seconds, seen, int(correct.item())

    def _say_step(self, epoch: int, step: int, loss, clock) -> None:
        # A long epoch says where it is (reading the loss syncs the device, once per
        # PROGRESS_SECONDS only).
        if time.perf_counter() - self.last_line >= PROGRESS_SECONDS:
            self.last_line = time.perf_counter()
            self.progress(f"epoch {epoch}/{self.config.epochs} step {step}/"
                          f"{self.steps_per_epoch} loss {loss.item():.4f} "
                          f"{clock.elapsed():.0f}s")

    def stop(self, status: str, message: str) -> bool:
        self.result.status, self.result.message = status, message
        self.progress(message)
        return True

    def end_epoch(self, epoch: int, seconds: float, seen: int, correct: int) -> bool:
        """Record a finished epoch and evaluate it; True when training must stop
        (timeout, divergence)."""
        config, result = self.config, self.result
        result.train_seconds += seconds
        if result.status == "timeout":
            return self.stop("timeout", f"timeout during epoch {epoch}; {epoch - 1} of "
                                        f"{config.epochs} epochs finished and kept")
        result.epoch_seconds.append(seconds)
        result.images_trained += seen
        epoch_loss = self.loss_sum.item() / max(seen, 1)
        result.train_loss.append(epoch_loss)
        result.train_accuracy.append(100.0 * correct / max(seen, 1))
        if not math.isfinite(epoch_loss):
            result.status, result.message = "diverged", f"loss became {epoch_loss} in epoch {epoch}"
            self.progress(f"epoch {epoch}/{config.epochs} diverged (loss {epoch_loss})")
            return True
        with self.eval_memory, DeviceClock(self.device) as eval_clock:
            val = self.evaluate("val")
            if epoch in config.checkpoint_epochs and epoch != config.epochs:
                result.checkpoints[epoch] = self.test_accuracies()
        result.eval_seconds += eval_clock.seconds
        result.val_accuracy.append(val)
        self.on_epoch(epoch, {"loss": epoch_loss, "train_accuracy": result.train_accuracy[-1],
                              "val_accuracy": val, "seconds": seconds})
        self.progress(f"epoch {epoch}/{config.epochs} loss {epoch_loss:.4f} "
                      f"train {result.train_accuracy[-1]:.2f}% val {val:.2f}% "
                      f"{seconds:.1f}s")
        if epoch < config.epochs and _past(self.deadline):
            return self.stop("timeout", f"timeout after epoch {epoch}; {epoch} of "
                                        f"{config.epochs} epochs kept")
        return False

    def finish(self) -> None:
        """The test sets, after the last epoch of a run that ended ok."""
        result = self.result
        with self.eval_memory, DeviceClock(self.device) as eval_clock:
            final = self.test_accuracies()
        result.eval_seconds += eval_clock.seconds
        result.test_accuracy = final["test_accuracy"]
        result.official_test_accuracy = final["official_test_accuracy"]
        if self.config.epochs in self.config.checkpoint_epochs:
            result.checkpoints[self.config.epochs] = final
        self.progress(f"test {result.test_accuracy:.2f}% official test "
                      f"{result.official_test_accuracy:.2f}%")


def _train(config, batches, device, progress, result: RunResult, deadline, memory,
           warmup, on_epoch=None) -> None:
    run = _Run(config, batches, device, progress, result, deadline, memory, warmup, on_epoch)
    for epoch in range(1, config.epochs + 1):
        if run.end_epoch(epoch, *run.epoch(epoch)):
            break
    if result.status == "ok":
        run.finish()
