"""One run, one owner: `RunSession` names a run, makes its folder, plans resume,
writes a record per case, tracks progress and events, and ends the run.

    session = RunSession(settings)                 # name known from the start
    session.open()                                 # results/<profile>-<UTC>/, checked writable
    session.check_data(configs)                    # the datasets the cases read
    session.plan_resume(configs)                   # which records are taken, which not, and why
    session.begin(configs)                         # the plan, progress and events.jsonl
    session.case_started(config) ... session.store(config, bench) ... session.case_ended(...)
    with session.ending():                         # Ctrl-C waits for the files
        run = session.finish(machine_info, commit_info, bs_version)  # benchmark.json, tables,
    for line in session.summary_lines(): print(line)                 # findings, claims, page
    session.signals.release()                      # Ctrl-C stops this process again

The pytest plugin's hooks and the Ray driver (`dispatch`) both hold one of these
and only delegate to it, so a dispatched run ends exactly as a local one does.
Nothing here imports pytest. Errors the user must act on are `SessionError`,
one line.
"""

from __future__ import annotations

import json
import shutil
import time
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path

from mnistperf import __version__
from mnistperf.experiments import experiment_of, fixture_of, group_of
from mnistperf.fingerprint import fingerprint
from mnistperf.plan.predict import GUARD_SECONDS, plan_line
from mnistperf.progress import Sweep, cases, clock
from mnistperf.resume import ResumeError, ResumePlan, plan_resume, resume_source
from mnistperf.settings import Settings
from mnistperf.signals import RunSignals
from mnistperf.timing import torch_threads
from mnistperf.store import (
    CASES, StoreError, WriteError, append_event, case_document, new_run_dir, point_latest,
    read_cases, run_json, single_round_stats, write_case,
)

class SessionError(Exception):
    """Something the user must fix before the run can go on; one line."""


def dataset_of(config) -> str:
    return getattr(config, "dataset", None) or config.train.dataset


class RunSession:
    """One run from its name to its files. Its state: the settings, the run's name
    and folder (made by `open`), the resume plan, progress, the status each case
    was stored with, notes for the end, and the finished Run."""

    def __init__(self, settings: Settings, *, dispatched: bool = False,
                 threads: int | None = None, warn=None):
        """`threads`: the torch threads the cases run with when that is not this
        process's (dispatch's workers), for the machine part of fingerprints;
        `warn(line)` shows a line at once (the live tracker's warnings)."""
        self.settings = settings
        self.dispatched = dispatched
        self.threads = threads
        self.started = datetime.now(timezone.utc)
        self._t0 = time.perf_counter()
        self.name = f"{settings.profile.name}-{self.started:%Y%m%dT%H%M%SZ}"
        self.run_dir: Path | None = None
        self.resume: ResumePlan | None = None
        self.sweep: Sweep | None = None
        self.notes: list[str] = []  # one-line notes for the end of the run's output
        self.run = None  # the finished Run (mnistperf.run.Run)
        self.failed = False  # finish() could not write the run's files
        self.status: dict[str, str] = {}  # case id -> the status its record was stored with
        self._data: dict[str, dict] = {}  # dataset -> {file: SHA-256}
        self._case_t0: dict[str, float] = {}  # case id -> when its protocol began
        self.skips: dict[str, int] = {}  # skip reason -> cases skipped for it
        self._skipped: set[str] = set()
        self._start_lines: dict[str, str] = {}  # case id -> its start line, until said
        self.warn = warn or (lambda line: None)
        self.signals = RunSignals("dispatch" if dispatched else "mnistperf", self.warn)
        self.tracker = None  # the live tracker (--mnistperf-track), from open() on
        self.plan = None  # the predicted seconds of the cases (mnistperf.plan), from begin()

    # ------------------------------------------------------------ before the cases

    def open(self) -> Path:
        """The run folder, created on first call and checked writable (StoreError)."""
        if self.run_dir is None:
            self.run_dir = new_run_dir(self.settings.results_dir, self.name)
            self.name = self.run_dir.name
            if self.settings.track:  # the tracker's run starts with the run folder
                from mnistperf.export.live import LiveTracker

                self.tracker = LiveTracker.start(self.settings.track, self.name,
                                                 warn=self.warn)
        return self.run_dir

    def check_data(self, configs) -> None:
        """Check the datasets the cases read (DatasetNotFoundError, DataFileError, an
        empty run folder removed first); unknown SHA-256 digests become notes."""
        from mnistperf.data import DataFileError, DatasetNotFoundError, prepare_dataset
        from mnistperf.config import SPLIT_SIZES
        from mnistperf.datafiles import check_sizes, file_digests

        for dataset in sorted({dataset_of(c) for c in configs}):
            try:
                lines = prepare_dataset(dataset, self.settings.data_root)
                check_sizes(dataset, self.settings.data_root,
                            [c for c in configs if dataset_of(c) == dataset], sum(SPLIT_SIZES))
            except (DatasetNotFoundError, DataFileError):
                self._discard_if_empty()
                raise
            self.notes += [f"warning: {line}" for line in lines]
            self._data[dataset] = file_digests(dataset, self.settings.data_root)

    def fingerprint(self, config) -> dict:
        """What determines this case's numbers here and now (mnistperf.fingerprint)."""
        from mnistperf.datafiles import file_digests

        dataset = dataset_of(config)
        if dataset not in self._data:
            self._data[dataset] = file_digests(dataset, self.settings.data_root)
        fp = fingerprint(config, experiment_version=experiment_of(config).version,
                         repeats=self.settings.repeats, data=self._data[dataset],
                         threads=self.threads)
        if config.device != "gpu":  # a CPU case's numbers do not depend on the GPU
            fp["machine"]["gpu"] = None
        return fp

    def plan_resume(self, configs) -> ResumePlan | None:
        """With --mnistperf-resume: the earlier records that may stand for these
        cases (same configuration and fingerprint), the others with their reasons."""
        if self.settings.resume is None:
            return None
        try:
            source = resume_source(self.settings, self.name)
        except ResumeError as exc:
            raise SessionError(str(exc)) from None
        self.resume = plan_resume(source, configs, self.fingerprint,
                                  any_machine=self.settings.resume_any_machine)
        return self.resume

    def is_resumed(self, config) -> bool:
        return self.resume is not None and config.case_id in self.resume.taken

    def begin(self, configs) -> None:
        """The plan of the cases to run (said at once), progress, the run_start event;
        SessionError (empty run folder removed) when the plan says over 24 hours here
        without --mnistperf-yes (not for dispatch: it runs on a cluster)."""
        configs = list(configs)
        to_run = [c for c in configs if not self.is_resumed(c)]
        self.plan = self._plan(to_run) if to_run and self.settings.plan else None
        if self.plan is not None and self.plan.runnable():  # not when every case skips here
            self.warn(plan_line(self.plan))
            total, n = self.plan.total(), len(self.plan.runnable())
            if total > GUARD_SECONDS and not self.settings.yes and not self.dispatched:
                self._discard_if_empty()
                raise SessionError(
                    f"the plan predicts {clock(total)} for {cases(n)} on this machine, over 24 "
                    f"hours, so nothing was trained; narrow the selection (-k, -m, a smaller "
                    f"--mnistperf-profile), see each case with `python -m mnistperf plan` and "
                    f"the same arguments, or add --mnistperf-yes")
        skipped = None if self.dispatched else 0.0  # skipped: 0 s; dispatched: runs elsewhere
        self.sweep = Sweep({c.case_id: (experiment_of(c).name, self.plan and self._predicted(
            c.case_id, skipped)) for c in to_run})
        self.event("run_start", run=self.name, profile=self.settings.profile.name,
                   cases=len(configs), to_run=len(to_run), dispatched=self.dispatched,
                   predicted_seconds=None if self.plan is None else round(self.plan.total(), 1))

    def _plan(self, configs):
        """The plan, or None with one warning when timing failed (it never stops a run)."""
        from mnistperf.plan import make_plan

        try:
            # Timed with the threads the cases will train with (dispatch's workers').
            with torch_threads(self.threads) if self.threads else nullcontext():
                return make_plan(configs, repeats=self.settings.repeats,
                                 data_root=self.settings.data_root,
                                 say=lambda line: self.warn(f"plan: {line}"))
        except Exception as exc:  # noqa: BLE001 - any failure of an estimate
            self.warn(f"plan: could not time the units of work ({type(exc).__name__}: "
                      f"{exc}); the progress estimate comes from finished cases")
            return None

    # ------------------------------------------------------------ while cases run

    def event(self, name: str, **fields) -> None:
        if self.run_dir is not None and self.run_dir.is_dir():
            append_event(self.run_dir, name, **fields)

    def _tracked(self, config) -> bool:
        return self.sweep is not None and config.case_id in self.sweep.cases

    def case_started(self, config) -> str | None:
        """The progress line of a case about to run (None for one not tracked)."""
        self._case_t0[config.case_id] = time.perf_counter()
        self.status.pop(config.case_id, None)
        if not self._tracked(config):
            return None
        self.event("case_start", case_id=config.case_id)
        self._start_lines[config.case_id] = self.sweep.start(config.case_id)
        return self._start_lines[config.case_id]

    def start_line(self, config) -> str | None:
        """The start line of a case that got past its setup, once (None after)."""
        return self._start_lines.pop(config.case_id, None)

    def case_skipped(self, config, reason: str) -> None:
        """A case pytest skipped (a gpu case without CUDA, a missing extra): no line of
        its own; the session ends with one line per reason (`skip_lines`)."""
        self.skips[reason] = self.skips.get(reason, 0) + 1
        self._skipped.add(config.case_id)
        if self._tracked(config):
            self.event("case_skip", case_id=config.case_id, reason=reason)
            self.sweep.skip(config.case_id)

    def skip_lines(self) -> list[str]:
        return [f"{cases(n)} skipped: {reason}"
                for reason, n in self.skips.items()]

    def seconds(self, config) -> float:
        """Seconds since the case started (0 before it did)."""
        t0 = self._case_t0.get(config.case_id)
        return 0.0 if t0 is None else time.perf_counter() - t0

    def case_ended(self, config) -> str | None:
        """The progress line of a case that ended, with the status it was stored with
        ("not run" when it left no record); None for a skipped one."""
        if config.case_id in self._skipped or not self._tracked(config):
            return None
        status, seconds = self.status.get(config.case_id, "not run"), self.seconds(config)
        self.event("case_end", case_id=config.case_id, status=status,
                   seconds=round(seconds, 3))
        return self.sweep.end(config.case_id, status, seconds)

    def store(self, config, bench: dict, *, machine: dict | None = None,
              traceback: str = "", fp: dict | None = None) -> dict:
        """Write the case's record now (atomically); `config` None for a benchmark of
        the user's own that records mnistperf extra_info (never resumed)."""
        from mnistperf.device import machine_summary

        run_dir = self.open()
        if config is not None:  # readable params, not pytest-benchmark's UNSERIALIZABLE[...]
            bench = dict(bench, params={fixture_of(config): config.case_id},
                         extra_info=self._timed(config, bench.get("extra_info") or {}))
            fp = fp or self.fingerprint(config)
        doc = case_document(config=config, benchmark=bench, run=run_dir.name,
                            version=__version__, machine=machine or machine_summary(),
                            finished_utc=datetime.now(timezone.utc).isoformat(),
                            traceback=traceback, fingerprint=fp)
        self._stored(doc)
        return doc

    def _timed(self, config, info: dict) -> dict:
        """extra_info with the case's wall time and the plan's prediction of it."""
        if "case_seconds" in info or info.get("resumed"):  # a resumed record keeps its own
            return info
        return dict(info, case_seconds=round(self.seconds(config), 3),
                    predicted_seconds=self._predicted(config.case_id))

    def _predicted(self, case_id: str, otherwise=None) -> float | None:
        """The plan's seconds for the case, or `otherwise` (no plan, or skipped here)."""
        seconds = self.plan.seconds(case_id) if self.plan is not None else None
        return otherwise if seconds is None else round(seconds, 3)

    def _stored(self, doc: dict) -> None:
        write_case(self.open(), doc)
        self.status[doc["case_id"]] = doc["status"]
        if self.tracker is not None:
            self.tracker.on_case_end(doc)

    def epoch(self, case_id: str, round_: int, epoch: int, point: dict) -> None:
        """A finished epoch (`point`: mnistperf.records.resnet.epoch_point): a line in
        events.jsonl, and the live tracker for round 1, whose curves the record
        keeps (round 0 is a warm-up)."""
        self.event("epoch", case_id=case_id, round=round_, epoch=epoch, **point)
        if self.tracker is not None and round_ == 1:
            self.tracker.on_epoch(case_id, epoch, point)

    def store_document(self, doc: dict) -> None:
        """A document a worker wrote (dispatch), stored as this run's, with the
        driver's prediction (workers do not plan)."""
        info = doc["benchmark"].get("extra_info") or {}
        predicted = self._predicted(doc["case_id"])
        if predicted is not None:
            info = dict(info, predicted_seconds=predicted)
        self._stored(dict(doc, run=self.open().name,
                          benchmark=dict(doc["benchmark"], extra_info=info)))

    def store_resumed(self, config) -> dict:
        """The earlier record of a resumed case, stored in this run, marked resumed."""
        old = self.resume.taken[config.case_id]
        info = dict(old["benchmark"]["extra_info"], resumed=True, resumed_from=old["run"])
        return self.store(config, dict(old["benchmark"], extra_info=info),
                          machine=old.get("machine"), fp=old.get("fingerprint"))

    def store_failure(self, config, status: str, message: str, *, name: str,
                      fullname: str, traceback: str = "", memory: dict | None = None) -> dict:
        """The record of a case that ended without results (error, oom, interrupt),
        with the time it ran; `memory`: MiB in use at an out-of-memory failure."""
        from mnistperf.records import failure_record

        info = failure_record(config, status, message, memory).to_extra_info()
        return self.store(config, bench_entry(config, info, self.seconds(config), name,
                                              fullname), traceback=traceback)

    # ------------------------------------------------------------ the end

    def meta(self) -> dict:
        settings = self.settings
        meta = {"run": self.name, "profile": settings.profile.name, "seed": settings.seed,
            "repeats": settings.repeats, "targets": dict(settings.targets),
            "started_utc": self.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "wall_seconds": round(time.perf_counter() - self._t0, 3)}
        if self.plan is not None and self.plan.calibration_seconds:  # part of the wall time
            meta["plan_seconds"] = round(self.plan.calibration_seconds, 3)
        return dict(meta, dispatched=True) if self.dispatched else meta

    def finish(self, machine_info: dict, commit_info: dict | None = None,
               bs_version: str = ""):
        """benchmark.json, tables, figures, findings, the study's claims, the page and
        results/latest, from the run's records; the Run, or None when no case left
        a record (the empty folder is removed) or a file could not be written (what
        was written is kept, results/latest points at it, `failed` is set)."""
        from mnistperf.run import parse_run
        from mnistperf.suite.compose import save_run

        if self.run_dir is None:
            return None
        docs = read_cases(self.run_dir)
        if not docs:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            return None
        statuses = sorted({d["status"] for d in docs})
        self.event("run_end", cases=len(docs),
                   statuses={s: sum(d["status"] == s for d in docs) for s in statuses})
        data = run_json(docs, machine_info, commit_info or {}, self.meta(),
                        datetime.now(timezone.utc).isoformat(), bs_version)
        text = json.dumps(data, ensure_ascii=True, indent=4, default=str)
        try:
            self.run = save_run(self.run_dir, text)
        except WriteError as exc:  # a full disk, a permission: the records are kept
            self.notes.append(f"{exc.strerror}; the case records in cases/ are kept: "
                              f"python -m mnistperf report {self.run_dir} rebuilds the rest")
            self.failed = True
        self._point_latest()
        if self.tracker is not None:  # also after a failed write, with what was written
            run = self.run or parse_run(text, str(self.run_dir / "benchmark.json"))
            self.tracker.close(run, self.run_dir)
        return self.run

    def _point_latest(self) -> None:
        """results/latest at this run, also one whose files were not all written (its
        records are there, and `report` rebuilds the rest)."""
        try:
            point_latest(self.run_dir.parent, self.run_dir)
        except StoreError as exc:  # results/latest is the user's file: the run is kept
            self.notes.append(str(exc))

    def hold_signals(self) -> None:
        """From the first Ctrl-C on, the run is ending: a second one waits for the
        run's files (mnistperf.signals); only for a run with a folder."""
        if self.run_dir is not None:
            self.signals.hold()

    def ending(self):
        """Around the end of the session: see RunSignals.ending."""
        return self.signals.ending(self.run_dir)

    @property
    def interrupted(self) -> bool:
        """A Ctrl-C or SIGTERM came while the session ended."""
        return self.signals.interrupted

    def summary_lines(self) -> list[str]:
        """The run header, tables, findings and claims, and where the files are."""
        from mnistperf.suite.compose import header, terminal

        if self.run is None:
            return []
        return [*header(self.run), terminal(self.run), "",
                f"mnistperf: wrote {self.run_dir}/ (cases/, tables.md, CSVs, figures, "
                f"index.html, benchmark.json, events.jsonl)"]

    def _discard_if_empty(self) -> None:
        if self.run_dir is not None and self.run_dir.is_dir() \
                and not any((self.run_dir / CASES).iterdir()):
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None


def bench_entry(config, extra_info: dict, seconds: float | None, name: str,
                fullname: str) -> dict:
    """pytest-benchmark's entry for a case it has no stats of (failed, or timing
    disabled): the time the case ran, or no stats at all."""
    return {"group": group_of(config), "name": name, "fullname": fullname,
            "params": {fixture_of(config): config.case_id}, "param": config.case_id,
            "extra_info": extra_info, "options": {},
            "stats": None if seconds is None else single_round_stats(seconds)}
