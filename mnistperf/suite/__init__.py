"""Composition: the experiment registry run over a Run, above the experiments.

    from mnistperf.suite.compose import save_run, terminal, write_report
    write_report(load_run("results/latest"), "results/latest")

`compose` builds every experiment's tables, figures and findings, the study's
claims and the run header, and writes a run's files (tables.md, CSVs, figures,
index.html, benchmark.json) and results/latest. The run session
(`mnistperf.session`) and the CLI call it; nothing below it imports it.
"""
