"""Resume: which earlier case records may stand for the selected cases, and why
the others may not.

    source = resume_source(settings, this_run_name)    # --mnistperf-resume [RUN]
    plan = plan_resume(source, configs, fingerprint_of, any_machine=False)
    plan.taken[case_id], plan.refused[case_id], plan.lines(len(configs))

A record is taken when it ended ok, its configuration is the case's and its
fingerprint (mnistperf.fingerprint) matches; every refusal carries its reasons
in words. Errors the user must act on are `ResumeError`, one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mnistperf.fingerprint import mismatches
from mnistperf.store import CASES, config_dict, read_cases, runs_of_profile


class ResumeError(Exception):
    """--mnistperf-resume names no run to take records from; one line."""


@dataclass
class ResumePlan:
    """What resume decided: the records taken (case id -> document), the cases it
    refused with their reasons, and the run they came from."""

    source: Path
    taken: dict[str, dict] = field(default_factory=dict)
    refused: dict[str, list[str]] = field(default_factory=dict)

    def lines(self, selected: int) -> list[str]:
        lines = [f"resume: {len(self.taken)} of {selected} cases taken from {self.source}/, "
                 f"{selected - len(self.taken)} to run"]
        by_reason: dict[str, list[str]] = {}
        for case_id, reasons in self.refused.items():
            by_reason.setdefault("; ".join(reasons), []).append(case_id)
        lines += [f"resume: not taken ({reason}): {', '.join(ids)}"
                  for reason, ids in by_reason.items()]
        return lines


def resume_source(settings, this_run: str) -> Path:
    """The run folder --mnistperf-resume names, or the newest earlier run of the
    profile for a bare --mnistperf-resume."""
    if settings.resume == "":
        runs = [r for r in runs_of_profile(settings.results_dir, settings.profile.name)
                if r.name != this_run]
        if not runs:
            raise ResumeError(f"--mnistperf-resume: no earlier {settings.profile.name} "
                              f"run with case records under {settings.results_dir}/")
        return runs[-1]
    source = Path(settings.resume)
    if not (source / CASES).is_dir():
        raise ResumeError(f"--mnistperf-resume {source}: not a run folder with case "
                          f"records (no {source / CASES}/)")
    return source


def plan_resume(source: Path, configs, fingerprint_of, any_machine: bool = False) -> ResumePlan:
    """`fingerprint_of(config)`: the case's fingerprint here and now."""
    earlier = {doc["case_id"]: doc for doc in read_cases(source)
               if doc.get("status") == "ok"}
    plan = ResumePlan(source)
    for config in configs:
        doc = earlier.get(config.case_id)
        if doc is None:
            continue
        if doc.get("config") != config_dict(config):
            plan.refused[config.case_id] = ["configuration changed"]
            continue
        reasons = mismatches(doc.get("fingerprint"), fingerprint_of(config),
                             any_machine=any_machine)
        if reasons:
            plan.refused[config.case_id] = reasons
        else:
            plan.taken[config.case_id] = doc
    return plan
