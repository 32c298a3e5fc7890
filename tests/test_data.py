import pytest
import torch

from mnistperf import data
from mnistperf.config import ConfigError
from mnistperf.data import (
    DatasetNotFoundError, LoaderBatches, TensorBatches, load_raw, make_split, resolve_root,
    split_indices,
)


def test_raw_datasets_are_the_official_sizes_and_decoded_once(data_root):
    for name in ("mnist", "fashion"):
        raw = load_raw(name, data_root)
        assert raw.train_images.shape == (60000, 28, 28) and raw.train_images.dtype == torch.uint8
        assert raw.test_images.shape == (10000, 28, 28)
        assert load_raw(name, data_root) is raw
    # The first official MNIST training labels are 5 0 4 1 9 2 1 3 1 4.
    assert load_raw("mnist", data_root).train_labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_split_is_70_10_20_disjoint_and_seed_stable():
    train, val, test = split_indices(60000, seed=0)
    assert (len(train), len(val), len(test)) == (42000, 6000, 12000)
    together = torch.cat([train, val, test])
    assert torch.equal(together.sort().values, torch.arange(60000))
    again = split_indices(60000, seed=0)
    assert all(torch.equal(a, b) for a, b in zip((train, val, test), again))
    other = split_indices(60000, seed=1)
    assert not torch.equal(train, other[0])


def test_profile_subsets_are_prefixes_of_the_full_split(data_root):
    raw = load_raw("mnist", data_root)
    full = make_split(raw, seed=0)
    small = make_split(raw, seed=0, train_size=100, val_size=50, test_size=60,
                       official_test_size=70)
    assert (len(small.train), len(small.val), len(small.test), len(small.official_test)) == (100, 50, 60, 70)
    assert torch.equal(small.val.images, full.val.images[:50])
    assert torch.equal(small.official_test.labels, raw.test_labels[:70])
    with pytest.raises(ConfigError, match="asked for 7000 images from a part of 6000"):
        make_split(raw, seed=0, val_size=7000)


def test_missing_data_offline_names_root_files_and_fix(tmp_path):
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    (tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte").write_bytes(b"")
    with pytest.raises(DatasetNotFoundError) as info:
        load_raw("mnist", tmp_path, download=False)
    assert str(info.value) == (
        f"MNIST not found under data root '{tmp_path}': missing "
        "MNIST/raw/train-labels-idx1-ubyte, MNIST/raw/t10k-images-idx3-ubyte, "
        "MNIST/raw/t10k-labels-idx1-ubyte; download disabled. Fix: put torchvision's raw "
        "files there, or point --mnistperf-data / MNISTPERF_DATA at a folder holding "
        "MNIST/raw/ (e.g. MNISTPERF_DATA=../shared/datasets)."
    )


def test_failed_download_is_reported_in_the_same_line(tmp_path, monkeypatch):
    from tests.fakes import OfflineDataset

    monkeypatch.setattr(data, "_torchvision_class", lambda name: OfflineDataset)
    with pytest.raises(DatasetNotFoundError) as info:
        load_raw("fashion", tmp_path / "nowhere")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"FashionMNIST not found under data root '{tmp_path / 'nowhere'}'")
    assert "download failed (URLError: <urlopen error no network>)" in message


def test_root_resolution_order(monkeypatch):
    monkeypatch.delenv("MNISTPERF_DATA", raising=False)
    assert str(resolve_root(None)) == "data"
    monkeypatch.setenv("MNISTPERF_DATA", "/env/root")
    assert str(resolve_root(None)) == "/env/root"
    assert str(resolve_root("/cli/root")) == "/cli/root"


def _first_batch(batches, n):
    return next(iter(batches.batches("val", n)))


def test_tensor_and_dataloader_paths_agree_exactly_at_28(data_root):
    split = make_split(load_raw("fashion", data_root), seed=0, train_size=64, val_size=64,
                       test_size=64, official_test_size=64)
    cpu = torch.device("cpu")
    fast_x, fast_y = _first_batch(TensorBatches(split, cpu), 64)
    seed_x, seed_y = _first_batch(LoaderBatches(split, cpu), 64)
    assert fast_x.shape == (64, 1, 28, 28)
    assert torch.equal(fast_y, seed_y)
    torch.testing.assert_close(fast_x, seed_x, rtol=0, atol=1e-6)
    # Normalised with FashionMNIST's statistics: the batch is roughly zero-mean, unit-std.
    assert abs(fast_x.mean().item()) < 0.2 and 0.8 < fast_x.std().item() < 1.2


def test_224_protocol_resizes_and_expands_close_to_pil(data_root):
    split = make_split(load_raw("mnist", data_root), seed=0, train_size=16, val_size=16,
                       test_size=16, official_test_size=16)
    cpu = torch.device("cpu")
    fast_x, _ = _first_batch(TensorBatches(split, cpu, input_size=224, channels=3), 16)
    seed_x, _ = _first_batch(LoaderBatches(split, cpu, input_size=224, channels=3), 16)
    assert fast_x.shape == seed_x.shape == (16, 3, 224, 224)
    assert torch.equal(fast_x[:, 0], fast_x[:, 2])
    # PIL rounds the resized image to uint8; the tensor path keeps floats, so they
    # differ by up to half a grey level (0.5/255/std in normalised units) plus edges.
    assert (fast_x - seed_x).abs().mean().item() < 0.01
