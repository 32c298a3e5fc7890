"""The untimed warm-up of a training case, and putting its state back.

    seconds = warm_up(setup, batches, config)   # before the first epoch's clock starts

One optimisation step per batch shape an epoch will see (a full batch and, when
the training part does not divide by the batch size, the short last one), on
the first images of the training part, unshuffled. It pays the one-off costs
that belong to no configuration: CUDA context and cuBLAS/cuDNN handles, cuDNN
autotuning of these shapes, torch.compile's compilation (and its recompile for
the short batch), lazy initialisation, the caching allocator's first blocks.

Why the case's own model, optimizer and scaler, with their state put back after,
and not a throwaway copy: what the warm-up pays is bound to those objects and
shapes (compiled graphs are guarded on the module they were compiled for; a
copy would compile twice and leave the timed model cold). Why putting back makes
the trained result the same as without warm-up: parameters and BatchNorm
buffers are restored from a clone, the optimizer and GradScaler from their state
dicts (no Adam moments or step count, as before any step), gradients are
dropped, the batch draws no random numbers and the random generators are
restored; so on a CPU the numbers of a case are identical with or without it
(a test checks). Nothing here imports pytest.
"""

from __future__ import annotations

import copy

import torch

from mnistperf.timing import DeviceClock


def warmup_sizes(batch_size: int, train_size: int) -> list[int]:
    """The batch sizes an epoch trains with: the full one, and the short last one."""
    sizes = [min(batch_size, train_size)]
    if train_size > batch_size and train_size % batch_size:
        sizes.append(train_size % batch_size)
    return sizes


def _rng_devices(device: torch.device) -> list:
    return [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []


def warm_up(setup, batches, config) -> float:
    """Device-synchronised seconds of the warm-up steps of `setup` (a TrainSetup)
    on `batches`; afterwards model, optimizer, scaler and random generators are
    as they were before."""
    saved = (
        {k: v.detach().clone() for k, v in setup.model.state_dict().items()},
        copy.deepcopy(setup.optimizer.state_dict()),
        setup.scaler.state_dict(),
    )
    with torch.random.fork_rng(devices=_rng_devices(setup.device)):
        with DeviceClock(setup.device) as clock:
            setup.model.train()
            for n in warmup_sizes(config.batch_size, config.train_size):
                setup.step(*batches.head("train", n))
    model_state, optimizer_state, scaler_state = saved
    setup.model.load_state_dict(model_state)
    setup.optimizer.load_state_dict(optimizer_state)
    if scaler_state:  # empty when the scaler is disabled (no fp16)
        setup.scaler.load_state_dict(scaler_state)
    setup.optimizer.zero_grad(set_to_none=True)
    return clock.seconds
