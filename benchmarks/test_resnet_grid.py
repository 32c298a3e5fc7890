"""The ResNet-18/50 grid (mnistperf.experiments.grid): one benchmark case per
configuration, trained once (or once per seed with --mnistperf-repeats)."""

import pytest

pytestmark = pytest.mark.experiment("grid")


def test_train(train_case, case_batches, run_train_case):
    run_train_case(train_case, case_batches)
