"""mnistperf runs in the trackers ML engineers already use: MLflow and TensorBoard.

    target = open_target("mlflow", "sqlite:///mlflow.db")   # or ("tensorboard", "tb")
    replay(target, export_of_run(run, run_dir))             # a saved run, all at once

Layout: `case` (what a case and a run export, whichever the tracker), one module
per tracker (`mlflow`, `tensorboard`: the only code that imports those libraries,
each an optional extra), `live` (a tracker during a session: each case as it
trains, failures cost one warning), `command` (`mnistperf export ...`). A target
has begin_run(name), log_epoch(case_id, epoch, values), end_case(CaseExport) and
end_run(RunExport); an export is the same calls a live session makes, minus the
epochs, so both leave the same runs behind.
"""

from __future__ import annotations

from importlib.util import find_spec

from mnistperf.config import TRACKERS

# tracker -> (the module it needs, the extra that installs it)
EXTRAS = {"mlflow": ("mlflow", "mlflow"), "tensorboard": ("tensorboard", "tensorboard")}
assert tuple(EXTRAS) == TRACKERS


class MissingExtra(RuntimeError):
    """The tracker's library is not installed; the message names the extra."""


def missing_extra(kind: str) -> str | None:
    """The one-line install hint when `kind`'s library is absent, else None."""
    module, extra = EXTRAS[kind]
    if find_spec(module) is None:
        return (f"{kind} is not installed; install the extra: "
                f"pip install -e '.[{extra}]' (tox installs it)")
    return None


def open_target(kind: str, where: str | None = None, experiment: str | None = None):
    """A tracker target: MLflow at tracking URI `where` (None: MLflow's default) in
    `experiment`, or TensorBoard under log dir `where`."""
    hint = missing_extra(kind)
    if hint:
        raise MissingExtra(hint)
    if kind == "mlflow":
        from mnistperf.export.mlflow import DEFAULT_EXPERIMENT, MlflowTarget

        return MlflowTarget(where, experiment or DEFAULT_EXPERIMENT)
    from mnistperf.export.tensorboard import TensorBoardTarget

    return TensorBoardTarget(where or "runs")


def replay(target, run_export) -> None:
    """Write a whole saved run to a target (replacing an earlier export of it)."""
    target.begin_run(run_export.name)
    for case in run_export.cases:
        target.end_case(case)
    target.end_run(run_export)
