"""Sweep progress: "case N/M", elapsed time and an estimate of the time left.

    sweep = Sweep({case_id: (experiment, predicted seconds or None), ...})
    print(sweep.start(case_id))                   # case 3/52 start <id>
    print(sweep.end(case_id, "ok", 41.0))         # case 3/52 done <id> ok in 41.0 s; ...

The estimate starts from the plan's predictions (mnistperf.plan) and corrects
them with each finished case: the cases left are scaled by measured over
predicted seconds so far, per experiment, each ratio drawn toward the run's
overall one and the overall one toward the plan by one case's weight, so one
odd case cannot swing it. Without a plan (--mnistperf-no-plan) it is the mean
finished case times the cases left, from the first case on.
"""

from __future__ import annotations

import statistics
import time


def cases(n: int) -> str:
    """1 case, 52 cases."""
    return f"{n} case{'s' if n != 1 else ''}"


def clock(seconds: float) -> str:
    """41 s, 13:59, 2:03:10."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else \
        f"{rest // 60}:{rest % 60:02d}"


def corrected(measured: float, predicted: float, prior: float, weight: float) -> float:
    """Measured over predicted seconds of the finished cases, with `prior` worth
    `weight` predicted seconds (so one odd case cannot swing it)."""
    return (measured + prior * weight) / (predicted + weight) if predicted + weight else prior


class Sweep:
    def __init__(self, cases: dict[str, tuple[str, float | None]]):
        self.cases = cases
        self.order = list(cases)
        self.seconds: dict[str, float] = {}
        self.started = time.perf_counter()

    def _n(self, case_id: str) -> str:
        return f"case {self.order.index(case_id) + 1}/{len(self.order)}"

    def start(self, case_id: str) -> str:
        return f"{self._n(case_id)} start {case_id}"

    def skip(self, case_id: str) -> None:
        """A case that will not run (skipped): out of the count and the estimate."""
        self.cases.pop(case_id, None)
        if case_id in self.order:
            self.order.remove(case_id)

    def _planned(self) -> bool:
        return all(p is not None for _, p in self.cases.values())

    def left(self) -> float | None:
        """Seconds the cases not yet finished will take."""
        todo = [c for c in self.order if c not in self.seconds]
        if not self._planned():
            if not self.seconds:
                return None
            return statistics.fmean(self.seconds.values()) * len(todo)
        done = list(self.seconds)
        weight = statistics.median(p for _, p in self.cases.values()) if self.cases else 0.0
        overall = self._ratio(done, 1.0, weight)
        total = 0.0
        for experiment in {self.cases[c][0] for c in todo}:
            mine = [c for c in todo if self.cases[c][0] == experiment]
            ratio = self._ratio([c for c in done if self.cases[c][0] == experiment], overall,
                                statistics.median(self.cases[c][1] for c in mine))
            total += ratio * sum(self.cases[c][1] for c in mine)
        return total

    def _ratio(self, done: list[str], prior: float, weight: float) -> float:
        return corrected(sum(self.seconds[c] for c in done),
                         sum(self.cases[c][1] for c in done), prior, weight)

    def end(self, case_id: str, status: str, seconds: float) -> str:
        self.seconds[case_id] = seconds
        left = self.left()
        return (f"{self._n(case_id)} done {case_id} {status} in {seconds:.1f} s; elapsed "
                f"{clock(time.perf_counter() - self.started)}, "
                + ("done" if len(self.seconds) == len(self.order) else
                   f"about {clock(left)} left" if left is not None else
                   "estimate after the first case"))
