"""The claims of the study's section 6, each with one rule, judged twice: on the
study's own tables (mnistperf.study.as_run) and on a run.

    for v in judge(run):      # one Verdict per claim, in the study's order
        v.claim.section, v.claim.quote, v.study, v.study_detail, v.run, v.run_detail
    claim_lines(run)          # the same as one line per claim, for the outputs

The rules themselves, one per claim, are in mnistperf.study.rules.

Evidence: a claim about accuracy is judged only on records trained on the
study's budget (42,000 images, 10 epochs, 224x224x3: the paper profile), a
claim about a speed ratio only on records at the study's input size. Any
other run gets "cannot tell at this budget", naming both budgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from mnistperf.run import Run
from mnistperf.study.as_run import study_run
from mnistperf.study.figures import CLAIM_TEXTS, PROTOCOL, ClaimText
from mnistperf.study.rules import (  # noqa: F401  (the verdict words are this module's API too)
    ACCURACY, AGREES, ANY, AT_THIS_BUDGET, CANNOT_TELL, DISAGREES, NO_DATA, RULES, SPEED,
)

STUDY_INPUT = f"{PROTOCOL['input_size']}x{PROTOCOL['input_size']}x{PROTOCOL['channels']}"
STUDY_BUDGET = {"resnet": {"images": PROTOCOL["train_size"], "epochs": PROTOCOL["epochs"],
                           "input": STUDY_INPUT},
                "svm": {"images": PROTOCOL["train_size"]}}
STUDY_BUDGET_TEXT = (f"{PROTOCOL['train_size']:,} images, {PROTOCOL['epochs']} epochs, "
                     f"{STUDY_INPUT}")


@dataclass(frozen=True)
class Claim:
    text: ClaimText
    evidence: str  # ACCURACY: the study's budget; SPEED: its input size; ANY
    rule: Callable[[Run], tuple[str, str]]

    @property
    def section(self) -> str:
        return self.text.section

    @property
    def quote(self) -> str:
        return self.text.quote


CLAIMS: tuple[Claim, ...] = tuple(Claim(t, *RULES[t.key]) for t in CLAIM_TEXTS)


def _meets(record, evidence: str) -> bool:
    if evidence == ACCURACY:
        return record.budget == STUDY_BUDGET.get(record.kind)
    if evidence == SPEED:
        return record.kind != "resnet" or record.budget["input"] == STUDY_INPUT
    return True


def _only(run: Run, evidence: str) -> Run:
    return Run(source=run.source, data=run.data,
               cases=[c for c in run.cases if _meets(c.record, evidence)])


def run_budget(run: Run) -> str:
    """What the run's training cases trained on, for "cannot tell at this budget"."""
    texts = list(dict.fromkeys(r.budget_text() for r in run.records("resnet")
                               if r.experiment == "grid")
                 or dict.fromkeys(r.budget_text() for r in run.records()))
    return " / ".join(texts[:3]) + (" / ..." if len(texts) > 3 else "")


def verdict(claim: Claim, run: Run) -> tuple[str, str]:
    """(verdict, detail) of one claim on one run, evidence rule applied."""
    word, detail = claim.rule(_only(run, claim.evidence))
    if word != NO_DATA:
        return word, detail
    if claim.evidence != ANY and claim.rule(run)[0] != NO_DATA:
        needs = (f"{STUDY_BUDGET_TEXT}" if claim.evidence == ACCURACY
                 else f"{STUDY_INPUT} input on both sides")
        return AT_THIS_BUDGET, f"this run: {run_budget(run)}; the claim needs {needs}"
    return CANNOT_TELL, detail


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    study: str
    study_detail: str
    run: str
    run_detail: str


def judge(run: Run | None) -> list[Verdict]:
    """Every claim on the study's own tables, and on `run` (None: the study only)."""
    study = study_run()
    out = []
    for claim in CLAIMS:
        own = verdict(claim, study)
        theirs = verdict(claim, run) if run is not None else ("", "")
        out.append(Verdict(claim, *own, *theirs))
    return out


def claim_lines(run: Run, study_only: bool = False) -> list[str]:
    """One line per claim: section, quote, the study's own verdict, this run's."""
    lines = []
    for v in judge(None if study_only else run):
        scope = f" ({v.claim.text.scope})" if v.claim.text.scope else ""
        line = (f"§{v.claim.section} \"{v.claim.quote}\"{scope}. The study's own tables: "
                f"{v.study} ({v.study_detail})")
        if not study_only:
            line += f". This run: {v.run} ({v.run_detail})"
        lines.append(line)
    return lines
