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

from mnistperf.config import BATCH_SIZES, LEARNING_RATES, MODELS, OPTIMIZERS, format_lr

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
    if case is None:
        return MISSING
    if case.info.get("status", "ok") != "ok":
        return case.info["status"]
    return fmt(case.info.get(key), digits)


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
                                         _cell(case, "images_per_second", 0)]
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
                                for kind in ("train s", "img/s")],
                rows=rows_time, note=note))
    return tables


def build_tables(run: Run) -> list[Table]:
    return resnet_tables(run)


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
    ]


# ---------------------------------------------------------------- rendering


def render_table(table: Table, fmt_name: str = "github") -> str:
    return tabulate(table.rows, headers=table.headers, tablefmt=fmt_name,
                    disable_numparse=True)


def render_markdown(run: Run, tables: list[Table]) -> str:
    parts = ["# mnistperf run", ""]
    parts += [f"- {line}" for line in header_lines(run)]
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
        figures[f"curves-{dataset}-{model}-{device}.png"] = buf.getvalue()
    return figures


def build_figures(run: Run) -> dict[str, bytes]:
    return curve_figures(run)


# ---------------------------------------------------------------- page


def render_html(run: Run, tables: list[Table], figures: dict[str, bytes]) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>mnistperf run</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}"
        "td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}"
        "th{background:#eee}td:nth-child(-n+3){text-align:left}"
        "img{max-width:100%;border:1px solid #ddd;margin:.5em 0}"
        ".note{color:#555;font-size:90%}</style></head><body>",
        "<h1>mnistperf run</h1>", "<ul>",
        *[f"<li>{esc(line)}</li>" for line in header_lines(run)], "</ul>",
    ]
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
