"""Clean measurements: the untimed warm-up (same numbers, timed apart), training
and evaluation peaks apart, input wait apart from the copy, fused optimizers on
CUDA, cuDNN autotuning off on a shared GPU (CUDA paths by injection)."""

import threading
import time

import pytest
import torch

from mnistperf import timing
from mnistperf.data import TensorBatches, load_raw, make_split
from mnistperf.loader import LoaderBatches
from mnistperf.records import TrainRecord
from mnistperf.train import TrainSetup, fused_available, make_optimizer, next_batch, train
from mnistperf.warmup import warm_up, warmup_sizes
from tests.test_train import _config as _train_config

CPU = torch.device("cpu")
CUDA = torch.device("cuda")


# An epoch of 3 full batches and a short one of 8: the warm-up has two shapes.
SMALL = dict(batch_size=64, train_size=200, val_size=64, test_size=64, official_test_size=64)


def _config(**overrides):
    return _train_config(**{**SMALL, **overrides})


def _split(config, data_root):
    return make_split(load_raw(config.dataset, data_root), config.seed, config.train_size,
                      config.val_size, config.test_size, config.official_test_size)


def test_warmup_sizes_are_the_full_batch_and_the_short_last_one():
    assert warmup_sizes(64, 200) == [64, 8]
    assert warmup_sizes(32, 64) == [32]
    assert warmup_sizes(64, 40) == [40]


def test_warm_up_puts_model_optimizer_and_random_state_back(data_root):
    config = _config(batch_size=16, train_size=40)
    torch.manual_seed(0)
    setup = TrainSetup(config, CPU)
    # An enabled scaler, as fp16 on CUDA has: it doubles its scale after every step.
    setup.scaler = torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=1)
    before = {k: v.clone() for k, v in setup.model.state_dict().items()}
    rng = torch.get_rng_state()
    seconds = warm_up(setup, TensorBatches(_split(config, data_root), CPU), config)
    assert seconds > 0
    assert setup.scaler.get_scale() == 1024.0 and setup.scaler._get_growth_tracker() == 0
    after = setup.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BatchNorm buffers too
    assert after["bn1.num_batches_tracked"].item() == 0
    assert len(setup.optimizer.state) == 0  # no Adam moments, no step count
    assert all(p.grad is None for p in setup.model.parameters())
    assert torch.equal(torch.get_rng_state(), rng)


def test_warmup_is_timed_apart_and_changes_no_number(data_root, monkeypatch):
    config = _config()
    sizes = []
    real_step = TrainSetup.step

    def counting(self, images, labels):
        sizes.append(len(labels))
        return real_step(self, images, labels)

    monkeypatch.setattr(TrainSetup, "step", counting)
    batches = TensorBatches(_split(config, data_root), CPU)
    warm = train(config, batches, CPU)
    assert sizes == [64, 8, 64, 64, 64, 8]  # warm-up per batch shape, then the epoch
    sizes.clear()
    cold = train(config, batches, CPU, warmup=False)
    assert sizes == [64, 64, 64, 8]
    assert warm.train_loss == cold.train_loss and warm.train_accuracy == cold.train_accuracy
    assert warm.val_accuracy == cold.val_accuracy
    assert (warm.test_accuracy, warm.official_test_accuracy) == (
        cold.test_accuracy, cold.official_test_accuracy)
    assert warm.warmup_seconds > 0 and cold.warmup_seconds == 0
    # train_seconds is the epochs' clocks and nothing else
    assert warm.train_seconds == sum(warm.epoch_seconds)
    record = TrainRecord.from_seeds(config, warm)
    info = record.to_extra_info()
    assert info["warmup_seconds"] == round(warm.warmup_seconds, 4)
    assert info["train_seconds"] == round(warm.train_seconds, 4)
    assert record.measured_seconds == pytest.approx(
        info["train_seconds"] + info["eval_seconds"] + info["warmup_seconds"])
    assert info["peak_memory_mb"] > 100 and info["eval_peak_memory_mb"] > 100
    assert (info["fused_optimizer"], info["cudnn_benchmark"]) == (False, False)
    assert info["copy_seconds"] < 0.01  # the tensor path makes batches on the device


class _SlowBatches:
    """Fetching takes 20 ms a batch, the copy 30 ms."""

    def fetch(self):
        for i in range(3):
            time.sleep(0.02)
            yield i

    def to_device(self, batch):
        time.sleep(0.03)
        return ("on device", batch)


def test_input_wait_and_the_copy_are_timed_apart():
    from mnistperf.train import RunResult

    result, batches = RunResult(), _SlowBatches()
    it = batches.fetch()
    got = [next_batch(it, batches, result) for _ in range(4)]
    assert got == [("on device", 0), ("on device", 1), ("on device", 2), None]
    assert 0.06 <= result.input_seconds < 0.085
    assert 0.09 <= result.copy_seconds < 0.12


def test_loader_batches_match_the_model_memory_format_and_head_is_the_first_batch(data_root):
    config = _config(train_size=64)
    split = _split(config, data_root)
    assert LoaderBatches(split, CUDA).memory_format == torch.channels_last  # no GPU used
    loader = LoaderBatches(split, CPU)
    assert loader.memory_format == torch.contiguous_format
    images, labels = next(loader.batches("train", 16))
    head_images, head_labels = loader.head("train", 16)
    assert torch.equal(images, head_images) and torch.equal(labels, head_labels)
    tensors = TensorBatches(split, CPU)
    images, labels = next(tensors.batches("train", 16))
    head_images, head_labels = tensors.head("train", 16)
    assert torch.equal(images, head_images) and torch.equal(labels, head_labels)
    loader.device = CPU  # to_device with the CUDA memory format, on this CPU
    loader.memory_format = torch.channels_last
    images, _ = loader.to_device((torch.zeros(2, 3, 8, 8), torch.zeros(2)))
    assert images.is_contiguous(memory_format=torch.channels_last)


def test_peak_memory_windows_on_a_cpu_leave_out_what_ran_between():
    memory = timing.PeakMemory(CPU)
    with memory:
        x = torch.ones(25_000_000)  # 100 MB
        time.sleep(0.1)
    first = memory.mb
    del x
    big = torch.ones(100_000_000)  # 400 MB between the windows, freed before the next
    big += 1
    del big
    with memory:
        time.sleep(0.05)
    assert first >= memory.mb - 50 and memory.mb < first + 300


def test_peak_memory_on_cuda_resets_per_window_and_starts_no_thread(monkeypatch):
    calls, peaks = [], iter([300 * 2**20, 200 * 2**20])
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda d: calls.append("reset"))
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda d: next(peaks))

    def no_thread(*args, **kwargs):
        raise AssertionError("a sampler thread started on CUDA")

    monkeypatch.setattr(threading, "Thread", no_thread)
    memory = timing.PeakMemory(CUDA)
    with memory:
        pass
    with memory:
        pass
    assert calls == ["reset", "reset"] and memory.mb == 300


def test_fused_optimizers_on_cuda_only():
    assert fused_available("adam", CUDA) and fused_available("sgd", CUDA)  # torch >= 2.3
    assert not fused_available("adam", CPU) and not fused_available("sgd", CPU)
    params = [torch.nn.Parameter(torch.zeros(3))]
    assert make_optimizer("adam", params, 1e-3, fused=True).defaults["fused"] is True
    assert make_optimizer("sgd", params, 1e-3, fused=True).defaults["fused"] is True
    setup = TrainSetup(_config(), CPU)
    assert setup.fused is False and not setup.optimizer.defaults.get("fused")


def test_cudnn_autotuning_is_off_on_a_shared_gpu(monkeypatch):
    monkeypatch.delenv(timing.SHARED_GPU_ENV, raising=False)
    assert timing.autotunes(CUDA) and not timing.autotunes(CPU)
    monkeypatch.setenv(timing.SHARED_GPU_ENV, "1")
    assert not timing.autotunes(CUDA)
    before = torch.backends.cudnn.benchmark
    with timing.cudnn_autotuning(CUDA):  # sets the flag only; needs no GPU
        assert torch.backends.cudnn.benchmark is False
    monkeypatch.setenv(timing.SHARED_GPU_ENV, "0")
    with timing.cudnn_autotuning(CUDA):
        assert torch.backends.cudnn.benchmark is True
    assert torch.backends.cudnn.benchmark == before
