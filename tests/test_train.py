import math

import pytest
import torch

from mnistperf.profiles import get_profile, train_config
from mnistperf.data import TensorBatches, load_raw, make_split
from mnistperf.records import TRAIN_KEYS, TrainRecord
from mnistperf.train import train

CPU = torch.device("cpu")


def _config(**overrides):
    base = dict(dataset="mnist", model="resnet18", batch_size=32, optimizer="adam", lr=1e-3,
                device="cpu", train_size=2000, val_size=500, test_size=1000,
                official_test_size=1000, epochs=1, experiment="grid")
    base.update(overrides)
    return train_config(get_profile("smoke"), **base)


def _batches(config, data_root):
    split = make_split(load_raw(config.dataset, data_root), config.seed, config.train_size,
                       config.val_size, config.test_size, config.official_test_size)
    return TensorBatches(split, CPU)


def test_short_real_run_learns_mnist_and_fills_every_contract_key(data_root):
    config = _config()
    lines = []
    result = train(config, _batches(config, data_root), CPU, progress=lines.append)
    assert result.status == "ok"
    # 10 % is chance; 2,000 images for one epoch reach about 90 % when the pipeline works.
    assert result.test_accuracy > 75
    assert result.official_test_accuracy > 75
    assert result.images_trained == 2000 and len(result.epoch_seconds) == 1
    # (a slow machine adds "epoch 1/1 step ..." lines every 10 s before the epoch's line)
    assert lines[0].startswith("warm-up ") and lines[0].endswith("s (untimed; state restored)")
    assert [line for line in lines[1:] if not line.startswith("epoch 1/1 step ")][0].startswith(
        "epoch 1/1 loss ") and lines[-1].startswith("test ")
    record = TrainRecord.from_seeds(config, result).to_extra_info()
    assert set(TRAIN_KEYS) <= set(record)
    assert record["images_per_second"] == pytest.approx(2000 / result.train_seconds, rel=1e-3)
    assert record["flops_per_image"] == 2 * record["macs_per_image"] == 2 * 33_097_472
    assert record["peak_memory_mb"] > 100


def test_same_seed_same_numbers_on_cpu(data_root):
    config = _config(train_size=256, val_size=128, test_size=128, official_test_size=128,
                     batch_size=64, optimizer="sgd")
    a = train(config, _batches(config, data_root), CPU)
    b = train(config, _batches(config, data_root), CPU)
    assert a.train_loss == b.train_loss and a.val_accuracy == b.val_accuracy
    c = train(config.replace(seed=1), _batches(config.replace(seed=1), data_root), CPU)
    assert c.train_loss != a.train_loss


def test_exploding_learning_rate_ends_as_diverged_not_a_crash(data_root):
    config = _config(train_size=512, val_size=64, test_size=64, official_test_size=64,
                     optimizer="sgd", lr=1e6, epochs=3)
    result = train(config, _batches(config, data_root), CPU)
    assert result.status == "diverged"
    assert not math.isfinite(result.train_loss[-1])
    assert len(result.epoch_seconds) == 1 and result.test_accuracy is None
    assert TrainRecord.from_seeds(config, result).status == "diverged"


def test_short_run_read_from_a_long_run_equals_a_separate_short_run(data_root):
    base = _config(train_size=192, val_size=64, test_size=96, official_test_size=64,
                   batch_size=32, optimizer="sgd", lr=0.01)
    long = train(base.replace(epochs=4, checkpoint_epochs=(2,)), _batches(base, data_root), CPU)
    short = train(base.replace(epochs=2), _batches(base, data_root), CPU)
    assert long.train_loss[:2] == short.train_loss
    assert long.val_accuracy[:2] == short.val_accuracy
    assert long.train_accuracy[:2] == short.train_accuracy
    assert long.checkpoints[2] == {"test_accuracy": short.test_accuracy,
                                   "official_test_accuracy": short.official_test_accuracy}
    assert len(long.val_accuracy) == 4


def test_repeats_record_every_seed_and_mean_std(data_root):
    config = _config(train_size=128, val_size=64, test_size=64, official_test_size=64,
                     batch_size=64, optimizer="sgd")
    results = [train(config.replace(seed=s), _batches(config, data_root), CPU) for s in (0, 1)]
    typed = TrainRecord.from_seeds(config, results, seeds=[0, 1])
    record = typed.to_extra_info()
    accs = [r.test_accuracy for r in results]
    assert record["seeds"] == [0, 1] and record["repeats"] == 2
    assert record["seed_test_accuracy"] == [round(a, 4) for a in accs]
    assert record["test_accuracy"] == pytest.approx(sum(accs) / 2, abs=1e-4)
    assert record["test_accuracy_std"] == pytest.approx(abs(accs[0] - accs[1]) / 2 ** 0.5,
                                                        abs=1e-4)
    # Any non-zero validation accuracy reaches a 0.01 % target after epoch 1; the
    # target is applied when asked, from each seed's curve.
    assert typed.seed_time_to_target(0.01) == [round(r.epoch_seconds[0], 4) for r in results]
    assert typed.time_to_target(100.01) is None


def test_compiled_step_gives_the_same_loss_as_eager(data_root):
    from mnistperf.train import TrainSetup

    config = _config(train_size=64, val_size=64, test_size=64, official_test_size=64,
                     batch_size=16, optimizer="sgd")
    images, labels = next(_batches(config, data_root).batches("train", 16))
    losses = []
    for backend in ("", "aot_eager"):
        torch.manual_seed(0)
        setup = TrainSetup(config.replace(compile=backend), CPU)
        setup.model.train()
        first, _ = setup.step(images, labels)
        second, _ = setup.step(images, labels)  # after one identical update
        losses.append((first.item(), second.item()))
    assert losses[1] == pytest.approx(losses[0], rel=1e-5)
    assert losses[0][1] < losses[0][0]


def test_throughput_counts_only_the_timed_steps(data_root):
    from mnistperf.throughput import measure_throughput

    config = _config(train_size=256, val_size=64, test_size=64, official_test_size=64,
                     batch_size=16)
    result = measure_throughput(config, _batches(config, data_root), CPU, steps=3, warmup=2)
    assert (result.steps, result.images, result.status) == (3, 48, "ok")
    assert result.images_per_second == pytest.approx(48 / result.seconds)
    assert 0 < result.input_seconds < result.seconds


def test_dataloader_workers_on_a_cpu_get_cores_of_their_own(data_root):
    from mnistperf.loader import LoaderBatches
    from mnistperf.timing import loader_threads

    config = _config(train_size=64, val_size=32, test_size=32, official_test_size=32,
                     batch_size=16, loader="dataloader", num_workers=1)
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        assert loader_threads(config, CPU) == 2
        assert loader_threads(config.replace(num_workers=4), CPU) == 1
        assert loader_threads(config.replace(num_workers=0), CPU) == 3
        assert loader_threads(config.replace(loader="tensor"), CPU) == 3
        assert loader_threads(config, torch.device("cuda")) == 3
        split = make_split(load_raw(config.dataset, data_root), config.seed, config.train_size,
                           config.val_size, config.test_size, config.official_test_size)
        result = train(config, LoaderBatches(split, CPU, num_workers=1), CPU)
        assert (result.status, result.torch_threads) == ("ok", 2)
        assert torch.get_num_threads() == 3  # the case's thread count does not leak
        assert TrainRecord.from_seeds(config, result).torch_threads == 2
    finally:
        torch.set_num_threads(before)
