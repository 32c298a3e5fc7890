"""The calibrations of this machine, kept between plans and runs.

    cache = CalibrationCache.for_this_machine()
    cache.get(unit_key) -> dict | None;  cache.put({unit_key: times}); cache.save()

One JSON file per machine key: the CPU model, GPU, torch threads, torch version
and the package's source hash. Another machine, another thread count, another
torch or changed code (a stored timing is stale when the code that measured it
changes) reads another file, so it is timed afresh. The folder is
`MNISTPERF_CACHE`, else `$XDG_CACHE_HOME/mnistperf`, else `~/.cache/mnistperf`;
a folder that cannot be written costs the cache, never the plan.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from mnistperf.store import atomic_write

FORMAT = 1


def cache_dir() -> Path:
    if os.environ.get("MNISTPERF_CACHE"):
        return Path(os.environ["MNISTPERF_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mnistperf"


def machine_key(threads: int | None = None) -> tuple[str, dict]:
    """(short hash, what it hashes) of this machine and code."""
    import torch

    from mnistperf.fingerprint import machine, source_hash

    what = dict(machine(threads), torch=torch.__version__, source=source_hash(),
                format=FORMAT)
    digest = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]
    return digest, what


class CalibrationCache:
    def __init__(self, path: Path, machine: dict):
        self.path, self.machine = path, machine
        self.times: dict[str, dict] = {}
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            return  # absent, unreadable or not JSON: time again
        times = doc.get("times") if isinstance(doc, dict) else None
        if isinstance(times, dict) and doc.get("machine") == machine:  # else damaged
            self.times = {k: v for k, v in times.items() if isinstance(v, dict)}

    @classmethod
    def for_this_machine(cls, threads: int | None = None) -> "CalibrationCache":
        key, what = machine_key(threads)
        return cls(cache_dir() / f"calibration-{key}.json", what)

    def get(self, key: str, needs=()) -> dict | None:
        """The timings of `key`, or None when absent or lacking one of `needs`."""
        times = self.times.get(key)
        return times if times is not None and all(
            isinstance(times.get(n), (int, float)) for n in needs) else None

    def put(self, times: dict[str, dict]) -> None:
        self.times.update(times)

    def save(self) -> bool:
        """Written atomically; False when the folder cannot be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps({"machine": self.machine, "times": self.times},
                                               indent=1, sort_keys=True))
            return True
        except OSError:  # store.WriteError included
            return False
