"""The run: its folder, a record per case as it ends, and the files at session end."""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from traceback import format_exception

import pytest

from mnistperf.data import DataFileError, DatasetNotFoundError, prepare_dataset
from mnistperf.device import machine_summary
from mnistperf.oom import failure_status
from mnistperf.records import is_record
from mnistperf.plugin.options import (
    _NOTES, _RESUMED, _RUN_DIR, _RUN_NAME, _SAVED, _START, _TRACKER, CASE_FIXTURES, GROUPS,
    get_settings,
)
from mnistperf.progress import Sweep, work_units
from mnistperf.store import (
    StoreError, append_event, case_document, config_dict, new_run_dir, read_cases, run_json,
    single_round_stats, write_case,
)
from mnistperf.timing import Load

_STARTED = pytest.StashKey[float]()  # when the case's protocol began
_STORED = pytest.StashKey[bool]()  # its record is saved
_STATUS = pytest.StashKey[str]()  # the status it was saved with
_SWEEP = pytest.StashKey[Sweep]()  # progress over the session's cases


def _case_of(item):
    """(fixture name, config) of an mnistperf case item, or None."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    return next(((name, params[name]) for name in CASE_FIXTURES if name in params), None)


def _run_meta(config) -> dict:
    start, started = config.stash[_START]
    settings = get_settings(config)
    return {
        "run": config.stash[_RUN_NAME],
        "profile": settings.profile.name,
        "seed": settings.seed,
        "started_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "wall_seconds": round(time.perf_counter() - start, 3),
    }


def _resolve_resume(config, settings, items) -> None:
    from mnistperf import __version__
    from mnistperf.store import resumable, runs_of_profile

    if settings.resume == "":
        runs = [r for r in runs_of_profile(settings.results_dir, settings.profile.name)
                if r != config.stash.get(_RUN_DIR, None)]
        if not runs:
            pytest.exit(f"--mnistperf-resume: no earlier {settings.profile.name} run with case "
                        f"records under {settings.results_dir}/", returncode=4)
        source = runs[-1]
    else:
        source = Path(settings.resume)
        if not (source / "cases").is_dir():
            pytest.exit(f"--mnistperf-resume {source}: not a run folder with case records "
                        f"(no {source / 'cases'}/)", returncode=4)
    docs = resumable(source, __version__)
    resumed = {}
    for item in items:
        case = _case_of(item)
        doc = docs.get(case[1].case_id) if case else None
        if doc is not None and doc["config"] == config_dict(case[1]):
            resumed[item.nodeid] = doc
    config.stash[_RESUMED] = resumed
    config.stash[_NOTES].append(f"mnistperf: resume: {len(resumed)} of {len(items)} cases taken "
                                f"from {source}/, {len(items) - len(resumed)} to run")


def pytest_collection_finish(session):
    """Before the first case trains: the run folder exists (checked writable), the
    datasets the selected cases read are checked, and resume is resolved."""
    config = session.config
    items = [item for item in session.items if _case_of(item)]
    if config.option.collectonly or hasattr(config, "workerinput") or not items:
        return
    settings = get_settings(config)
    try:
        _make_run_dir(config)
    except StoreError as exc:
        pytest.exit(str(exc), returncode=4)
    datasets = sorted({getattr(c, "dataset", None) or c.train.dataset
                       for c in (_case_of(item)[1] for item in items)})
    for dataset in datasets:
        try:
            for line in prepare_dataset(dataset, settings.data_root):
                config.stash[_NOTES].append(f"mnistperf: warning: {line}")
        except (DatasetNotFoundError, DataFileError) as exc:
            _make_run_dir(config).rmdir() if not any(_make_run_dir(config).iterdir()) else None
            pytest.exit(str(exc), returncode=4)
    if settings.resume is not None:
        _resolve_resume(config, settings, items)
    from mnistperf.experiments import experiment_of

    resumed = config.stash.get(_RESUMED, {})
    configs = [_case_of(i)[1] for i in items if i.nodeid not in resumed]
    config.stash[_SWEEP] = Sweep({
        c.case_id: work_units(c, sum(experiment_of(c).rounds(settings.repeats)))
        for c in configs})
    append_event(_make_run_dir(config), "run_start", run=config.stash[_RUN_NAME],
                 profile=settings.profile.name, cases=len(items), to_run=len(items) - len(resumed))
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    for line in config.stash[_NOTES]:
        reporter.write_line(line)
    config.stash[_NOTES].clear()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """A resumed case does not train: its earlier record is stored in this run."""
    doc = pyfuncitem.config.stash.get(_RESUMED, {}).get(pyfuncitem.nodeid)
    if doc is None:
        return None
    bench = dict(doc["benchmark"], extra_info=dict(doc["benchmark"]["extra_info"],
                                                   resumed=True, resumed_from=doc["run"]))
    _store(pyfuncitem, _case_of(pyfuncitem)[1], bench, machine=doc.get("machine"))
    pyfuncitem.funcargs["progress"](f"resumed: ok record of {doc['run']} reused, not trained")
    # Deliberately unused: pytest-benchmark would warn that the fixture was not used.
    pyfuncitem.funcargs["benchmark"].skipped = True
    return True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """An interrupt (Ctrl-C, SIGTERM) at any point of a case, setup included,
    records it as interrupted before the session ends."""
    item.stash[_STARTED] = time.perf_counter()
    case, sweep = _case_of(item), item.config.stash.get(_SWEEP, None)
    run_dir = item.config.stash.get(_RUN_DIR, None)
    tracked = case is not None and sweep is not None and case[1].case_id in sweep.work
    if tracked:
        _say(item.config, sweep.start(case[1].case_id))
        append_event(run_dir, "case_start", case_id=case[1].case_id)
    try:
        return (yield)
    except KeyboardInterrupt as exc:
        if case is not None and not item.stash.get(_STORED, False):
            _record_failure(item, case[1], "interrupted",
                            f"interrupted ({exc or 'SIGINT'}) while running")
        raise
    finally:
        if tracked:
            seconds = time.perf_counter() - item.stash[_STARTED]
            status = item.stash.get(_STATUS, "not run")
            _say(item.config, sweep.end(case[1].case_id, status, seconds))
            append_event(run_dir, "case_end", case_id=case[1].case_id, status=status,
                         seconds=round(seconds, 3))


def _say(config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        # pytest's "." for the case just ended may sit on the current line; the
        # terminal writer is the only place that knows (ensure_newline does not).
        writer = getattr(reporter, "_tw", None)
        if writer is not None and writer.width_of_current_line:
            reporter.write("\n")
        reporter.write_line(f"mnistperf: {line}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Save the case's record the moment it ends, whatever the ending."""
    case = _case_of(item)
    fixture = item.funcargs.get("benchmark")
    if fixture is None or item.nodeid in item.config.stash.get(_RESUMED, {}):
        return (yield)
    if case is None:  # a benchmark of the user's own: kept if it records mnistperf extra_info
        result = yield
        if is_record(fixture.extra_info) and fixture.stats is not None:
            _store(item, None, fixture.stats.as_dict(include_data=True))
        return result
    fixture.group = GROUPS[case[0]]
    load = Load()
    try:
        result = yield
    except KeyboardInterrupt:
        raise  # recorded by pytest_runtest_protocol
    except BaseException as exc:
        text = "".join(format_exception(exc))
        # Out of memory: the sweep goes on, so the case is freed before the next one.
        status, memory = failure_status(exc, case[1])
        _record_failure(item, case[1], status, f"{type(exc).__name__}: {exc}".splitlines()[0],
                        traceback=text, memory=memory)
        raise
    fixture.extra_info.update(load.finish())
    if fixture.stats:
        bench = fixture.stats.as_dict(include_data=True)
    else:  # --benchmark-disable: the case ran once, untimed
        bench = _bench_entry(item, fixture.extra_info, None)
    _store(item, case[1], bench)
    return result


def _bench_entry(item, extra_info: dict, seconds: float | None) -> dict:
    """pytest-benchmark's entry for a case it has no stats of (failed, or timing
    disabled): the time the case ran, or no stats at all."""
    case = _case_of(item)
    return {"group": GROUPS[case[0]], "name": item.name, "fullname": item.nodeid,
            "params": None, "param": item.callspec.id, "extra_info": extra_info,
            "options": {}, "stats": None if seconds is None else single_round_stats(seconds)}


def _record_failure(item, config_, status, message, traceback="", memory=None):
    from mnistperf.records import failure_record

    # After teardown pytest has dropped item.funcargs.
    fixture = (getattr(item, "funcargs", None) or {}).get("benchmark")
    if fixture is not None:
        if fixture.stats is not None and not fixture.stats.stats.data:
            # pytest-benchmark cannot summarise a round that never ended (min() of an
            # empty list at session end): this case is reported from its record instead.
            item.config.pluginmanager.get_plugin("pytest-benchmark").benchmarks.remove(
                fixture.stats)
        fixture.has_error = True
    info = failure_record(config_, status, message, memory).to_extra_info()
    seconds = time.perf_counter() - item.stash.get(_STARTED, time.perf_counter())
    _store(item, config_, _bench_entry(item, info, seconds), traceback=traceback)


def _store(item, case_config, bench: dict, machine: dict | None = None, traceback=""):
    from mnistperf import __version__

    item.stash[_STORED] = True
    item.stash[_STATUS] = bench["extra_info"]["status"]
    run_dir = _make_run_dir(item.config)
    if case_config is not None:  # readable params, not pytest-benchmark's UNSERIALIZABLE[...]
        bench["params"] = {_case_of(item)[0]: case_config.case_id}
    doc = case_document(config=case_config, benchmark=bench, run=run_dir.name,
                        version=__version__, machine=machine or machine_summary(),
                        finished_utc=datetime.now(timezone.utc).isoformat(),
                        traceback=traceback)
    write_case(run_dir, doc)
    if _TRACKER in item.config.stash:
        item.config.stash[_TRACKER].on_case_end(doc)


def _make_run_dir(config) -> Path:
    if _RUN_DIR not in config.stash:
        run_dir = new_run_dir(get_settings(config).results_dir, config.stash[_RUN_NAME])
        config.stash[_RUN_DIR] = run_dir
        config.stash[_RUN_NAME] = run_dir.name
        track = get_settings(config).track
        if track:  # --mnistperf-track: the tracker's run starts with the run folder
            from mnistperf.export.live import LiveTracker

            config.stash[_TRACKER] = LiveTracker.start(track, run_dir.name,
                                                       warn=lambda line: _say(config, line))
    return config.stash[_RUN_DIR]


def pytest_benchmark_update_json(config, benchmarks, output_json):
    # Also lands in --benchmark-json and --benchmark-save files, so `report` can
    # show the run header (wall time, profile) for those too.
    output_json["mnistperf"] = _run_meta(config)


def pytest_sessionfinish(session, exitstatus):
    """benchmark.json, tables, figures and the page of this run, from its records."""
    from pytest_benchmark.utils import safe_dumps

    from mnistperf.report.compose import save_run

    config = session.config
    run_dir = config.stash.get(_RUN_DIR, None)
    if run_dir is None or hasattr(config, "workerinput"):
        return
    docs = read_cases(run_dir)
    if not docs:
        # Every case was skipped or stopped before it began: leave no empty folder.
        shutil.rmtree(run_dir, ignore_errors=True)
        return
    append_event(run_dir, "run_end", cases=len(docs),
                 statuses={s: sum(d["status"] == s for d in docs)
                           for s in sorted({d["status"] for d in docs})})
    bs = config.pluginmanager.get_plugin("pytest-benchmark")
    machine_info = bs.get_machine_info()
    commit_info = config.hook.pytest_benchmark_generate_commit_info(config=config)
    output_json = run_json(docs, machine_info, commit_info, _run_meta(config),
                           datetime.now(timezone.utc).isoformat(), bs_version())
    if bs.disabled:
        config.stash[_NOTES].append("mnistperf: --benchmark-disable: times were not measured "
                                    "by pytest-benchmark (stats are empty in benchmark.json)")
    try:
        run = save_run(run_dir, safe_dumps(output_json, ensure_ascii=True, indent=4))
    except StoreError as exc:  # results/latest is the user's file: the run is kept
        config.stash[_NOTES].append(f"mnistperf: {exc}")
        from mnistperf.report.run import load_run
        run = load_run(run_dir)
    config.stash[_SAVED] = (run_dir, run)
    if _TRACKER in config.stash:
        config.stash[_TRACKER].close(run, run_dir)


def bs_version() -> str:
    from pytest_benchmark import __version__

    return __version__


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    from mnistperf.report.compose import terminal
    from mnistperf.report.render import header_lines

    tr = terminalreporter
    saved = tr.config.stash.get(_SAVED, None)
    if saved is not None:
        run_dir, run = saved
        tr.write_sep("=", "mnistperf")
        for line in header_lines(run):
            tr.write_line(line)
        tr.write_line(terminal(run))
        tr.write_line("")
        tr.write_line(f"mnistperf: wrote {run_dir}/ (cases/, tables.md, CSVs, figures, "
                      f"index.html, benchmark.json)")
    for line in tr.config.stash.get(_NOTES, []):
        tr.write_line(line)


