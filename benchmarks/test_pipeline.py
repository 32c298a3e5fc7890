"""Input pipelines side by side (mnistperf.experiments.pipeline): the study's
DataLoader with PIL transforms against the harness's device tensors, a fixed
number of training steps each after warm-up."""

import pytest

from mnistperf.experiments import get_experiment
from mnistperf.records import PipelineRecord
from mnistperf.train import measure_throughput

pytestmark = pytest.mark.experiment("pipeline")


def test_steps(benchmark, pipeline_case, pipeline_batches, progress):
    t = pipeline_case.train
    warmup, timed_rounds = get_experiment("pipeline").rounds(1)
    rounds = []

    def one_round():
        rounds.append(measure_throughput(t, pipeline_batches, pipeline_batches.device,
                                         pipeline_case.steps, pipeline_case.warmup))
        n = len(rounds) - warmup
        progress(f"{'warm-up round' if n < 1 else f'round {n}/{timed_rounds}'}: "
                 f"{rounds[-1].images_per_second:.1f} img/s over {rounds[-1].steps} steps")

    # Speed is this experiment's question: a warm-up round, then timed rounds.
    benchmark.pedantic(one_round, rounds=timed_rounds, warmup_rounds=warmup, iterations=1)
    timed = rounds[warmup:] or rounds  # --benchmark-disable runs one round
    benchmark.extra_info.update(PipelineRecord.from_result(
        pipeline_case, timed, warmup=rounds[:len(rounds) - len(timed)]).to_extra_info())
