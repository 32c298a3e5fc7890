"""timing: device clocks and whether other work competed with a case."""

from mnistperf import timing


def test_a_case_is_contended_when_other_work_used_over_half_the_cores(monkeypatch):
    clock = iter([10.0, 14.0])  # a 4-second case
    monkeypatch.setattr(timing.time, "perf_counter", lambda: next(clock))
    monkeypatch.setattr(timing.os, "cpu_count", lambda: 2)
    own = iter([50.0, 57.5])  # the case and its workers: 7.5 CPU seconds
    monkeypatch.setattr(timing.Load, "_own", lambda self: next(own))
    # The machine was busy 7.5 + 3.0 s: 3.0 s of other work in 4 s is 0.75 cores.
    busy = iter([1000.0, 1010.5])
    monkeypatch.setattr(timing.Load, "_machine_busy", staticmethod(lambda: next(busy)))
    load = timing.Load()
    verdict = load.finish()
    assert (verdict["cpu_seconds"], verdict["contended"]) == (7.5, False)
    clock, own, busy = iter([0.0, 4.0]), iter([0.0, 3.0]), iter([0.0, 8.0])  # 5 s: 1.25 cores
    assert timing.Load().finish()["contended"] is True
