"""The pytest plugin: the only pytest-aware part of mnistperf.

Loaded by the project's root conftest.py (`pytest_plugins = ["mnistperf.plugin"]`);
pytest registers every hook and fixture this package's namespace holds:

- `options`: command-line options and markers, the RunSession made at startup
  (settings checked, SIGTERM caught), the run header, machine info;
- `cases`: parametrising benchmark functions from the experiment registry
  (`pytest.mark.experiment(name)`), markers and skips per case, the fixtures
  (`mnistperf_settings`, `progress`, `case_batches`, `pipeline_batches`,
  `svm_case_data`, `run_train_case`, `run_pipeline_case`), and deselecting experiment copies of grid
  cases;
- `session`: hooks that only delegate to the session's `RunSession`
  (mnistperf.session, kept under the one StashKey `options.SESSION`): the run
  folder, data checks and resume plan before the first case, one record saved
  the moment each case ends (ok, failed, interrupted), resumed cases handed to
  pytest-benchmark's own outputs, and at session end the run's files.
"""

from mnistperf.plugin.cases import *  # noqa: F401,F403
from mnistperf.plugin.options import *  # noqa: F401,F403
from mnistperf.plugin.session import *  # noqa: F401,F403
