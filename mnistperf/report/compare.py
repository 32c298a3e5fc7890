"""Two runs side by side: per case in both, accuracy and training time with deltas.

    result = compare(load_run("results/a"), load_run("results/b"), by="id")
    print(result.text())
    result.slower(10.0)          # rows whose time grew by more than 10 %

Cases are matched by case id (`by="id"`), or by configuration (`by="config"`):
kind plus the fields in CONFIG_KEYS, so that a smoke run and a quick run of the
same configuration (ids differing in epochs, sizes hidden by the profile) meet.

The time is the one the tables show: the record's training time (ResNet
`train_seconds`, SVM `fit_seconds`, pipeline `seconds` of the timed steps), not
pytest-benchmark's mean, which also holds evaluation and, for pipelines,
warm-up. A case that did not end ok shows its status word, not a number, and
never counts as a slowdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tabulate import tabulate

from mnistperf.config import format_lr
from mnistperf.records import NOT_RUN, Record
from mnistperf.run import Run

BY = ("id", "config")
# The training time of each kind of record: what the tables call its time.
TIME_FIELDS = {"resnet": "train_seconds", "svm": "fit_seconds", "pipeline": "seconds"}
# What makes two cases "the same configuration" under --by config (with the kind);
# epochs, profile, seed and sizes are left out on purpose.
CONFIG_KEYS = {
    "resnet": ("dataset", "model", "batch_size", "optimizer", "lr", "device", "loader",
               "pin_memory", "experiment"),
    "svm": ("dataset", "kernel", "backend"),
    "pipeline": ("dataset", "model", "batch_size", "input_size", "pipeline", "device"),
}
TIME_LINE = ("time = training seconds from the records (ResNet: train_seconds, SVM: "
             "fit_seconds, pipeline: seconds of the timed steps), as in the tables; not "
             "pytest-benchmark's mean")
CONFIG_LINE = ("matched by configuration: kind + dataset, model, batch, optimizer, lr, device, "
               "loader, pin_memory, experiment (SVM: dataset, kernel, backend; pipeline: "
               "dataset, model, batch, input size, pipeline, device); epochs, profile and "
               "sizes may differ, and so may the numbers because of them")


def match_key(record: Record, by: str):
    if by == "id":
        return record.case_id
    return (record.kind,) + tuple(getattr(record, k, None)
                                  for k in CONFIG_KEYS.get(record.kind, ()))


def _config_label(record: Record, primary) -> str:
    """The configuration, tagged `[experiment]` unless the case belongs to one of the
    `primary` experiments (the composition layer passes the registry's)."""
    r = record
    if r.kind == "svm":
        return f"{r.dataset}-svm-{r.kernel}-{r.backend}-{r.device}"
    parts = [r.dataset, r.model, f"bs{r.batch_size}"]
    if r.kind == "pipeline":
        parts += [f"{r.input_size}px", f"{r.pipeline}pipe"]
    else:
        parts += [r.optimizer, format_lr(r.lr)]
        if r.loader != "tensor":
            parts += [r.loader, "pin" if r.pin_memory else "nopin"]
    label = "-".join(str(p) for p in parts + [r.device])
    return label if r.experiment in primary else f"{label} [{r.experiment}]"


def _id_change(id_a: str, id_b: str) -> str:
    """' (e1 -> e2)': the id tokens that differ, when both ids have the same shape."""
    if id_a == id_b:
        return ""
    ta, tb = id_a.split("-"), id_b.split("-")
    if len(ta) != len(tb):
        return f" ({id_a} -> {id_b})"
    diff = [(x, y) for x, y in zip(ta, tb) if x != y]
    return (" (" + "-".join(x for x, _ in diff) + " -> " + "-".join(y for _, y in diff)
            + ")")


# The accuracies a pair can be compared on, in order: the held-out test part, else
# (the study's SVMs) all 60,000 training images. Both sides must have the same one.
ACCURACY_FIELDS = ("test_accuracy", "all_train_accuracy")


def _accuracies(a: Record, b: Record) -> tuple:
    key = next((k for k in ACCURACY_FIELDS if getattr(a, k, None) is not None
                and getattr(b, k, None) is not None), ACCURACY_FIELDS[0])
    return tuple(r.status if not r.ok else getattr(r, key, None) for r in (a, b))


def _time(record: Record):
    if not record.ok:
        return record.status
    return getattr(record, TIME_FIELDS.get(record.kind, ""), None)


def _num(value, digits: int = 2) -> str:
    if value is None:
        return NOT_RUN
    if isinstance(value, str):
        return value
    return f"{value:.{digits}f}"


def _delta(a, b):
    numbers = all(isinstance(v, (int, float)) for v in (a, b))
    return b - a if numbers else None


@dataclass
class Row:
    label: str
    acc_a: float | str | None
    acc_b: float | str | None
    time_a: float | str | None
    time_b: float | str | None
    # Why the pair's difference is not the code's alone: "contended", "other
    # budget", "other profile"; such rows stay out of --fail-above.
    flags: tuple[str, ...] = ()

    @property
    def time_pct(self) -> float | None:
        d = _delta(self.time_a, self.time_b)
        return None if d is None or not self.time_a else 100.0 * d / self.time_a

    def cells(self) -> list[str]:
        d_acc, d_t, pct = (_delta(self.acc_a, self.acc_b), _delta(self.time_a, self.time_b),
                           self.time_pct)
        return [self.label, _num(self.acc_a), _num(self.acc_b),
                NOT_RUN if d_acc is None else f"{d_acc:+.2f}",
                _num(self.time_a), _num(self.time_b),
                NOT_RUN if d_t is None else f"{d_t:+.2f}",
                NOT_RUN if pct is None else f"{pct:+.1f}%", ", ".join(self.flags)]


@dataclass
class Comparison:
    a: Run
    b: Run
    by: str
    rows: list[Row] = field(default_factory=list)
    only_a: list[str] = field(default_factory=list)  # case ids
    only_b: list[str] = field(default_factory=list)

    def slower(self, percent: float) -> list[Row]:
        """Rows in both runs, ok in both and comparable (no flag), whose time grew by
        more than `percent`."""
        return [r for r in self.rows if r.time_pct is not None and r.time_pct > percent
                and not r.flags]

    @property
    def flagged(self) -> list[Row]:
        return [r for r in self.rows if r.flags]

    def text(self) -> str:
        lines = [f"{name}: {run.source} (profile {_profiles(run)}; {_machine(run)})"
                 for name, run in (("A", self.a), ("B", self.b))] + [TIME_LINE]
        if self.by == "config":
            lines.append(CONFIG_LINE)
        lines.append("")
        if self.rows:
            first = "case" if self.by == "id" else "configuration"
            lines.append(tabulate([r.cells() for r in self.rows],
                                  headers=[first, "acc A %", "acc B %", "Δ acc", "time A s",
                                           "time B s", "Δ time s", "Δ time %", "not comparable"],
                                  tablefmt="simple", disable_numparse=True))
        else:
            lines.append("no case is in both runs"
                         + (" (by configuration)" if self.by == "config" else ""))
        if self.flagged:
            lines += ["", f"not comparable: {len(self.flagged)} of {len(self.rows)} pairs "
                          f"({FLAG_LINE}); their differences are not the code's alone"]
        for label, ids in (("only in A", self.only_a), ("only in B", self.only_b)):
            if ids:
                lines += ["", f"{label} ({len(ids)}): " + ", ".join(ids)]
        return "\n".join(lines) + "\n"


def compare(a: Run, b: Run, by: str = "id", primary=()) -> Comparison:
    """Match the cases of `a` and `b` by id or configuration. A key that occurs twice
    in one run matches once; the later cases are listed as found in that run only.
    Under `by="config"` a case of an experiment not in `primary` is tagged with it."""
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}, not {by!r}")
    first_a: dict = {}
    first_b: dict = {}
    for run, first in ((a, first_a), (b, first_b)):
        for case in run.cases:
            first.setdefault(match_key(case.record, by), case.record)
    result = Comparison(a=a, b=b, by=by)
    for key, ra in first_a.items():
        rb = first_b.get(key)
        if rb is None:
            continue
        label = ra.case_id if by == "id" else (_config_label(ra, primary)
                                               + _id_change(ra.case_id, rb.case_id))
        result.rows.append(Row(label, *_accuracies(ra, rb), _time(ra), _time(rb),
                               _flags(ra, rb)))
    matched_a = {id(first_a[k]) for k in first_a if k in first_b}
    matched_b = {id(first_b[k]) for k in first_b if k in first_a}
    result.only_a = [c.case_id for c in a.cases if id(c.record) not in matched_a]
    result.only_b = [c.case_id for c in b.cases if id(c.record) not in matched_b]
    return result


FLAG_LINE = ("contended = either side was timed under contention or on a shared GPU; "
             "other profile / other budget = the two were run at different sizes (profile, "
             "training images, epochs or input)")


def _flags(a: Record, b: Record) -> tuple[str, ...]:
    flags = []
    if a.timing_doubtful or b.timing_doubtful:
        flags.append("contended")
    if a.profile != b.profile:
        flags.append("other profile")
    if a.budget != b.budget:
        flags.append("other budget")
    return tuple(flags)


def _machine(run: Run) -> str:
    m = run.machine
    return (f"GPU {m.get('gpu') or 'none'}, {m.get('torch_threads', NOT_RUN)} torch threads, "
            f"torch {m.get('torch', NOT_RUN)}")


def _profiles(run: Run) -> str:
    return ", ".join(sorted({str(r.profile) for r in run.records()}))


def compare_runs(a: Run, b: Run, by: str = "id", primary=()) -> str:
    """The comparison as text: header lines, the table, then the one-sided cases."""
    return compare(a, b, by, primary).text()


def fail_lines(result: Comparison, percent: float) -> tuple[bool, list[str]]:
    """(failed, lines) of `--fail-above percent`: failed when a case slowed down by
    more than `percent`; the lines name each such case, or say that none did."""
    slow = result.slower(percent)
    left_out = len(result.flagged)
    skipped = (f" ({left_out} pair{'s' if left_out != 1 else ''} left out: not comparable)"
               if left_out else "")
    if not slow:
        return False, ["", f"--fail-above {percent:g}: no comparable case in both runs slowed "
                           f"down by more than {percent:g}%{skipped}"]
    return True, (["", f"FAILED: {len(slow)} case{'s' if len(slow) != 1 else ''} slowed down "
                       f"by more than {percent:g}% (--fail-above {percent:g}){skipped}:"]
                  + [f"  {r.label}: {r.time_pct:+.1f}% ({_num(r.time_a)} s -> "
                     f"{_num(r.time_b)} s)" for r in slow])
