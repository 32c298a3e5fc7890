"""`mnistperf export mlflow|tensorboard RUN ...`: a saved run into a tracker.

    python -m mnistperf export mlflow results/latest [--tracking-uri URI] [--experiment NAME]
    python -m mnistperf export tensorboard results/latest tb

RUN is what `report` takes: a run folder (its files become the parent run's
artifacts) or a pytest-benchmark JSON. Exporting the same run again replaces
what the first export wrote.
"""

from __future__ import annotations

from pathlib import Path

from mnistperf.export import open_target, replay
from mnistperf.export.case import export_of_run


def run_folder(path: Path) -> Path | None:
    """The run folder of RUN: the folder itself, or the folder of its benchmark.json."""
    folder = path if path.is_dir() else path.parent
    return folder if (folder / "cases").is_dir() or path.is_dir() else None


def export(tracker: str, path: str, where: str | None, experiment: str | None = None) -> str:
    """Export the run at `path`; the line that says where it went."""
    from mnistperf.run import load_run

    run = load_run(path)
    run_export = export_of_run(run, run_folder(Path(path)))
    target = open_target(tracker, where, experiment)
    replay(target, run_export)
    n = len(run_export.cases)
    if tracker == "mlflow":
        return (f"exported {run_export.name} ({n} cases) to MLflow {target.tracking_uri}, "
                f"experiment {experiment or 'mnistperf'}; see it with: mlflow ui "
                f"--backend-store-uri {target.tracking_uri}")
    return (f"exported {run_export.name} ({n} cases) to {target.root}/; see it with: "
            f"tensorboard --logdir {target.logdir}")
