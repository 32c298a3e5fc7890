"""The experiments, one module each, and the registry everything iterates.

    for experiment in EXPERIMENTS:                 # benchmarks, `grid`, the report
        experiment.cases(profile, seed); experiment.tables(run); ...
    get_experiment("pin_memory")
    names()                                        # CLI choices, in registry order
    case_fixtures()                                # the benchmark arguments of cases

Adding an experiment: one module here defining `EXPERIMENT` (see `base.py`),
one line in `_MODULES` below, and one thin benchmark file marked
`pytest.mark.experiment("<name>")`. Every list of experiment names (the CLI's
choices, the page's headings, the plugin's case arguments) is read from here.
The order below is the order of the tables, figures and findings in every output.
"""

from __future__ import annotations

from mnistperf.experiments import devices, epochs, grid, pin_memory, pipeline, svm
from mnistperf.experiments.base import GROUPS, Experiment

_MODULES = (grid, devices, pin_memory, epochs, pipeline, svm)

EXPERIMENTS: tuple[Experiment, ...] = tuple(module.EXPERIMENT for module in _MODULES)


def group_of(config) -> str:
    """pytest-benchmark's group of a case: its experiment and kind ("grid: resnet
    training", "epochs: resnet training", "svm: svm fit"), so that its table never
    ranks a 2-epoch case against a 20-epoch or a DataLoader one."""
    experiment = experiment_of(config)
    return f"{experiment.name}: {GROUPS[experiment.fixture]}"


def names() -> tuple[str, ...]:
    return tuple(e.name for e in EXPERIMENTS)


def case_fixtures() -> tuple[str, ...]:
    """The benchmark arguments that carry a case, in registry order."""
    return tuple(dict.fromkeys(e.fixture for e in EXPERIMENTS))


def primary_experiments() -> tuple[str, ...]:
    """The first experiment of each kind of case (the grid, the pipelines, the
    SVMs): its cases' ids need no experiment tag in a comparison."""
    return tuple(next(e.name for e in EXPERIMENTS if e.fixture == f) for f in case_fixtures())


def get_experiment(name: str) -> Experiment:
    for experiment in EXPERIMENTS:
        if experiment.name == name:
            return experiment
    raise KeyError(f"no experiment named {name!r}; known: " + ", ".join(names()))


def experiment_of(config) -> Experiment:
    """The experiment a TrainConfig, PipelineConfig or SvmConfig belongs to (the one
    its `experiment` field names)."""
    return get_experiment(getattr(config, "train", config).experiment)


def fixture_of(config) -> str:
    """The benchmark argument a config arrives in."""
    from mnistperf.config import PipelineConfig, SvmConfig

    return ("svm_case" if isinstance(config, SvmConfig) else
            "pipeline_case" if isinstance(config, PipelineConfig) else "train_case")


__all__ = ["EXPERIMENTS", "GROUPS", "Experiment", "case_fixtures", "experiment_of", "group_of",
           "fixture_of", "get_experiment", "names", "primary_experiments"]
