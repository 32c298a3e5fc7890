"""The ResNet-18/50 grid: one benchmark case per configuration, trained once."""

from mnistperf.record import train_record
from mnistperf.train import train


def test_train(benchmark, train_case, case_batches, progress):
    result = benchmark.pedantic(
        train, args=(train_case, case_batches, case_batches.device),
        kwargs={"progress": progress}, rounds=1, iterations=1,
    )
    benchmark.extra_info.update(train_record(train_case, result))
