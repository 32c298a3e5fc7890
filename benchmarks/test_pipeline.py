"""Input pipelines side by side: the seed study's (PIL Resize/Grayscale/ToTensor/
Normalize in a DataLoader with workers) against the harness's (device-resident
tensors), same model, batch, optimizer and data, a fixed number of training
steps each after warm-up."""

from mnistperf.record import pipeline_record
from mnistperf.train import measure_throughput


def test_steps(benchmark, pipeline_case, pipeline_batches, progress):
    t = pipeline_case.train
    result = benchmark.pedantic(
        measure_throughput,
        args=(t, pipeline_batches, pipeline_batches.device, pipeline_case.steps,
              pipeline_case.warmup),
        rounds=1, iterations=1)
    progress(f"{result.images_per_second:.1f} img/s over {result.steps} steps")
    benchmark.extra_info.update(pipeline_record(pipeline_case, result))
