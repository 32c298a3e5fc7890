"""Composition: every registered experiment run over a Run, into files.

    tables = build_tables(run)          # in registry order
    sections = build_sections(run)      # per experiment: its tables, then its figures
    print(terminal(run))                # tables, then findings, for the terminal
    write_report(run, out_dir)          # tables.md, CSVs, cases.csv, curves.csv, PNGs,
                                        # index.html

The composition layer, above the experiments; the run session and the CLI call
it. It owns what needs the whole registry at once: which experiment each table
and figure came from (headed by the experiment's `title`), the run header, and
the best configuration over every training case.
"""

from __future__ import annotations

import json
from pathlib import Path

from mnistperf.config import DATASET_TITLES, DATASETS, DEVICES
from mnistperf import experiments as registry
from mnistperf.experiments import primary_experiments
from mnistperf.report.figures import caption_of, title_of, to_png
from mnistperf.report.flat import write_flat
from mnistperf.report.render import (
    PageFigure, Section, header_lines, render_html, render_markdown, render_terminal,
    write_csv,
)
from mnistperf.report.prediction import prediction_table
from mnistperf.run import Run, parse_run
from mnistperf.study.as_run import is_study, study_run
from mnistperf.study.claims import claim_lines
from mnistperf.report.tables import Column, Table, present, value_cell
from mnistperf.store import CASES, atomic_write


def with_study(run: Run) -> Run:
    """The run with the study attached as its reference, so that every table can
    set the study's figure beside a case at the study's budget (the study itself
    has no reference)."""
    if run.reference is None and not is_study(run):
        run.reference = study_run()
    return run


def _claims(run: Run) -> list[str]:
    return claim_lines(run, study_only=is_study(run))


def build_tables(run: Run) -> list[Table]:
    run = with_study(run)
    plan = prediction_table(run)
    return [table for e in registry.EXPERIMENTS for table in e.tables(run)] + \
        ([plan] if plan else [])


def build_figures(run: Run) -> dict:
    """{file name: matplotlib Figure} of every experiment."""
    out = {}
    for e in registry.EXPERIMENTS:
        out.update(e.figures(run))
    return out


def build_findings(run: Run) -> list[str]:
    return [line for e in registry.EXPERIMENTS for line in e.findings(run)]


def build_sections(run: Run) -> list[Section]:
    """Per experiment with output, in registry order: its tables and its figures
    (rendered to PNG, with title and caption)."""
    run, sections = with_study(run), []
    for e in registry.EXPERIMENTS:
        tables = e.tables(run)
        figures = [PageFigure(name=name, png=to_png(fig), title=title_of(fig, name),
                              caption=caption_of(fig, name))
                   for name, fig in e.figures(run).items()]
        if tables or figures:
            sections.append(Section(name=e.name, title=e.title,
                                    tables=tables, figures=figures))
    plan = prediction_table(run)
    if plan:
        sections.append(Section(name="plan", title="Predicted and measured time",
                                tables=[plan], figures=[]))
    return sections


def best_table(run: Run) -> Table:
    """Per dataset and device, the ok training case with the highest test accuracy,
    from every experiment."""
    ok = [r for r in run.records("resnet") if r.ok and r.test_accuracy is not None]
    rows = []
    for dataset in present([r.dataset for r in ok], DATASETS):
        for device in present([r.device for r in ok if r.dataset == dataset], DEVICES):
            r = max((r for r in ok if r.dataset == dataset and r.device == device),
                    key=lambda r: r.test_accuracy)
            # The case id names the whole configuration (model, batch, optimizer, lr,
            # epochs, input path), so it is the configuration column.
            rows.append([DATASET_TITLES.get(dataset, dataset), device, r.case_id,
                         value_cell(r, "test_accuracy"),
                         value_cell(r, "official_test_accuracy"),
                         value_cell(r, "train_seconds")])  # keeps a timing mark
    return Table(
        name="best", title="Best configuration per dataset and device",
        columns=[Column("dataset"), Column("device"), Column("configuration (case id)"),
                 Column("test acc %", ".2f"), Column("official %", ".2f"),
                 Column("train s", ".1f")],
        rows=rows, key_columns=3,
        note=f"highest test accuracy among the {len(ok)} training cases of this run that "
             f"ended ok, from every experiment; train s = training time (the epochs, "
             f"without evaluation); sizes and epochs differ by profile and experiment")


def header(run: Run) -> list[str]:
    """The run header (profile, sizes, versions, wall time); sizes are the first
    experiment's of each kind of case."""
    return header_lines(run, primary_experiments())


def markdown(run: Run) -> str:
    return render_markdown(run, build_tables(run), build_findings(run), _claims(run),
                           primary_experiments())


def terminal(run: Run) -> str:
    """The tables, then the findings and the study's claims, as the session's end
    prints them."""
    return render_terminal(build_tables(run), build_findings(run), _claims(run))


def write_report(run: Run, out_dir: str | Path) -> list[Path]:
    """Write tables.md, one CSV per table, cases.csv and curves.csv, the figures and
    index.html into out_dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if run.rebuilt:  # benchmark.json was missing or cut: write it from the records
        atomic_write(out / "benchmark.json", json.dumps(run.data, indent=4))
        written.append(out / "benchmark.json")
    sections, found = build_sections(run), build_findings(run)
    tables = [table for section in sections for table in section.tables]
    written.append(out / "tables.md")
    claims = _claims(run)
    atomic_write(out / "tables.md", render_markdown(run, tables, found, claims,
                                                    primary_experiments()))
    for table in tables:
        write_csv(table, out / f"{table.name}.csv")
        written.append(out / f"{table.name}.csv")
    written += write_flat(run, out)
    for section in sections:
        for fig in section.figures:
            atomic_write(out / fig.name, fig.png)
            written.append(out / fig.name)
    # Links only to what is there: a report of a bare JSON file has no cases/ folder.
    files = ["cases.csv", "curves.csv", "tables.md"]
    files += [name for name in ("benchmark.json",) if (out / name).is_file()]
    files += ["cases/"] if (out / CASES).is_dir() else []
    atomic_write(out / "index.html", render_html(run, sections, found, best_table(run),
                                                 files, claims, primary_experiments()))
    written.append(out / "index.html")
    return written


def save_run(run_dir: Path, json_text: str) -> Run:
    """Write a finished session into its run folder: benchmark.json and its report,
    rendered from the JSON text itself (so `report` on the folder gives the same
    files). results/latest is the session's to point (RunSession.finish), also
    when a file here could not be written."""
    atomic_write(run_dir / "benchmark.json", json_text)
    run = parse_run(json_text, str(run_dir / "benchmark.json"))
    write_report(run, run_dir)
    return run
