"""An mnistperf run in TensorBoard: DIR/<run>/<case_id>/ per case.

    target = TensorBoardTarget("tb")
    target.begin_run("smoke-20261130T034000Z")   # replaces tb/<run>/ of an earlier export
    target.log_epoch(case_id, 1, {"loss": 0.41, ...})   # live only
    target.end_case(case_export)
    target.end_run(run_export)                   # tb/<run>/: the header and tables.md as text

Each case folder holds its curves as scalars `epoch/<name>` (step = epoch), its
final metrics as `final/<name>` (step 0), and its params and tags as the
HParams plugin's session start info (`summary_v2.hparams_pb`), written into the
case's own folder, so the HParams dashboard lists one row per case and no extra
runs. No experiment summary is written: TensorBoard builds the columns from the
sessions of every run under the log dir, so several runs exported to one DIR
sort and filter together. This module owns every call into TensorBoard.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tensorboard.plugins.hparams import summary_v2
from torch.utils.tensorboard import SummaryWriter

from mnistperf.export.case import CaseExport, RunExport, series_of_epoch, series_to_log


class TensorBoardTarget:
    """Writes runs under one TensorBoard log dir."""

    def __init__(self, logdir: str | Path):
        self.logdir = Path(logdir)
        self.root: Path | None = None
        self.writers: dict[str, SummaryWriter] = {}
        self.logged: dict[str, dict] = {}  # case id -> series logged live

    def begin_run(self, run_name: str) -> None:
        self.root, self.writers, self.logged = self.logdir / run_name, {}, {}
        if self.root.is_dir():  # written by an earlier export of this run
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)

    def _writer(self, case_id: str) -> SummaryWriter:
        if case_id not in self.writers:
            self.writers[case_id] = SummaryWriter(str(self.root / case_id))
        return self.writers[case_id]

    def log_epoch(self, case_id: str, epoch: int, values: dict) -> None:
        writer, logged = self._writer(case_id), self.logged.setdefault(case_id, {})
        for name, value in series_of_epoch(values).items():
            writer.add_scalar(f"epoch/{name}", value, epoch)
            logged.setdefault(name, []).append((epoch, float(value)))
        writer.flush()

    def end_case(self, case: CaseExport) -> None:
        afresh, series = series_to_log(case, self.logged.pop(case.case_id, None))
        if afresh:  # start the case's folder anew
            self.writers.pop(case.case_id).close()
            shutil.rmtree(self.root / case.case_id)
        writer = self._writer(case.case_id)
        for name, points in series.items():
            for step, value in points:
                writer.add_scalar(f"epoch/{name}", value, step)
        for name, value in case.metrics.items():
            writer.add_scalar(f"final/{name}", value, 0)
        hparams = {**case.params, **case.tags}
        writer.file_writer.add_summary(summary_v2.hparams_pb(hparams, trial_id=case.case_id))
        self.writers.pop(case.case_id).close()

    def end_run(self, run: RunExport) -> None:
        with SummaryWriter(str(self.root)) as writer:
            header = "\n".join(f"| {k} | {v} |" for k, v in {**run.params, **run.tags}.items())
            writer.add_text("run", "| | |\n|---|---|\n" + header, 0)
            tables = next((p for p in run.artifacts if p.name == "tables.md"), None)
            if tables is not None:
                writer.add_text("tables.md", tables.read_text(), 0)
