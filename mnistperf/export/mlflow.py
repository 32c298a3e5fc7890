"""An mnistperf run in MLflow: one parent run per mnistperf run, one child per case.

    target = MlflowTarget(tracking_uri=None, experiment="mnistperf")  # MLflow's default URI
    target.begin_run("smoke-20261130T034000Z")   # re-export: that run's old MLflow runs go
    target.log_epoch(case_id, 1, {"loss": 0.41, ...})   # live only
    target.end_case(case_export)                 # params, metrics, history, tags
    target.end_run(run_export)                   # the header, tables.md, index.html, figures

Children carry the tags `mnistperf_run` (the run's name) and `case_id`, the
parent `mnistperf_role=run`; a second export of the same run deletes the MLflow
runs of the first (matched on those tags), so nothing is duplicated. This module
owns every call into MLflow; it is imported only when MLflow is used.
"""

from __future__ import annotations

import time

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

from mnistperf.export.case import (
    CaseExport, RunExport, series_of_epoch, series_to_log, tag_text,
)

DEFAULT_EXPERIMENT = "mnistperf"
PARENT_TAG = "mlflow.parentRunId"
BATCH = 100  # MLflow takes at most 100 params or tags and 1000 values in all per log_batch


class MlflowTarget:
    """Writes runs to one MLflow experiment of one tracking URI."""

    def __init__(self, tracking_uri: str | None = None,
                 experiment: str = DEFAULT_EXPERIMENT):
        self.client = MlflowClient(tracking_uri=tracking_uri)
        found = self.client.get_experiment_by_name(experiment)
        self.experiment_id = found.experiment_id if found else \
            self.client.create_experiment(experiment)
        self.parent: str | None = None
        self.run_name = ""
        self.children: dict[str, str] = {}  # case id -> MLflow run id
        self.logged: dict[str, dict] = {}   # case id -> series logged live

    @property
    def tracking_uri(self) -> str:
        return self.client.tracking_uri

    def runs_of(self, run_name: str) -> list:
        """Every MLflow run (parent and children) an earlier export of run_name made."""
        return self.client.search_runs(
            [self.experiment_id], filter_string=f"tags.mnistperf_run = '{run_name}'",
            max_results=50000)

    def begin_run(self, run_name: str) -> None:
        for old in self.runs_of(run_name):
            self.client.delete_run(old.info.run_id)
        self.run_name, self.children, self.logged = run_name, {}, {}
        self.parent = self.client.create_run(
            self.experiment_id, run_name=run_name,
            tags={"mnistperf_run": run_name, "mnistperf_role": "run"}).info.run_id

    def _child(self, case_id: str) -> str:
        if case_id not in self.children:
            self.children[case_id] = self.client.create_run(
                self.experiment_id, run_name=case_id,
                tags={PARENT_TAG: self.parent, "mnistperf_run": self.run_name,
                      "mnistperf_role": "case", "case_id": case_id}).info.run_id
        return self.children[case_id]

    def log_epoch(self, case_id: str, epoch: int, values: dict) -> None:
        """One epoch's numbers as they happen (a live run)."""
        now, logged = _millis(), self.logged.setdefault(case_id, {})
        series = series_of_epoch(values)
        self.client.log_batch(self._child(case_id), metrics=[
            Metric(k, float(v), now, epoch) for k, v in series.items()])
        for k, v in series.items():
            logged.setdefault(k, []).append((epoch, float(v)))

    def end_case(self, case: CaseExport) -> None:
        """Everything else of the case; its curves too unless they were logged live
        exactly so (otherwise the live child is replaced by a complete one)."""
        afresh, series = series_to_log(case, self.logged.pop(case.case_id, None))
        if afresh:
            self.client.delete_run(self.children.pop(case.case_id))
        run_id, now = self._child(case.case_id), _millis()
        metrics = [Metric(k, v, now, 0) for k, v in case.metrics.items()]
        metrics += [Metric(k, v, now, step) for k, points in series.items()
                    for step, v in points]
        _log(self.client, run_id, metrics=metrics,
             params=[Param(k, tag_text(v)) for k, v in case.params.items()],
             tags=[RunTag(k, v) for k, v in case.tags.items()])
        self.client.set_terminated(run_id, "FINISHED" if case.ok else "FAILED")

    def end_run(self, run: RunExport) -> None:
        _log(self.client, self.parent,
             params=[Param(k, tag_text(v)) for k, v in run.params.items()],
             tags=[RunTag(k, v) for k, v in run.tags.items()])
        for path in run.artifacts:
            self.client.log_artifact(self.parent, str(path))
        self.client.set_terminated(self.parent, "FINISHED")


def _millis() -> int:
    return int(time.time() * 1000)


def _log(client, run_id: str, metrics=(), params=(), tags=()) -> None:
    """log_batch in slices MLflow accepts."""
    metrics, params, tags = list(metrics), list(params), list(tags)
    while metrics or params or tags:
        client.log_batch(run_id, metrics=metrics[:8 * BATCH], params=params[:BATCH],
                         tags=tags[:BATCH])
        metrics, params, tags = metrics[8 * BATCH:], params[BATCH:], tags[BATCH:]
