"""The pytest plugin: the only pytest-aware part of mnistperf.

Loaded by the project's root conftest.py (`pytest_plugins = ["mnistperf.plugin"]`);
pytest registers every hook and fixture this package's namespace holds:

- `options`: command-line options and markers, settings checked at startup, the
  run header, machine info, SIGTERM handling;
- `cases`: parametrising benchmark functions from the experiment registry
  (`pytest.mark.experiment(name)`), markers and skips per case, the fixtures
  (`mnistperf_settings`, `progress`, `case_batches`, `pipeline_batches`,
  `svm_case_data`, `run_train_case`, `run_pipeline_case`), and deselecting experiment copies of grid
  cases;
- `session`: the run folder created before the first case, data checks, resume,
  one record saved the moment each case ends (ok, failed, interrupted), and at
  session end benchmark.json, tables, figures and the page built from the records.
"""

from mnistperf.plugin.cases import *  # noqa: F401,F403
from mnistperf.plugin.options import *  # noqa: F401,F403
from mnistperf.plugin.session import *  # noqa: F401,F403
