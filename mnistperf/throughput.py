"""Images per second of a fixed number of training steps: what the pipeline
experiment measures, the study's input path against the harness's.

    result = measure_throughput(config, batches, device, steps=40, warmup=1)
    result.images_per_second, result.input_seconds, result.copy_seconds
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from mnistperf.config import TrainConfig
from mnistperf.timing import DeviceClock, PeakMemory, cudnn_autotuning
from mnistperf.train import TrainSetup, next_batch


@dataclass
class ThroughputResult:
    steps: int = 0
    images: int = 0
    seconds: float = 0.0
    warmup_seconds: float = 0.0
    input_seconds: float = 0.0
    copy_seconds: float = 0.0
    final_loss: float | None = None
    peak_memory_mb: float = 0.0  # the timed steps only
    fused_optimizer: bool = False
    status: str = "ok"
    torch_threads: int = 0  # intra-op threads it trained with (all of torch's)

    @property
    def images_per_second(self) -> float | None:
        return self.images / self.seconds if self.seconds > 0 else None


def measure_throughput(config: TrainConfig, batches, device: torch.device, steps: int,
                       warmup: int = 2) -> ThroughputResult:
    """Images/s of `steps` training steps after `warmup` untimed ones, drawing
    batches from one shuffled pass over the training part. Warm-up absorbs the
    one-off costs (DataLoader worker start, cuDNN autotuning, lazy init), so the
    figure is the steady state of each pipeline."""
    # Unlike train(), all of torch's threads: this compares the study's pipeline as
    # it runs (its workers competing with the training threads) against the harness's.
    with cudnn_autotuning(device):
        result = _measure_throughput(config, batches, device, steps, warmup)
    result.torch_threads = torch.get_num_threads()
    return result


def _measure_throughput(config, batches, device, steps, warmup) -> ThroughputResult:
    torch.manual_seed(config.seed)
    setup = TrainSetup(config, device)
    setup.model.train()
    order = torch.Generator().manual_seed(config.seed + 1)
    batch_iter = batches.fetch("train", config.batch_size, shuffle=True, generator=order)
    result = ThroughputResult(fused_optimizer=setup.fused)
    with DeviceClock(device) as warmup_clock:
        for _ in range(warmup):
            setup.step(*batches.to_device(next(batch_iter)))
    with PeakMemory(device) as memory, DeviceClock(device) as clock:
        for _ in range(steps):
            images, labels = next_batch(batch_iter, batches, result)
            loss, _ = setup.step(images, labels)
            result.images += len(labels)
            result.steps += 1
    result.seconds = clock.seconds
    result.warmup_seconds = warmup_clock.seconds
    result.final_loss = float(loss.detach())
    result.peak_memory_mb = memory.mb
    if not math.isfinite(result.final_loss):
        result.status = "diverged"
    return result
