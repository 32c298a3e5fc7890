"""The study's input path: torchvision transforms (PIL) in a DataLoader with
workers and optional pin_memory, over a split of mnistperf.data.

    loaders = LoaderBatches(split, device, input_size=224, channels=3, num_workers=2,
                            pin_memory=True)
    for images, labels in loaders.batches("train", 32, shuffle=True, generator=g): ...

`fetch` hands batches over as the DataLoader does (on the host) and `to_device`
copies them, so that the input wait and the copy can be timed apart
(mnistperf.train.next_batch).
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset

from mnistperf.config import MEAN_STD
from mnistperf.data import Part, Split


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
        # The model is channels_last on CUDA (train.TrainSetup): so are its batches.
        self.memory_format = (torch.channels_last if device.type == "cuda"
                              else torch.contiguous_format)
        self._datasets = {name: _TransformDataset(split.part(name), self.transform)
                          for name in ("train", "val", "test", "official_test")}
        self._loaders: dict[str, tuple[tuple, DataLoader]] = {}

    def _loader(self, part, batch_size, shuffle, generator) -> DataLoader:
        # One loader per part, kept with persistent workers: starting worker processes
        # for every epoch and every evaluation pass cost more than the epoch itself on
        # small runs and made identical cases time differently (1.6x seen on 2 cores).
        key = (batch_size, shuffle, id(generator))
        cached = self._loaders.get(part)
        if cached is None or cached[0] != key:
            loader = DataLoader(
                self._datasets[part], batch_size=batch_size, shuffle=shuffle,
                generator=generator, num_workers=self.num_workers,
                pin_memory=self.pin_memory, persistent_workers=self.num_workers > 0,
            )
            self._loaders[part] = cached = (key, loader)
        return cached[1]

    def fetch(self, part: str, batch_size: int, shuffle: bool = False,
              generator: torch.Generator | None = None):
        """Batches as the DataLoader hands them over: on the host (pinned with
        pin_memory), not yet copied to the device."""
        return iter(self._loader(part, batch_size, shuffle, generator))

    def to_device(self, batch):
        """The host-to-device copy of a fetched batch. From pinned memory it is
        asynchronous; from pageable memory CUDA first waits for the work queued
        before it, so its time includes the previous step's compute."""
        images, labels = batch
        return (images.to(self.device, non_blocking=self.pin_memory,
                          memory_format=self.memory_format),
                labels.to(self.device, non_blocking=self.pin_memory))

    def batches(self, part: str, batch_size: int, shuffle: bool = False,
                generator: torch.Generator | None = None):
        for batch in self.fetch(part, batch_size, shuffle, generator):
            yield self.to_device(batch)

    def head(self, part: str, n: int):
        """The first `n` images of a part, unshuffled, without starting workers."""
        from torch.utils.data import default_collate

        dataset = self._datasets[part]
        return self.to_device(default_collate([dataset[i] for i in range(n)]))
