"""`python -m mnistperf cuda-check`: whether this Python can run the gpu cases.

The first command of `tox -e cuda`, which uses the machine's own torch
(`sitepackages`) instead of installing one. Without it, a torch that cannot
see the GPU (a CPU-only build, or a CUDA build the driver is too old for) makes
every gpu case skip and pytest exit 0, measuring nothing. Exit 0 and one line
naming the GPU, or exit 1 and one line on stderr saying what is missing.
Imports torch only when run, so it can also say that torch is absent.
"""

from __future__ import annotations

import sys

# torch.amp.GradScaler("cuda") needs 2.3 (pyproject.toml's floor).
TORCH_FLOOR = (2, 3)


def _version(text: str) -> tuple[int, int]:
    major, minor = (text.split("+")[0].split(".") + ["0"])[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


def check() -> tuple[bool, str]:
    """(usable, one line): whether torch here is new enough and sees a CUDA GPU."""
    try:
        import torch
    except ImportError:
        return False, (f"no torch in {sys.executable}; the cuda environment uses the "
                       f"machine's own torch (tox sitepackages): install a CUDA build of "
                       f"torch for this Python first")
    if _version(torch.__version__) < TORCH_FLOOR:
        return False, (f"torch {torch.__version__} is older than "
                       f"{'.'.join(map(str, TORCH_FLOOR))}, mnistperf's floor")
    if not torch.cuda.is_available():
        build = torch.version.cuda or "none, a CPU-only build"
        return False, (f"torch {torch.__version__} (CUDA build: {build}) sees no CUDA GPU "
                       f"(torch.cuda.is_available() is False); the gpu cases would all be "
                       f"skipped: run where a GPU and a driver matching the build are visible")
    count = torch.cuda.device_count()
    return True, (f"torch {torch.__version__}, CUDA {torch.version.cuda}, {count} GPU"
                  f"{'s' if count > 1 else ''}: {torch.cuda.get_device_name(0)}")


def main() -> int:
    usable, line = check()
    if usable:
        print(f"mnistperf cuda-check: {line}")
        return 0
    print(f"mnistperf cuda-check: error: {line}", file=sys.stderr)
    return 1
