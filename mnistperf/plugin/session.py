"""The run's hooks: each delegates to the session's `RunSession` (mnistperf.session),
as pytest-benchmark's hooks delegate to its BenchmarkSession.

- after collection: the run folder, the data checks, the resume plan, progress;
- per case: progress lines, a record saved the moment the case ends (ok, failed,
  interrupted), a resumed case's earlier record taken instead of training;
- at the end: the run's files, and the header, tables and notes in the terminal;
  from the first Ctrl-C on, a second one (or SIGTERM) waits until the files are
  written.

A resumed case also enters pytest-benchmark's own outputs (`--benchmark-json`,
`--benchmark-save`, `--benchmark-autosave`, its table) with its recorded stats
and `resumed: true`, so those hold every selected case.
"""

from __future__ import annotations

from traceback import format_exception
from typing import NamedTuple

import pytest

from mnistperf.data import DataFileError, DatasetNotFoundError
from mnistperf.experiments import case_fixtures, group_of
from mnistperf.oom import failure_status
from mnistperf.plugin.options import get_session
from mnistperf.records import is_record
from mnistperf.session import SessionError, bench_entry
from mnistperf.store import StoreError
from mnistperf.timing import Load


class CaseArg(NamedTuple):
    """The benchmark argument that carries an item's case, and the case's config."""

    fixture: str
    config: object  # TrainConfig | SvmConfig | PipelineConfig


XDIST = ("pytest-xdist (-n): pytest-benchmark times nothing under xdist and the run folder "
         "needs a plain run; run the mnistperf cases without -n")


def case_of(item) -> CaseArg | None:
    """The mnistperf case of an item, or None for any other test."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    return next((CaseArg(name, params[name]) for name in case_fixtures() if name in params),
                None)


# An xdist hook: optional, so that a session without xdist (-p no:xdist, as dispatch's
# workers run) does not reject the plugin as naming an unknown hook.
@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """The controller of an xdist session: a worker that found mnistperf cases stops it."""
    message = getattr(node, "workeroutput", {}).get("mnistperf_xdist")
    if message:
        pytest.exit(message, returncode=4)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session):
    """Before the first case trains: the run folder exists (checked writable), the
    datasets the selected cases read are checked, resume is planned, and the plan
    predicts the time (stopping a selection of over 24 hours)."""
    config = session.config
    configs = [case.config for case in map(case_of, session.items) if case is not None]
    if configs and hasattr(config, "workerinput") and not config.option.collectonly:
        # A worker cannot stop the session cleanly: it runs nothing and tells the
        # controller through its output (pytest_testnodedown below).
        config.workeroutput["mnistperf_xdist"] = XDIST
        session.items[:] = []
        return
    if config.option.collectonly or hasattr(config, "workerinput") or not configs:
        return
    run = get_session(config)
    try:
        run.open()
        run.check_data(configs)
        plan = run.plan_resume(configs)
        # Said now, not at the end: data warnings, what resume took, then the plan.
        for line in run.notes + (plan.lines(len(configs)) if plan is not None else []):
            run.warn(line)
        run.notes.clear()
        run.begin(configs)
    except (StoreError, DatasetNotFoundError, DataFileError, SessionError) as exc:
        pytest.exit(str(exc), returncode=4)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """A resumed case does not train: its earlier record is stored in this run and
    handed to pytest-benchmark as a recorded benchmark."""
    run, case = get_session(pyfuncitem.config), case_of(pyfuncitem)
    if case is None or not run.is_resumed(case.config):
        return None
    doc = run.store_resumed(case.config)
    info = doc["benchmark"]["extra_info"]
    pyfuncitem.funcargs["progress"](
        f"resumed: ok record of {info['resumed_from']} reused, not trained")
    benchmark = pyfuncitem.funcargs["benchmark"]
    # pytest-benchmark warns about a fixture it never saw used unless it has a mode.
    benchmark._mode = "mnistperf resumed"
    bs = pyfuncitem.config.pluginmanager.get_plugin("pytest-benchmark")
    if not bs.disabled and doc["benchmark"].get("stats"):
        bs.benchmarks.append(Recorded(doc["benchmark"]))
    return True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Progress lines around each case; an interrupt (Ctrl-C, SIGTERM) at any point
    of a case, setup included, records it as interrupted before the session ends."""
    case, run = case_of(item), get_session(item.config)
    if case is None:
        return (yield)
    # Said when the case's test function is called, so a case skipped in its setup
    # (a gpu case without CUDA) prints nothing of its own: one line per skip reason
    # ends the session instead.
    run.case_started(case.config)
    try:
        return (yield)
    except KeyboardInterrupt as exc:
        run.hold_signals()  # the run is ending: a second Ctrl-C waits for its files
        if case.config.case_id not in run.status:
            _forget_benchmark(item)
            run.store_failure(case.config, "interrupted",
                              f"interrupted ({str(exc) or 'SIGINT'}) while running",
                              name=item.name, fullname=item.nodeid)
        raise
    finally:
        _say(item.config, run.case_ended(case.config))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    case = case_of(item)
    if case is not None and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(
            report.longrepr)
        get_session(item.config).case_skipped(case.config,
                                              reason.removeprefix("Skipped: "))
    return report


def _say(config, line: str | None) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and line is not None:
        # pytest's "." for the case just ended may sit on the current line; the
        # terminal writer is the only place that knows (ensure_newline does not).
        writer = getattr(reporter, "_tw", None)
        if writer is not None and writer.width_of_current_line:
            reporter.write("\n")
        reporter.write_line(f"mnistperf: {line}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Save the case's record the moment it ends, whatever the ending."""
    case, run = case_of(item), get_session(item.config)
    if case is not None:
        _say(item.config, run.start_line(case.config))
    benchmark = item.funcargs.get("benchmark")
    if benchmark is None or (case is not None and run.is_resumed(case.config)):
        return (yield)
    if case is None:  # a benchmark of the user's own: kept if it records mnistperf extra_info
        result = yield
        if is_record(benchmark.extra_info) and benchmark.stats is not None:
            run.store(None, benchmark.stats.as_dict(include_data=True))
        return result
    benchmark.group = group_of(case.config)
    # Readable in pytest-benchmark's own JSON, not UNSERIALIZABLE[TrainConfig(...)].
    benchmark.params = {case.fixture: case.config.case_id}
    load = Load()
    try:
        result = yield
    except KeyboardInterrupt:
        raise  # recorded by pytest_runtest_protocol
    except BaseException as exc:
        # Out of memory: the sweep goes on, so the case is freed before the next one.
        status, memory = failure_status(exc, case.config)
        _forget_benchmark(item)
        run.store_failure(case.config, status, f"{type(exc).__name__}: {exc}".splitlines()[0],
                          name=item.name, fullname=item.nodeid,
                          traceback="".join(format_exception(exc)), memory=memory)
        raise
    benchmark.extra_info.update(load.finish())
    if benchmark.stats:
        entry = benchmark.stats.as_dict(include_data=True)
    else:  # --benchmark-disable: the case ran once, untimed
        entry = bench_entry(case.config, benchmark.extra_info, None, item.name, item.nodeid)
    run.store(case.config, entry)
    return result


def _forget_benchmark(item) -> None:
    """A failed case is reported from its record, not by pytest-benchmark."""
    # After teardown pytest has dropped item.funcargs.
    benchmark = (getattr(item, "funcargs", None) or {}).get("benchmark")
    if benchmark is None:
        return
    if benchmark.stats is not None and not benchmark.stats.stats.data:
        # pytest-benchmark cannot summarise a round that never ended (min() of an
        # empty list at session end).
        item.config.pluginmanager.get_plugin("pytest-benchmark").benchmarks.remove(
            benchmark.stats)
    benchmark.has_error = True


def pytest_benchmark_update_json(config, benchmarks, output_json):
    # Also lands in --benchmark-json and --benchmark-save files, so `report` can
    # show the run header (wall time, profile) for those too.
    output_json["mnistperf"] = get_session(config).meta()


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session):
    """A Ctrl-C anywhere among the cases ends the run: from then on a second one
    waits for the run's files (pytest first spends a moment on the first one's
    traceback, where a second Ctrl-C used to land)."""
    try:
        return (yield)
    except KeyboardInterrupt:
        get_session(session.config).hold_signals()
        raise


# Named apart (specname): this module also holds the hook's plain implementation.
@pytest.hookimpl(wrapper=True, tryfirst=True, specname="pytest_sessionfinish")
def pytest_sessionfinish_held(session):
    """Around the whole end of the session, outside pytest-benchmark's own (its
    files and git info) and the terminal summary: a Ctrl-C or SIGTERM waits until
    the run's files are written, then the session ends as interrupted, without a
    traceback (RunSession.ending). The signals stay held until pytest is done
    (options.py releases them at its last cleanup)."""
    run = get_session(session.config)
    if run.run_dir is None or hasattr(session.config, "workerinput"):
        return (yield)
    with run.ending():
        yield
    if run.interrupted:
        session.exitstatus = pytest.ExitCode.INTERRUPTED


def pytest_sessionfinish(session, exitstatus):
    """benchmark.json, tables, figures, findings, claims and the page of this run,
    from its records."""
    config = session.config
    if hasattr(config, "workerinput"):
        return
    run = get_session(config)
    if run.run_dir is None:  # no mnistperf case was selected
        return
    bs = config.pluginmanager.get_plugin("pytest-benchmark")
    commit_info = config.hook.pytest_benchmark_generate_commit_info(config=config)
    finished = run.finish(bs.get_machine_info(), commit_info, bs_version())
    if run.failed:
        session.exitstatus = 1
    elif finished is not None and bs.disabled:
        run.notes.append("--benchmark-disable: times were not measured by pytest-benchmark "
                         "(stats are empty in benchmark.json)")


# Two times for one case: pytest-benchmark's and the tables'.
TIMES_LINE = ("times: pytest-benchmark's table above times each case's whole timed round "
              "(training, evaluation, and for a speed experiment every timed round); the "
              "tables below show training time only (the epochs, without evaluation), as the "
              "study's do")


def bs_version() -> str:
    from pytest_benchmark import __version__

    return __version__


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    tr = terminalreporter
    run = get_session(tr.config)
    if run.run is not None:
        tr.write_sep("=", "mnistperf")
        tr.write_line(TIMES_LINE)
        for line in run.summary_lines():
            tr.write_line(line)
    for line in run.skip_lines() + run.notes:
        tr.write_line(f"mnistperf: {line}")


class Recorded:
    """A resumed case as pytest-benchmark's session sees a benchmark (its
    `Metadata`): the recorded entry, for its JSON files and its table."""

    has_error = False

    def __init__(self, entry: dict):
        self.entry = entry
        for key in ("name", "fullname", "group", "param", "params", "extra_info"):
            setattr(self, key, entry.get(key))

    def __bool__(self):
        return bool(self.entry.get("stats"))

    def get(self, key, default=None):
        return (self.entry.get("stats") or {}).get(key, getattr(self, key, default))

    def __getitem__(self, key):
        value = self.get(key, KeyError)
        if value is KeyError:
            raise KeyError(key)
        return value

    def as_dict(self, include_data=True, flat=False, stats=True, cprofile=None):
        result = {k: v for k, v in self.entry.items() if k != "stats"}
        if stats:
            numbers = dict(self.entry["stats"])
            if not include_data:
                numbers.pop("data", None)
            if flat:
                result.update(numbers)
            else:
                result["stats"] = numbers
        return result
