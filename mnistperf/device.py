"""Device tokens ('cpu' | 'gpu') to torch devices, and what the machine has.

    device = resolve_device("gpu")   # raises DeviceUnavailable without CUDA
    absent_reason(config)            # why this machine cannot run a case, or None
"""

from __future__ import annotations

import torch
# Imported with this module, not on first use: torchvision registers torch
# operators once per process, and in-process pytest runs (pytester) drop modules
# first imported inside them, so a late first import would register twice.
import torchvision

NO_CUDA_REASON = ("gpu case needs CUDA, but torch.cuda.is_available() is False on this "
                  "machine; run it where a CUDA GPU is visible (tox -e cuda)")


NO_SKLEARNEX_REASON = ("backend 'sklearnex' needs scikit-learn-intelex, which is not "
                       "installed; install the extra: pip install -e '.[fast-svm]' (tox "
                       "installs it)")


def absent_reason(config) -> str | None:
    """Why this machine cannot run a case (the run skips it with this reason; the
    plan leaves it out): a gpu case without CUDA, an SVM backend not installed."""
    from importlib.util import find_spec

    if config.device == "gpu" and not cuda_available():
        return NO_CUDA_REASON
    if getattr(config, "backend", None) == "sklearnex" and not find_spec("sklearnex"):
        return NO_SKLEARNEX_REASON
    return None


class DeviceUnavailable(RuntimeError):
    """The case asks for a device this machine does not have."""


def cuda_available() -> bool:
    return torch.cuda.is_available()


def resolve_device(token: str) -> torch.device:
    if token == "cpu":
        return torch.device("cpu")
    if token == "gpu":
        if not cuda_available():
            raise DeviceUnavailable(NO_CUDA_REASON)
        return torch.device("cuda")
    raise DeviceUnavailable(f"device={token!r} is not supported; choose one of: cpu, gpu")


def machine_summary() -> dict:
    """Versions and hardware that decide what a benchmark's numbers mean."""
    info = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "cuda_available": cuda_available(),
        "cuda": torch.version.cuda if cuda_available() else None,
        "gpu": torch.cuda.get_device_name(0) if cuda_available() else None,
        "torch_threads": torch.get_num_threads(),
    }
    info["device_kind"] = "cuda" if info["cuda_available"] else "cpu-only"
    return info
