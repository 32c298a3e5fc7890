"""The plan against the run: predicted and measured seconds per experiment, so a
user can see whether `mnistperf plan` can be trusted on their machine.

    table = prediction_table(run)   # None when no case carries a prediction
"""

from __future__ import annotations

from mnistperf.report.tables import Column, Table


def prediction_table(run) -> Table | None:
    # Only cases that ran to the end: a failed one's wall time stops where it failed.
    cases = [c for c in run.cases
             if c.predicted_seconds is not None and c.case_seconds is not None
             and c.record.status == "ok" and not getattr(c.record, "resumed", False)]
    if not cases:
        return None
    by: dict[str, list] = {}
    for case in cases:
        by.setdefault(case.record.experiment, []).append(case)
    rows = [_row(name, group) for name, group in by.items()]
    if len(by) > 1:
        rows.append(_row("all", cases))
    return Table(
        name="plan", title="The plan against the run",
        columns=[Column("experiment"), Column("cases", "d"), Column("predicted s", ".1f"),
                 Column("measured s", ".1f"), Column("measured / predicted", ".2f"),
                 Column("worst case", ".2f")],
        rows=rows, key_columns=1,
        note="predicted: `mnistperf plan` before the run, from timings of each unit of work "
             "on this machine; measured: each case's wall time from its start to its "
             "record (its setup, every round, its evaluation), cases that ended ok; worst "
             "case: the case whose "
             "measured / predicted is furthest from 1; the session's own start and end "
             "are in neither")


def _row(name: str, cases: list) -> list:
    predicted = sum(c.predicted_seconds for c in cases)
    measured = sum(c.case_seconds for c in cases)
    ratios = [c.case_seconds / c.predicted_seconds for c in cases if c.predicted_seconds > 0]
    worst = max(ratios, key=lambda r: max(r, 1 / r) if r > 0 else float("inf"), default=None)
    return [name, len(cases), predicted, measured,
            measured / predicted if predicted > 0 else None, worst]
