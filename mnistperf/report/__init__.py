"""Report primitives: what experiments build their outputs with, and the formats.

Modules: `tables` (Table and cell formatting), `figures` (matplotlib Figure
helpers), `render` (Markdown, terminal, CSV, HTML), `flat` (cases.csv,
curves.csv) and `compare` (two runs side by side). None of them imports an
experiment or names one: what needs the registry (page headings, which
experiments' sizes head a run, which cases a comparison tags) is passed in by
the composition layer, `mnistperf.suite` (which also attaches the study,
`mnistperf.study`, as a run's reference). Loading a run is `mnistperf.run`.
"""
