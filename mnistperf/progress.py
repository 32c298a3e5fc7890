"""Sweep progress: "case N/M", elapsed time and an estimate of the time left.

    sweep = Sweep({case_id: work_units(config), ...})
    print(sweep.start(case_id))                   # case 3/52 start <id>
    print(sweep.end(case_id, "ok", 41.0))         # case 3/52 done <id> ok in 41.0 s; ...

The estimate is the finished cases' seconds per unit of work (images trained,
per kind of case) times the work still to do: rough on the first cases, better
as the sweep goes on; it says "estimate after the first case" until then.
"""

from __future__ import annotations

import time

from mnistperf.config import PipelineConfig, SvmConfig


def work_units(config, timed_rounds: int = 1) -> tuple[str, float]:
    """(kind, images processed): what the time of a case grows with."""
    if isinstance(config, SvmConfig):
        return "svm", float(config.train_size)
    if isinstance(config, PipelineConfig):
        t = config.train
        return "pipeline", float((config.steps + config.warmup) * t.batch_size * timed_rounds)
    return "resnet", float(config.train_size * config.epochs * timed_rounds)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds} s"


class Sweep:
    def __init__(self, work: dict[str, tuple[str, float]]):
        self.work = work
        self.order = list(work)
        self.seconds: dict[str, float] = {}
        self.started = time.perf_counter()

    def _n(self, case_id: str) -> str:
        return f"case {self.order.index(case_id) + 1}/{len(self.order)}"

    def start(self, case_id: str) -> str:
        return f"{self._n(case_id)} start {case_id}"

    def skip(self, case_id: str) -> None:
        """A case that will not run (skipped): out of the count and the estimate."""
        self.work.pop(case_id, None)
        if case_id in self.order:
            self.order.remove(case_id)

    def left(self) -> float | None:
        """Seconds the cases not yet finished will take, from the finished ones."""
        if not self.seconds:
            return None
        rates: dict[str, list[float]] = {}
        for case_id, seconds in self.seconds.items():
            kind, units = self.work[case_id]
            rates.setdefault(kind, []).append(seconds / max(units, 1.0))
        overall = [r for rs in rates.values() for r in rs]
        total = 0.0
        for case_id in self.order:
            if case_id not in self.seconds:
                kind, units = self.work[case_id]
                rate = rates.get(kind, overall)
                total += units * sum(rate) / len(rate)
        return total

    def end(self, case_id: str, status: str, seconds: float) -> str:
        self.seconds[case_id] = seconds
        left = self.left()
        return (f"{self._n(case_id)} done {case_id} {status} in {seconds:.1f} s; elapsed "
                f"{_clock(time.perf_counter() - self.started)}, "
                + ("done" if len(self.seconds) == len(self.order) else
                   f"about {_clock(left)} left" if left is not None else
                   "estimate after the first case"))
