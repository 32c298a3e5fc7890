"""Crafted records and pytest-benchmark JSON for report and experiment tests.

Fakes are built from the record classes themselves, so they cannot drift from
what a real case writes."""

import json
import urllib.error

from mnistperf.config import format_lr
from mnistperf.records import PipelineRecord, TrainRecord
from mnistperf.run import parse_run


def train_info(dataset="mnist", model="resnet18", bs=16, opt="adam", lr=0.001, device="cpu",
               acc=90.0, official=89.0, train_seconds=10.0, status="ok", epochs=2,
               val=(80.0, 85.0), train=(70.0, 82.0), experiment="grid", train_size=3000,
               **fields):
    """The extra_info of a training case; `fields` set any other TrainRecord field."""
    case_id = f"{dataset}-{model}-bs{bs}-{opt}-{format_lr(lr)}-e{epochs}-{device}"
    values = dict(
        case_id=case_id, experiment=experiment, dataset=dataset, model=model, batch_size=bs,
        optimizer=opt, lr=lr, epochs=epochs, device=device, profile="quick",
        train_size=train_size, val_size=1000, test_size=2000,
        test_accuracy=acc if status == "ok" else None,
        official_test_accuracy=official if status == "ok" else None,
        train_accuracy=list(train), val_accuracy=list(val), train_loss=[1.0, 0.5],
        epoch_seconds=[train_seconds / 2] * 2, train_seconds=train_seconds, eval_seconds=1.0,
        macs_per_image=1, flops_per_image=2, params=1,
        images_per_second=2 * train_size / train_seconds, peak_memory_mb=100.0, status=status)
    return TrainRecord(**{**values, **fields}).to_extra_info()


def pipe_info(device, size, bs, pipeline, ips, input_seconds=0.5, seconds=10.0):
    """The extra_info of a pipeline-comparison case."""
    return PipelineRecord(
        case_id=f"fashion-resnet18-bs{bs}-adam-lr0.001-s6-{size}px-{pipeline}pipe-{device}",
        experiment="pipeline", pipeline=pipeline, dataset="fashion", model="resnet18",
        batch_size=bs, optimizer="adam", lr=0.001, device=device, input_size=size,
        channels=1 if size == 28 else 3, num_workers=2 if pipeline == "study" else 0,
        steps=6, warmup_steps=2, images=6 * bs, seconds=seconds, warmup_seconds=2.5,
        input_seconds=input_seconds, images_per_second=ips,
    ).to_extra_info()


def bench_json(infos, seconds=None, cuda=False):
    seconds = seconds or [(i.get("train_seconds") or i.get("fit_seconds")
                           or i.get("seconds") or 0.0) + 1.0 for i in infos]
    return {
        "machine_info": {"node": "x", "mnistperf": {
            "torch": "2.14.1", "torchvision": "0.29.1", "cuda_available": cuda,
            "cuda": "13.0" if cuda else None, "gpu": "H200" if cuda else None,
            "torch_threads": 2, "device_kind": "cuda" if cuda else "cpu-only",
            "profile": "quick"}},
        "commit_info": {},
        "benchmarks": [
            {"name": f"test_train[{i['case_id']}]", "param": i["case_id"],
             "stats": {"mean": s, "min": s, "max": s, "rounds": 1}, "extra_info": i}
            for i, s in zip(infos, seconds)
        ],
        "datetime": "2026-11-28T00:00:00",
        "version": "5.3.1",
        "mnistperf": {"run": "quick-20261128T000000Z", "profile": "quick", "seed": 0,
                      "started_utc": "2026-11-28T00:00:00Z", "wall_seconds": 123.4},
    }


def run_of(infos, **kwargs):
    """A parsed Run holding these extra_info dicts."""
    return parse_run(json.dumps(bench_json(infos, **kwargs)), "x.json")


def write(path, data):
    path.write_text(json.dumps(data))
    return path


class OfflineDataset:
    """Stands in for a torchvision dataset class on a machine without network."""

    def __init__(self, *args, **kwargs):
        raise urllib.error.URLError("no network")
