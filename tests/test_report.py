import json
import struct

import pytest

from mnistperf.report import (
    ReportError, build_tables, compare_runs, load_run, parse_run, render_markdown,
    write_report,
)
from tests.fakes import bench_json, train_info, write

INFOS = [
    train_info(bs=16, opt="adam", lr=0.001, acc=91.5, official=90.25, train_seconds=20.0),
    train_info(model="resnet50", bs=16, opt="adam", lr=0.001, acc=88.25, official=87.0,
               train_seconds=61.0, train_size=1000),
    train_info(bs=32, opt="sgd", lr=0.0001, status="diverged"),
    train_info(dataset="fashion", bs=16, opt="sgd", lr=0.001, acc=80.0, official=79.5),
]

EXPECTED_MNIST_ACCURACY = """\
## Test accuracy (%) — MNIST, cpu, 2 epochs

train images: ResNet-18 3,000, ResNet-50 1,000; test = 2,000 images of the split, official = the official test set

| batch   | optimizer   | lr     | ResNet-18 test   | ResNet-18 official   | ResNet-50 test   | ResNet-50 official   |
|---------|-------------|--------|------------------|----------------------|------------------|----------------------|
| 16      | adam        | 0.001  | 91.50            | 90.25                | 88.25            | 87.00                |
| 32      | sgd         | 0.0001 | diverged         | diverged             | –                | –                    |
"""


def test_tables_pivot_rows_and_models_with_missing_cells_and_statuses():
    run = parse_run(json.dumps(bench_json(INFOS)), "x.json")
    tables = build_tables(run)
    assert [t.name for t in tables] == ["mnist-cpu-accuracy", "mnist-cpu-time",
                                        "fashion-cpu-accuracy", "fashion-cpu-time", "devices"]
    text = render_markdown(run, tables)
    assert EXPECTED_MNIST_ACCURACY in text
    time_rows = tables[1].rows
    # 3,000 images x 2 epochs / 20 s = 300 img/s; ResNet-50 2,000 / 61 s = 33 img/s.
    assert time_rows[0] == [16, "adam", "0.001", "20.0", "300", "–", "61.0", "33", "–"]
    assert tables[2].rows == [[16, "sgd", "0.001", "80.00", "79.50", "–", "–"]]


def test_header_names_profile_devices_versions_and_wall_time():
    text = render_markdown(parse_run(json.dumps(bench_json(INFOS, cuda=True)), "x"), [])
    assert text.split("\n## Findings")[0] == (
        "# mnistperf run\n\n"
        "- run: quick-20261128T000000Z (started 2026-11-28T00:00:00Z)\n"
        "- profile: quick; seed: 0; cases: 4; devices: cpu\n"
        "- torch 2.14.1, torchvision 0.29.1, CUDA 13.0, GPU H200, 2 torch threads\n"
        "- wall time: 123.4 s\n"
        # 4 cases x (train + eval): (20 + 1) + (61 + 1) + (10 + 1) + (10 + 1) = 105 s
        "- harness overhead: 18.4 s of 123.4 s wall (14.9%): everything but the cases' "
        "training, evaluation, fit/predict and pipeline steps (105.0 s)\n"
    )
    assert "## Findings\n\n- Adam vs SGD: too little data" in text


def _png_size(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_write_report_files_csv_png_and_html(tmp_path):
    run = load_run(write(tmp_path / "b.json", bench_json(INFOS)))
    out = tmp_path / "out"
    write_report(run, out)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["curves-fashion-resnet18-cpu.png", "curves-mnist-resnet18-cpu.png",
                     "curves-mnist-resnet50-cpu.png", "devices.csv", "devices.png",
                     "fashion-cpu-accuracy.csv",
                     "fashion-cpu-time.csv", "index.html", "mnist-cpu-accuracy.csv",
                     "mnist-cpu-time.csv", "tables.md"]
    assert (out / "mnist-cpu-accuracy.csv").read_text().splitlines()[1:] == [
        "16,adam,0.001,91.50,90.25,88.25,87.00", "32,sgd,0.0001,diverged,diverged,,"]
    png = (out / "curves-mnist-resnet18-cpu.png").read_bytes()
    width, height = _png_size(png)
    assert width >= 1000 and height >= 400 and len(png) > 20_000


def test_index_html_has_every_table_and_figure_embedded(tmp_path):
    from html.parser import HTMLParser

    run = load_run(write(tmp_path / "b.json", bench_json(INFOS)))
    write_report(run, tmp_path)

    class Page(HTMLParser):
        tables, images = [], []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "table":
                self.tables.append(attrs.get("data-name"))
            if tag == "img":
                self.images.append(attrs["src"])

    page = Page()
    page.feed((tmp_path / "index.html").read_text())
    assert page.tables == [t.name for t in build_tables(run)]
    assert len(page.images) == 4  # three curve figures and the CPU-vs-GPU figure
    assert all(src.startswith("data:image/png;base64,iVBORw0KGgo") for src in page.images)
    assert "http" not in (tmp_path / "index.html").read_text().replace("http-equiv", "")


def test_compare_prints_exact_deltas_and_one_sided_cases(tmp_path):
    a = bench_json([INFOS[0], INFOS[1]], seconds=[20.0, 60.0])
    changed = dict(INFOS[0], test_accuracy=93.0)
    b = bench_json([changed, INFOS[3]], seconds=[15.0, 12.0])
    text = compare_runs(parse_run(json.dumps(a), "a.json"), parse_run(json.dumps(b), "b.json"))
    assert text.splitlines()[3:] == [
        "case                                     acc A %    acc B %    Δ acc    time A s    time B s    Δ time s    Δ time %",
        "---------------------------------------  ---------  ---------  -------  ----------  ----------  ----------  ----------",
        "mnist-resnet18-bs16-adam-lr0.001-e2-cpu  91.50      93.00      +1.50    20.00       15.00       -5.00       -25.0%",
        "",
        "only in A (1): mnist-resnet50-bs16-adam-lr0.001-e2-cpu",
        "",
        "only in B (1): fashion-resnet18-bs16-sgd-lr0.001-e2-cpu",
    ]


def test_bad_inputs_are_one_line_errors(tmp_path):
    with pytest.raises(ReportError, match=r"nowhere/benchmark.json: no such file"):
        load_run(tmp_path / "nowhere" / "benchmark.json")
    with pytest.raises(ReportError, match=r"not a pytest-benchmark JSON file"):
        load_run(write(tmp_path / "a.json", {"hello": 1}))
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ReportError, match=r"broken.json: not JSON"):
        load_run(tmp_path / "broken.json")
    foreign = bench_json(INFOS)
    for bench in foreign["benchmarks"]:
        bench["extra_info"] = {}
    with pytest.raises(ReportError, match=r"no mnistperf cases in it \(4 benchmarks"):
        load_run(write(tmp_path / "c.json", foreign))


def _pipe(device, size, bs, pipeline, ips, input_seconds=0.5, seconds=10.0):
    return {"kind": "pipeline", "case_id": f"fashion-resnet18-bs{bs}-adam-lr0.001-s6-{size}px-"
                                           f"{pipeline}pipe-{device}",
            "experiment": "pipeline", "pipeline": pipeline, "dataset": "fashion",
            "model": "resnet18", "batch_size": bs, "optimizer": "adam", "lr": 0.001,
            "device": device, "input_size": size, "channels": 1 if size == 28 else 3,
            "num_workers": 2 if pipeline == "seed" else 0, "steps": 6, "warmup_steps": 2,
            "images": 6 * bs, "seconds": seconds, "warmup_seconds": 2.5,
            "input_seconds": input_seconds,
            "images_per_second": ips, "status": "ok"}


def test_pipeline_table_ratio_and_missing_partner_and_overhead_line():
    infos = [_pipe("cpu", 28, 16, "seed", 150.0, input_seconds=2.0),
             _pipe("cpu", 28, 16, "fast", 180.0),
             _pipe("cpu", 224, 16, "seed", 10.0)]
    run = parse_run(json.dumps(bench_json(infos, seconds=[10.0] * 3)), "x")
    (table,) = [t for t in build_tables(run) if t.name == "pipeline"]
    assert table.rows == [
        ["cpu", "28x28x1", 16, "150.0", "180.0", "1.20x", "20.0", "5.0"],
        ["cpu", "224x224x3", 16, "10.0", "–", "–", "5.0", "–"],
    ]
    # wall 123.4 s minus 3 x (10 s timed + 2.5 s warm-up steps)
    assert render_markdown(run, []).splitlines()[6] == (
        "- harness overhead: 85.9 s of 123.4 s wall (69.6%): everything but the cases' "
        "training, evaluation, fit/predict and pipeline steps (37.5 s)")


def _table(infos, name):
    run = parse_run(json.dumps(bench_json(infos)), "x")
    return next(t for t in build_tables(run) if t.name == name)


def test_devices_table_speedup_flops_and_missing_gpu_cells():
    common = dict(dataset="fashion", bs=16, lr=0.001, opt="sgd")
    cpu = dict(train_info(device="cpu", acc=80.0, train_seconds=100.0, **common),
               train_flops_per_epoch=6e11, flops_per_image=6.62e7, epochs_run=2)
    gpu = dict(train_info(device="gpu", acc=81.0, train_seconds=4.0, **common),
               train_flops_per_epoch=6e11, flops_per_image=6.62e7, epochs_run=2)
    adam_cpu = dict(train_info(device="cpu", opt="adam", dataset="fashion", bs=16, lr=0.001,
                               acc=79.0, train_seconds=50.0),
                    train_flops_per_epoch=6e11, flops_per_image=6.62e7, epochs_run=2)
    table = _table([cpu, gpu, adam_cpu], "devices")
    # achieved = 6e11 x 2 epochs / 4 s = 0.3 TFLOP/s; speed-up = 100 / 4
    assert table.rows[:4] == [
        ["ResNet-18", "sgd", "cpu", "80.00", "100000", "6.62e+07", "6e+11", "0.012", "–"],
        ["ResNet-18", "sgd", "gpu", "81.00", "4000", "6.62e+07", "6e+11", "0.300", "25.0x"],
        ["ResNet-18", "adam", "cpu", "79.00", "50000", "6.62e+07", "6e+11", "0.024", "–"],
        ["ResNet-18", "adam", "gpu", "–", "–", "–", "–", "–", "–"],
    ]


def test_pin_memory_table_reuses_the_grid_row_and_says_cpu_has_no_effect():
    pin = [dict(train_info(dataset="fashion", bs=16, opt="adam", lr=0.001, train_seconds=t),
                experiment="pin_memory", loader="dataloader", pin_memory=p, num_workers=2,
                input_seconds=1.0)
           for p, t in ((True, 20.0), (False, 25.0))]
    grid = dict(train_info(dataset="fashion", bs=16, opt="adam", lr=0.001, train_seconds=10.0),
                input_seconds=0.1)
    table = _table(pin + [grid], "pin-memory")
    assert [row[:4] + row[5:] for row in table.rows] == [
        ["cpu", "dataloader", 2, "on", "20.0", "300", "5.0"],
        ["cpu", "dataloader", 2, "off", "25.0", "240", "4.0"],
        ["cpu", "tensor (grid)", 0, "off", "10.0", "600", "1.0"],
    ]
    assert "pin_memory has no effect without CUDA" in table.note


def test_epochs_table_reads_the_short_run_from_the_long_one():
    long = dict(train_info(bs=16, opt="adam", lr=0.001, epochs=4, acc=95.0, official=94.0,
                           val=(80.0, 90.0, 88.0, 93.0), train=(1, 2, 3, 4)),
                experiment="epochs", epoch_seconds=[5.0, 6.0, 7.0, 8.0],
                checkpoints={"2": {"test_accuracy": 89.5, "official_test_accuracy": 88.0}})
    table = _table([long], "epochs")
    assert table.rows == [
        ["MNIST ResNet-18 bs16 adam lr0.001", "cpu", "2 (first 2 of 4)", "90.00", "90.00",
         "89.50", "88.00", "11.0"],
        ["MNIST ResNet-18 bs16 adam lr0.001", "cpu", "4 (this run)", "93.00", "93.00",
         "95.00", "94.00", "26.0"],
    ]
