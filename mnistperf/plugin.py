"""The pytest plugin: options, run header, machine info, fixtures, progress.

Loaded by the project's root conftest.py (`pytest_plugins = ["mnistperf.plugin"]`).
The only module of the library that imports pytest.

Options (the first three also from an environment variable; the option wins):

    --mnistperf-profile  smoke|quick|paper   $MNISTPERF_PROFILE   default quick
    --mnistperf-data     PATH                $MNISTPERF_DATA      default ./data
    --mnistperf-results  PATH                $MNISTPERF_RESULTS   default results
    --mnistperf-seed     INT                                      default 0
    --mnistperf-repeats  N                                        default 1
    --mnistperf-target-mnist / --mnistperf-target-fashion PCT     default 99 / 92
    --mnistperf-compile  BACKEND                                  default off

Fixtures: `mnistperf_settings` (the resolved options), `progress` (a callable
that prints a line for the running case on the terminal, even without -s),
`case_batches` / `pipeline_batches` / `svm_case_data` (inputs for the
parametrised `train_case` / `pipeline_case` / `svm_case`, built outside the
timed region), `run_train_case` (trains a case as the benchmark, one round per
repeat, and fills extra_info).

At session end the finished cases are written to results/<run>/ (see
mnistperf.report) and their tables printed in the terminal summary.
"""

from __future__ import annotations

import dataclasses
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib.util import find_spec
from pathlib import Path

import pytest

from mnistperf.config import DEFAULT_TARGETS, ConfigError, PipelineConfig, SvmConfig, TrainConfig
from mnistperf.data import DatasetNotFoundError, make_batches
from mnistperf.device import NO_CUDA_REASON, cuda_available, machine_summary, resolve_device
from mnistperf.experiments import get_experiment
from mnistperf.profiles import PROFILES
from mnistperf.settings import Settings, resolve_settings
from mnistperf.store import new_run_dir

NO_SKLEARNEX_REASON = ("backend 'sklearnex' needs scikit-learn-intelex, which is not installed; "
                       "install the extra: pip install -e '.[fast-svm]' (tox installs it)")


def pytest_addoption(parser):
    group = parser.getgroup("mnistperf", "mnistperf benchmark harness")
    group.addoption(
        "--mnistperf-profile", default=None, choices=tuple(PROFILES),
        help="size profile: smoke (seconds per case, CI), quick (minutes on a laptop "
             "CPU), paper (the study's full protocol). Default: $MNISTPERF_PROFILE "
             "or quick.",
    )
    group.addoption(
        "--mnistperf-data", default=None, metavar="PATH",
        help="dataset root holding MNIST/raw and FashionMNIST/raw. Default: "
             "$MNISTPERF_DATA or ./data.",
    )
    group.addoption(
        "--mnistperf-results", default=None, metavar="PATH",
        help="where tables, figures and JSON go. Default: $MNISTPERF_RESULTS or results.",
    )
    group.addoption(
        "--mnistperf-seed", default=0, type=int, metavar="INT",
        help="base seed for the split, initialisation and batch order. Default: 0.",
    )
    group.addoption(
        "--mnistperf-repeats", default=1, type=int, metavar="N",
        help="train each case N times with seeds seed, seed+1, ... (pytest-benchmark "
             "rounds; the split stays the base seed's); tables show mean +- std. Default: 1.",
    )
    group.addoption(
        "--mnistperf-compile", default="", metavar="BACKEND",
        help="run training steps through torch.compile with this backend (e.g. inductor); "
             "recorded in extra_info, case ids unchanged. Default: off (eager).",
    )
    for dataset, target in DEFAULT_TARGETS.items():
        group.addoption(
            f"--mnistperf-target-{dataset}", default=target, type=float, metavar="PCT",
            help=f"validation accuracy (%%) for time-to-target on {dataset}. "
                 f"Default: {target:g}.",
        )


def settings_from(config) -> Settings:
    try:
        return resolve_settings(
            profile=config.getoption("--mnistperf-profile"),
            data=config.getoption("--mnistperf-data"),
            results=config.getoption("--mnistperf-results"),
            seed=config.getoption("--mnistperf-seed"),
            repeats=config.getoption("--mnistperf-repeats"),
            compile=config.getoption("--mnistperf-compile"),
            targets={d: config.getoption(f"--mnistperf-target-{d}") for d in DEFAULT_TARGETS})
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


_SETTINGS = pytest.StashKey[Settings]()


MARKERS = {
    "experiment(name)": "the benchmark function's cases are the named experiment's "
                                  "(mnistperf.experiments); the plugin parametrises them",
    "reuses_grid": "an experiment's copy of a grid case; deselected when the grid "
                             "case itself is selected in the same session",
    "cpu": "a case on the CPU", "gpu": "a case on a CUDA GPU",
    "mnist": "a case on MNIST", "fashion": "a case on FashionMNIST",
    "resnet18": "a ResNet-18 case", "resnet50": "a ResNet-50 case",
    "svm": "an SVM case", "pipeline": "an input-pipeline case",
}


def pytest_configure(config):
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    settings = settings_from(config)
    config.stash[_SETTINGS] = settings
    # The run's name is known from the start, so that every JSON this session
    # writes (--benchmark-json, --benchmark-save, results/<run>/) carries it.
    started = datetime.now(timezone.utc)
    config.stash[_START] = (time.perf_counter(), started)
    config.stash[_RUN_NAME] = f"{settings.profile.name}-{started:%Y%m%dT%H%M%SZ}"


def get_settings(config) -> Settings:
    return config.stash[_SETTINGS]


def pytest_report_header(config):
    s = get_settings(config)
    m = machine_summary()
    device = f"CUDA {m['cuda']} on {m['gpu']}" if m["cuda_available"] else "CPU only (no CUDA)"
    return [
        f"mnistperf: profile {s.profile.name} ({s.profile.description})",
        f"mnistperf: data {s.data_root}, results {s.results_dir}, seed {s.seed}, "
        f"repeats {s.repeats}, targets "
        + ", ".join(f"{d} {t:g}%" for d, t in s.targets),
        f"mnistperf: torch {m['torch']}, torchvision {m['torchvision']}, {device}, "
        f"{m['torch_threads']} torch threads",
    ]


def pytest_benchmark_update_machine_info(config, machine_info):
    # Put the accelerator into machine_info so that --benchmark-compare flags a
    # CPU-only run compared against a CUDA run as a different machine.
    summary = machine_summary()
    summary["profile"] = get_settings(config).profile.name
    machine_info["mnistperf"] = summary


def _skip_reason(config) -> str | None:
    if config.device == "gpu" and not cuda_available():
        return NO_CUDA_REASON
    if getattr(config, "backend", None) == "sklearnex" and not find_spec("sklearnex"):
        return NO_SKLEARNEX_REASON
    return None


def _case_marks(config) -> list:
    """Markers for `-m`: device, dataset, and model or kind."""
    if isinstance(config, SvmConfig):
        names = [config.device, config.dataset, "svm"]
    elif isinstance(config, PipelineConfig):
        names = [config.device, config.train.dataset, config.train.model, "pipeline"]
    else:
        names = [config.device, config.dataset, config.model]
    return [getattr(pytest.mark, name) for name in names]


def case_params(configs, settings: Settings | None = None, reuses_grid: bool = False):
    """pytest.param per config, id = case_id; a case whose device (CUDA) or backend
    (scikit-learn-intelex) is absent is skipped with the reason. Session-wide
    settings that do not change ids (torch.compile) are applied here."""
    params = []
    for c in configs:
        if settings is not None and settings.compile:
            if isinstance(c, TrainConfig):
                c = c.replace(compile=settings.compile)
            elif isinstance(c, PipelineConfig):
                c = dataclasses.replace(c, train=c.train.replace(compile=settings.compile))
        marks = _case_marks(c)
        if reuses_grid:
            marks.append(pytest.mark.reuses_grid)
        reason = _skip_reason(c)
        if reason:
            marks.append(pytest.mark.skip(reason=reason))
        params.append(pytest.param(c, id=c.case_id, marks=marks))
    return params


def pytest_generate_tests(metafunc):
    """Parametrise a benchmark function marked `experiment(name)` over
    that experiment's cases for the session's profile and seed."""
    marker = metafunc.definition.get_closest_marker("experiment")
    if marker is None:
        return
    name = marker.args[0] if marker.args else marker.kwargs.get("name")
    try:
        experiment = get_experiment(name)
    except KeyError as exc:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: {exc.args[0]}") from None
    if experiment.fixture not in metafunc.fixturenames:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: experiment {name!r} parametrises the argument "
            f"{experiment.fixture!r}, which this function does not take")
    settings = get_settings(metafunc.config)
    configs = experiment.cases(settings.profile, settings.seed)
    metafunc.parametrize(experiment.fixture,
                         case_params(configs, settings, reuses_grid=experiment.reuses_grid))


@pytest.fixture(scope="session")
def mnistperf_settings(request) -> Settings:
    return get_settings(request.config)


@pytest.fixture
def progress(request):
    """Print `[case] message` on the terminal while the case runs, without -s."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capman = request.config.pluginmanager.get_plugin("capturemanager")
    name = request.node.callspec.id if hasattr(request.node, "callspec") else request.node.name

    def emit(message: str) -> None:
        if reporter is None:
            return
        if capman is not None:
            with capman.global_and_fixture_disabled():
                reporter.write_line(f"  [{name}] {message}")
        else:
            reporter.write_line(f"  [{name}] {message}")

    return emit


@pytest.fixture
def case_batches(train_case, mnistperf_settings):
    """The input batches for the parametrised `train_case`, on its device; built
    outside the timed region. Missing data ends the session with one line."""
    device = resolve_device(train_case.device)
    with _data_errors_end_the_session():
        return make_batches(train_case, mnistperf_settings.data_root, device)


@pytest.fixture
def pipeline_batches(pipeline_case, mnistperf_settings):
    """Input batches of the pipeline case's own kind (DataLoader or tensors)."""
    device = resolve_device(pipeline_case.device)
    with _data_errors_end_the_session():
        return make_batches(pipeline_case.train, mnistperf_settings.data_root, device)


@pytest.fixture
def svm_case_data(svm_case, mnistperf_settings):
    """Flat pixel arrays for the parametrised `svm_case`, built outside the timed region."""
    from mnistperf.data import load_raw, make_split
    from mnistperf.svm import svm_data

    with _data_errors_end_the_session():
        split = make_split(load_raw(svm_case.dataset, mnistperf_settings.data_root),
                           svm_case.seed)
    return svm_data(svm_case, split)


@pytest.fixture
def run_train_case(benchmark, mnistperf_settings, progress):
    """Train a config as the benchmark: one pedantic round per repeat, each round a
    new seed (seed, seed+1, ...) on the same prebuilt batches; fills extra_info."""
    from mnistperf.records import TrainRecord
    from mnistperf.train import train

    def run(config, batches):
        seeds = [config.seed + i for i in range(mnistperf_settings.repeats)]
        results = []

        def setup():
            seeded = config.replace(seed=seeds[len(results)])
            if len(seeds) > 1:
                progress(f"seed {seeded.seed} ({len(results) + 1}/{len(seeds)})")
            return (seeded, batches, batches.device), {"progress": progress}

        def one_round(*args, **kwargs):
            results.append(train(*args, **kwargs))

        benchmark.pedantic(one_round, setup=setup, rounds=len(seeds), iterations=1)
        # A disabled benchmark (--benchmark-disable, xdist) runs a single round.
        benchmark.extra_info.update(TrainRecord.from_results(
            config, results, seeds[:len(results)],
            target=mnistperf_settings.target(config.dataset)).to_extra_info())
        return results

    return run


@contextmanager
def _data_errors_end_the_session():
    # Every later case would fail the same way: stop with the one-line message.
    try:
        yield
    except DatasetNotFoundError as exc:
        pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)


# ---------------------------------------------------------------- end of session

_START = pytest.StashKey[tuple]()  # (perf_counter, UTC datetime) at configure time
_RUN_NAME = pytest.StashKey[str]()  # results/<run> folder name
_RUN_DIR = pytest.StashKey[Path]()  # the folder, once created
_SAVED = pytest.StashKey[tuple]()  # (run_dir, Run) once written

CASE_FIXTURES = ("train_case", "svm_case", "pipeline_case")


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


def _make_run_dir(config) -> Path:
    if _RUN_DIR not in config.stash:
        run_dir = new_run_dir(get_settings(config).results_dir, config.stash[_RUN_NAME])
        config.stash[_RUN_DIR] = run_dir
        config.stash[_RUN_NAME] = run_dir.name
    return config.stash[_RUN_DIR]


def pytest_collection_finish(session):
    # The run folder exists before the first case trains, under the name every
    # JSON of this session will carry.
    config = session.config
    if config.option.collectonly or _benchmark_session(config) is None:
        return
    params = [item.callspec.params for item in session.items if hasattr(item, "callspec")]
    if any(name in p for p in params for name in CASE_FIXTURES):
        _make_run_dir(config)


def pytest_benchmark_update_json(config, benchmarks, output_json):
    # Also lands in --benchmark-json and --benchmark-save files, so `report` can
    # show the run header (wall time, profile) for those too.
    output_json["mnistperf"] = _run_meta(config)


def _benchmark_session(config):
    """pytest-benchmark's session (its registered plugin), or None where it does
    not measure (disabled, or an xdist worker)."""
    bs = config.pluginmanager.get_plugin("pytest-benchmark")
    if bs is None or bs.disabled or hasattr(config, "workerinput"):
        return None
    return bs


def pytest_sessionfinish(session, exitstatus):
    from pytest_benchmark.utils import safe_dumps

    from mnistperf.records import is_record
    from mnistperf.report.compose import save_run

    config = session.config
    bs = _benchmark_session(config)
    if bs is None:
        return
    finished = [b for b in bs.benchmarks if not b.has_error]
    if not any(is_record(b.extra_info) for b in finished):
        # Every case was skipped or failed before recording: leave no empty folder.
        run_dir = config.stash.get(_RUN_DIR, None)
        if run_dir is not None and run_dir.is_dir() and not any(run_dir.iterdir()):
            run_dir.rmdir()
        return
    run_dir = _make_run_dir(config)
    # The same hooks pytest-benchmark uses for --benchmark-json, so benchmark.json is
    # its format and `pytest-benchmark compare` reads it.
    machine_info = bs.get_machine_info()
    commit_info = config.hook.pytest_benchmark_generate_commit_info(config=config)
    output_json = config.hook.pytest_benchmark_generate_json(
        config=config, benchmarks=finished, include_data=True,
        machine_info=machine_info, commit_info=commit_info)
    config.hook.pytest_benchmark_update_json(config=config, benchmarks=finished,
                                             output_json=output_json)
    run = save_run(run_dir, safe_dumps(output_json, ensure_ascii=True, indent=4))
    config.stash[_SAVED] = (run_dir, run)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    from mnistperf.report.compose import build_tables
    from mnistperf.report.render import header_lines, render_terminal

    saved = terminalreporter.config.stash.get(_SAVED, None)
    if saved is None:
        return
    run_dir, run = saved
    tr = terminalreporter
    tr.write_sep("=", "mnistperf")
    for line in header_lines(run):
        tr.write_line(line)
    tr.write_line(render_terminal(build_tables(run)))
    tr.write_line("")
    tr.write_line(f"mnistperf: wrote {run_dir}/ (tables.md, CSVs, figures, index.html, "
                  f"benchmark.json); {run_dir.parent / 'latest'} points at it")


def pytest_collection_modifyitems(session, config, items):
    """Cases marked `reuses_grid` (experiment copies of grid
    configurations) are deselected when the grid's own case with the same config
    is selected too, so nothing is trained twice in one session."""
    grid = {item.callspec.params["train_case"] for item in items
            if hasattr(item, "callspec") and "train_case" in item.callspec.params
            and item.get_closest_marker("reuses_grid") is None}
    keep, dropped = [], []
    for item in items:
        config_ = getattr(item, "callspec", None) and item.callspec.params.get("train_case")
        if item.get_closest_marker("reuses_grid") and config_ in grid:
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
