"""The experiments, one module each, and the registry everything iterates.

    for experiment in EXPERIMENTS:                 # benchmarks, `grid`, the report
        experiment.cases(profile, seed); experiment.tables(run); ...
    get_experiment("pin_memory")

Adding an experiment: one module here defining `EXPERIMENT` (see `base.py`),
listed below, and one thin benchmark file marked
`pytest.mark.experiment("<name>")`. The order below is the order of
the tables, figures and findings in every output.
"""

from __future__ import annotations

from mnistperf.experiments import devices, epochs, grid, pin_memory, pipeline, svm
from mnistperf.experiments.base import Experiment

EXPERIMENTS: tuple[Experiment, ...] = tuple(
    module.EXPERIMENT for module in (grid, devices, pin_memory, epochs, pipeline, svm))


def get_experiment(name: str) -> Experiment:
    for experiment in EXPERIMENTS:
        if experiment.name == name:
            return experiment
    raise KeyError(f"no experiment named {name!r}; known: "
                   + ", ".join(e.name for e in EXPERIMENTS))


def experiment_of(config) -> Experiment:
    """The experiment a TrainConfig, PipelineConfig or SvmConfig belongs to."""
    from mnistperf.config import PipelineConfig, SvmConfig

    if isinstance(config, SvmConfig):
        return get_experiment("svm")
    return get_experiment((config.train if isinstance(config, PipelineConfig)
                           else config).experiment)
