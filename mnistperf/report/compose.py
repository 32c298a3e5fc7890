"""Composition: every registered experiment run over a Run, into files.

    tables = build_tables(run)          # in registry order
    write_report(run, out_dir)          # tables.md, one CSV per table, PNGs, index.html

This is the one layer above the experiments; the plugin and the CLI call it.
"""

from __future__ import annotations

import json
from pathlib import Path

from mnistperf.experiments import EXPERIMENTS
from mnistperf.report.figures import to_png
from mnistperf.report.render import render_html, render_markdown, write_csv
from mnistperf.report.run import Run, parse_run
from mnistperf.store import atomic_write, point_latest
from mnistperf.report.tables import Table


def build_tables(run: Run) -> list[Table]:
    return [table for e in EXPERIMENTS for table in e.tables(run)]


def build_figures(run: Run) -> dict:
    """{file name: matplotlib Figure} of every experiment."""
    out = {}
    for e in EXPERIMENTS:
        out.update(e.figures(run))
    return out


def build_findings(run: Run) -> list[str]:
    return [line for e in EXPERIMENTS for line in e.findings(run)]


def markdown(run: Run) -> str:
    return render_markdown(run, build_tables(run), build_findings(run))


def write_report(run: Run, out_dir: str | Path) -> list[Path]:
    """Write tables.md, one CSV per table, the figures and index.html into out_dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if run.rebuilt:  # benchmark.json was missing or cut: write it from the records
        atomic_write(out / "benchmark.json", json.dumps(run.data, indent=4))
        written.append(out / "benchmark.json")
    tables, found = build_tables(run), build_findings(run)
    pngs = {name: to_png(fig) for name, fig in build_figures(run).items()}
    written.append(out / "tables.md")
    (out / "tables.md").write_text(render_markdown(run, tables, found))
    for table in tables:
        write_csv(table, out / f"{table.name}.csv")
        written.append(out / f"{table.name}.csv")
    for name, png in pngs.items():
        (out / name).write_bytes(png)
        written.append(out / name)
    (out / "index.html").write_text(render_html(run, tables, found, pngs))
    written.append(out / "index.html")
    return written


def save_run(run_dir: Path, json_text: str) -> Run:
    """Write a finished session into its run folder: benchmark.json and its report,
    rendered from the JSON text itself (so `report` on the folder gives the same
    files), then point results/latest at it."""
    atomic_write(run_dir / "benchmark.json", json_text)
    run = parse_run(json_text, str(run_dir / "benchmark.json"))
    write_report(run, run_dir)
    point_latest(run_dir.parent, run_dir)
    return run
