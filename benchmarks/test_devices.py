"""CPU vs GPU, the study's Table 4 (mnistperf.experiments.devices). These are grid
configurations with the grid's ids: when the grid's case runs in the same
session this copy is deselected, so this file trains only what the grid was
not asked to."""

import pytest

pytestmark = pytest.mark.experiment("devices")


def test_device(train_case, case_batches, run_train_case):
    run_train_case(train_case, case_batches)
