"""Which cases a `dispatch` command line selects, found by pytest's own
collection (a collect-only session with a small plugin), exactly as
`pytest benchmarks ...` would choose them.

    selection = collect(["-k", "mnist and cpu", "--mnistperf-profile", "smoke"])
    selection.cases[0].nodeid, selection.options   # what each worker runs
"""

from __future__ import annotations

import sys
from contextlib import redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

# Options the driver owns: each worker writes to its own temporary results folder,
# resume is decided by the driver, the data root is passed resolved, and the
# driver logs to the tracker as records arrive.
DRIVER_OPTIONS = {"mnistperf_results", "mnistperf_resume", "mnistperf_resume_any_machine",
                  "mnistperf_data", "mnistperf_profile", "mnistperf_track", "mnistperf_yes",
                  "mnistperf_no_plan"}
PATH_OPTIONS = ("--mnistperf-results", "--mnistperf-data", "--mnistperf-resume")


class DispatchError(Exception):
    """A bad command line or cluster; the message is one line for the user."""


@dataclass
class Task:
    """One selected case as a Ray task: the node id a worker runs, and its config."""

    nodeid: str
    case_id: str
    config: object  # TrainConfig | SvmConfig | PipelineConfig
    gpu: bool


@dataclass
class Selection:
    cases: list[Task]
    rootpath: Path
    settings: object  # mnistperf.settings.Settings
    options: list[str]  # the mnistperf options every worker gets



class _Collector:
    """A pytest plugin for the driver's collect-only session."""

    def __init__(self):
        self.selection = None

    def pytest_collection_finish(self, session):
        from mnistperf.plugin.options import get_settings
        from mnistperf.plugin.session import case_of

        cases = []
        for item in session.items:
            case = case_of(item)
            if case is not None:
                cases.append(Task(item.nodeid, case.config.case_id, case.config,
                                  case.config.device == "gpu"))
        settings = get_settings(session.config)
        # Workers do not plan: the driver did, for the whole selection.
        options = [f"--mnistperf-profile={settings.profile.name}", "--mnistperf-no-plan"]
        for dest, value in sorted(vars(session.config.option).items()):
            if dest.startswith("mnistperf_") and dest not in DRIVER_OPTIONS \
                    and value not in (None, ""):
                options.append(f"--{dest.replace('_', '-')}={value}")
        self.selection = Selection(cases, session.config.rootpath, settings, options)


def with_default_path(pytest_args: list[str]) -> list[str]:
    """`dispatch` without a path means ./benchmarks, as `pytest benchmarks` does. It
    must be given to pytest, not decided later: pytest finds the rootdir and the
    conftest that loads the plugin from the paths on the command line (an existing
    --mnistperf-results folder would otherwise become the rootdir)."""
    paths = [arg for before, arg in zip(["", *pytest_args], pytest_args)
             if not arg.startswith("-") and before not in PATH_OPTIONS
             and Path(arg.split("::")[0]).exists()]
    return pytest_args if paths or not Path("benchmarks").is_dir() \
        else ["benchmarks", *pytest_args]


def collect(pytest_args: list[str]) -> Selection:
    import pytest

    collector, out = _Collector(), StringIO()
    modules = set(sys.modules)
    try:
        with redirect_stdout(out):  # the collect-only listing is noise unless it failed
            code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider",
                                *with_default_path(pytest_args)], plugins=[collector])
    finally:
        # Collection imported the benchmark files under their bare names (test_svm,
        # conftest, ...): drop them, or a later pytest run in this process would find
        # a same-named module from another folder ("import file mismatch").
        for name in set(sys.modules) - modules:
            if not name.startswith(("mnistperf", "_pytest", "pytest")):
                file = getattr(sys.modules[name], "__file__", None) or ""
                if file and not file.startswith(sys.prefix) and "site-packages" not in file:
                    del sys.modules[name]
    if code not in (0, 5) or collector.selection is None:
        sys.stderr.write(out.getvalue())
        raise DispatchError(f"pytest could not collect the cases (exit code {int(code)}; "
                            f"its output is above)")
    if not collector.selection.cases:
        raise DispatchError(f"no mnistperf cases selected by: {' '.join(pytest_args)}")
    return collector.selection
