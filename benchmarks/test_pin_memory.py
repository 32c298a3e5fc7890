"""pin_memory on and off on the DataLoader path (mnistperf.experiments.pin_memory)."""

import pytest

pytestmark = pytest.mark.experiment("pin_memory")


def test_pin_memory(train_case, case_batches, run_train_case):
    run_train_case(train_case, case_batches)
