"""Run folders on disk: `results/<run>/` (never overwritten) and `results/latest`.

    run_dir = new_run_dir("results", "quick-20261129T010203Z")   # created now
    point_latest("results", run_dir)                              # atomic repoint

A run is named profile + UTC start time; a name already taken gets -2, -3, ...
"""

from __future__ import annotations

from pathlib import Path


def new_run_dir(results_dir: str | Path, run_name: str) -> Path:
    """results/<run_name>, or <run_name>-2, -3 ... : a run never overwrites another."""
    results = Path(results_dir)
    results.mkdir(parents=True, exist_ok=True)
    candidate, n = results / run_name, 1
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            n += 1
            candidate = results / f"{run_name}-{n}"


def point_latest(results_dir: str | Path, run_dir: Path) -> None:
    """Atomically repoint results/latest (a relative symlink) at run_dir."""
    results = Path(results_dir)
    tmp = results / f".latest-{run_dir.name}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_dir.name, target_is_directory=True)
    tmp.replace(results / "latest")
