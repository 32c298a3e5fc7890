"""What determines a case's numbers, kept in its record so that resume never
reuses stale ones.

    fp = fingerprint(config, experiment_version=1, repeats=1, data=file_digests(...))
    reasons = mismatches(old_doc.get("fingerprint"), fp)   # [] when the record is reusable

A fingerprint holds the experiment's version, a SHA-256 over the package's
source files, the library versions (torch, torchvision, scikit-learn), the
machine (CPU model, GPU name, torch threads), the SHA-256 of the data files the
case read, and the options that change its numbers without changing its id
(repeats, torch.compile). Each differing part is one reason in words: "code
changed", "other machine", ... Numbers derived from curves at table time
(time-to-target) are not part of it.
"""

from __future__ import annotations

import functools
import hashlib
import platform
from importlib import metadata
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
LIBRARIES = ("torch", "torchvision", "scikit-learn")


@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    """SHA-256 over every .py file of the package (path and bytes), in path order."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def libraries() -> dict[str, str | None]:
    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None
    return {name: version(name) for name in LIBRARIES}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(threads: int | None = None) -> dict:
    """CPU model, GPU name (None without CUDA) and torch threads (this process's,
    unless `threads` says what a worker will use)."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": cpu_model(), "gpu": gpu,
            "threads": threads if threads is not None else torch.get_num_threads()}


def fingerprint(config, *, experiment_version: int, repeats: int, data: dict,
                threads: int | None = None) -> dict:
    compile_ = getattr(getattr(config, "train", config), "compile", "")
    return {
        "experiment_version": experiment_version,
        "source": source_hash(),
        "libraries": libraries(),
        "machine": machine(threads),
        "data": dict(sorted(data.items())),
        "options": {"repeats": repeats, "compile": compile_ or ""},
    }


# Part of the fingerprint -> the reason a difference in it gives.
REASONS = {
    "experiment_version": "experiment version changed",
    "source": "code changed",
    "libraries": "library versions changed",
    "machine": "other machine",
    "data": "data changed",
    "options": "options changed",
}


def _detail(part: str, old, new) -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        keys = [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        if part == "data":
            return ", ".join(keys)
        return ", ".join(f"{k} {old.get(k)} -> {new.get(k)}" for k in keys)
    if part == "source":
        return f"{str(old)[:12]} -> {str(new)[:12]}"
    return f"{old} -> {new}"


def mismatches(old: dict | None, new: dict, any_machine: bool = False) -> list[str]:
    """Why a record with fingerprint `old` may not stand for a case now fingerprinted
    `new`, one reason per differing part ("code changed (ab12 -> cd34)"); [] when
    it may. `any_machine` accepts another machine."""
    if not old:
        return ["no fingerprint (written by an older mnistperf)"]
    reasons = []
    for part, reason in REASONS.items():
        if part == "machine" and any_machine:
            continue
        if old.get(part) != new.get(part):
            reasons.append(f"{reason} ({_detail(part, old.get(part), new.get(part))})")
    return reasons
