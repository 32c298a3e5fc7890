"""Table primitives: a Table holds raw values; formatting happens when rendered.

    table = Table(name="svm", title="...", columns=[Column("dataset"),
                  Column("test acc %", ".2f")], rows=[["MNIST", 97.1]])
    table.display_rows()      # [["MNIST", "97.10"]]  for people
    table.csv_rows()          # [["MNIST", "97.1"]]   for programs

A cell is a raw value (number, string, bool), `None` (the case did not run:
shown as '–', an empty CSV field), a `Status` (the case ran and ended badly:
its status word) or a `Spread` (mean ± std over repeats). Experiments build
their cells from records with `value_cell` and `unavailable`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from tabulate import tabulate

from mnistperf.records import NOT_RUN, Record


@dataclass(frozen=True)
class Status:
    """The cell of a case that ran but did not end ok: shows its status word."""

    word: str


@dataclass(frozen=True)
class Spread:
    """Mean and standard deviation over repeats (seeds)."""

    value: float
    std: float


@dataclass(frozen=True)
class Marked:
    """A timing measured under contention or on a shared GPU: shown with a mark."""

    value: object
    mark: str = "*"


MARK_NOTE = ("* = timed under load above the core count (contended) or on a shared GPU: "
             "not comparable with unmarked times")


@dataclass(frozen=True)
class Column:
    """A header and how its numbers are shown: a format spec (".2f", ",", ".3g")
    or a callable, plus a suffix ("x" for ratios). Strings are shown as they are."""

    header: str
    spec: str | Callable[[float], str] = ""
    suffix: str = ""
    key: str = ""  # its CSV header; "" = derived from the header (csv_key)

    def show(self, value) -> str:
        if value is None:
            return NOT_RUN
        if isinstance(value, Status):
            return value.word
        if isinstance(value, Marked):
            return self.show(value.value) + value.mark
        if isinstance(value, Spread):
            return f"{self._number(value.value)} ± {self._number(value.std)}"
        if isinstance(value, (str, bool)):
            return str(value)
        return self._number(value) + self.suffix

    def _number(self, value) -> str:
        if callable(self.spec):
            return self.spec(value)
        return format(value, self.spec) if self.spec else str(value)


def csv_key(header: str) -> str:
    """A CSV header for programs: snake_case, units in the name.
    'Time (ms)' -> 'time_ms', 'test acc %' -> 'test_acc_pct'."""
    text = header.lower().replace("'", "").replace("%", " pct").replace("+", " plus ")
    text = text.replace("/", " per ").replace("=", " ").replace("-", "")
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _number(value) -> bool:
    if isinstance(value, Marked):
        value = value.value
    return isinstance(value, (int, float, Spread)) and not isinstance(value, bool)


def _word(value):
    """The word a cell holds in place of a number ('not reached', a status), or None."""
    if isinstance(value, Marked):
        value = value.value
    if isinstance(value, Status):
        return value.word
    return value if isinstance(value, str) else None


def csv_value(value):
    """A cell for a CSV file: numbers as numbers, '' when not run, status words."""
    if value is None:
        return ""
    if isinstance(value, Status):
        return value.word
    if isinstance(value, Marked):
        return csv_value(value.value)
    if isinstance(value, Spread):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10g}"
    return value


@dataclass
class Table:
    name: str  # file stem of its CSV, e.g. 'mnist-cpu-accuracy'
    title: str
    columns: list[Column]
    rows: list[list]
    note: str = ""
    # How many leading columns name the row (dataset, device, configuration) rather
    # than measure it; None: the renderer infers it from where values go missing.
    key_columns: int | None = None

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def display_rows(self) -> list[list[str]]:
        return [[col.show(v) for col, v in zip(self.columns, row)] for row in self.rows]

    def _csv_plan(self) -> list[tuple[str, bool, bool, bool, bool]]:
        """Per column: (key, numeric, has words, has spreads, has marks). A numeric
        column holds numbers or nothing in the CSV: its words ('not reached', a
        status) go to `<key>_note`, a repeat spread to `<key>_std` and a timing
        mark to `<key>_not_comparable`, so that every CSV column has one type."""
        plan = []
        for i, col in enumerate(self.columns):
            cells = [row[i] for row in self.rows]
            numeric = any(_number(v) for v in cells)
            plan.append((col.key or csv_key(col.header), numeric,
                         numeric and any(_word(v) is not None for v in cells),
                         any(isinstance(v, Spread) for v in cells),
                         any(isinstance(v, Marked) for v in cells)))
        return plan

    def csv_headers(self) -> list[str]:
        out = []
        for key, _numeric, words, spreads, marks in self._csv_plan():
            out += [key] + [f"{key}_std"] * spreads + [f"{key}_note"] * words + \
                [f"{key}_not_comparable"] * marks
        return out

    def csv_rows(self) -> list[list]:
        plan = self._csv_plan()
        rows = []
        for row in self.rows:
            out = []
            for value, (_key, numeric, words, spreads, marks) in zip(row, plan):
                word = _word(value) if numeric else None
                out.append("" if word is not None else csv_value(value))
                if spreads:
                    out.append(csv_value(value.std) if isinstance(value, Spread) else "")
                if words:
                    out.append(word or "")
                if marks:
                    out.append("true" if isinstance(value, Marked) else "false")
            rows.append(out)
        return rows

    def render(self, tablefmt: str = "github") -> str:
        return tabulate(self.display_rows(), headers=self.headers, tablefmt=tablefmt,
                        disable_numparse=True)


# ---------------------------------------------------------------- cells from records


def value_cell(record: Record | None, key: str):
    """`record.<key>` as a cell: None when the case did not run or has no value,
    its Status when it failed, a Spread when it ran with repeats."""
    if record is None:
        return None
    if not record.ok:
        return Status(record.status)
    value = getattr(record, key)
    std = getattr(record, f"{key}_std", None)
    if value is not None and std is not None and (getattr(record, "repeats", 1) or 1) > 1:
        value = Spread(value, std)
    if value is not None and record.timing_doubtful and TIME_KEY.search(key):
        return Marked(value)
    return value


TIME_KEY = re.compile(r"seconds|per_second")


def has_marks(table: "Table") -> bool:
    return any(isinstance(v, Marked) for row in table.rows for v in row)


def unavailable(record: Record | None):
    """The cell of a value a case cannot give: its Status if it failed, else None."""
    if record is not None and not record.ok:
        return Status(record.status)
    return None


def present(values, order):
    """`order` filtered to what occurs in `values`, then anything unexpected, sorted."""
    seen = set(values)
    return [v for v in order if v in seen] + sorted(seen - set(order), key=str)


def fixed(digits: int) -> str:
    return f".{digits}f"
