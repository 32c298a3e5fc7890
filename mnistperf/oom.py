"""Out of memory: which exceptions are one, the memory figures at the failure,
and dropping every reference the failed case left behind, so that the sweep's
next case starts with the memory of a fresh process.

    except BaseException as exc:
        status, figures = failure_status(exc, case)   # "oom" (and freed) or "error"
        ...record the case with them, then re-raise

Why `release` is needed at all: `torch.cuda.empty_cache()` only returns cached
blocks nobody holds. While the exception lives, its traceback holds every frame
of the failed case (model, optimizer state, gradients, activations, the batches
on the device); pytest also keeps it in `sys.last_*` until the next case runs,
and reference cycles through the frames outlive it until the garbage collector
happens to run. Clearing the frames' locals breaks all of that at once; the
exception itself stays usable (type, message, formatted traceback).

Nothing here imports pytest.
"""

from __future__ import annotations

import gc
import sys
import traceback

import psutil
import torch

# cuDNN and cuBLAS report a failed workspace or handle allocation as a plain
# RuntimeError with their status name in the message, not as OutOfMemoryError.
ALLOC_FAILED = ("CUBLAS_STATUS_ALLOC_FAILED", "CUDNN_STATUS_ALLOC_FAILED")
# torch before 2.x raised the caching allocator's failure as a RuntimeError.
CUDA_OOM_TEXT = "CUDA out of memory"


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` says the device ran out of memory."""
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    if isinstance(exc, RuntimeError):
        text = str(exc)
        return CUDA_OOM_TEXT in text or any(name in text for name in ALLOC_FAILED)
    return False


def resolve_device_type(case) -> str:
    """torch's device type of a case config (its `device` token is 'gpu' or 'cpu')."""
    return "cuda" if getattr(case, "device", "cpu") == "gpu" else "cpu"


def _mb(n: int) -> float:
    return round(n / 2**20, 1)


def memory_at_failure(device_type: str) -> dict:
    """MiB in use when the case failed: on CUDA the caching allocator's allocated,
    reserved and peak bytes and the device's free and total; on a CPU the
    process's resident set. Read before `release`, which frees it."""
    if device_type == "cuda" and torch.cuda.is_available() and torch.cuda.is_initialized():
        free, total = torch.cuda.mem_get_info()
        return {"allocated": _mb(torch.cuda.memory_allocated()),
                "reserved": _mb(torch.cuda.memory_reserved()),
                "peak": _mb(torch.cuda.max_memory_allocated()),
                "free": _mb(free), "total": _mb(total)}
    return {"rss": _mb(psutil.Process().memory_info().rss)}


def _chain(exc: BaseException | None):
    """`exc` and the exceptions it was raised from or during (each once)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def release(exc: BaseException) -> None:
    """Drop every reference the failed case's frames hold, then give the freed
    device memory back: the locals of each finished frame in `exc`'s traceback
    (and in those of the exceptions it chains), Python's `sys.last_*` copy of
    the last exception, the reference cycles through them, CUDA's cache.

    Frames still running (the caller's, pytest's) cannot be cleared and are
    left as they are; they hold the case's configuration, not its tensors."""
    for link in _chain(exc):
        if link.__traceback__ is not None:
            traceback.clear_frames(link.__traceback__)
    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        if hasattr(sys, name):
            delattr(sys, name)
    gc.collect()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


def failure_status(exc: BaseException, case) -> tuple[str, dict]:
    """The status of a case (a config) that raised `exc`, and the MiB in use at the
    failure: ("oom", figures) with every reference of the failed case released
    (see `release`), or ("error", {}) with nothing touched."""
    if not is_out_of_memory(exc):
        return "error", {}
    figures = memory_at_failure(resolve_device_type(case))  # before anything is freed
    release(exc)
    return "oom", figures
