"""What an experiment is: its cases, tables, figures and findings in one object.

    EXPERIMENT = Experiment(name="pin_memory", fixture="train_case", cases=cases,
                            tables=tables, figures=figures, findings=findings)

`cases(profile, seed)` lists the configs its benchmark file parametrises over
(the fixture named by `fixture` receives each); `tables(run)`, `figures(run)`
and `findings(run)` derive its outputs from whatever records a run holds, and
return nothing when none of its cases ran. `timing_rounds` > 0 marks an
experiment whose question is speed (warm-up, then that many timed rounds).
`reuses_grid` marks an experiment whose cases are grid configurations: the plugin deselects its copy of a case
when the grid's own case is selected in the same session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

# Keys that define "the same configuration" when findings pair up cases.
CONFIG_KEYS = ("dataset", "model", "batch_size", "optimizer", "lr", "epochs", "device",
               "train_size", "loader", "pin_memory", "experiment")


def _nothing(run):
    return []


def _no_figures(run):
    return {}


@dataclass(frozen=True)
class Experiment:
    name: str
    fixture: str  # "train_case" | "svm_case" | "pipeline_case"
    cases: Callable  # (Profile, seed) -> list of configs
    tables: Callable = _nothing  # Run -> list[Table]
    figures: Callable = _no_figures  # Run -> {file name: matplotlib Figure}
    findings: Callable = _nothing  # Run -> list[str]
    reuses_grid: bool = False
    # Set when the experiment's question is speed: each case runs TIMING_WARMUP
    # untimed rounds, then this many timed rounds of the same work (median and
    # spread). 0: one round per seed, as the grid.
    timing_rounds: int = 0

    def rounds(self, repeats: int) -> tuple[int, int]:
        """(warm-up rounds, measured rounds) of each case: a speed experiment's
        warm-up and timed rounds, otherwise one round per seed (`repeats`)."""
        return (TIMING_WARMUP, self.timing_rounds) if self.timing_rounds else (0, repeats)


TIMING_WARMUP = 1
