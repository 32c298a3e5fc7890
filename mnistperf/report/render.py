"""Rendering a run for people and programs: Markdown, terminal, CSV and HTML.

    lines = header_lines(run)
    text = render_markdown(run, tables, findings)
    write_csv(table, path)
    page = render_html(run, tables, findings, pngs)   # one self-contained file

Tables arrive built (see `compose`); this module only formats them. The page is
filled from a `string.Template`, so its markup lives in one place.
"""

from __future__ import annotations

import base64
import csv
import html
from pathlib import Path
from string import Template

from mnistperf.config import DEVICES
from mnistperf.records import NOT_RUN
from mnistperf.report.run import Run
from mnistperf.report.tables import Table, present


def header_lines(run: Run) -> list[str]:
    meta, machine = run.meta, run.machine
    records = run.records()
    devices = present([r.device for r in records], DEVICES)
    profiles = sorted({str(r.profile) for r in records})
    seeds = sorted({str(r.seed) for r in records})
    cuda = machine.get("cuda")
    wall = meta.get("wall_seconds")
    lines = [
        f"run: {meta.get('run') or Path(run.source).parent.name or run.source}"
        f" (started {meta.get('started_utc') or run.data.get('datetime', NOT_RUN)})",
        f"profile: {', '.join(profiles)}; seed: {', '.join(seeds)}; "
        f"cases: {len(records)}; devices: {', '.join(devices)}",
        f"torch {machine.get('torch', NOT_RUN)}, torchvision "
        f"{machine.get('torchvision', NOT_RUN)}, CUDA {cuda or 'none'}, GPU "
        f"{machine.get('gpu') or 'none'}, {machine.get('torch_threads', NOT_RUN)} torch threads",
    ]
    if wall is None:
        return lines + [f"wall time: {NOT_RUN}"]
    measured = sum(r.measured_seconds for r in records)
    overhead = wall - measured
    share = 100.0 * overhead / wall if wall > 0 else 0.0
    return lines + [
        f"wall time: {wall:.1f} s",
        f"harness overhead: {overhead:.1f} s of {wall:.1f} s wall ({share:.1f}%): "
        f"everything but the cases' training, evaluation, fit/predict and pipeline steps "
        f"({measured:.1f} s)",
    ]


def render_markdown(run: Run, tables: list[Table], findings: list[str]) -> str:
    parts = ["# mnistperf run", ""]
    parts += [f"- {line}" for line in header_lines(run)]
    if findings:
        parts += ["", "## Findings", ""] + [f"- {line}" for line in findings]
    for table in tables:
        parts += ["", f"## {table.title}", ""]
        if table.note:
            parts += [table.note, ""]
        parts.append(table.render())
    return "\n".join(parts) + "\n"


def render_terminal(tables: list[Table]) -> str:
    parts = []
    for table in tables:
        parts += ["", table.title, table.render("simple")]
    return "\n".join(parts)


def write_csv(table: Table, path: Path) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(table.headers)
        writer.writerows(table.csv_rows())


PAGE = Template("""\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>mnistperf run</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1200px}\
table{border-collapse:collapse;margin:.5em 0 1.5em}\
td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}\
th{background:#eee}td:nth-child(-n+3),th:nth-child(-n+3){text-align:left}\
img{max-width:100%;border:1px solid #ddd;margin:.5em 0}\
.note{color:#555;font-size:90%}</style></head><body>
<h1>mnistperf run</h1>
<ul>
$header
</ul>
$findings
$tables
$figures
</body></html>
""")


def _html_table(table: Table) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in table.headers)
    body = "\n".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>"
                     for row in table.display_rows())
    return (f'<table class="mnistperf" data-name="{esc(table.name)}">\n<thead>\n<tr>{head}</tr>'
            f"\n</thead>\n<tbody>\n{body}\n</tbody>\n</table>")


def render_html(run: Run, tables: list[Table], findings: list[str],
                pngs: dict[str, bytes]) -> str:
    esc = html.escape
    found = ""
    if findings:
        found = "\n".join(['<h2 id="findings">Findings</h2>', "<ul>",
                           *[f"<li>{esc(line)}</li>" for line in findings], "</ul>"])
    sections = []
    for table in tables:
        sections.append(f'<h2 id="{esc(table.name)}">{esc(table.title)}</h2>')
        if table.note:
            sections.append(f'<p class="note">{esc(table.note)}</p>')
        sections.append(_html_table(table))
    figures = ["<h2>Figures</h2>"] if pngs else []
    for name, png in pngs.items():
        data = base64.b64encode(png).decode("ascii")
        figures.append(f'<figure><img alt="{esc(name)}" src="data:image/png;base64,{data}">'
                       f"<figcaption>{esc(name)}</figcaption></figure>")
    return PAGE.substitute(
        header="\n".join(f"<li>{esc(line)}</li>" for line in header_lines(run)),
        findings=found, tables="\n".join(sections), figures="\n".join(figures))
