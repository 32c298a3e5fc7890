"""The package's layers (DESIGN.md): every import, at module level or inside a
function, points to the same layer or one below, package by package; and no
module below the registry names an experiment."""

import ast
import re
from pathlib import Path

import mnistperf

PACKAGE = Path(mnistperf.__file__).parent

# Bottom up. A module belongs to the layer of its longest listed prefix.
LAYERS = (
    ("vocabulary", ("mnistperf.config",)),
    ("profiles", ("mnistperf.profiles",)),
    ("machinery", ("mnistperf.data", "mnistperf.loader", "mnistperf.datafiles",
                   "mnistperf.models",
                   "mnistperf.train", "mnistperf.throughput", "mnistperf.svm",
                   "mnistperf.flops", "mnistperf.timing",
                   "mnistperf.device", "mnistperf.stats", "mnistperf.progress",
                   "mnistperf.settings", "mnistperf.fingerprint", "mnistperf.warmup",
                   "mnistperf.oom", "mnistperf.shield", "mnistperf.signals")),
    ("records", ("mnistperf.records",)),
    ("store, run, report primitives, export", ("mnistperf.store", "mnistperf.run",
                                               "mnistperf.report", "mnistperf.export")),
    ("experiments", ("mnistperf.experiments",)),
    # The study's claims and figures sit with the composition: they read experiments.
    # (mnistperf.report.study stays here until it moves into mnistperf.study.)
    ("suite, study", ("mnistperf.suite", "mnistperf.study")),
    # What a selection will cost: counts cases by their experiments' rounds.
    ("plan", ("mnistperf.plan",)),
    ("session", ("mnistperf.session", "mnistperf.resume")),
    ("entry points", ("mnistperf.plugin", "mnistperf.dispatch", "mnistperf.__main__",
                      "mnistperf.cuda_check", "mnistperf.plan.command")),
)


def layer_of(module: str) -> int:
    best, level = "", None
    for n, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, level = prefix, n
    assert level is not None, f"{module}: in no layer; add it to LAYERS (and DESIGN.md)"
    return level


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_every_import_points_down_or_sideways():
    upward = []
    for name, path in modules():
        if name == "mnistperf":
            continue
        for target in imports(path):
            if target.startswith("mnistperf.") and layer_of(target) > layer_of(name):
                upward.append(f"{name} ({LAYERS[layer_of(name)][0]}) imports {target} "
                              f"({LAYERS[layer_of(target)][0]})")
    assert upward == []


def test_the_layers_hold_every_module_and_the_report_is_primitives_only():
    names = dict(modules())
    assert {layer_of(n) for n in names if n != "mnistperf"} == set(range(len(LAYERS)))
    assert "mnistperf.report.compose" not in names and "mnistperf.report.run" not in names
    assert layer_of("mnistperf.report.render") < layer_of("mnistperf.experiments.grid") \
        < layer_of("mnistperf.suite.compose") < layer_of("mnistperf.session") \
        < layer_of("mnistperf.plugin.session")


def test_no_module_outside_the_experiments_names_one():
    from mnistperf.experiments import names

    # An experiment's name used as one: a field's value, a comparison, a lookup. (The
    # kinds of record, "svm" and "pipeline", are words of the vocabulary, not names.)
    quoted = re.compile(r"""(experiment\w*\s*(:\s*str\s*)?(==|!=|=|in)\s*\(?|get_experiment\()"""
                        r"""["'](%s)["']""" % "|".join(map(re.escape, names())))
    found = []
    for name, path in modules():
        if name.startswith(("mnistperf.experiments", "mnistperf.report.study",
                            "mnistperf.study", "mnistperf.reference")):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            if quoted.search(code):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == []
