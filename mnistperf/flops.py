"""FLOP counts, cached per (model, channels, input size): fvcore's (the harness's
own) and thop's (the study's).

    macs = macs_per_image("resnet18", channels=3, input_size=224)   # 1.818559e9 (fvcore)
    flops = flops_per_image("resnet18", 3, 224)                     # 2 x MACs
    study = study_flops_per_image("resnet18", 3, 224)               # 1,823,526,912 (thop)

fvcore counts one fused multiply-add as one "flop", so its total is a MAC count;
we report it as `macs_per_image` and double it for `flops_per_image`. The
study's "FLOPs" column (1.823527e9 / 4.131715e9 for ResNet-18/50) is thop's
count, digit for digit: `thop.profile` of torchvision's resnet18/50 with a
10-class head at 1x3x224x224 gives 1,823,526,912 and 4,131,715,072, in eval
or train mode alike. thop counts a multiply-add as one operation too and adds
BatchNorm and pooling, so it is labelled "the study's count (thop)" wherever
shown; it is not the harness's FLOPs. The study never names its counter; thop
is the one that reproduces its digits. A training step costs about 3x a
forward pass (forward, grad w.r.t. activations, grad w.r.t. weights), so
`training_flops` = 3 x 2 x MACs x images: an estimate, documented as one.

Command line: `python -m mnistperf flops resnet18 --input-size 224 --channels 3`.
"""

from __future__ import annotations

import functools
import warnings

import torch

from mnistperf.models import make_model

TRAINING_PASSES = 3  # forward + two backward matmuls per layer


@functools.lru_cache(maxsize=None)
def macs_per_image(model: str, channels: int = 1, input_size: int = 28) -> int:
    """fvcore's total in eval mode: multiply-adds per image."""
    return _fvcore_total(model, channels, input_size, train_mode=False)


@functools.lru_cache(maxsize=None)
def study_flops_per_image(model: str, channels: int = 1, input_size: int = 28) -> int:
    """The study's FLOPs column: thop's count of one image (a throwaway model: thop
    adds counting buffers to the modules it profiles)."""
    net = make_model(model, in_channels=channels).eval()
    with warnings.catch_warnings():
        # thop's import prints nothing but may warn about torch's jit internals;
        # the count does not depend on them. Silenced here only.
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        import thop

        macs, _params = thop.profile(net, inputs=(torch.zeros(1, channels, input_size,
                                                              input_size),), verbose=False)
    return int(macs)


def _fvcore_total(model: str, channels: int, input_size: int, train_mode: bool) -> int:
    net = make_model(model, in_channels=channels).train(train_mode)
    sample = torch.zeros(1, channels, input_size, input_size)
    with warnings.catch_warnings():
        # fvcore uses torch.jit (at import and to trace), which torch now flags as
        # deprecated; the trace is still what fvcore counts, so the warning says
        # nothing about our numbers. Silenced here only, not process-wide.
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.jit")
        from fvcore.nn import FlopCountAnalysis

        analysis = FlopCountAnalysis(net, sample)
        # Unsupported ops (relu, add, pooling) are elementwise and negligible next to
        # the convolutions; fvcore would log one warning per op kind otherwise.
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        return int(analysis.total())


def flops_per_image(model: str, channels: int = 1, input_size: int = 28) -> int:
    return 2 * macs_per_image(model, channels, input_size)


def training_flops(model: str, channels: int, input_size: int, images: int) -> int:
    """Approximate training FLOPs for `images` images: 3 x 2 x MACs x images."""
    return TRAINING_PASSES * flops_per_image(model, channels, input_size) * images
