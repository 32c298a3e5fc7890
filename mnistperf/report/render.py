"""Rendering a run for people and programs: Markdown, terminal, CSV and HTML.

    lines = header_lines(run)
    text = render_markdown(run, tables, findings)
    text = render_terminal(tables, findings)          # findings after the tables
    write_csv(table, path)                            # headers made unique
    page = render_html(run, sections, findings, best, files)   # one self-contained file

Tables and figures arrive built and grouped per experiment (`Section`, see
`mnistperf.suite.compose`); this module only formats them. Rendering decides
presentation only: a time-to-target column that no case reached is left out of the terminal and
the page (never of tables.md or the CSV), and on the page a device that ran none
of a table's cases is one line instead of rows of dashes. The page is filled
from a `string.Template`, so its markup lives in one place; it fetches nothing
(figures are data: URIs, links are relative to the run folder).
"""

from __future__ import annotations

import base64
import csv
import html
import io
from dataclasses import dataclass, field, replace
from pathlib import Path
from string import Template

from mnistperf.config import DEVICES, MODEL_TITLES
from mnistperf.records import NOT_RUN
from mnistperf.run import Run
from mnistperf.report.tables import MARK_NOTE, Table, has_marks, present


def _sizes_line(records, primary) -> str:
    """What the run trained, next to its numbers: images per model of the primary
    training experiment, SVM images, epochs."""
    def sizes(rs):
        return "/".join(f"{n:,}" for n in sorted({r.train_size for r in rs})) or NOT_RUN

    grid = [r for r in records if r.kind == "resnet" and r.experiment in primary]
    models = sorted({r.model for r in grid})
    parts = [f"{MODEL_TITLES.get(m, m)} {sizes([r for r in grid if r.model == m])}"
             for m in models]
    svms = [r for r in records if r.kind == "svm"]
    if svms:
        parts.append(f"SVMs {sizes(svms)}")
    epochs = "/".join(str(e) for e in sorted({r.epochs for r in grid}))
    return ("training images: " + (", ".join(parts) or NOT_RUN)
            + (f"; grid epochs: {epochs}" if epochs else ""))


def header_lines(run: Run, primary=()) -> list[str]:
    """The run header; `primary` names the experiments whose training sizes it shows
    (the composition layer passes the registry's)."""
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
        _sizes_line(records, primary),
        f"torch {machine.get('torch', NOT_RUN)}, torchvision "
        f"{machine.get('torchvision', NOT_RUN)}, CUDA {cuda or 'none'}, GPU "
        f"{machine.get('gpu') or 'none'}, {machine.get('torch_threads', NOT_RUN)} torch threads",
    ]
    if wall is None:
        return lines + [f"wall time: {NOT_RUN}"]
    measured = sum(r.measured_seconds for r in records)
    overhead = wall - measured
    share = 100.0 * overhead / wall if wall > 0 else 0.0
    plan = meta.get("plan_seconds")
    return lines + [
        f"wall time: {wall:.1f} s",
        f"harness overhead: {overhead:.1f} s of {wall:.1f} s wall ({share:.1f}%): "
        f"everything but the cases' training, evaluation, fit/predict and pipeline steps "
        f"({measured:.1f} s)" + (f"; {plan:.1f} s of it timing the plan's units of work"
                                 if plan else ""),
    ]


CLAIMS_TITLE = "The study's claims: the verdict of its own tables, and this run's"


def render_markdown(run: Run, tables: list[Table], findings: list[str],
                    claims: list[str] = (), primary=()) -> str:
    parts = ["# mnistperf run", ""]
    parts += [f"- {line}" for line in header_lines(run, primary)]
    if findings:
        parts += ["", "## Findings", ""] + [f"- {line}" for line in findings]
    for table in tables:
        parts += ["", f"## {table.title}", ""]
        if table.note:
            parts += [table.note, ""]
        parts.append(table.render())
        if has_marks(table):  # under the table, once: what the mark means
            parts += ["", MARK_NOTE]
    if claims:
        parts += ["", f"## {CLAIMS_TITLE}", ""] + [f"- {line}" for line in claims]
    return "\n".join(parts) + "\n"


def render_terminal(tables: list[Table], findings: list[str] = (),
                    claims: list[str] = ()) -> str:
    """The tables as plain text, then the findings (read after the numbers they
    summarise). A time table's "to target s" columns are left out when no case in
    it reached the target, with one note saying so."""
    parts = []
    for table in tables:
        table, dropped = without_unreached_target(table)
        parts += ["", table.title]
        if dropped:
            parts.append(f"(no case here reached its validation target: "
                         f"{', '.join(dropped)} left out)")
        parts.append(table.render("simple"))
        if has_marks(table):
            parts.append(MARK_NOTE)
    if findings:
        parts += ["", "Findings"] + [f"- {line}" for line in findings]
    if claims:
        parts += ["", CLAIMS_TITLE] + [f"- {line}" for line in claims]
    return "\n".join(parts)


TARGET_SUFFIX = "to target s"


def without_unreached_target(table: Table) -> tuple[Table, list[str]]:
    """The table without its time-to-target columns when none of their cells holds
    a time (all 'not reached', not run or a status); and the headers dropped."""
    drop = [i for i, c in enumerate(table.columns) if c.header.endswith(TARGET_SUFFIX)]
    if not drop or any(isinstance(row[i], (int, float)) and not isinstance(row[i], bool)
                       for row in table.rows for i in drop):
        return table, []
    keep = [i for i in range(len(table.columns)) if i not in drop]
    return (replace(table, columns=[table.columns[i] for i in keep],
                    rows=[[row[i] for i in keep] for row in table.rows]),
            [table.columns[i].header for i in drop])


def unique_headers(headers: list[str]) -> list[str]:
    """Headers with repeats numbered (`acc_pct`, `acc_pct_2`), so that every CSV column
    has its own name for csv.DictReader and pandas."""
    seen: dict[str, int] = {}
    out = []
    for header in headers:
        seen[header] = seen.get(header, 0) + 1
        out.append(header if seen[header] == 1 else f"{header}_{seen[header]}")
    return out


def write_csv(table: Table, path: Path) -> None:
    from mnistperf.store import atomic_write

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(unique_headers(table.csv_headers()))
    writer.writerows(table.csv_rows())
    atomic_write(path, buffer.getvalue())


@dataclass
class PageFigure:
    name: str  # file name, e.g. 'svm.png'
    png: bytes
    title: str  # for the contents
    caption: str  # printed under it


@dataclass
class Section:
    """One experiment's part of the page: its tables, then its figures."""

    name: str  # the experiment's name, e.g. 'pin_memory'
    title: str
    tables: list[Table] = field(default_factory=list)
    figures: list[PageFigure] = field(default_factory=list)


PAGE = Template("""\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mnistperf run $run</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;
line-height:1.4;color:#222}
h1{font-size:1.8em;overflow-wrap:anywhere}
h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
h3{margin:1.6em 0 .3em}
.scroll{overflow-x:auto;margin:.4em 0 1.2em}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right;white-space:nowrap}
th{background:#eee;white-space:normal;min-width:4em;vertical-align:bottom}
td.t,th.t{text-align:left}
tr.not-run td{text-align:left;color:#666;font-style:italic}
figure{margin:1.2em 0 2em}
img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:92%;color:#333;max-width:60em}
.note{color:#555;font-size:90%;max-width:70em}
.csv{font-size:70%;font-weight:normal;margin-left:.6em}
nav ol{padding-left:1.4em}
nav li{margin:.1em 0}
@media (min-width:900px){nav>ol{columns:2;column-gap:3em}nav>ol>li{break-inside:avoid}}
@media (max-width:800px){body{padding:0 .6em}td,th{padding:.2em .35em}}
@media (max-width:1000px){.fig img{max-width:none;width:960px}}
</style></head><body>
<h1>mnistperf run $run</h1>
<ul>
$header
</ul>
$files
$best
$findings
<nav id="contents"><h2>Contents</h2>
<ol>
$contents
</ol></nav>
$sections
</body></html>
""")


NB_HYPHEN = "\u2011"


def _text_columns(table: Table) -> list[bool]:
    """Columns of labels (left-aligned): every value that is there is a string."""
    return [all(isinstance(row[i], str) for row in table.rows if row[i] is not None)
            and any(row[i] is not None for row in table.rows)
            for i in range(len(table.columns))]


def _not_run_devices(table: Table) -> dict[str, list[int]]:
    """{device: its row indexes} for a device whose rows hold nothing past the
    key columns (the leading columns filled in every row): that device ran none
    of the table's cases, which one line says better than rows of dashes."""
    rows, width = table.rows, len(table.columns)
    lead = table.key_columns if table.key_columns is not None else next(
        (i for i in range(width) if any(row[i] is None for row in rows)), width)
    device_col = next((i for i in range(lead)
                       if all(row[i] in DEVICES for row in rows)), None)
    if device_col is None or lead == width:
        return {}
    groups: dict[str, list[int]] = {}
    for n, row in enumerate(rows):
        groups.setdefault(row[device_col], []).append(n)
    return {device: members for device, members in groups.items()
            if all(all(v is None for v in rows[n][lead:]) for n in members)}


def _html_table(table: Table) -> str:
    esc = html.escape
    text = _text_columns(table)
    cls = [' class="t"' if t else "" for t in text]
    # Non-breaking hyphens: a narrow column may wrap its header, never "ResNet-|18".
    head = "".join(f"<th{c}>{esc(h).replace('-', NB_HYPHEN)}</th>"
                   for c, h in zip(cls, table.headers))
    empty = _not_run_devices(table)
    skip = {n for members in empty.values() for n in members}
    body = ["<tr>" + "".join(f"<td{c}>{esc(v)}</td>" for c, v in zip(cls, row)) + "</tr>"
            for n, row in enumerate(table.display_rows()) if n not in skip]
    # After the rows that ran: the rows of a device that did not may sit between them.
    body += [f'<tr class="not-run"><td colspan="{len(cls)}">{esc(device)}: not run</td></tr>'
             for device in empty]
    # The wrapper scrolls sideways on a narrow screen instead of widening the page.
    return (f'<div class="scroll"><table class="mnistperf" data-name="{esc(table.name)}">\n'
            f"<thead>\n<tr>{head}</tr>\n</thead>\n<tbody>\n" + "\n".join(body)
            + "\n</tbody>\n</table></div>")


def _table_html(table: Table, level: int, csv_link: bool) -> list[str]:
    esc = html.escape
    link = (f' <a class="csv" href="{esc(table.name)}.csv">CSV</a>' if csv_link else "")
    out = [f'<h{level} id="{esc(table.name)}">{esc(table.title)}{link}</h{level}>']
    if table.note:
        out.append(f'<p class="note">{esc(table.note)}</p>')
    table, dropped = without_unreached_target(table)  # the CSV keeps them
    if dropped:
        out.append(f'<p class="note">No case here reached its validation target: '
                   f'{esc(", ".join(dropped))} left out (they are in the CSV).</p>')
    out.append(_html_table(table))
    if has_marks(table):
        out.append(f'<p class="note">{esc(MARK_NOTE)}</p>')
    return out


def figure_id(name: str) -> str:
    return "fig-" + Path(name).stem


def render_html(run: Run, sections: list[Section], findings: list[str],
                best: Table | None = None, files: list[str] = (),
                claims: list[str] = (), primary=()) -> str:
    """One self-contained page: header, links to the run's files, the best
    configurations, the findings, contents, then per experiment its tables and
    right after them its figures (PNG as data: URIs, nothing fetched)."""
    esc = html.escape
    contents, body, number = [], [], 0
    top = []
    if best is not None and best.rows:
        top.append(("best", best.title))
    if findings:
        top.append(("findings", "Findings"))
    if claims:
        top.append(("claims", CLAIMS_TITLE))
    contents += [f'<li><a href="#{i}">{esc(t)}</a></li>' for i, t in top]
    for section in sections:
        items = [f'<li><a href="#{esc(t.name)}">{esc(t.title)}</a></li>'
                 for t in section.tables]
        body.append(f'<section id="exp-{esc(section.name)}">'
                    f"<h2>{esc(section.title)}</h2>")
        for table in section.tables:
            body += _table_html(table, 3, csv_link=True)
        for fig in section.figures:
            number += 1
            data = base64.b64encode(fig.png).decode("ascii")
            fid = figure_id(fig.name)
            items.append(f'<li><a href="#{fid}">Figure {number}: {esc(fig.title)}</a></li>')
            # On a narrow screen a figure keeps a readable width and scrolls sideways in
            # its own box; a click opens the PNG at full size.
            body.append(
                f'<figure id="{fid}"><div class="scroll fig"><a href="{esc(fig.name)}" '
                f'title="open at full size"><img alt="{esc(fig.title)}" '
                f'src="data:image/png;base64,{data}"></a></div><figcaption><b>Figure '
                f'{number}.</b> {esc(fig.caption)} <a href="{esc(fig.name)}">'
                f'{esc(fig.name)}</a></figcaption></figure>')
        body.append("</section>")
        contents.append(f'<li><a href="#exp-{esc(section.name)}">{esc(section.title)}</a>'
                        f"<ol>{''.join(items)}</ol></li>")
    found = ""
    if findings:
        found = "\n".join(['<h2 id="findings">Findings</h2>', "<ul>",
                           *[f"<li>{esc(line)}</li>" for line in findings], "</ul>"])
    if claims:
        found += "\n".join(["", f'<h2 id="claims">{esc(CLAIMS_TITLE)}</h2>', "<ul>",
                            *[f"<li>{esc(line)}</li>" for line in claims], "</ul>"])
    links = " · ".join(f'<a href="{esc(f)}">{esc(f)}</a>' for f in files)
    csvs = ", ".join(f'<a href="{esc(t.name)}.csv">{esc(t.name)}.csv</a>'
                     for s in sections for t in s.tables)
    files_html = (f'<p id="files">Data: {links}' + (f"<br>Tables as CSV: {csvs}" if csvs else "")
                  + "</p>") if links or csvs else ""
    return PAGE.substitute(
        run=esc(str(run.meta.get("run") or "")),
        header="\n".join(f"<li>{esc(line)}</li>" for line in header_lines(run, primary)),
        files=files_html,
        best="\n".join(_table_html(best, 2, csv_link=False)) if top and top[0][0] == "best"
        else "",
        findings=found, contents="\n".join(contents), sections="\n".join(body))
