"""Clocks that synchronise the device before reading, and peak memory.

    with DeviceClock(device) as clock:
        work()
    clock.seconds

CUDA kernels run asynchronously, so reading a wall clock without a synchronise
times the launch, not the work. `peak_memory_mb` is CUDA's max allocated memory
on a GPU and the largest process RSS sampled (via psutil) on a CPU.
"""

from __future__ import annotations

import time

import psutil
import torch


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def now(device: torch.device) -> float:
    """perf_counter after all queued work on `device` has finished."""
    synchronize(device)
    return time.perf_counter()


class DeviceClock:
    def __init__(self, device: torch.device):
        self.device = device
        self.seconds = 0.0

    def __enter__(self):
        self._start = now(self.device)
        return self

    def __exit__(self, *exc):
        self.seconds = now(self.device) - self._start
        return False


class PeakMemory:
    """Peak memory of one case: reset at construction, sampled with `sample()`."""

    def __init__(self, device: torch.device):
        self.device = device
        self._rss = 0
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        self.sample()

    def sample(self) -> None:
        self._rss = max(self._rss, psutil.Process().memory_info().rss)

    @property
    def mb(self) -> float:
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device) / 2**20
        self.sample()
        return self._rss / 2**20
