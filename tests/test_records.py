"""Typed records: round trips through extra_info, statuses, and bad input."""

import json

import pytest

from mnistperf.records import (
    STATUSES, PipelineRecord, RecordError, SvmRecord, TrainRecord, record_from_extra_info,
)
from tests.fakes import pipe_info, train_info


def test_train_record_round_trips_through_json_with_int_checkpoint_epochs():
    info = train_info(checkpoints={"10": {"test_accuracy": 91.0}}, repeats=2,
                      test_accuracy_std=0.5)
    assert info["checkpoints"] == {"10": {"test_accuracy": 91.0}}
    record = record_from_extra_info(json.loads(json.dumps(info)))
    assert isinstance(record, TrainRecord) and record.kind == "resnet" and record.ok
    assert record.checkpoints == {10: {"test_accuracy": 91.0}}
    assert record.to_extra_info() == info


def test_statuses_and_measured_seconds():
    assert STATUSES == ("ok", "diverged", "oom", "timeout", "error", "interrupted")
    diverged = record_from_extra_info(train_info(status="diverged", train_seconds=4.0))
    assert not diverged.ok and diverged.status == "diverged"
    assert diverged.measured_seconds == 5.0  # 4 s training + 1 s evaluation
    svm = SvmRecord(case_id="mnist-svm-rbf-sklearn-cpu", experiment="svm", dataset="mnist",
                    kernel="rbf", backend="sklearn", train_size=10, test_size=10,
                    fit_seconds=2.0, predict_seconds=0.5)
    assert svm.measured_seconds == 2.5 and svm.to_extra_info()["kind"] == "svm"


def test_timed_rounds_count_every_round_in_measured_seconds():
    from mnistperf.profiles import get_profile, train_config
    from mnistperf.train import RunResult

    config = train_config(get_profile("smoke"), dataset="fashion", model="resnet18",
                          batch_size=16, optimizer="adam", lr=1e-3, device="cpu",
                          experiment="pin_memory")

    def result(train, evaluation):
        return RunResult(train_seconds=train, eval_seconds=evaluation, images_trained=512,
                         test_accuracy=50.0, official_test_accuracy=50.0, torch_threads=1)

    rounds = [result(4.0, 1.0), result(2.0, 1.0), result(3.0, 1.0)]
    record = TrainRecord.from_timed_rounds(config, rounds, warmup=[result(6.0, 2.0)])
    assert (record.train_seconds, record.round_seconds) == (3.0, [4.0, 2.0, 3.0])
    assert record.spread_seconds == 2.0 and record.torch_threads == 1
    # 4+2+3 timed + 6 warm-up training seconds, 3x1 + 2 evaluation seconds
    assert record.work_seconds == record.measured_seconds == 20.0


def test_pipeline_records_written_before_the_rename_read_as_study():
    legacy = dict(pipe_info("cpu", 28, 16, "study", 100.0), pipeline="seed")
    record = record_from_extra_info(legacy)
    assert isinstance(record, PipelineRecord) and record.pipeline == "study"
    assert record.measured_seconds == 12.5  # 10 s timed + 2.5 s warm-up


@pytest.mark.parametrize("change, message", [
    (lambda i: i.pop("model"), "case mnist-resnet18-bs16-adam-lr0.001-e2-cpu: extra_info lacks model"),
    (lambda i: i.update(status="crashed"), "unknown status 'crashed'; known: ok, diverged, oom, "
                                           "timeout, error, interrupted"),
    (lambda i: i.update(kind="gan"), "unknown kind 'gan'; known: resnet, svm, pipeline"),
    (lambda i: i.update(checkpoints=[1, 2]), "case mnist-resnet18-bs16-adam-lr0.001-e2-cpu: "),
])
def test_bad_extra_info_is_one_record_error(change, message):
    info = train_info()
    change(info)
    with pytest.raises(RecordError) as exc:
        record_from_extra_info(info)
    assert message in str(exc.value) and "\n" not in str(exc.value)
