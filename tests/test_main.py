"""`python -m mnistperf ...` as a user runs it."""

import subprocess
import sys

import pytest

from mnistperf.__main__ import main
from tests.fakes import bench_json, train_info, write


def test_flops_command_prints_macs_and_flops(capsys):
    assert main(["flops", "resnet18", "--input-size", "224", "--channels", "3"]) == 0
    assert capsys.readouterr().out == ("resnet18 3x224x224: 1.819e+09 MACs per image (fvcore), "
                                       "3.637e+09 FLOPs per image (2 x MACs)\n")


@pytest.mark.parametrize("content, message", [
    (None, "no such file; give a results/<run> folder or a pytest-benchmark JSON file"),
    ('{"a": 1}', "not a pytest-benchmark JSON file"),
    ('{"benchmarks": [], "machine_info": {}}', "no mnistperf cases in it (0 benchmarks"),
])
def test_report_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, content, message):
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "mnistperf", "report", str(path), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"mnistperf report: error: {path}: ") and message in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert not out.exists()


def test_report_of_a_json_file_defaults_to_the_results_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MNISTPERF_RESULTS", str(tmp_path / "res"))
    path = write(tmp_path / "0001_saved.json", bench_json([train_info()]))
    assert main(["report", str(path)]) == 0
    out = tmp_path / "res" / "report-0001_saved"
    assert (out / "tables.md").is_file() and (out / "index.html").is_file()
    assert capsys.readouterr().out == f"wrote 5 files to {out}/ (1 cases from {path})\n"


def test_compare_command_and_its_missing_path_error(tmp_path, capsys):
    a = write(tmp_path / "a.json", bench_json([train_info(acc=90.0)], seconds=[10.0]))
    b = write(tmp_path / "b.json", bench_json([train_info(acc=91.25)], seconds=[12.5]))
    assert main(["compare", str(a), str(b)]) == 0
    row = capsys.readouterr().out.splitlines()[5]
    assert row.split() == ["mnist-resnet18-bs16-adam-lr0.001-e2-cpu", "90.00", "91.25", "+1.25",
                           "10.00", "12.50", "+2.50", "+25.0%"]
    assert main(["compare", str(a), str(tmp_path / "missing")]) == 2
    assert "mnistperf compare: error: " in capsys.readouterr().err


def test_grid_command_lists_the_case_ids_of_a_profile(capsys):
    assert main(["grid", "--profile", "paper", "--kind", "grid"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 64
    assert lines[0].split() == ["grid", "mnist-resnet18-bs16-sgd-lr0.001-e10-cpu"]
    assert main(["grid", "--profile", "smoke"]) == 0
    kinds = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert (kinds.count("grid"), kinds.count("devices"), kinds.count("pin_memory"),
            kinds.count("epochs"), kinds.count("pipeline"), kinds.count("svm")) == (
        64, 8, 4, 4, 16, 8)
