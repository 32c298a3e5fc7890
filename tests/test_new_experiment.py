"""The README's "Adding an experiment", done in this file: one experiment module
(the code below), one registry line (the monkeypatched EXPERIMENTS) and one thin
benchmark file give cases, a CLI choice, a table, a page section and fingerprinted
records, with no other file touched."""

import pytest

from mnistperf import experiments
from mnistperf.experiments.base import Experiment
from mnistperf.profiles import train_config
from mnistperf.report.tables import Column, Table

# ---------------------------------------------------------------- the experiment module

# The experiment owns its sizes per profile.
SIZES = {"smoke": 64, "quick": 256, "paper": 1024}


def cases(profile, seed=0):
    return [train_config(profile, dataset="mnist", model="resnet18", batch_size=32,
                         optimizer="adam", lr=1e-3, device="cpu", seed=seed,
                         experiment="tiny", extra_tokens=("tiny",),
                         train_size=SIZES[profile.name], val_size=64, test_size=64,
                         official_test_size=64)]


def tables(run):
    records = [r for r in run.records("resnet") if r.experiment == "tiny"]
    if not records:
        return []
    return [Table(name="tiny", title="Tiny: test accuracy",
                  columns=[Column("case"), Column("train images"), Column("test acc %", ".2f")],
                  rows=[[r.case_id, r.train_size, r.test_accuracy] for r in records])]


EXPERIMENT = Experiment(name="tiny", title="A tiny experiment", version=3,
                        fixture="train_case", cases=cases, tables=tables)

BENCHMARK_FILE = '''
import pytest
pytestmark = pytest.mark.experiment("tiny")

def test_train(train_case, case_batches, run_train_case):
    run_train_case(train_case, case_batches)
'''

CASE_ID = "mnist-resnet18-bs32-adam-lr0.001-e1-tiny-cpu"


@pytest.fixture
def registered(monkeypatch):
    # The registry line.
    monkeypatch.setattr(experiments, "EXPERIMENTS", experiments.EXPERIMENTS + (EXPERIMENT,))


def test_the_cli_lists_the_new_experiment_and_its_cases(registered, capsys):
    from mnistperf.__main__ import main

    assert experiments.names()[-1] == "tiny"
    assert main(["grid", "--profile", "smoke", "--kind", "tiny"]) == 0
    assert capsys.readouterr().out == f"tiny       {CASE_ID}\n"


def test_a_run_of_the_new_experiment_gives_its_table_section_and_records(
        registered, pytester, data_root, monkeypatch):
    import json

    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    pytester.makeconftest('pytest_plugins = ["mnistperf.plugin"]\n')
    pytester.makepyfile(bench_tiny=BENCHMARK_FILE)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    monkeypatch.setenv("MNISTPERF_DATA", str(data_root))
    result = pytester.runpytest("bench_tiny.py", "--mnistperf-profile=smoke")
    result.assert_outcomes(passed=1)
    run_dir = (pytester.path / "results" / "latest").resolve()
    (doc,) = [json.loads(p.read_text()) for p in (run_dir / "cases").glob("*.json")]
    assert doc["case_id"] == CASE_ID and doc["status"] == "ok"
    assert doc["fingerprint"]["experiment_version"] == 3
    assert doc["benchmark"]["extra_info"]["experiment"] == "tiny"
    assert doc["benchmark"]["extra_info"]["train_size"] == 64
    tables_md = (run_dir / "tables.md").read_text()
    assert "## Tiny: test accuracy" in tables_md and CASE_ID in tables_md
    assert (run_dir / "tiny.csv").read_text().splitlines()[0] == \
        "case,train_images,test_acc_pct"  # typed CSV headers (snake_case)
    assert ">A tiny experiment</h2>" in (run_dir / "index.html").read_text()
