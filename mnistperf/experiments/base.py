"""What an experiment is: its cases, sizes, tables, figures and findings in one object.

    EXPERIMENT = Experiment(name="pin_memory", title="pin_memory on the DataLoader path",
                            version=1, fixture="train_case", cases=cases,
                            tables=tables, figures=figures, findings=findings)

`cases(profile, seed)` lists the configs its benchmark file parametrises over
(the fixture named by `fixture` receives each); `tables(run)`, `figures(run)`
and `findings(run)` derive its outputs from whatever records a run holds, and
return nothing when none of its cases ran. `title` heads its part of the page.
`version` is part of every record's fingerprint: raise it when the experiment
starts measuring differently, and resume stops reusing its older records.
`timed_rounds` > 0 marks an experiment whose question is speed (a warm-up round,
then that many timed rounds of the same work). `reuses_grid` marks an
experiment whose cases are grid configurations: the plugin deselects its copy
of a case when the grid's own case is selected in the same session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

# Keys that define "the same configuration" when findings pair up cases.
CONFIG_KEYS = ("dataset", "model", "batch_size", "optimizer", "lr", "epochs", "device",
               "train_size", "loader", "pin_memory", "experiment")
# The benchmark argument each kind of case arrives in, and pytest-benchmark's
# group of its cases.
GROUPS = {"train_case": "resnet training", "svm_case": "svm fit",
          "pipeline_case": "pipeline steps"}
# Untimed rounds before the timed rounds of a speed experiment.
WARMUP_ROUNDS = 1


def _nothing(run):
    return []


def _no_figures(run):
    return {}


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str  # the heading of its part of the page
    version: int  # in every record's fingerprint: raise it when the numbers change meaning
    fixture: str  # a key of GROUPS
    cases: Callable  # (Profile, seed) -> list of configs
    tables: Callable = _nothing  # Run -> list[Table]
    figures: Callable = _no_figures  # Run -> {file name: matplotlib Figure}
    findings: Callable = _nothing  # Run -> list[str]
    reuses_grid: bool = False
    # Set when the experiment's question is speed: each case runs WARMUP_ROUNDS
    # untimed rounds, then this many timed rounds of the same work (median and
    # spread). 0: one round per seed, as the grid.
    timed_rounds: int = 0

    def __post_init__(self):
        if self.fixture not in GROUPS:
            raise ValueError(f"experiment {self.name!r}: fixture {self.fixture!r} is not one "
                             f"of {', '.join(GROUPS)}")

    def rounds(self, repeats: int) -> tuple[int, int]:
        """(warm-up rounds, measured rounds) of each case: a speed experiment's
        warm-up and timed rounds, otherwise one round per seed (`repeats`)."""
        return (WARMUP_ROUNDS, self.timed_rounds) if self.timed_rounds else (0, repeats)

    def seeds(self, seed: int, repeats: int) -> list[int]:
        """The seed of each measured round: the same seed for every timed round of
        a speed experiment, else seed, seed+1, ... (one per repeat)."""
        measured = self.rounds(repeats)[1]
        return [seed] * measured if self.timed_rounds else [seed + i for i in range(measured)]
