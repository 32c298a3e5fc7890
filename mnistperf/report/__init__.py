"""What a run leaves behind, from records alone: tables, figures, a page, compare.

    from mnistperf.report.run import load_run
    from mnistperf.report.compose import write_report
    run = load_run("results/latest")        # a run folder or any pytest-benchmark JSON
    write_report(run, "results/latest")     # tables.md, <table>.csv, *.png, index.html

Modules, bottom up: `run` (loading: Run, Case, ReportError), `tables` (Table and
cell formatting), `figures` (matplotlib Figure helpers) — the primitives the
experiments build with —, then `render` (Markdown, terminal, CSV, HTML),
`flat` (cases.csv, curves.csv), `compose` (the experiment registry run over a
Run, the study attached as its reference: mnistperf.study) and `compare`. This file
imports nothing, so that experiments can import the primitives without a
circle through the composition layer.
"""
