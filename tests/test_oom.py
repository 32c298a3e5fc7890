"""Out of memory: classified (cuDNN/cuBLAS allocation failures included), recorded
with the memory at the failure, and the failed case's objects freed before the
next case starts (on a CPU with injected errors; on CUDA, memory back to baseline)."""

import json
import sys
import weakref

import pytest
import torch
from torch import nn

from mnistperf.oom import failure_status, is_out_of_memory, memory_at_failure, release

THREE = ("mnist and resnet18 and bs32 and {device} and not pin and not pipe and not e4 "
         "and (adam or lr0.001)")


@pytest.mark.parametrize("exc, expected", [
    (torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), True),
    (RuntimeError("cuDNN error: CUDNN_STATUS_ALLOC_FAILED"), True),
    (RuntimeError("CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`"),
     True),
    (RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB"), True),
    (RuntimeError("cuDNN error: CUDNN_STATUS_NOT_SUPPORTED"), False),
    (ValueError("CUDNN_STATUS_ALLOC_FAILED"), False),
    (MemoryError(), False),
    (KeyboardInterrupt(), False),
])
def test_which_exceptions_are_out_of_memory(exc, expected):
    assert is_out_of_memory(exc) is expected


def _fail_holding(device, error):
    """Raise `error` from a frame that holds a model and its optimizer, as a
    training step does; weak references to both go to the caller."""
    model = nn.Linear(256, 256).to(device)
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.ones(8, 256, device=device)).sum().backward()
    optimizer.step()
    _fail_holding.refs = [weakref.ref(model), weakref.ref(optimizer)]
    raise error


def _caught(device, error):
    try:
        _fail_holding(device, error)
    except Exception as exc:  # kept alive on purpose, as pytest keeps it for its report
        return exc


def test_release_frees_what_the_traceback_held_and_sys_last():
    exc = _caught("cpu", RuntimeError("CUDNN_STATUS_ALLOC_FAILED"))
    # What pytest stores for post-mortem debugging (sys.last_exc from Python 3.12).
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, exc.__traceback__
    sys.last_exc = exc
    assert all(ref() is not None for ref in _fail_holding.refs)  # the frames hold them
    release(exc)
    assert [ref() for ref in _fail_holding.refs] == [None, None]
    assert not any(hasattr(sys, n) for n in ("last_type", "last_value", "last_traceback",
                                             "last_exc"))
    assert str(exc) == "CUDNN_STATUS_ALLOC_FAILED"  # the exception itself stays usable


def test_release_also_clears_the_exceptions_it_was_raised_during():
    try:
        try:
            _fail_holding("cpu", RuntimeError("CUDNN_STATUS_ALLOC_FAILED"))
        except RuntimeError:
            raise ValueError("while handling it")
    except ValueError as exc:
        outer = exc
    assert _fail_holding.refs[0]() is not None
    release(outer)
    assert [ref() for ref in _fail_holding.refs] == [None, None]


def test_failure_status_frees_an_oom_case_and_leaves_an_error_alone():
    from tests.test_train import _config

    case = _config()  # a cpu case
    exc = _caught("cpu", ValueError("a bug"))
    assert failure_status(exc, case) == ("error", {})
    assert _fail_holding.refs[0]() is not None  # -l (showlocals) still has them
    exc = _caught("cpu", RuntimeError("CUBLAS_STATUS_ALLOC_FAILED"))
    status, figures = failure_status(exc, case)
    assert status == "oom" and list(figures) == ["rss"]
    assert [ref() for ref in _fail_holding.refs] == [None, None]


def test_memory_at_failure_on_a_cpu_is_the_resident_set():
    figures = memory_at_failure("cpu")
    assert list(figures) == ["rss"] and figures["rss"] > 50  # torch alone is more


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_cuda_release_brings_allocated_memory_back_to_baseline():
    torch.cuda.synchronize()
    baseline = torch.cuda.memory_allocated()
    exc = _caught("cuda", torch.cuda.OutOfMemoryError("CUDA out of memory (injected)"))
    assert torch.cuda.memory_allocated() > baseline
    figures = memory_at_failure("cuda")
    assert 0 < figures["allocated"] <= figures["peak"] and figures["total"] > 0
    release(exc)
    assert torch.cuda.memory_allocated() == baseline
    assert [ref() for ref in _fail_holding.refs] == [None, None]


class _Probe:
    """A pytest plugin for the inner session: which earlier cases' models and
    optimizers are still alive when each case's setup begins."""

    def __init__(self):
        self.refs = []  # (case_id, weakref) per model and optimizer built
        self.alive = {}  # case_id -> case ids whose objects were alive at its setup
        self.allocated = []  # CUDA bytes allocated as each case's setup began

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        self.alive[item.callspec.id] = sorted({case for case, ref in self.refs
                                                if ref() is not None})
        if torch.cuda.is_available():
            self.allocated.append(torch.cuda.memory_allocated())


@pytest.mark.parametrize("device", ["cpu", pytest.param("gpu", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs CUDA"))])
def test_injected_oom_is_recorded_freed_and_the_next_case_runs(bench_project, monkeypatch,
                                                               device):
    import mnistperf.train

    probe = _Probe()
    errors = [lambda: torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate "
                                                  "2.00 GiB (injected)"),
              lambda: RuntimeError("cuDNN error: CUDNN_STATUS_ALLOC_FAILED (injected)")]
    failing = {}

    class InjectedSetup(mnistperf.train.TrainSetup):
        def __init__(self, config, device):
            super().__init__(config, device)
            self.error = errors.pop(0) if errors else None
            if self.error:
                failing[config.case_id] = type(self.error()).__name__
            probe.refs += [(config.case_id, weakref.ref(self.model)),
                           (config.case_id, weakref.ref(self.optimizer))]

        def step(self, images, labels):
            loss = super().step(images, labels)  # activations and gradients exist
            if self.error:
                raise self.error()
            return loss

    monkeypatch.setattr(mnistperf.train, "TrainSetup", InjectedSetup)
    # No plan: its probes would build TrainSetup too, and take the injected errors.
    result = bench_project.runpytest("benchmarks", "-p", "no:cacheprovider",
                                     "--mnistperf-profile", "smoke", "--mnistperf-no-plan",
                                     "-k", THREE.format(device=device), plugins=[probe])
    result.assert_outcomes(passed=1, failed=2)
    run_dir = (bench_project.path / "results" / "latest").resolve()
    infos = {b["param"]: b["extra_info"] for b in
             json.loads((run_dir / "benchmark.json").read_text())["benchmarks"]}
    order = list(probe.alive)
    assert order[:2] == list(failing) and len(order) == 3
    assert failing == {order[0]: "OutOfMemoryError", order[1]: "RuntimeError"}
    # Every case started with nothing of the cases before it alive.
    assert probe.alive == {case: [] for case in order}
    assert [infos[c]["status"] for c in order] == ["oom", "oom", "ok"]
    assert infos[order[0]]["message"] == ("OutOfMemoryError: CUDA out of memory. Tried to "
                                          "allocate 2.00 GiB (injected)")
    assert infos[order[1]]["message"] == ("RuntimeError: cuDNN error: "
                                          "CUDNN_STATUS_ALLOC_FAILED (injected)")
    for case in order[:2]:
        figures = infos[case]["memory_at_failure_mb"]
        if device == "cpu":
            assert list(figures) == ["rss"] and figures["rss"] > 50
        else:  # ResNet-18's weights, Adam's moments, gradients and activations
            assert list(figures) == ["allocated", "reserved", "peak", "free", "total"]
            assert figures["allocated"] > 100
        doc = json.loads((run_dir / "cases" / f"{case}.json").read_text())
        assert "Traceback" in doc["traceback"] and "injected" in doc["traceback"]
    assert infos[order[2]]["memory_at_failure_mb"] == {}
    assert infos[order[2]]["test_accuracy"] > 10
    if device == "gpu":
        # After each failure the next case began with what a fresh process keeps after
        # its first step (cuBLAS workspaces), the same both times: nothing of the case.
        assert probe.allocated[1] == probe.allocated[2] < 64 * 2**20
