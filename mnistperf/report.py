"""What a run leaves behind: tables, figures and a page, from benchmark JSON alone.

    run = load_run("results/latest")          # a run folder or any pytest-benchmark JSON
    tables = build_tables(run)                 # list[Table], views over run.cases
    write_report(run, "results/latest")        # tables.md, <table>.csv, *.png, index.html
    print(render_markdown(run, tables))

The plugin renders a finished session through exactly this path (JSON text ->
`Run` -> files), so `python -m mnistperf report` on a saved JSON reproduces a
session's tables.md byte for byte. Tables show only what the cases support: a
cell whose case did not run is '–', a case that ended badly shows its status.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from tabulate import tabulate

from mnistperf.analysis import findings
from mnistperf.config import (
    BATCH_SIZES, LEARNING_RATES, MODELS, OPTIMIZERS, PIN_MEMORY_BASE, TABLE4, format_lr,
)

MISSING = "–"
DATASET_TITLES = {"mnist": "MNIST", "fashion": "FashionMNIST"}
MODEL_TITLES = {"resnet18": "ResNet-18", "resnet50": "ResNet-50"}


class ReportError(ValueError):
    """Input that cannot be reported on; the message is one line for the user."""


@dataclass
class Case:
    """One benchmark of the JSON: its id, the benchmark's timing and extra_info."""

    case_id: str
    info: dict
    seconds: float | None  # pytest-benchmark's mean time of the case


@dataclass
class Run:
    source: str
    data: dict  # the whole pytest-benchmark JSON
    cases: list[Case] = field(default_factory=list)

    @property
    def meta(self) -> dict:
        return self.data.get("mnistperf") or {}

    @property
    def machine(self) -> dict:
        return (self.data.get("machine_info") or {}).get("mnistperf") or {}

    def kind(self, kind: str) -> list[Case]:
        return [c for c in self.cases if c.info.get("kind") == kind]


def parse_run(text: str, source: str) -> Run:
    """A Run from pytest-benchmark JSON text; errors name `source` and what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{source}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list) \
            or "machine_info" not in data:
        raise ReportError(f"{source}: not a pytest-benchmark JSON file (no 'benchmarks' and "
                          f"'machine_info'); give a run folder or a file written by "
                          f"--benchmark-json / --benchmark-save")
    cases = []
    for bench in data["benchmarks"]:
        info = bench.get("extra_info") or {}
        if "kind" not in info:
            continue
        case_id = info.get("case_id") or bench.get("param") or bench.get("name")
        stats = bench.get("stats") or {}
        cases.append(Case(case_id=case_id, info=info, seconds=stats.get("mean")))
    if not cases:
        raise ReportError(f"{source}: no mnistperf cases in it ({len(data['benchmarks'])} "
                          f"benchmarks, none with mnistperf extra_info)")
    return Run(source=source, data=data, cases=cases)


def load_run(path: str | Path) -> Run:
    """Read a run folder (its benchmark.json) or a pytest-benchmark JSON file."""
    path = Path(path)
    if path.is_dir():
        path = path / "benchmark.json"
    if not path.is_file():
        raise ReportError(f"{path}: no such file; give a results/<run> folder or a "
                          f"pytest-benchmark JSON file")
    return parse_run(path.read_text(), str(path))


# ---------------------------------------------------------------- tables


@dataclass
class Table:
    name: str  # file stem of its CSV, e.g. 'mnist-cpu-accuracy'
    title: str
    headers: list[str]
    rows: list[list]
    note: str = ""


def fmt(value, digits: int = 2) -> str:
    if value is None:
        return MISSING
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _cell(case: Case | None, key: str, digits: int = 2) -> str:
    """A value for people: '–' when missing, the status when the case failed, and
    'mean ± std' when the case ran with repeats and the key has a spread."""
    if case is None:
        return MISSING
    if case.info.get("status", "ok") != "ok":
        return case.info["status"]
    value = fmt(case.info.get(key), digits)
    std = case.info.get(f"{key}_std")
    if (case.info.get("repeats") or 1) > 1 and std is not None and value != MISSING:
        return f"{value} ± {std:.{digits}f}"
    return value


def _unavailable(case: Case | None) -> str:
    """The cell of a value a case cannot give: its status if it failed, else '–'."""
    if case is not None and case.info.get("status", "ok") != "ok":
        return case.info["status"]
    return MISSING


def _ttt(case: Case | None) -> str:
    """Time-to-target cell: seconds, 'not reached', or the usual '–'/status."""
    if case is None or case.info.get("status", "ok") != "ok":
        return _cell(case, "time_to_target_seconds", 1)
    if case.info.get("target_accuracy") is None:
        return MISSING
    value = case.info.get("time_to_target_seconds")
    return "not reached" if value is None else f"{value:.1f}"


def _target_note(cases: list[Case]) -> str:
    targets = sorted({c.info.get("target_accuracy") for c in cases
                      if c.info.get("target_accuracy") is not None})
    if not targets:
        return "to target: no target recorded"
    return ("to target s = training seconds until validation accuracy first reached "
            + "/".join(f"{t:g}" for t in targets) + " %")


def grid_cases(run: Run) -> list[Case]:
    """Training cases of the grid proper (no experiment's own id tokens)."""
    return [c for c in run.kind("resnet") if c.info.get("experiment", "grid") == "grid"]


def _present(values, order):
    """`order` filtered to what occurs in `values`, then anything unexpected, sorted."""
    seen = set(values)
    return [v for v in order if v in seen] + sorted(seen - set(order), key=str)


def resnet_tables(run: Run) -> list[Table]:
    """The seed's Tables 1/2: per dataset (and device), rows (batch, optimizer, lr),
    ResNet-18 / ResNet-50 test accuracy with the official-test accuracy beside it,
    and a training-time table in the same layout."""
    cases = grid_cases(run)
    index = {(c.info["dataset"], c.info["device"], c.info["model"], c.info["batch_size"],
              c.info["optimizer"], c.info["lr"]): c for c in cases}
    tables = []
    for dataset in _present([c.info["dataset"] for c in cases], ("mnist", "fashion")):
        of_dataset = [c for c in cases if c.info["dataset"] == dataset]
        for device in _present([c.info["device"] for c in of_dataset], ("cpu", "gpu")):
            here = [c for c in of_dataset if c.info["device"] == device]
            epochs = sorted({c.info["epochs"] for c in here})
            sizes = sorted({(c.info["model"], c.info["train_size"]) for c in here})
            where = (f"{DATASET_TITLES.get(dataset, dataset)}, {device}, "
                     f"{'/'.join(str(e) for e in epochs)} "
                     f"epoch{'s' if epochs != [1] else ''}")
            note = ("train images: " + ", ".join(f"{MODEL_TITLES.get(m, m)} {n:,}"
                                                  for m, n in sizes)
                    + f"; test = {here[0].info['test_size']:,} images of the split, "
                      f"official = the official test set")
            rows_acc, rows_time = [], []
            for bs in _present([c.info["batch_size"] for c in here], BATCH_SIZES):
                for opt in _present([c.info["optimizer"] for c in here], OPTIMIZERS):
                    for lr in _present([c.info["lr"] for c in here], LEARNING_RATES):
                        key = (bs, opt, lr)
                        row_cases = [index.get((dataset, device, m) + key) for m in MODELS]
                        if not any(row_cases):
                            continue  # no model ran this configuration: no row
                        acc_row = [bs, opt, format_lr(lr)[2:]]
                        time_row = list(acc_row)
                        for case in row_cases:
                            acc_row += [_cell(case, "test_accuracy"),
                                        _cell(case, "official_test_accuracy")]
                            time_row += [_cell(case, "train_seconds", 1),
                                         _cell(case, "images_per_second", 0),
                                         _ttt(case)]
                        rows_acc.append(acc_row)
                        rows_time.append(time_row)
            head = ["batch", "optimizer", "lr"]
            tables.append(Table(
                name=f"{dataset}-{device}-accuracy",
                title=f"Test accuracy (%) — {where}",
                headers=head + [f"{MODEL_TITLES[m]} {kind}" for m in MODELS
                                for kind in ("test", "official")],
                rows=rows_acc, note=note))
            tables.append(Table(
                name=f"{dataset}-{device}-time",
                title=f"Training time — {where}",
                headers=head + [f"{MODEL_TITLES[m]} {kind}" for m in MODELS
                                for kind in ("train s", "img/s", "to target s")],
                rows=rows_time, note=note + "; " + _target_note(here)))
    return tables


def _speedup(base: Case | None, fast: Case | None, keys: tuple[str, ...]) -> str:
    if base is None or fast is None or not all(c.info.get("status") == "ok"
                                               for c in (base, fast)):
        return MISSING
    slow = sum(base.info[k] for k in keys)
    quick = sum(fast.info[k] for k in keys)
    return f"{slow / quick:.2f}x" if quick > 0 else MISSING


def svm_tables(run: Run) -> list[Table]:
    """The seed's Table 3 with one row per backend and the sklearnex speed-up, and
    the best SVM beside the best ResNet per dataset (classical vs deep)."""
    cases = run.kind("svm")
    if not cases:
        return []
    index = {(c.info["dataset"], c.info["kernel"], c.info["backend"]): c for c in cases}
    rows = []
    for dataset in _present([c.info["dataset"] for c in cases], ("mnist", "fashion")):
        for kernel in _present([c.info["kernel"] for c in cases if c.info["dataset"] == dataset],
                               ("rbf", "poly")):
            base = index.get((dataset, kernel, "sklearn"))
            for backend in ("sklearn", "sklearnex"):
                case = index.get((dataset, kernel, backend))
                if case is None:
                    continue
                is_base = backend == "sklearn"
                rows.append([
                    DATASET_TITLES.get(dataset, dataset), kernel, backend,
                    f"{case.info['train_size']:,}", _cell(case, "test_accuracy"),
                    _cell(case, "fit_seconds", 2), _cell(case, "predict_seconds", 2),
                    "baseline" if is_base else _speedup(base, case, ("fit_seconds",)),
                    "baseline" if is_base else _speedup(base, case, ("fit_seconds",
                                                                      "predict_seconds")),
                ])
    tables = [Table(
        name="svm", title="SVM: accuracy and training time (seed Table 3)",
        headers=["dataset", "kernel", "backend", "train images", "test acc %", "fit s",
                 "predict s", "speed-up fit", "speed-up fit+predict"],
        rows=rows,
        note="training time = SVC.fit; speed-up = scikit-learn time / scikit-learn-intelex "
             "time for the same dataset and kernel; pixels scaled to [0, 1], C=1, "
             "gamma='scale', degree 3")]
    resnets = [c for c in run.kind("resnet") if c.info.get("status") == "ok"]
    if resnets:
        deep_rows = []
        for dataset in _present([c.info["dataset"] for c in cases], ("mnist", "fashion")):
            best = {}
            for kind, pool in (("svm", cases), ("resnet", resnets)):
                ok = [c for c in pool if c.info["dataset"] == dataset
                      and c.info.get("status") == "ok"]
                best[kind] = max(ok, key=lambda c: c.info["test_accuracy"], default=None)
            svm, net = best["svm"], best["resnet"]
            deep_rows.append([
                DATASET_TITLES.get(dataset, dataset),
                svm.case_id if svm else MISSING, _cell(svm, "test_accuracy"),
                _cell(svm, "fit_seconds", 1),
                net.case_id if net else MISSING, _cell(net, "test_accuracy"),
                _cell(net, "train_seconds", 1),
            ])
        tables.append(Table(
            name="svm-vs-resnet", title="Classical vs deep: best SVM and best ResNet per dataset",
            headers=["dataset", "best SVM", "acc %", "fit s", "best ResNet", "acc %", "train s"],
            rows=deep_rows,
            note="best = highest test accuracy among the cases of this run; sizes differ by "
                 "profile (see the tables above)"))
    return tables


def _matches(case: Case, **fields) -> bool:
    return all(case.info.get(k) == v for k, v in fields.items())


def pin_memory_table(run: Run) -> list[Table]:
    """pin_memory on/off on the DataLoader path, beside the grid's tensor-path case
    of the same configuration when it ran."""
    pin = [c for c in run.kind("resnet") if c.info.get("experiment") == "pin_memory"]
    if not pin:
        return []
    reference = [c for c in grid_cases(run) if _matches(c, **PIN_MEMORY_BASE)]
    rows = []
    for device in _present([c.info["device"] for c in pin + reference], ("cpu", "gpu")):
        for case in sorted((c for c in pin + reference if c.info["device"] == device),
                           key=lambda c: (c.info["loader"] != "dataloader",
                                          not c.info["pin_memory"])):
            info = case.info
            share = (100.0 * info["input_seconds"] / info["train_seconds"]
                     if info.get("input_seconds") is not None and info.get("train_seconds")
                     else None)
            rows.append([
                device, info["loader"] + (" (grid)" if info.get("experiment") == "grid" else ""),
                info.get("num_workers", 0), "on" if info["pin_memory"] else "off",
                _cell(case, "test_accuracy"), _cell(case, "train_seconds", 1),
                _cell(case, "images_per_second", 0),
                MISSING if share is None or info.get("status") != "ok" else f"{share:.1f}",
            ])
    devices = {c.info["device"] for c in pin}
    note = ("FashionMNIST, ResNet-18, batch 16, Adam, lr 0.001; input wait = host time "
            "spent waiting for the next batch (transforms, collation, host-to-device copy "
            "where it blocks), as a share of training time")
    if devices == {"cpu"} or "gpu" not in devices:
        note += ("; cpu: pin_memory has no effect without CUDA (nothing is pinned), so "
                 "differences between on and off are run-to-run noise, not an effect")
    return [Table(name="pin-memory", title="pin_memory: accuracy, time and input wait",
                  headers=["device", "loader", "workers", "pin_memory", "test acc %",
                           "train s", "img/s", "input wait %"],
                  rows=rows, note=note)]


def epochs_table(run: Run) -> list[Table]:
    """Short vs long training read from one long run per configuration."""
    long_runs = [c for c in run.kind("resnet") if c.info.get("experiment") == "epochs"]
    if not long_runs:
        return []
    rows = []
    for case in sorted(long_runs, key=lambda c: (c.info["dataset"] != "mnist",
                                                 c.info["device"])):
        info = case.info
        config = (f"{DATASET_TITLES.get(info['dataset'], info['dataset'])} "
                  f"{MODEL_TITLES.get(info['model'], info['model'])} bs{info['batch_size']} "
                  f"{info['optimizer']} {format_lr(info['lr'])}")
        points = dict(info.get("checkpoints") or {})
        points[str(info["epochs"])] = {k: info.get(k) for k in ("test_accuracy",
                                                                  "official_test_accuracy")}
        for epochs in sorted(int(e) for e in points):
            val = (info.get("val_accuracy") or [])[:epochs]
            point = points[str(epochs)]
            ok = info.get("status") == "ok" and len(val) == epochs
            source = "this run" if epochs == info["epochs"] else f"first {epochs} of {info['epochs']}"
            rows.append([
                config, info["device"], f"{epochs} ({source})",
                fmt(val[-1]) if ok else _unavailable(case),
                fmt(max(val)) if ok else _unavailable(case),
                fmt(point.get("test_accuracy")) if ok else _unavailable(case),
                fmt(point.get("official_test_accuracy")) if ok else _unavailable(case),
                fmt(sum(info["epoch_seconds"][:epochs]), 1) if ok else _unavailable(case),
            ])
    note = ("each configuration trains once for the long run; the short row is read from "
            "its first epochs (constant learning rate, same seed and batch order, test sets "
            "also evaluated at that epoch), not trained separately; train images: "
            + ", ".join(sorted({f"{c.info['train_size']:,}" for c in long_runs})))
    return [Table(name="epochs", title="Short vs long training (seed: 10 vs 20 epochs)",
                  headers=["configuration", "device", "epochs", "final val %", "best val %",
                           "test %", "official %", "train s"],
                  rows=rows, note=note)]


def devices_table(run: Run) -> list[Table]:
    """The seed's Table 4: FashionMNIST, batch 16, lr 0.001, per model, optimizer and
    device: accuracy, time, FLOPs and the GPU speed-up."""
    cases = [c for c in grid_cases(run) if _matches(c, **TABLE4)]
    if not cases:
        return []
    index = {(c.info["model"], c.info["optimizer"], c.info["device"]): c for c in cases}
    rows = []
    for model in MODELS:
        for opt in OPTIMIZERS:
            for device in ("cpu", "gpu"):
                case = index.get((model, opt, device))
                cpu = index.get((model, opt, "cpu"))
                ok = case is not None and case.info.get("status") == "ok"
                info = case.info if case else {}
                achieved = (info["train_flops_per_epoch"] * info["epochs_run"]
                            / info["train_seconds"] / 1e12
                            if ok and info.get("train_flops_per_epoch") and info["train_seconds"]
                            else None)
                speedup = MISSING
                if device == "gpu" and ok and cpu is not None and cpu.info.get("status") == "ok":
                    speedup = f"{cpu.info['train_seconds'] / info['train_seconds']:.1f}x"
                rows.append([
                    MODEL_TITLES[model], opt, device, _cell(case, "test_accuracy"),
                    fmt(info["train_seconds"] * 1000, 0) if ok else _unavailable(case),
                    f"{info['flops_per_image']:.3g}" if case else MISSING,
                    f"{info['train_flops_per_epoch']:.3g}"
                    if case and info.get("train_flops_per_epoch") else MISSING,
                    MISSING if achieved is None else f"{achieved:.3f}",
                    speedup,
                ])
    sizes = sorted({f"{c.info['input_size']}x{c.info['input_size']}x{c.info.get('channels', 1)}"
                    for c in cases})
    return [Table(
        name="devices", title="CPU vs GPU (seed Table 4): FashionMNIST, batch 16, lr 0.001",
        headers=["model", "optimizer", "device", "test acc %", "train ms", "FLOPs/image",
                 "train FLOPs/epoch", "achieved TFLOP/s", "speed-up"],
        rows=rows,
        note=("FLOPs/image = 2 x fvcore MACs at the input actually trained ("
              + ", ".join(sizes) + "); train FLOPs/epoch ~ 3 x FLOPs/image x train images "
              "(forward + backward, an estimate); achieved = train FLOPs / train time; "
              "speed-up = cpu time / gpu time for the same configuration"))]


def pipeline_table(run: Run) -> list[Table]:
    """Seed pipeline vs harness pipeline: images/s per device, input size and batch."""
    cases = run.kind("pipeline")
    if not cases:
        return []
    index = {(c.info["device"], c.info["input_size"], c.info["batch_size"], c.info["pipeline"]): c
             for c in cases}
    rows = []
    for device in _present([c.info["device"] for c in cases], ("cpu", "gpu")):
        for size in sorted({c.info["input_size"] for c in cases if c.info["device"] == device}):
            for bs in sorted({c.info["batch_size"] for c in cases
                              if c.info["device"] == device and c.info["input_size"] == size}):
                seed, fast = (index.get((device, size, bs, p)) for p in ("seed", "fast"))
                ratio = MISSING
                if seed and fast and all(c.info.get("status") == "ok" and c.info.get(
                        "images_per_second") for c in (seed, fast)):
                    ratio = (f"{fast.info['images_per_second'] / seed.info['images_per_second']:.2f}"
                             "x")
                channels = (seed or fast).info.get("channels", 1)
                rows.append([device, f"{size}x{size}x{channels}", bs,
                             _cell(seed, "images_per_second", 1),
                             _cell(fast, "images_per_second", 1), ratio,
                             _share(seed), _share(fast)])
    some = cases[0].info
    return [Table(
        name="pipeline", title="Input pipeline: seed study's vs harness's (images/s)",
        headers=["device", "input", "batch", "seed img/s", "fast img/s", "fast / seed",
                 "seed input wait %", "fast input wait %"],
        rows=rows,
        note=(f"{MODEL_TITLES.get(some['model'])} {some['optimizer']} "
              f"{format_lr(some['lr'])} on {DATASET_TITLES.get(some['dataset'])}; timed steps "
              f"per case after {some['warmup_steps']} warm-up: "
              + ", ".join(f"{size}px {steps}" for size, steps in sorted(
                  {(c.info["input_size"], c.info["steps"]) for c in cases}))
              + f"; seed = PIL Resize/Grayscale/ToTensor/Normalize in a DataLoader with "
              f"{max(c.info['num_workers'] for c in cases)} workers; fast = uint8 tensors on "
              f"the device, gathered and normalised there"))]


def _share(case: Case | None) -> str:
    if case is None or case.info.get("status") != "ok" or not case.info.get("seconds"):
        return _unavailable(case)
    return f"{100.0 * case.info['input_seconds'] / case.info['seconds']:.1f}"


def measured_seconds(case: Case) -> float:
    """Seconds of a case spent in the work it measures (training, evaluation, fit,
    predict, timed steps)."""
    info = case.info
    if info.get("kind") == "resnet":
        return ((info.get("train_seconds") or 0) + (info.get("eval_seconds") or 0)) * (
            info.get("repeats") or 1)
    if info.get("kind") == "svm":
        return (info.get("fit_seconds") or 0) + (info.get("predict_seconds") or 0)
    # pipeline: timed steps and the warm-up steps before them (training work too)
    return (info.get("seconds") or 0.0) + (info.get("warmup_seconds") or 0.0)


def build_tables(run: Run) -> list[Table]:
    return (resnet_tables(run) + devices_table(run) + pin_memory_table(run)
            + epochs_table(run) + pipeline_table(run) + svm_tables(run))


# ---------------------------------------------------------------- header


def header_lines(run: Run) -> list[str]:
    meta, machine = run.meta, run.machine
    devices = _present([c.info.get("device") for c in run.cases], ("cpu", "gpu"))
    profiles = sorted({str(c.info.get("profile")) for c in run.cases})
    seeds = sorted({str(c.info.get("seed")) for c in run.cases})
    cuda = machine.get("cuda")
    wall = meta.get("wall_seconds")
    return [
        f"run: {meta.get('run') or Path(run.source).parent.name or run.source}"
        f" (started {meta.get('started_utc') or run.data.get('datetime', MISSING)})",
        f"profile: {', '.join(profiles)}; seed: {', '.join(seeds)}; "
        f"cases: {len(run.cases)}; devices: {', '.join(devices)}",
        f"torch {machine.get('torch', MISSING)}, torchvision "
        f"{machine.get('torchvision', MISSING)}, CUDA {cuda or 'none'}, GPU "
        f"{machine.get('gpu') or 'none'}, {machine.get('torch_threads', MISSING)} torch threads",
        f"wall time: {fmt(wall, 1)} s" if wall is not None else f"wall time: {MISSING}",
    ] + ([] if wall is None else [_overhead_line(run, wall)])


def _overhead_line(run: Run, wall: float) -> str:
    measured = sum(measured_seconds(c) for c in run.cases)
    overhead = wall - measured
    share = 100.0 * overhead / wall if wall > 0 else 0.0
    return (f"harness overhead: {overhead:.1f} s of {wall:.1f} s wall ({share:.1f}%): "
            f"everything but the cases' training, evaluation, fit/predict and pipeline steps "
            f"({measured:.1f} s)")


# ---------------------------------------------------------------- rendering


def render_table(table: Table, fmt_name: str = "github") -> str:
    return tabulate(table.rows, headers=table.headers, tablefmt=fmt_name,
                    disable_numparse=True)


def render_markdown(run: Run, tables: list[Table]) -> str:
    parts = ["# mnistperf run", ""]
    parts += [f"- {line}" for line in header_lines(run)]
    found = findings([c.info for c in run.cases])
    if found:
        parts += ["", "## Findings", ""] + [f"- {line}" for line in found]
    for table in tables:
        parts += ["", f"## {table.title}", ""]
        if table.note:
            parts += [table.note, ""]
        parts.append(render_table(table))
    return "\n".join(parts) + "\n"


def render_terminal(run: Run, tables: list[Table]) -> str:
    parts = []
    for table in tables:
        parts += ["", table.title, render_table(table, "simple")]
    return "\n".join(parts)


def write_csv(table: Table, path: Path) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(table.headers)
        # Machine-readable: a missing cell is empty, not the '–' shown to people.
        writer.writerows([["" if v == MISSING else v for v in row] for row in table.rows])


# ---------------------------------------------------------------- figures


def curve_figures(run: Run) -> dict[str, bytes]:
    """The seed's Figures 1-4: per dataset x model (x device), training and
    validation accuracy against epoch for every configuration. name -> PNG."""
    plt = _pyplot()
    cases = [c for c in grid_cases(run) if c.info.get("val_accuracy")]
    groups: dict[tuple, list[Case]] = {}
    for c in cases:
        groups.setdefault((c.info["dataset"], c.info["model"], c.info["device"]), []).append(c)
    figures = {}
    for (dataset, model, device), members in sorted(groups.items()):
        members.sort(key=lambda c: (c.info["batch_size"], c.info["optimizer"], -c.info["lr"]))
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True, layout="constrained")
        last_epoch = 1
        for c in members:
            label = f"bs{c.info['batch_size']} {c.info['optimizer']} {format_lr(c.info['lr'])}"
            style = "-" if c.info["optimizer"] == "adam" else "--"
            for ax, key in zip(axes, ("train_accuracy", "val_accuracy")):
                values = c.info[key]
                ax.plot(range(1, len(values) + 1), values, style, marker="o", label=label)
                last_epoch = max(last_epoch, len(values))
        for ax, what in zip(axes, ("Training accuracy (running, during each epoch)",
                                   "Validation accuracy (after each epoch)")):
            ax.set_title(what)
            ax.set_xlabel("epoch")
            ax.set_xticks(range(1, last_epoch + 1))
            ax.set_xlim(0.5, last_epoch + 0.5)
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("accuracy (%)")
        # Outside the axes: with eight configurations a legend inside hides points.
        handles, labels = axes[1].get_legend_handles_labels()
        fig.legend(handles, labels, title="configuration\n(solid: Adam, dashed: SGD)",
                   loc="outside right upper", fontsize=9)
        fig.suptitle(f"{MODEL_TITLES.get(model, model)} on {DATASET_TITLES.get(dataset, dataset)}"
                     f" ({device}): accuracy per epoch")
        figures[f"curves-{dataset}-{model}-{device}.png"] = _png(fig)
    return figures


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on CI or servers
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    _pyplot().close(fig)
    return buf.getvalue()


def bar_panels(title: str, groups: list[str], series: dict[str, list], panels, legend: str):
    """Grouped bars: one panel per (ylabel, panel title, value index), one bar per
    series in each group; `series[name][g]` is a tuple of values or None."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5),
                             layout="constrained", squeeze=False)
    width = 0.8 / max(len(series), 1)
    for ax, (ylabel, panel_title, k, fmt_) in zip(axes[0], panels):
        for i, (name, values) in enumerate(series.items()):
            xs = [g + (i - (len(series) - 1) / 2) * width
                  for g, v in enumerate(values) if v is not None]
            ys = [v[k] for v in values if v is not None]
            bars = ax.bar(xs, ys, width, label=name)
            ax.bar_label(bars, fmt=fmt_, fontsize=8)
        ax.set_xticks(range(len(groups)), groups)
        ax.set_title(panel_title)
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", alpha=0.3)
        ax.margins(y=0.12)
    # Outside the axes, so that no bar or label is hidden behind it.
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, title=legend or None, loc="outside right upper")
    fig.suptitle(title)
    return _png(fig)


def svm_figure(run: Run) -> dict[str, bytes]:
    """Accuracy and fit+predict time per dataset and kernel, one bar per backend."""
    cases = [c for c in run.kind("svm") if c.info.get("status") == "ok"]
    if not cases:
        return {}
    groups = [(d, k) for d in _present([c.info["dataset"] for c in cases], ("mnist", "fashion"))
              for k in _present([c.info["kernel"] for c in cases if c.info["dataset"] == d],
                                ("rbf", "poly"))]
    index = {(c.info["dataset"], c.info["kernel"], c.info["backend"]): c for c in cases}
    series = {}
    for backend in _present([c.info["backend"] for c in cases], ("sklearn", "sklearnex")):
        series[backend] = [
            (c.info["test_accuracy"], c.info["fit_seconds"] + c.info["predict_seconds"])
            if (c := index.get((d, k, backend))) else None for d, k in groups]
    sizes = sorted({c.info["train_size"] for c in cases})
    png = bar_panels(
        f"SVMs: accuracy and time per dataset and kernel "
        f"({'/'.join(f'{n:,}' for n in sizes)} training images)",
        [f"{DATASET_TITLES.get(d, d)}\n{k}" for d, k in groups], series,
        [("accuracy (%)", "Test accuracy", 0, "%.1f"),
         ("seconds", "Fit + predict time", 1, "%.3g")], legend="backend")
    return {"svm.png": png}


def devices_figure(run: Run) -> dict[str, bytes]:
    """The seed's Figure 8: training time and accuracy per device for Table 4."""
    cases = [c for c in grid_cases(run) if _matches(c, **TABLE4) and c.info.get("status") == "ok"]
    if not cases:
        return {}
    groups = [(m, o) for m in MODELS for o in OPTIMIZERS
              if any(_matches(c, model=m, optimizer=o) for c in cases)]
    series = {}
    for device in _present([c.info["device"] for c in cases], ("cpu", "gpu")):
        series[device] = [
            (c.info["train_seconds"], c.info["test_accuracy"])
            if (c := next((c for c in cases if _matches(c, model=m, optimizer=o, device=device)),
                          None)) else None
            for m, o in groups]
    missing = [d for d in ("cpu", "gpu") if d not in series]
    png = bar_panels(
        "CPU vs GPU: FashionMNIST, batch 16, lr 0.001"
        + (f" ({', '.join(missing)} did not run)" if missing else ""),
        [f"{MODEL_TITLES[m]}\n{o}" for m, o in groups], series,
        [("seconds", "Training time", 0, "%.3g"), ("accuracy (%)", "Test accuracy", 1, "%.1f")],
        legend="device")
    return {"devices.png": png}


def pin_memory_figure(run: Run) -> dict[str, bytes]:
    cases = [c for c in run.kind("resnet") if c.info.get("experiment") == "pin_memory"
             and c.info.get("status") == "ok"]
    if not cases:
        return {}
    devices = _present([c.info["device"] for c in cases], ("cpu", "gpu"))
    series = {}
    for pin in (True, False):
        series[f"pin_memory {'on' if pin else 'off'}"] = [
            (c.info["train_seconds"], c.info["test_accuracy"])
            if (c := next((c for c in cases if _matches(c, device=d, pin_memory=pin)), None))
            else None for d in devices]
    title = "pin_memory on the DataLoader path: FashionMNIST, ResNet-18, batch 16"
    if "gpu" not in devices:
        title += ("\ncpu only: pin_memory does nothing without CUDA, so the difference "
                  "is run-to-run noise")
    png = bar_panels(title, devices, series,
                     [("seconds", "Training time", 0, "%.3g"),
                      ("accuracy (%)", "Test accuracy", 1, "%.1f")], legend="")
    return {"pin-memory.png": png}


def epochs_figure(run: Run) -> dict[str, bytes]:
    """The seed's Figure 6: validation accuracy per epoch of each long run, with
    the short run's end marked (it is the same run's first epochs)."""
    cases = [c for c in run.kind("resnet") if c.info.get("experiment") == "epochs"
             and c.info.get("val_accuracy")]
    if not cases:
        return {}
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.8), layout="constrained")
    shorts = set()
    for c in cases:
        val = c.info["val_accuracy"]
        ax.plot(range(1, len(val) + 1), val, marker="o", markersize=3,
                label=f"{DATASET_TITLES.get(c.info['dataset'])} ({c.info['device']})")
        shorts |= {int(e) for e in c.info.get("checkpoints") or {} if int(e) != c.info["epochs"]}
    for short in shorts:
        ax.axvline(short, color="grey", linestyle=":", label=f"end of the {short}-epoch run")
    last = max(len(c.info["val_accuracy"]) for c in cases)
    ax.set_xticks(range(1, last + 1))
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("Short vs long training: validation accuracy per epoch "
                 "(ResNet-18, batch 16, Adam, lr 0.001)")
    return {"epochs.png": _png(fig)}


def build_figures(run: Run) -> dict[str, bytes]:
    return {**curve_figures(run), **devices_figure(run), **pin_memory_figure(run),
            **epochs_figure(run), **svm_figure(run)}


# ---------------------------------------------------------------- page


def render_html(run: Run, tables: list[Table], figures: dict[str, bytes]) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>mnistperf run</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}"
        "td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}"
        "th{background:#eee}td:nth-child(-n+3),th:nth-child(-n+3){text-align:left}"
        "img{max-width:100%;border:1px solid #ddd;margin:.5em 0}"
        ".note{color:#555;font-size:90%}</style></head><body>",
        "<h1>mnistperf run</h1>", "<ul>",
        *[f"<li>{esc(line)}</li>" for line in header_lines(run)], "</ul>",
    ]
    found = findings([c.info for c in run.cases])
    if found:
        parts += ['<h2 id="findings">Findings</h2>', "<ul>",
                  *[f"<li>{esc(line)}</li>" for line in found], "</ul>"]
    for table in tables:
        parts.append(f'<h2 id="{esc(table.name)}">{esc(table.title)}</h2>')
        if table.note:
            parts.append(f'<p class="note">{esc(table.note)}</p>')
        parts.append(render_table(table, "html").replace("<table>", f'<table class="mnistperf" '
                                                                     f'data-name="{esc(table.name)}">'))
    if figures:
        parts.append("<h2>Figures</h2>")
    for name, png in figures.items():
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<figure><img alt="{esc(name)}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{esc(name)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(run: Run, out_dir: str | Path) -> list[Path]:
    """Write tables.md, one CSV per table, the figures and index.html into out_dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = build_tables(run)
    figures = build_figures(run)
    written = [out / "tables.md"]
    (out / "tables.md").write_text(render_markdown(run, tables))
    for table in tables:
        write_csv(table, out / f"{table.name}.csv")
        written.append(out / f"{table.name}.csv")
    for name, png in figures.items():
        (out / name).write_bytes(png)
        written.append(out / name)
    (out / "index.html").write_text(render_html(run, tables, figures))
    written.append(out / "index.html")
    return written


# ---------------------------------------------------------------- run folders


def new_run_dir(results_dir: str | Path, run_name: str) -> Path:
    """results/<run_name>, or <run_name>-2, -3 ... : a run never overwrites another."""
    results = Path(results_dir)
    results.mkdir(parents=True, exist_ok=True)
    candidate, n = results / run_name, 1
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            n += 1
            candidate = results / f"{run_name}-{n}"


def point_latest(results_dir: str | Path, run_dir: Path) -> None:
    """Atomically repoint results/latest (a relative symlink) at run_dir."""
    results = Path(results_dir)
    tmp = results / f".latest-{run_dir.name}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_dir.name, target_is_directory=True)
    tmp.replace(results / "latest")


def save_run(run_dir: Path, json_text: str) -> Run:
    """Write a finished session into its (new) run folder: benchmark.json and its
    report, rendered from the JSON text itself, then point results/latest at it."""
    (run_dir / "benchmark.json").write_text(json_text)
    run = parse_run(json_text, str(run_dir / "benchmark.json"))
    write_report(run, run_dir)
    point_latest(run_dir.parent, run_dir)
    return run


# ---------------------------------------------------------------- compare


def compare_runs(a: Run, b: Run) -> str:
    """Per case id in both runs: accuracy and time side by side with the delta;
    then the ids found in only one of them."""
    cases_a = {c.case_id: c for c in a.cases}
    cases_b = {c.case_id: c for c in b.cases}
    common = [i for i in cases_a if i in cases_b]
    rows = []
    for case_id in common:
        ca, cb = cases_a[case_id], cases_b[case_id]
        acc_a, acc_b = ca.info.get("test_accuracy"), cb.info.get("test_accuracy")
        d_acc = None if acc_a is None or acc_b is None else acc_b - acc_a
        t_a, t_b = ca.seconds, cb.seconds
        d_t = None if t_a is None or t_b is None else t_b - t_a
        pct = None if d_t is None or not t_a else 100.0 * d_t / t_a
        rows.append([case_id, fmt(acc_a), fmt(acc_b),
                     MISSING if d_acc is None else f"{d_acc:+.2f}",
                     fmt(t_a, 2), fmt(t_b, 2),
                     MISSING if d_t is None else f"{d_t:+.2f}",
                     MISSING if pct is None else f"{pct:+.1f}%"])
    lines = [f"A: {a.source}", f"B: {b.source}", ""]
    if rows:
        lines.append(tabulate(rows, headers=["case", "acc A %", "acc B %", "Δ acc",
                                             "time A s", "time B s", "Δ time s", "Δ time %"],
                              tablefmt="simple", disable_numparse=True))
    else:
        lines.append("no case id is in both runs")
    only_a = [i for i in cases_a if i not in cases_b]
    only_b = [i for i in cases_b if i not in cases_a]
    for label, ids in (("only in A", only_a), ("only in B", only_b)):
        if ids:
            lines += ["", f"{label} ({len(ids)}): " + ", ".join(ids)]
    return "\n".join(lines) + "\n"
