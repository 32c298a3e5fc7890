"""Clocks that synchronise the device before reading, and peak memory.

    with DeviceClock(device) as clock:
        work()
    clock.seconds

CUDA kernels run asynchronously, so reading a wall clock without a synchronise
times the launch, not the work. `peak_memory_mb` is CUDA's max allocated memory
on a GPU and the largest process RSS sampled (via psutil) on a CPU, over one
or more windows:

    memory = PeakMemory(device)
    with memory:
        work()
    with memory:            # another window; what ran between is not counted on CUDA
        more_work()
    memory.mb

`Load` says whether other work competed with a case for the CPU:

    load = Load(); work(); load.finish()   # {"cpu_seconds", "load_average", "contended"}
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager

import psutil
import torch


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def now(device: torch.device) -> float:
    """perf_counter after all queued work on `device` has finished."""
    synchronize(device)
    return time.perf_counter()


# Set by `dispatch` for a case that shares its GPU with others (--gpus-per-case
# below 1): see `autotunes`.
SHARED_GPU_ENV = "MNISTPERF_SHARED_GPU"


def autotunes(device: torch.device) -> bool:
    """Whether a case on `device` runs with cuDNN autotuning (`cudnn.benchmark`).

    On CUDA, yes, unless the GPU is shared with other cases: autotuning tries
    every algorithm, some with workspaces of most of the free memory, so one
    case's autotuning can starve (or push out of memory) a case beside it.
    Shared cases time the default heuristics instead; their times are marked
    timing_shared anyway."""
    return device.type == "cuda" and os.environ.get(SHARED_GPU_ENV, "") in ("", "0")


@contextmanager
def cudnn_autotuning(device: torch.device):
    """cuDNN autotuning (`cudnn.benchmark`, see `autotunes`) for one case on CUDA,
    restored after, so a case never changes the process for the cases that follow it."""
    if device.type != "cuda":
        yield
        return
    # Only this one flag: cudnn.flags() would also reset the others to its defaults.
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = autotunes(device)
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = before


def loader_threads(config, device: torch.device) -> int:
    """Torch threads `train()` uses for a config: torch's current count, less one
    per DataLoader worker on a CPU (at least one). (The pipeline experiment's
    `measure_throughput` keeps them all: it measures the study's pipeline as it runs.)

    Why: on a CPU the workers share the cores with torch's OpenMP threads, and
    a worker that wakes up preempts one thread while the others wait for it at
    the op's barrier. On 2 cores with 2 threads and 2 workers, rounds of the same
    work varied by 10 % (coefficient of variation) against 5 % with one thread,
    and two identical cases run one after the other differed by 8-13 %.
    """
    threads = torch.get_num_threads()
    if device.type == "cpu" and config.loader == "dataloader" and config.num_workers > 0:
        return max(1, threads - config.num_workers)
    return threads


@contextmanager
def torch_threads(n: int):
    """torch's intra-op thread count set to `n` for a block, restored after."""
    before = torch.get_num_threads()
    if n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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

    def elapsed(self) -> float:
        """Host seconds since the block began (no synchronise: for progress only)."""
        return time.perf_counter() - self._start


class PeakMemory:
    """Peak memory over one or more `with` blocks (windows), so that training and
    evaluation, interleaved epoch by epoch, each get a peak of their own.

    CUDA: torch's max allocated bytes, its counter reset as each window begins
    (so what ran before the window, a warm-up step's cuDNN autotuning say, is not
    counted). CPU: the largest process RSS seen by a background thread sampling
    psutil every `interval` seconds (a short spike between samples can be
    missed; 20 ms is far shorter than any training step or SVM fit measured
    here). No thread on CUDA, where the RSS figure would be unused.
    """

    def __init__(self, device: torch.device, interval: float = 0.02):
        self.device = device
        self.interval = interval
        self._peak = 0  # bytes, the largest over the windows so far
        self._stop = threading.Event()
        self._thread = None

    def _sample_loop(self):
        process = psutil.Process()
        while not self._stop.wait(self.interval):
            self._peak = max(self._peak, process.memory_info().rss)

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
            return self
        self._peak = max(self._peak, psutil.Process().memory_info().rss)
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample_loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            self._peak = max(self._peak, torch.cuda.max_memory_allocated(self.device))
            return False
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, psutil.Process().memory_info().rss)
        return False

    @property
    def mb(self) -> float:
        return self._peak / 2**20


class Load:
    """CPU seconds of the case's process and its workers, and the CPU time the
    rest of the machine used meanwhile, across a case. The case is marked
    `contended` when other work (other processes, and time the hypervisor gave
    to other guests) used more than half the cores on average: it then competed
    with the case for the CPU. The 1-minute load average is recorded too, but
    not used for the verdict: it lags by about a minute, so a case that follows
    a busy one would look contended."""

    def __init__(self):
        self.process = psutil.Process()
        self.cpu = self._own()
        self.busy = self._machine_busy()
        self.started = time.perf_counter()

    def _own(self) -> float:
        t = self.process.cpu_times()
        # Live DataLoader workers count as the case's own; ended ones are in children_*.
        live = 0.0
        for child in self.process.children(recursive=True):
            try:
                c = child.cpu_times()
                live += c.user + c.system
            except psutil.Error:  # ended meanwhile: now in children_*
                pass
        return t.user + t.system + t.children_user + t.children_system + live

    @staticmethod
    def _machine_busy() -> float:
        # Linux counts guest time inside user time; steal is time other guests got.
        t = psutil.cpu_times()._asdict()
        return sum(t.get(k, 0.0) for k in ("user", "nice", "system", "irq", "softirq",
                                            "steal"))

    def finish(self) -> dict:
        wall = max(time.perf_counter() - self.started, 1e-9)
        cpu = self._own() - self.cpu
        others = max(0.0, self._machine_busy() - self.busy - cpu)
        return {"cpu_seconds": round(cpu, 3), "load_average": round(os.getloadavg()[0], 2),
                "contended": others / wall > (os.cpu_count() or 1) / 2}
