"""Datasets: where they live, the seeded 70/10/20 split, and the two input paths.

    root = resolve_root(cli_value)              # --mnistperf-data, MNISTPERF_DATA, ./data
    raw = load_raw("fashion", root)             # uint8 tensors, decoded once per process
    split = make_split(raw, seed=0, sizes=...)  # 42,000 / 6,000 / 12,000 (+ official test)
    tensors = TensorBatches(split, device, input_size=28, channels=1)   # fast path
    loaders = LoaderBatches(split, input_size=224, channels=3, num_workers=2,
                            pin_memory=True)   # the study's DataLoader path

Both paths yield `(images, labels)` on the requested device, images normalised
with the dataset's mean and std; `TensorBatches` does all of it on the device,
`LoaderBatches` goes through torchvision transforms (PIL) in DataLoader workers.
"""

from __future__ import annotations

import functools
import os
import urllib.error
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from mnistperf.config import MEAN_STD, SPLIT_SIZES, TORCHVISION_NAMES, ConfigError

RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

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


@functools.lru_cache(maxsize=None)
def _load_raw_cached(dataset: str, root: str, download: bool) -> RawDataset:
    cls = _torchvision_class(dataset)
    missing = missing_files(dataset, Path(root))
    if missing:
        reason = "download disabled"
        if download:
            try:
                cls(root, train=True, download=True)
                cls(root, train=False, download=True)
                missing = missing_files(dataset, Path(root))
                reason = "download finished but files are still missing"
            except (urllib.error.URLError, OSError, RuntimeError) as exc:
                reason = f"download failed ({type(exc).__name__}: {exc})".replace("\n", " ")
        if missing:
            raise DatasetNotFoundError(
                f"{TORCHVISION_NAMES[dataset]} not found under data root '{root}': missing "
                f"{', '.join(missing)}; {reason}. Fix: put torchvision's raw files there, or "
                f"point --mnistperf-data / MNISTPERF_DATA at a folder holding "
                f"{TORCHVISION_NAMES[dataset]}/raw/ (e.g. MNISTPERF_DATA=../shared/datasets)."
            )
    train = cls(root, train=True, download=False)
    test = cls(root, train=False, download=False)
    return RawDataset(
        name=dataset,
        train_images=train.data.contiguous(),
        train_labels=train.targets.to(torch.int64),
        test_images=test.data.contiguous(),
        test_labels=test.targets.to(torch.int64),
    )


def load_raw(dataset: str, root: str | os.PathLike | None = None,
             download: bool = True) -> RawDataset:
    """Decode `dataset` ('mnist' | 'fashion') from `root` once per process."""
    if dataset not in TORCHVISION_NAMES:
        raise ConfigError(f"dataset={dataset!r} is not supported; choose one of: "
                          + ", ".join(TORCHVISION_NAMES))
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

    def cut(images, labels, idx, size):
        if size is not None:
            if size > len(idx):
                raise ConfigError(f"asked for {size} images from a part of {len(idx)}")
            idx = idx[:size]
        return Part(images[idx], labels[idx])

    n_official = official_test_size or len(raw.test_labels)
    return Split(
        dataset=raw.name,
        train=cut(raw.train_images, raw.train_labels, train_idx, train_size),
        val=cut(raw.train_images, raw.train_labels, val_idx, val_size),
        test=cut(raw.train_images, raw.train_labels, test_idx, test_size),
        official_test=Part(raw.test_images[:n_official], raw.test_labels[:n_official]),
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
        p = self._parts[part]
        n = len(p)
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        order = order.to(self.device)
        mean, std = self.split.mean_std
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            yield (normalise(p.images[idx], mean, std, self.input_size, self.channels,
                             self.memory_format),
                   p.labels[idx])


class _TransformDataset(Dataset):
    """uint8 images served through PIL and torchvision transforms, as
    torchvision.datasets.MNIST.__getitem__ does (kept here so that the split's
    subsets need no copy of the files)."""

    def __init__(self, part: Part, transform):
        self.images = part.images
        self.labels = part.labels
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        from PIL import Image

        img = Image.fromarray(self.images[i].numpy(), mode="L")
        return self.transform(img), int(self.labels[i])


def study_transform(dataset: str, input_size: int, channels: int):
    """The study's transforms: Resize, Grayscale(3), ToTensor, Normalize."""
    from torchvision import transforms

    mean, std = MEAN_STD[dataset]
    steps = []
    if input_size != 28:
        steps.append(transforms.Resize((input_size, input_size), antialias=True))
    if channels != 1:
        steps.append(transforms.Grayscale(num_output_channels=channels))
    steps += [transforms.ToTensor(), transforms.Normalize((mean,) * channels, (std,) * channels)]
    return transforms.Compose(steps)


class LoaderBatches:
    """The study's path: torchvision transforms in a DataLoader with workers
    and optional pin_memory; batches are moved to the device with non_blocking."""

    loader = "dataloader"

    def __init__(self, split: Split, device: torch.device, input_size: int = 28,
                 channels: int = 1, num_workers: int = 0, pin_memory: bool = False):
        self.split = split
        self.device = device
        self.transform = study_transform(split.dataset, input_size, channels)
        self.num_workers = num_workers
        # pin_memory only means something when there is a CUDA device to copy to.
        self.pin_memory = pin_memory and device.type == "cuda"
        self._datasets = {name: _TransformDataset(split.part(name), self.transform)
                          for name in ("train", "val", "test", "official_test")}

    def batches(self, part: str, batch_size: int, shuffle: bool = False,
                generator: torch.Generator | None = None):
        loader = DataLoader(
            self._datasets[part], batch_size=batch_size, shuffle=shuffle,
            generator=generator, num_workers=self.num_workers,
            pin_memory=self.pin_memory, persistent_workers=False,
        )
        for images, labels in loader:
            yield (images.to(self.device, non_blocking=self.pin_memory),
                   labels.to(self.device, non_blocking=self.pin_memory))


def make_batches(config, root: str | os.PathLike | None, device: torch.device):
    """The input path a TrainConfig asks for, over its profile-sized split."""
    raw = load_raw(config.dataset, root)
    split = make_split(raw, config.seed, config.train_size, config.val_size,
                       config.test_size, config.official_test_size)
    if config.loader == "dataloader":
        return LoaderBatches(split, device, config.input_size, config.channels,
                             num_workers=config.num_workers, pin_memory=config.pin_memory)
    return TensorBatches(split, device, config.input_size, config.channels)
