"""10 vs 20 epochs (mnistperf.experiments.epochs): one long run per configuration,
the short run read from its first epochs."""

import pytest

pytestmark = pytest.mark.experiment("epochs")


def test_epochs(train_case, case_batches, run_train_case):
    run_train_case(train_case, case_batches)
