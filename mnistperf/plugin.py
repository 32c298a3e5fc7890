"""The pytest plugin: options, run header, machine info, fixtures, progress.

Loaded by the project's root conftest.py (`pytest_plugins = ["mnistperf.plugin"]`).
The only module of the library that imports pytest.

Options (each also read from an environment variable; the option wins):

    --mnistperf-profile  smoke|quick|paper   $MNISTPERF_PROFILE   default quick
    --mnistperf-data     PATH                $MNISTPERF_DATA      default ./data
    --mnistperf-results  PATH                $MNISTPERF_RESULTS   default results
    --mnistperf-seed     INT                                      default 0

Fixtures: `mnistperf_settings` (the resolved options), `progress` (a callable
that prints a line for the running case on the terminal, even without -s),
`case_batches` (the input batches for a parametrised `train_case`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pytest_benchmark.utils import safe_dumps

from mnistperf.config import PROFILES, ConfigError, Profile, get_profile
from mnistperf.data import DatasetNotFoundError, make_batches, resolve_root
from mnistperf.device import cuda_available, machine_summary
from mnistperf.report import (
    build_tables, header_lines, new_run_dir, render_terminal, save_run,
)

NO_CUDA_REASON = ("gpu case needs CUDA, but torch.cuda.is_available() is False on this "
                  "machine; run it where a CUDA GPU is visible (tox -e cuda)")


@dataclass(frozen=True)
class Settings:
    profile: Profile
    data_root: Path
    results_dir: Path
    seed: int


def pytest_addoption(parser):
    group = parser.getgroup("mnistperf", "mnistperf benchmark harness")
    group.addoption(
        "--mnistperf-profile", default=None, choices=tuple(PROFILES),
        help="size profile: smoke (seconds per case, CI), quick (minutes on a laptop "
             "CPU), paper (the seed study's full protocol). Default: $MNISTPERF_PROFILE "
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


def settings_from(config) -> Settings:
    profile_name = (config.getoption("--mnistperf-profile")
                    or os.environ.get("MNISTPERF_PROFILE") or "quick")
    try:
        profile = get_profile(profile_name)
    except ConfigError as exc:
        raise pytest.UsageError(f"{exc} (from MNISTPERF_PROFILE)") from None
    results = (config.getoption("--mnistperf-results")
               or os.environ.get("MNISTPERF_RESULTS") or "results")
    return Settings(
        profile=profile,
        data_root=resolve_root(config.getoption("--mnistperf-data")),
        results_dir=Path(results),
        seed=config.getoption("--mnistperf-seed"),
    )


_SETTINGS = pytest.StashKey[Settings]()


def pytest_configure(config):
    config.stash[_SETTINGS] = settings_from(config)


def get_settings(config) -> Settings:
    return config.stash[_SETTINGS]


def pytest_report_header(config):
    s = get_settings(config)
    m = machine_summary()
    device = f"CUDA {m['cuda']} on {m['gpu']}" if m["cuda_available"] else "CPU only (no CUDA)"
    return [
        f"mnistperf: profile {s.profile.name} ({s.profile.description})",
        f"mnistperf: data {s.data_root}, results {s.results_dir}, seed {s.seed}",
        f"mnistperf: torch {m['torch']}, torchvision {m['torchvision']}, {device}, "
        f"{m['torch_threads']} torch threads",
    ]


def pytest_benchmark_update_machine_info(config, machine_info):
    # Put the accelerator into machine_info so that --benchmark-compare flags a
    # CPU-only run compared against a CUDA run as a different machine.
    summary = machine_summary()
    summary["profile"] = get_settings(config).profile.name
    machine_info["mnistperf"] = summary


def case_params(configs):
    """pytest.param per config, id = case_id; gpu cases skip where CUDA is absent."""
    no_cuda = not cuda_available()
    return [
        pytest.param(c, id=c.case_id,
                     marks=pytest.mark.skipif(c.device == "gpu" and no_cuda,
                                              reason=NO_CUDA_REASON))
        for c in configs
    ]


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
    from mnistperf.device import resolve_device

    device = resolve_device(train_case.device)
    try:
        return make_batches(train_case, mnistperf_settings.data_root, device)
    except DatasetNotFoundError as exc:
        pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)


# ---------------------------------------------------------------- end of session

_START = pytest.StashKey[tuple]()
_RUN = pytest.StashKey[tuple]()


def pytest_sessionstart(session):
    session.config.stash[_START] = (time.perf_counter(), datetime.now(timezone.utc))


def _run_meta(config) -> dict:
    start, started = config.stash[_START]
    settings = get_settings(config)
    return {
        "run": config.stash.get(_RUN, (None,))[0],
        "profile": settings.profile.name,
        "seed": settings.seed,
        "started_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "wall_seconds": round(time.perf_counter() - start, 3),
    }


def pytest_benchmark_update_json(config, benchmarks, output_json):
    # Also lands in --benchmark-json and --benchmark-save files, so `report` can
    # show the run header (wall time, profile) for those too.
    output_json["mnistperf"] = _run_meta(config)


def _benchmark_session(config):
    # pytest-benchmark keeps its session object on config; it is the only handle on
    # the finished benchmarks and their extra_info (no public accessor exists).
    bs = getattr(config, "_benchmarksession", None)
    if bs is None or bs.disabled or hasattr(config, "workerinput"):
        return None
    return bs


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    bs = _benchmark_session(config)
    if bs is None:
        return
    finished = [b for b in bs.benchmarks if not b.has_error]
    if not any("kind" in b.extra_info for b in finished):
        return
    settings = get_settings(config)
    started = config.stash[_START][1]
    run_dir = new_run_dir(settings.results_dir,
                          f"{settings.profile.name}-{started:%Y%m%dT%H%M%SZ}")
    config.stash[_RUN] = (run_dir.name,)
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
    config.stash[_RUN] = (run_dir.name, run_dir, run)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    saved = terminalreporter.config.stash.get(_RUN, None)
    if not saved or len(saved) < 3:
        return
    _, run_dir, run = saved
    tr = terminalreporter
    tr.write_sep("=", "mnistperf")
    for line in header_lines(run):
        tr.write_line(line)
    tr.write_line(render_terminal(run, build_tables(run)))
    tr.write_line("")
    tr.write_line(f"mnistperf: wrote {run_dir}/ (tables.md, CSVs, figures, index.html, "
                  f"benchmark.json); {run_dir.parent / 'latest'} points at it")
