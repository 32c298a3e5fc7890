"""Typed records of finished cases, and the one definition of case statuses.

A record is what a case leaves behind: its configuration, its measurements and
its status. It travels as pytest-benchmark's `extra_info` (the contract's keys,
see DESIGN.md) and is read back from there by the report:

    record = TrainRecord.from_seeds(config, results)
    benchmark.extra_info.update(record.to_extra_info())
    ...
    record = record_from_extra_info(bench["extra_info"])   # TrainRecord | SvmRecord | ...
    record.ok, record.status, record.test_accuracy

Nothing here imports pytest; torch-dependent helpers are imported only by the
builders, so reading records (the report, `compare`) needs no torch.

Layout: `base` (Record, statuses, contract keys, RecordError), one module per
kind (`resnet`, `svm`, `pipeline`); this module gathers them, with the kind
registry, failure records and reading extra_info back.
"""

from __future__ import annotations

from mnistperf.records.base import (
    NOT_RUN, OK, STATUSES, SVM_KEYS, TRAIN_KEYS, Record, RecordError,
)
from mnistperf.records.pipeline import PipelineRecord
from mnistperf.records.resnet import TrainRecord
from mnistperf.records.svm import SvmRecord

__all__ = ["NOT_RUN", "OK", "STATUSES", "SVM_KEYS", "TRAIN_KEYS", "RECORD_TYPES", "Record",
           "RecordError", "TrainRecord", "SvmRecord", "PipelineRecord", "failure_record",
           "is_record", "record_from_extra_info"]

RECORD_TYPES = {cls.KIND: cls for cls in (TrainRecord, SvmRecord, PipelineRecord)}


def failure_record(config, status: str, message: str, memory: dict | None = None) -> Record:
    """The record of a case that ended without results of its own (an exception,
    out of memory, an interrupt): its configuration and its status; `memory`, the
    MiB in use at the failure (mnistperf.oom.memory_at_failure), for an oom."""
    from mnistperf.config import PipelineConfig, SvmConfig

    common = dict(status=status, message=message, memory_at_failure_mb=dict(memory or {}))
    if isinstance(config, SvmConfig):
        return SvmRecord(**SvmRecord.config_fields(config), **common)
    if isinstance(config, PipelineConfig):
        return PipelineRecord(**PipelineRecord.config_fields(config), steps=config.steps,
                              **common)
    return TrainRecord(**TrainRecord.config_fields(config), epochs_run=0, **common)


def is_record(info) -> bool:
    """Whether a benchmark's extra_info is an mnistperf case at all."""
    return isinstance(info, dict) and "kind" in info


def record_from_extra_info(info: dict) -> Record:
    """The typed record of one benchmark's extra_info; RecordError names what is wrong."""
    if not isinstance(info, dict):
        raise RecordError(f"extra_info is a {type(info).__name__}, not an object")
    cls = RECORD_TYPES.get(info.get("kind"))
    if cls is None:
        raise RecordError(f"case {info.get('case_id', '?')}: unknown kind {info.get('kind')!r}; "
                          f"known: {', '.join(RECORD_TYPES)}")
    try:
        return cls.from_extra_info(info)
    except RecordError:
        raise
    except (TypeError, ValueError, AttributeError) as exc:  # a value of the wrong shape
        raise RecordError(f"case {info.get('case_id', '?')}: a value has the wrong type "
                          f"({type(exc).__name__}: {exc})") from None
