"""Two runs side by side: per case id in both, accuracy and time with deltas.

    print(compare_runs(load_run("results/a"), load_run("results/b")))

A case that did not end ok shows its status word, not a number.
"""

from __future__ import annotations

from tabulate import tabulate

from mnistperf.records import NOT_RUN
from mnistperf.report.run import Case, Run


def _accuracy(case: Case):
    record = case.record
    if not record.ok:
        return record.status
    return getattr(record, "test_accuracy", None)


def _num(value, digits: int = 2) -> str:
    if value is None:
        return NOT_RUN
    if isinstance(value, str):
        return value
    return f"{value:.{digits}f}"


def compare_runs(a: Run, b: Run) -> str:
    """Per case id in both runs: accuracy and time side by side with the delta;
    then the ids found in only one of them."""
    cases_a = {c.case_id: c for c in a.cases}
    cases_b = {c.case_id: c for c in b.cases}
    rows = []
    for case_id in (i for i in cases_a if i in cases_b):
        ca, cb = cases_a[case_id], cases_b[case_id]
        acc_a, acc_b = _accuracy(ca), _accuracy(cb)
        numeric = all(isinstance(v, (int, float)) for v in (acc_a, acc_b))
        d_acc = acc_b - acc_a if numeric else None
        t_a, t_b = ca.seconds, cb.seconds
        d_t = None if t_a is None or t_b is None else t_b - t_a
        pct = None if d_t is None or not t_a else 100.0 * d_t / t_a
        rows.append([case_id, _num(acc_a), _num(acc_b),
                     NOT_RUN if d_acc is None else f"{d_acc:+.2f}",
                     _num(t_a), _num(t_b),
                     NOT_RUN if d_t is None else f"{d_t:+.2f}",
                     NOT_RUN if pct is None else f"{pct:+.1f}%"])
    lines = [f"A: {a.source}", f"B: {b.source}", ""]
    if rows:
        lines.append(tabulate(rows, headers=["case", "acc A %", "acc B %", "Δ acc",
                                             "time A s", "time B s", "Δ time s", "Δ time %"],
                              tablefmt="simple", disable_numparse=True))
    else:
        lines.append("no case id is in both runs")
    only_a = [i for i in cases_a if i not in cases_b]
    only_b = [i for i in cases_b if i not in cases_a]
    for label, ids in (("only in A", only_a), ("only in B", only_b)):
        if ids:
            lines += ["", f"{label} ({len(ids)}): " + ", ".join(ids)]
    return "\n".join(lines) + "\n"
