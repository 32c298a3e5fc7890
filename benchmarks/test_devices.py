"""CPU vs GPU (the seed's Table 4): FashionMNIST, batch 16, lr 0.001, SGD/Adam x
ResNet-18/50 on cpu and gpu. These are grid configurations with the grid's ids:
when the grid's case runs in the same session this copy is deselected, so this
file trains only what the grid was not asked to."""

import pytest

pytestmark = pytest.mark.mnistperf_reuses_grid


def test_device(train_case, case_batches, run_train_case):
    run_train_case(train_case, case_batches)
