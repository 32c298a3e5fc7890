"""Datasets: where they live, the seeded 70/10/20 split, and the two input paths.

    root = resolve_root(cli_value)              # --mnistperf-data, MNISTPERF_DATA, ./data
    warnings = prepare_dataset("fashion", root) # download if missing, check the files
    raw = load_raw("fashion", root)             # uint8 tensors, checked and decoded once
    split = make_split(raw, seed=0, train_size=42_000)   # 42,000 / 6,000 / 12,000
                                                         # (+ the official test set)
    tensors = TensorBatches(split, device, input_size=28, channels=1)   # fast path
    batches = make_batches(config, root, device)   # the path a TrainConfig asks for

Both paths yield `(images, labels)` on the requested device, images normalised
with the dataset's mean and std; `TensorBatches` (here) does all of it on the
device, `LoaderBatches` (mnistperf.loader, the study's path) goes through
torchvision transforms (PIL) in DataLoader workers.

Data problems are two exceptions with one-line messages: `DatasetNotFoundError`
(files absent and not downloadable) and `DataFileError` (a file present but
damaged; from `mnistperf.datafiles`, re-exported here). Nothing is decoded
before `check_dataset_files` has passed, so torchvision never sees a bad file.
"""

from __future__ import annotations

import functools
import os
import urllib.error
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from mnistperf.config import MEAN_STD, SPLIT_SIZES, TORCHVISION_NAMES, ConfigError
# DataFileError is re-exported so callers catch both data errors from one module.
from mnistperf.datafiles import RAW_FILES, RESTORE, DataFileError, check_dataset_files

DEFAULT_ROOT = "./data"


class DatasetNotFoundError(FileNotFoundError):
    """The dataset's raw files are neither on disk nor downloadable."""


def resolve_root(cli_value: str | os.PathLike | None = None) -> Path:
    """The dataset root: the CLI value, else $MNISTPERF_DATA, else ./data."""
    value = cli_value or os.environ.get("MNISTPERF_DATA") or DEFAULT_ROOT
    return Path(value).expanduser()


def missing_files(dataset: str, root: Path) -> list[str]:
    folder = Path(root) / TORCHVISION_NAMES[dataset] / "raw"
    return [f"{TORCHVISION_NAMES[dataset]}/raw/{name}" for name in RAW_FILES
            if not (folder / name).is_file()]


@dataclass(frozen=True)
class RawDataset:
    """The decoded dataset: uint8 images [N, 28, 28] and int64 labels, on the CPU."""

    name: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


def _torchvision_class(dataset: str):
    from torchvision import datasets

    return getattr(datasets, TORCHVISION_NAMES[dataset])


def _check_name(dataset: str) -> None:
    if dataset not in TORCHVISION_NAMES:
        raise ConfigError(f"dataset={dataset!r} is not supported; choose one of: "
                          + ", ".join(TORCHVISION_NAMES))


def prepare_dataset(dataset: str, root: str | os.PathLike | None = None,
                    download: bool = True) -> list[str]:
    """Make `dataset`'s raw files usable under `root`, before any case trains.

    Downloads them with torchvision if any is missing (unless `download` is False),
    raising DatasetNotFoundError if that fails, then checks all four files
    (DataFileError on the first bad one). Returns the checks' warnings (unknown
    SHA-256 digests) for the caller to show; they do not stop a run.
    """
    _check_name(dataset)
    root = resolve_root(root)
    folder = TORCHVISION_NAMES[dataset]
    if root.exists() and not root.is_dir():
        raise DatasetNotFoundError(
            f"data root '{root}' is not a folder; point --mnistperf-data / MNISTPERF_DATA "
            f"at a folder holding {folder}/raw/ (e.g. MNISTPERF_DATA=../shared/datasets).")
    missing = missing_files(dataset, root)
    if missing:
        reason = "download disabled"
        if download:
            missing, reason = _download(dataset, root)
        if missing:
            raise DatasetNotFoundError((
                f"{folder} not found under data root '{root}': missing {', '.join(missing)}; "
                f"{reason}. Fix: put torchvision's raw files there, or point "
                f"--mnistperf-data / MNISTPERF_DATA at a folder holding {folder}/raw/ "
                f"(e.g. MNISTPERF_DATA=../shared/datasets)."
            ).replace("\n", " "))
    return check_dataset_files(dataset, root)


def _download(dataset: str, root: Path) -> tuple[list[str], str]:
    """Try torchvision's download; return the files still missing and why."""
    cls = _torchvision_class(dataset)
    # torchvision creates <root>/<Folder>/raw before it fetches anything, so an
    # offline attempt would leave empty folders that make the root look populated.
    created = _absent_folders(root / TORCHVISION_NAMES[dataset] / "raw")
    try:
        cls(str(root), train=True, download=True)
        cls(str(root), train=False, download=True)
        reason = "download finished but files are still missing"
    except (urllib.error.URLError, OSError, RuntimeError) as exc:
        reason = f"download failed ({type(exc).__name__}: {exc})"
    # Recomputed: a download that failed half-way may have fetched some files.
    missing = missing_files(dataset, root)
    if missing:
        _remove_empty(created)
    return missing, reason


def _absent_folders(path: Path) -> list[Path]:
    """`path` and those of its parents that do not exist yet, deepest first."""
    absent = []
    while not (path.exists() or path.is_symlink()) and path != path.parent:
        absent.append(path)
        path = path.parent
    return absent


def _remove_empty(folders: list[Path]) -> None:
    # rmdir refuses a folder with anything in it, so a partial download (or a file
    # someone else put there meanwhile) is never deleted; its parents then stay too.
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            pass


@functools.lru_cache(maxsize=None)
def _load_raw_cached(dataset: str, root: str, download: bool) -> RawDataset:
    # The warnings are prepare_dataset's caller's to show; here only errors matter,
    # so that torchvision never decodes a file the checks refuse.
    prepare_dataset(dataset, root, download)
    cls = _torchvision_class(dataset)
    train = cls(root, train=True, download=False)
    test = cls(root, train=False, download=False)
    raw = RawDataset(
        name=dataset,
        train_images=train.data.contiguous(),
        train_labels=train.targets.to(torch.int64),
        test_images=test.data.contiguous(),
        test_labels=test.targets.to(torch.int64),
    )
    # The checks saw equal counts; a file replaced between check and decode must
    # still not yield images without labels (make_split would pair them wrongly).
    for split, images, labels in (("train", raw.train_images, raw.train_labels),
                                  ("t10k", raw.test_images, raw.test_labels)):
        if len(images) != len(labels):
            path = Path(root) / TORCHVISION_NAMES[dataset] / "raw" / f"{split}-labels-idx1-ubyte"
            raise DataFileError(
                f"{path}: {len(labels)} labels but {split}-images-idx3-ubyte has "
                f"{len(images)} images (changed while loading?); {RESTORE}")
    return raw


def load_raw(dataset: str, root: str | os.PathLike | None = None,
             download: bool = True) -> RawDataset:
    """Decode `dataset` ('mnist' | 'fashion') from `root` once per process, after the
    same download and file checks as prepare_dataset."""
    _check_name(dataset)
    return _load_raw_cached(dataset, str(resolve_root(root)), download)


def split_indices(n: int, seed: int, sizes: tuple[int, int, int] = SPLIT_SIZES):
    """Disjoint train/val/test index tensors from one seeded permutation of range(n)."""
    if sum(sizes) != n:
        raise ConfigError(f"split sizes {sizes} do not add up to {n} images")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    a, b = sizes[0], sizes[0] + sizes[1]
    return perm[:a], perm[a:b], perm[b:]


@dataclass(frozen=True)
class Part:
    """One part of the split: uint8 images [n, 28, 28], labels [n]."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Split:
    dataset: str
    train: Part
    val: Part
    test: Part
    official_test: Part

    @property
    def mean_std(self) -> tuple[float, float]:
        return MEAN_STD[self.dataset]

    def part(self, name: str) -> Part:
        return getattr(self, name)


def make_split(raw: RawDataset, seed: int, train_size: int | None = None,
               val_size: int | None = None, test_size: int | None = None,
               official_test_size: int | None = None) -> Split:
    """The seeded 70/10/20 split, each part cut to the first `*_size` images.

    The split itself never depends on the sizes: a quick run's 1,000 validation
    images are the first 1,000 of the paper run's 6,000.
    """
    train_idx, val_idx, test_idx = split_indices(len(raw.train_labels), seed)
    folder = TORCHVISION_NAMES[raw.name]

    def cut(images, labels, idx, size, option, where):
        # Slicing past the end would silently give fewer images than the record
        # claims (a profile's official_test_size=512 over a 300-image test set).
        if size is not None:
            if size < 1:
                raise ConfigError(f"{option} must be at least 1, got {size}")
            if size > len(idx):
                raise ConfigError(f"{option}={size} is more than the {len(idx)} images "
                                  f"in {folder}'s {where}")
            idx = idx[:size]
        return Part(images[idx], labels[idx])

    train_images, train_labels = raw.train_images, raw.train_labels
    return Split(
        dataset=raw.name,
        train=cut(train_images, train_labels, train_idx, train_size, "train_size",
                  "train part of the split"),
        val=cut(train_images, train_labels, val_idx, val_size, "val_size",
                "val part of the split"),
        test=cut(train_images, train_labels, test_idx, test_size, "test_size",
                 "test part of the split"),
        official_test=cut(raw.test_images, raw.test_labels,
                          torch.arange(len(raw.test_labels)), official_test_size,
                          "official_test_size", "official test set"),
    )


def normalise(images_u8: torch.Tensor, mean: float, std: float, input_size: int,
              channels: int, memory_format=torch.contiguous_format) -> torch.Tensor:
    """uint8 [B, 28, 28] -> float [B, C, S, S]: scale, normalise, resize, expand.

    Mirrors torchvision's Resize -> Grayscale(3) -> ToTensor -> Normalize on the
    tensor's own device. Resizing is bilinear with antialias, as PIL's is.
    """
    x = images_u8.unsqueeze(1).float().div_(255.0)
    if input_size != x.shape[-1]:
        x = F.interpolate(x, size=(input_size, input_size), mode="bilinear",
                          align_corners=False, antialias=True)
    x = x.sub_(mean).div_(std)
    if channels != 1:
        x = x.expand(-1, channels, -1, -1)
    return x.contiguous(memory_format=memory_format)


class TensorBatches:
    """The fast input path: the split lives on the device as uint8; batches are
    index gathers plus on-device normalisation (and resize/expand for 224x224x3)."""

    loader = "tensor"

    def __init__(self, split: Split, device: torch.device, input_size: int = 28,
                 channels: int = 1):
        self.split = split
        self.device = device
        self.input_size = input_size
        self.channels = channels
        self.memory_format = (torch.channels_last if device.type == "cuda"
                              else torch.contiguous_format)
        self._parts = {
            name: Part(split.part(name).images.to(device), split.part(name).labels.to(device))
            for name in ("train", "val", "test", "official_test")
        }

    def batches(self, part: str, batch_size: int, shuffle: bool = False,
                generator: torch.Generator | None = None):
        """(images, labels) on the device, ready for the model."""
        p = self._parts[part]
        n = len(p)
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        order = order.to(self.device)
        for start in range(0, n, batch_size):
            yield self._batch(p, order[start:start + batch_size])

    def _batch(self, p: Part, idx):
        mean, std = self.split.mean_std
        return (normalise(p.images[idx], mean, std, self.input_size, self.channels,
                          self.memory_format),
                p.labels[idx])

    fetch = batches  # made on the device: nothing to copy (see LoaderBatches.to_device)

    def to_device(self, batch):
        return batch

    def head(self, part: str, n: int):
        """The first `n` images of a part, unshuffled: the warm-up step's batch."""
        return self._batch(self._parts[part], slice(0, n))


def make_batches(config, root: str | os.PathLike | None, device: torch.device):
    """The input path a TrainConfig asks for, over its profile-sized split."""
    raw = load_raw(config.dataset, root)
    split = make_split(raw, config.seed, config.train_size, config.val_size,
                       config.test_size, config.official_test_size)
    if config.loader == "dataloader":
        # Imported here: mnistperf.loader builds on this module's Split.
        from mnistperf.loader import LoaderBatches

        return LoaderBatches(split, device, config.input_size, config.channels,
                             num_workers=config.num_workers, pin_memory=config.pin_memory)
    return TensorBatches(split, device, config.input_size, config.channels)
