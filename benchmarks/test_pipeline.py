"""Input pipelines side by side (mnistperf.experiments.pipeline): the study's
DataLoader with PIL transforms against the harness's device tensors, a fixed
number of training steps each after warm-up."""

import pytest

pytestmark = pytest.mark.experiment("pipeline")


def test_steps(pipeline_case, pipeline_batches, run_pipeline_case):
    run_pipeline_case(pipeline_case, pipeline_batches)
