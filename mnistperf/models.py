"""Models: torchvision ResNet-18/50, untrained, for 1- or 3-channel input.

    model = make_model("resnet18", in_channels=1, num_classes=10)

For 1-channel input conv1 is replaced by a 1-channel convolution of the same
kernel, stride and padding (7x7, stride 2, padding 3); everything else is
torchvision's architecture unchanged, so 3x224x224 input gives the published
ResNet shapes and FLOPs.
"""

from __future__ import annotations

from torch import nn
from torchvision import models

from mnistperf.config import MODELS, ConfigError


def make_model(name: str, in_channels: int = 1, num_classes: int = 10) -> nn.Module:
    if name not in MODELS:
        raise ConfigError(f"model={name!r} is not supported; choose one of: {', '.join(MODELS)}")
    model = getattr(models, name)(weights=None, num_classes=num_classes)
    if in_channels != 3:
        old = model.conv1
        model.conv1 = nn.Conv2d(in_channels, old.out_channels, kernel_size=old.kernel_size,
                                stride=old.stride, padding=old.padding, bias=False)
    return model


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
