"""Loading a run: a pytest-benchmark JSON (or a run folder holding one) as typed
records.

    run = load_run("results/latest")     # or a --benchmark-json / --benchmark-save file
    run.records("resnet")                # TrainRecords, in the JSON's order
    run.cases[0].seconds                 # pytest-benchmark's mean time of the case

Every problem with the input is a `ReportError` whose message is one line that
names the file and what is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from mnistperf.records import Record, RecordError, is_record, record_from_extra_info


class ReportError(ValueError):
    """Input that cannot be reported on; the message is one line for the user."""


@dataclass
class Case:
    """One benchmark of the JSON: its typed record and pytest-benchmark's timing."""

    record: Record
    seconds: float | None  # pytest-benchmark's mean time of the case
    # The case's wall time, start to record, and what the plan predicted for it
    # (mnistperf.plan); None in records from before the plan, or without one.
    case_seconds: float | None = None
    predicted_seconds: float | None = None

    @property
    def case_id(self) -> str:
        return self.record.case_id


@dataclass
class Run:
    source: str
    data: dict  # the whole pytest-benchmark JSON
    cases: list[Case] = field(default_factory=list)
    rebuilt: bool = False  # assembled from cases/ records (benchmark.json missing or cut)
    # Another run whose figures the tables set beside this run's (the study's, attached
    # by the composition layer); None: tables show this run alone.
    reference: "Run | None" = None

    @property
    def meta(self) -> dict:
        return self.data.get("mnistperf") or {}

    @property
    def machine(self) -> dict:
        return (self.data.get("machine_info") or {}).get("mnistperf") or {}

    def target(self, dataset: str) -> float:
        """The validation accuracy (%) time-to-target is measured against: the run's
        own (its `--mnistperf-target-*`), else the default."""
        from mnistperf.config import DEFAULT_TARGETS

        return float((self.meta.get("targets") or {}).get(dataset, DEFAULT_TARGETS[dataset]))

    def records(self, kind: str | None = None) -> list[Record]:
        return [c.record for c in self.cases if kind is None or c.record.kind == kind]

    def reference_for(self, record: Record | None, same_budget: bool = True,
                      **overrides) -> Record | None:
        """The reference run's record of `record`'s configuration (its MATCH_KEYS,
        `overrides` replacing some), trained on the same budget unless
        `same_budget` is False; None without a reference or such a record."""
        if self.reference is None or record is None:
            return None
        want = {k: getattr(record, k, None) for k in record.MATCH_KEYS} | overrides
        for other in self.reference.records(record.kind):
            if all(getattr(other, k, None) == v for k, v in want.items()) and (
                    not same_budget or other.budget == record.budget):
                return other
        return None


def parse_run(text: str, source: str) -> Run:
    """A Run from pytest-benchmark JSON text; errors name `source` and what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # Some of json's messages end in "at" ("Invalid control character at").
        what = exc.msg.removesuffix(" at")
        raise ReportError(f"{source}: not JSON ({what} at line {exc.lineno})") from None
    except RecursionError:
        raise ReportError(f"{source}: not a pytest-benchmark JSON file (nested too deeply)") \
            from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list) \
            or "machine_info" not in data:
        raise ReportError(f"{source}: not a pytest-benchmark JSON file (no 'benchmarks' and "
                          f"'machine_info'); give a run folder or a file written by "
                          f"--benchmark-json / --benchmark-save")
    cases = []
    for n, bench in enumerate(data["benchmarks"]):
        if not isinstance(bench, dict):
            raise ReportError(f"{source}: benchmark {n} is a {type(bench).__name__}, "
                              f"not an object")
        info = bench.get("extra_info") or {}
        if not is_record(info):
            continue
        try:
            record = record_from_extra_info(info)
        except RecordError as exc:
            raise ReportError(f"{source}: {exc}") from None
        stats = bench.get("stats")
        seconds = stats.get("mean") if isinstance(stats, dict) else None
        cases.append(Case(record=record, seconds=seconds,
                          case_seconds=_number(info.get("case_seconds")),
                          predicted_seconds=_number(info.get("predicted_seconds"))))
    if not cases:
        raise ReportError(f"{source}: no mnistperf cases in it ({len(data['benchmarks'])} "
                          f"benchmarks, none with mnistperf extra_info)")
    return Run(source=source, data=data, cases=cases)


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None


def _from_records(run_dir: Path, why: str) -> Run | None:
    """The run assembled from its per-case records, or None without records."""
    from mnistperf.store import read_cases, run_json

    docs = read_cases(run_dir)
    if not docs:
        return None
    meta = {"run": run_dir.name, "rebuilt_from_records": why}
    data = run_json(docs, {"mnistperf": docs[0].get("machine") or {}}, {}, meta,
                    docs[-1].get("finished_utc", ""), "")
    run = parse_run(json.dumps(data), str(run_dir / "cases"))
    run.rebuilt = True
    return run


def load_run(path: str | Path) -> Run:
    """Read a run folder (its benchmark.json, or its cases/ records when that is
    missing or cut) or a pytest-benchmark JSON file."""
    path = Path(path)
    if path.is_dir():
        run_dir, path = path, path / "benchmark.json"
        if not path.is_file():
            rebuilt = _from_records(run_dir, "benchmark.json missing")
            if rebuilt is not None:
                return rebuilt
        else:
            try:
                return _load_file(path)
            except ReportError:
                rebuilt = _from_records(run_dir, "benchmark.json unreadable")
                if rebuilt is None:
                    raise
                return rebuilt
    return _load_file(path)


def _load_file(path: Path) -> Run:
    if not path.is_file():
        raise ReportError(f"{path}: no such file; give a results/<run> folder or a "
                          f"pytest-benchmark JSON file")
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise ReportError(f"{path}: not JSON (not UTF-8 text); give a results/<run> folder "
                          f"or a pytest-benchmark JSON file") from None
    return parse_run(text, str(path))
