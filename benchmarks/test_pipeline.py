"""Input pipelines side by side (mnistperf.experiments.pipeline): the study's
DataLoader with PIL transforms against the harness's device tensors, a fixed
number of training steps each after warm-up."""

import pytest

from mnistperf.records import PipelineRecord
from mnistperf.train import measure_throughput

pytestmark = pytest.mark.experiment("pipeline")


def test_steps(benchmark, pipeline_case, pipeline_batches, progress):
    t = pipeline_case.train
    result = benchmark.pedantic(
        measure_throughput,
        args=(t, pipeline_batches, pipeline_batches.device, pipeline_case.steps,
              pipeline_case.warmup),
        rounds=1, iterations=1)
    progress(f"{result.images_per_second:.1f} img/s over {result.steps} steps")
    benchmark.extra_info.update(PipelineRecord.from_result(pipeline_case, result).to_extra_info())
