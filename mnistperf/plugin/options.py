"""Options, markers, the run session in the stash, the run header (see the
package docstring)."""

from __future__ import annotations

import pytest

from mnistperf.config import DEFAULT_TARGETS, ConfigError
from mnistperf.device import machine_summary
from mnistperf.profiles import PROFILES
from mnistperf.session import RunSession
from mnistperf.settings import Settings, resolve_settings

# The plugin's one piece of session state: the run (mnistperf.session).
SESSION = pytest.StashKey[RunSession]()

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
    group.addoption(
        "--mnistperf-momentum", default=0.0, type=float, metavar="M",
        help="SGD momentum (the study does not state it; its SGD figures fit torch's "
             "default, 0). A non-zero value adds a token such as m0.9 to SGD case ids. "
             "Default: 0.",
    )
    group.addoption(
        "--mnistperf-timeout", default=None, type=float, metavar="SECONDS",
        help="stop a training case after this many seconds with status 'timeout', keeping "
             "the epochs it finished. Default: none.",
    )
    group.addoption(
        "--mnistperf-resume", nargs="?", const="", default=None, metavar="RUN",
        help="do not train a case whose ok record with the same configuration and "
             "fingerprint (experiment version, package source, library versions, machine, "
             "data files, repeats) is in RUN (a results folder; default: the newest run of "
             "the profile); reuse its numbers. Default: off.",
    )
    group.addoption(
        "--mnistperf-resume-any-machine", action="store_true", default=False,
        help="with --mnistperf-resume, also take records made on another machine (other "
             "CPU, GPU or thread count): their times are that machine's. Default: off.",
    )
    group.addoption(
        "--mnistperf-track", default=None, metavar="mlflow[=URI]|tensorboard[=DIR]",
        help="log each case to MLflow (default URI: MLflow's own) or TensorBoard (default "
             "DIR: runs) as it trains; needs the extra .[mlflow] / .[tensorboard]. A tracker "
             "that fails costs one warning, never a case. Default: off.",
    )
    group.addoption(
        "--mnistperf-yes", action="store_true", default=False,
        help="run a selection the plan predicts to take over 24 hours on this machine "
             "(otherwise it stops before anything trains). Default: off.",
    )
    group.addoption(
        "--mnistperf-no-plan", action="store_true", default=False,
        help="do not time the units of work first: no predicted times in the header, "
             "progress or records, and no 24-hour check. Default: plan (mnistperf plan).",
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
            targets={d: config.getoption(f"--mnistperf-target-{d}") for d in DEFAULT_TARGETS},
            timeout=config.getoption("--mnistperf-timeout"),
            resume=config.getoption("--mnistperf-resume"),
            momentum=config.getoption("--mnistperf-momentum"),
            track=config.getoption("--mnistperf-track"),
            resume_any_machine=config.getoption("--mnistperf-resume-any-machine"),
            yes=config.getoption("--mnistperf-yes"),
            plan=not config.getoption("--mnistperf-no-plan"))
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


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
    _check_tracker(settings.track)
    # The run's name is known from the start, so that every JSON this session
    # writes (--benchmark-json, --benchmark-save, results/<run>/) carries it.
    session = config.stash[SESSION] = RunSession(
        settings, warn=lambda line: _warn(config, line))
    session.signals.catch_sigterm()
    # Cleanups run last added first, and these are added before pytest's own (its
    # plugins configure after this one): a Ctrl-C held while the run ends stays held
    # through pytest's last garbage collections, where it used to end in a
    # traceback; then SIGTERM's own handler is put back.
    config.add_cleanup(session.signals.release_sigterm)
    config.add_cleanup(session.signals.release)


def _check_tracker(track: str | None) -> None:
    """--mnistperf-track without its library stops the session before anything runs."""
    from mnistperf.export import missing_extra

    hint = track and missing_extra(track.partition("=")[0])
    if hint:
        raise pytest.UsageError(f"--mnistperf-track {track}: {hint}")


def _warn(config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"mnistperf: {line}")


def get_session(config) -> RunSession:
    return config.stash[SESSION]


def get_settings(config) -> Settings:
    return config.stash[SESSION].settings


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


