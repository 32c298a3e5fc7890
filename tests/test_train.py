import math

import pytest
import torch

from mnistperf.config import get_profile, train_config
from mnistperf.data import TensorBatches, load_raw, make_split
from mnistperf.record import TRAIN_KEYS, train_record
from mnistperf.train import train

CPU = torch.device("cpu")


def _config(**overrides):
    base = dict(dataset="mnist", model="resnet18", batch_size=32, optimizer="adam", lr=1e-3,
                device="cpu", train_size=2000, val_size=500, test_size=1000,
                official_test_size=1000, epochs=1)
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
    assert lines[0].startswith("epoch 1/1 loss ") and lines[-1].startswith("test ")
    record = train_record(config, result)
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
    assert train_record(config, result)["status"] == "diverged"
