import os
import shutil
import struct
import types

import pytest
import torch

from mnistperf import data
from mnistperf.config import ConfigError
from mnistperf.data import (
    RAW_FILES, DataFileError, DatasetNotFoundError, RawDataset, TensorBatches, load_raw,
    make_split, prepare_dataset, resolve_root, split_indices,
)
from mnistperf.loader import LoaderBatches
from tests.fakes import OfflineDataset

TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = RAW_FILES
RESTORE = ("restore the original file (mnistperf.datafiles.KNOWN_SHA256 lists the expected "
           "SHA-256)")
FIX = ("Fix: put torchvision's raw files there, or point --mnistperf-data / MNISTPERF_DATA at "
       "a folder holding {folder}/raw/ (e.g. MNISTPERF_DATA=../shared/datasets).")


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
    with pytest.raises(ConfigError) as info:
        make_split(raw, seed=0, val_size=7000)
    assert str(info.value) == (
        "val_size=7000 is more than the 6000 images in MNIST's val part of the split")


def test_official_test_size_beyond_the_test_set_is_refused_not_truncated(data_root):
    full = load_raw("mnist", data_root)
    # A t10k set of 300 images, as a consistent (header and size) but short file gives.
    raw = RawDataset("mnist", full.train_images, full.train_labels,
                     full.test_images[:300], full.test_labels[:300])
    with pytest.raises(ConfigError) as info:
        make_split(raw, seed=0, official_test_size=512)
    assert str(info.value) == (
        "official_test_size=512 is more than the 300 images in MNIST's official test set")
    assert len(make_split(raw, seed=0, official_test_size=300).official_test) == 300
    assert len(make_split(raw, seed=0).official_test) == 300
    with pytest.raises(ConfigError) as info:
        make_split(full, seed=0, official_test_size=0)
    assert str(info.value) == "official_test_size must be at least 1, got 0"


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_prepare_dataset_on_the_shared_data_has_no_warnings(data_root, dataset):
    assert prepare_dataset(dataset, data_root) == []


@pytest.fixture
def copy_raw(tmp_path, data_root):
    """copy_raw(dataset) -> tmp_path/<Folder>/raw holding fresh copies to damage."""

    def copy(dataset):
        folder = data.TORCHVISION_NAMES[dataset]
        dst = tmp_path / folder / "raw"
        dst.mkdir(parents=True)
        for name in RAW_FILES:
            # copyfile, not copy: the shared files are read-only and the copies get written.
            shutil.copyfile(data_root / folder / "raw" / name, dst / name)
        return dst

    return copy


def test_a_cut_images_file_is_refused_before_anything_decodes_it(copy_raw, tmp_path):
    raw = copy_raw("fashion")
    os.truncate(raw / TRAIN_IMAGES, 47040016 // 2)
    expected = (f"{raw / TRAIN_IMAGES}: header says 60000 images of 28x28 = 47040016 bytes "
                f"but the file has 23520008 bytes (cut short?); {RESTORE}")
    with pytest.raises(DataFileError) as info:
        prepare_dataset("fashion", tmp_path)
    assert str(info.value) == expected
    # load_raw runs the same checks, so torchvision never sees the file.
    with pytest.raises(DataFileError) as info:
        load_raw("fashion", tmp_path)
    assert str(info.value) == expected


def test_300_test_labels_for_10000_images_never_load(copy_raw, tmp_path):
    raw = copy_raw("mnist")
    labels = (raw / TEST_LABELS).read_bytes()
    (raw / TEST_LABELS).write_bytes(struct.pack(">II", 2049, 300) + labels[8:308])
    with pytest.raises(DataFileError) as info:
        load_raw("mnist", tmp_path)
    assert str(info.value) == (
        f"{raw / TEST_LABELS}: 300 labels but t10k-images-idx3-ubyte has 10000 images; "
        f"{RESTORE}")


def test_counts_are_checked_again_after_decoding(data_root, tmp_path, monkeypatch):
    # Files that pass the checks but decode differently (replaced in between).
    real = data._torchvision_class("mnist")

    def short_test_set(root, train, download):
        decoded = real(root, train=train, download=download)
        if train:
            return decoded
        return types.SimpleNamespace(data=decoded.data, targets=decoded.targets[:300])

    monkeypatch.setattr(data, "_torchvision_class", lambda name: short_test_set)
    # Through a link, so the cache of the shared root's decode does not answer.
    (tmp_path / "root").symlink_to(data_root)
    with pytest.raises(DataFileError) as info:
        load_raw("mnist", tmp_path / "root")
    assert str(info.value) == (
        f"{tmp_path / 'root' / 'MNIST' / 'raw' / TEST_LABELS}: 300 labels but "
        f"t10k-images-idx3-ubyte has 10000 images (changed while loading?); {RESTORE}")


def offline_like_torchvision(folder, fetch=()):
    """An offline dataset class that, as torchvision's does, creates <root>/<folder>/raw
    (and writes the files in `fetch`) before the download fails."""

    class Offline(OfflineDataset):
        def __init__(self, root, *args, **kwargs):
            raw = os.path.join(root, folder, "raw")
            os.makedirs(raw, exist_ok=True)
            for name in fetch:
                with open(os.path.join(raw, name), "wb") as f:
                    f.write(b"partial")
            super().__init__(root, *args, **kwargs)

    return Offline


def test_failed_download_under_a_missing_root_leaves_no_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_torchvision_class",
                        lambda name: offline_like_torchvision("MNIST"))
    root = tmp_path / "missing" / "deeper"
    with pytest.raises(DatasetNotFoundError) as info:
        prepare_dataset("mnist", root)
    assert str(info.value) == (
        f"MNIST not found under data root '{root}': missing MNIST/raw/train-images-idx3-ubyte, "
        "MNIST/raw/train-labels-idx1-ubyte, MNIST/raw/t10k-images-idx3-ubyte, "
        "MNIST/raw/t10k-labels-idx1-ubyte; download failed (URLError: <urlopen error no "
        f"network>). {FIX.format(folder='MNIST')}")
    assert not (tmp_path / "missing").exists()
    assert list(tmp_path.iterdir()) == []


def test_failed_download_keeps_the_folders_that_existed(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_torchvision_class",
                        lambda name: offline_like_torchvision("FashionMNIST"))
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    (tmp_path / "FashionMNIST").mkdir()
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DatasetNotFoundError):
        load_raw("fashion", tmp_path)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "FashionMNIST", "MNIST", "MNIST/raw", "notes.txt"]


def test_a_half_finished_download_keeps_its_files_and_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_torchvision_class", lambda name: offline_like_torchvision(
        "MNIST", fetch=[TRAIN_IMAGES]))
    with pytest.raises(DatasetNotFoundError) as info:
        prepare_dataset("mnist", tmp_path / "new")
    # Only what is still missing is named; the fetched file is never deleted.
    assert "missing MNIST/raw/train-labels-idx1-ubyte, MNIST/raw/t10k-images" in str(info.value)
    assert (tmp_path / "new" / "MNIST" / "raw" / TRAIN_IMAGES).read_bytes() == b"partial"


def test_real_torchvision_offline_leaves_no_folder_and_one_line(tmp_path, monkeypatch):
    import urllib.error

    import torchvision.datasets.mnist as tv_mnist

    def no_network(url, *args, **kwargs):
        raise urllib.error.URLError("no network")

    # torchvision's own class and download loop; only the network is cut.
    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", no_network)
    root = tmp_path / "missing"
    with pytest.raises(DatasetNotFoundError) as info:
        prepare_dataset("fashion", root)
    message = str(info.value)
    assert "\n" not in message
    assert ("; download failed (RuntimeError: Error downloading train-images-idx3-ubyte.gz: "
            "Tried http") in message and ", got: <urlopen error no network> " in message
    assert not root.exists()


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
    assert not (tmp_path / "nowhere").exists()


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


def test_a_data_root_that_is_a_file_is_not_a_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_torchvision_class", lambda name: pytest.fail("downloads"))
    root = tmp_path / "datasets"
    root.write_text("not a folder")
    with pytest.raises(DatasetNotFoundError) as info:
        prepare_dataset("mnist", root)
    assert str(info.value) == (
        f"data root '{root}' is not a folder; point --mnistperf-data / MNISTPERF_DATA at a "
        f"folder holding MNIST/raw/ (e.g. MNISTPERF_DATA=../shared/datasets).")
    assert root.read_text() == "not a folder"
