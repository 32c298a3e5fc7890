"""Run folders on disk: `results/<run>/` with one record file per case, and
`results/latest`.

    run_dir = new_run_dir("results", "quick-20261129T010203Z")   # created, checked writable
    write_case(run_dir, doc)        # cases/<case_id>.json, atomic, the moment a case ends
    docs = read_cases(run_dir)      # every record saved so far, in the order they ended
    run_json(docs, machine_info, commit_info, meta)   # pytest-benchmark JSON from records
    point_latest("results", run_dir)

A case document holds the case's pytest-benchmark entry (name, params, stats and
`extra_info`, the typed record), its configuration, status, the package version
and the machine. Writes go to a temporary file in the same folder, are fsynced
and renamed into place, so a crash or a full disk never leaves a cut file, and
a killed session keeps every case that finished before it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

CASES = "cases"
# The case document format, read back on load: 1 had no fingerprint (0.1.0's
# documents have no `format` at all); 2 adds `fingerprint` (mnistperf.fingerprint).
FORMAT = 2


class StoreError(OSError):
    """A results folder that cannot be used; the message is one line naming the path."""


def _one_line(exc: OSError) -> str:
    return exc.strerror or str(exc).replace("\n", " ")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class WriteError(OSError):
    """A file that could not be written; the message is one line naming it and the error."""


def atomic_write(path: Path, content: str | bytes) -> None:
    """Write text (or bytes) to path so that readers see the old file or the whole new
    one; WriteError names the path and the error. The file gets the mode of any other
    file the user writes (0644 under the usual umask), not mkstemp's private 0600:
    results folders are shared."""
    try:
        _atomic_write(Path(path), content)
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(exc.errno, f"{path}: not written ({_one_line(exc)})") from None


def _atomic_write(path: Path, content: str | bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if isinstance(content, bytes) else "w") as fh:
            fh.write(content)
            fh.flush()
            os.fchmod(fh.fileno(), 0o666 & ~_umask())
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def new_run_dir(results_dir: str | Path, run_name: str) -> Path:
    """results/<run_name>, or <run_name>-2, -3 ... (a run never overwrites another),
    created now and checked writable; StoreError names the path otherwise."""
    results = Path(results_dir)
    try:
        results.mkdir(parents=True, exist_ok=True)
        candidate, n = results / run_name, 1
        while True:
            try:
                candidate.mkdir()
                break
            except FileExistsError:
                n += 1
                candidate = results / f"{run_name}-{n}"
        (candidate / CASES).mkdir()
        atomic_write(candidate / ".writable", "ok\n")
        (candidate / ".writable").unlink()
    except OSError as exc:
        raise StoreError(f"--mnistperf-results {results}: cannot write a run folder there "
                         f"({_one_line(exc)}); give a writable folder") from None
    return candidate


def append_event(run_dir: Path, event: str, **fields) -> None:
    """One line of events.jsonl: what happened when (run and case start and end,
    epochs, evaluations), in the spirit of MLPerf's result log."""
    import time

    line = json.dumps({"time": round(time.time(), 3), "event": event, **fields}, default=str)
    with open(run_dir / "events.jsonl", "a") as fh:
        fh.write(line + "\n")


def write_case(run_dir: Path, doc: dict) -> Path:
    path = run_dir / CASES / f"{doc['case_id']}.json"
    atomic_write(path, json.dumps(dict(doc, format=FORMAT), indent=2, default=str) + "\n")
    return path


def read_cases(run_dir: str | Path) -> list[dict]:
    """Every readable case document of a run, in the order the cases ended."""
    folder = Path(run_dir) / CASES
    docs = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # not ours, or unreadable: the rest of the run still renders
        if isinstance(doc, dict) and isinstance(doc.get("benchmark"), dict):
            docs.append(migrate(doc))
    return sorted(docs, key=lambda d: str(d.get("finished_utc", "")))


def migrate(doc: dict) -> dict:
    """A case document of any earlier format in the current one: format 1 (or none)
    gains `fingerprint: None`, which resume reads as "written by an older mnistperf".
    A document of a newer format than this package knows is StoreError."""
    version = doc.get("format", 1)
    if not isinstance(version, int) or version > FORMAT:
        raise StoreError(f"case {doc.get('case_id', '?')}: record format {version!r} is newer "
                         f"than this mnistperf reads ({FORMAT}); update mnistperf")
    if version < 2:
        doc = dict(doc, fingerprint=None)
    return dict(doc, format=FORMAT)


def run_json(docs: list[dict], machine_info: dict, commit_info: dict, meta: dict,
             datetime_utc: str, version: str) -> dict:
    """pytest-benchmark's JSON layout, its benchmarks taken from the case records."""
    return {
        "machine_info": machine_info,
        "commit_info": commit_info,
        "benchmarks": [doc["benchmark"] for doc in docs],
        "datetime": datetime_utc,
        "version": version,
        "mnistperf": meta,
    }


def runs_of_profile(results_dir: str | Path, profile: str) -> list[Path]:
    """Run folders of a profile holding case records, oldest first."""
    results = Path(results_dir)
    if not results.is_dir():
        return []
    return sorted(p for p in results.glob(f"{profile}-*")
                  if p.is_dir() and not p.is_symlink() and (p / CASES).is_dir())


def point_latest(results_dir: str | Path, run_dir: Path) -> None:
    """Atomically repoint results/latest (a relative symlink) at run_dir. A regular
    file or folder of that name is the user's: StoreError, nothing replaced."""
    results = Path(results_dir)
    latest = results / "latest"
    if latest.exists() and not latest.is_symlink():
        raise StoreError(f"{latest} is a {'folder' if latest.is_dir() else 'file'}, not the "
                         f"link mnistperf keeps; left as it is (the run is in {run_dir})")
    tmp = results / f".latest-{run_dir.name}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_dir.name, target_is_directory=True)
    tmp.replace(latest)


# ---------------------------------------------------------------- case documents


def config_dict(config) -> dict:
    """A case configuration as plain data: what resume compares."""
    import dataclasses

    return {"type": type(config).__name__, **json.loads(json.dumps(
        dataclasses.asdict(config), default=str))}


def case_document(*, config, benchmark: dict, run: str, version: str, machine: dict,
                  finished_utc: str, traceback: str = "", fingerprint: dict | None = None
                  ) -> dict:
    """`config` is the case's configuration, or None for a benchmark of the user's
    own that records mnistperf extra_info (it cannot be resumed)."""
    info = benchmark["extra_info"]
    return {
        "case_id": info["case_id"], "status": info["status"], "run": run,
        "mnistperf_version": version, "finished_utc": finished_utc,
        "config": None if config is None else config_dict(config), "machine": machine,
        "fingerprint": fingerprint, "benchmark": benchmark,
        **({"traceback": traceback} if traceback else {}),
    }


def single_round_stats(seconds: float) -> dict:
    """pytest-benchmark's stats block for one timed round (a case that ended
    early: the time it ran before it stopped)."""
    return {"min": seconds, "max": seconds, "mean": seconds, "stddev": 0.0, "rounds": 1,
            "median": seconds, "iqr": 0.0, "q1": seconds, "q3": seconds, "iqr_outliers": 0,
            "stddev_outliers": 0, "outliers": "0;0", "ld15iqr": seconds, "hd15iqr": seconds,
            "ops": 1.0 / seconds if seconds > 0 else 0.0, "total": seconds, "data": [seconds],
            "iterations": 1}
