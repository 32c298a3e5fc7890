"""A tracker during a session: each case in MLflow or TensorBoard as it trains.

    tracker = start_tracker("mlflow=sqlite:///mlflow.db", run_name, warn=print)
    tracker.on_epoch(case_id, 3, {"loss": 0.41, "val_accuracy": 91.2, ...})  # as it happens
    tracker.on_case_end(doc)            # the case document the store just wrote
    tracker.close(run, run_dir)         # the saved Run: header and files

Not pytest-aware: the plugin and the dispatch driver call it. A tracker that
fails (an unreachable server, a full disk, anything) costs one warning line,
through `warn`, and is off for the rest of the session; it never fails a case
or the run. What it leaves behind equals `mnistperf export` of the same run
(the same target calls; a case whose live curves differ from its record's is
rewritten whole when it ends).
"""

from __future__ import annotations

import os
from typing import Callable

from mnistperf.config import TRACKERS
from mnistperf.export import open_target
from mnistperf.export.case import export_of_document, export_of_run


def parse_track(spec: str) -> tuple[str, str | None]:
    """'mlflow', 'mlflow=URI', 'tensorboard', 'tensorboard=DIR' -> (tracker, where)."""
    kind, _, where = spec.partition("=")
    if kind not in TRACKERS:
        raise ValueError(f"--mnistperf-track={spec!r}: choose one of mlflow[=URI], "
                         f"tensorboard[=DIR]")
    return kind, where or None


class LiveTracker:
    def __init__(self, spec: str, warn: Callable[[str], None]):
        self.spec, self.warn = spec, warn
        self.kind, self.where = parse_track(spec)
        self.target = None
        self.failed = False

    @classmethod
    def start(cls, spec: str, run_name: str, warn: Callable[[str], None]) -> "LiveTracker":
        tracker = cls(spec, warn)
        if tracker.kind == "mlflow" and (tracker.where or "").startswith("http"):
            # An unreachable server: fail within seconds, not after minutes of retries.
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
        tracker._call(tracker._open, run_name)
        return tracker

    def _open(self, run_name: str) -> None:
        self.target = open_target(self.kind, self.where)
        self.target.begin_run(run_name)

    def _call(self, fn, *args) -> None:
        if self.failed:
            return
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - any tracker failure, by design
            self.failed = True
            why = (str(exc).strip().splitlines() or [""])[0][:200]
            self.warn(f"warning: --mnistperf-track {self.spec}: {type(exc).__name__}: {why}; "
                      f"tracking is off for the rest of this session (every case is still "
                      f"recorded in the run folder; `mnistperf export` can send it later)")

    def on_epoch(self, case_id: str, epoch: int, values: dict) -> None:
        self._call(lambda: self.target.log_epoch(case_id, epoch, values))

    def on_case_end(self, doc: dict) -> None:
        self._call(lambda: self.target.end_case(export_of_document(doc)))

    def close(self, run, run_dir) -> None:
        self._call(lambda: self.target.end_run(export_of_run(run, run_dir)))


class NoTracker:
    """What a session without --mnistperf-track logs to: nothing."""

    def on_epoch(self, case_id: str, epoch: int, values: dict) -> None:
        pass

    def on_case_end(self, doc: dict) -> None:
        pass

    def close(self, run, run_dir) -> None:
        pass


def start_tracker(spec: str | None, run_name: str,
                  warn: Callable[[str], None]) -> LiveTracker | NoTracker:
    """The tracker of --mnistperf-track `spec`, its run begun; NoTracker without one."""
    return NoTracker() if not spec else LiveTracker.start(spec, run_name, warn)
