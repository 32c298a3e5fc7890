"""`python -m mnistperf ...` as a user runs it."""

import os
import subprocess
import sys

import pytest

import mnistperf
from mnistperf.__main__ import main
from tests.fakes import bench_json, train_info, write

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01" + bytes(range(256))
CASE = "mnist-resnet18-bs16-adam-lr0.001-e2-cpu"


def cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "mnistperf", *map(str, args)],
                          capture_output=True, text=True, **kwargs)


def tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_flops_command_prints_macs_and_flops(capsys):
    assert main(["flops", "resnet18", "--input-size", "224", "--channels", "3"]) == 0
    assert capsys.readouterr().out == (
        "resnet18 3x224x224, per image:\n"
        "  fvcore MACs (eval mode)          1.818559e+09\n"
        "  FLOPs = 2 x MACs (fvcore)        3.637118e+09  (the harness's)\n"
        "  the study's count (thop)         1.823527e+09  (1,823,526,912; thop.profile, a "
        "multiply-add counted once)\n")


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


def _not_an_object(tmp_path):
    data = bench_json([train_info()])
    data["benchmarks"][0] = "x"
    return write(tmp_path / "run.json", data)


def _lacks_keys(tmp_path):
    data = bench_json([train_info()])
    del data["benchmarks"][0]["extra_info"]["model"], data["benchmarks"][0]["extra_info"]["dataset"]
    return write(tmp_path / "run.json", data)


def _png(tmp_path):
    path = tmp_path / "figure.png"
    path.write_bytes(PNG)
    return path


@pytest.mark.parametrize("make, message", [
    (_png, "{path}: not JSON (not UTF-8 text); give a results/<run> folder or a "
           "pytest-benchmark JSON file"),
    (_not_an_object, "{path}: benchmark 0 is a str, not an object"),
    # "*": records.py words the middle (today it wraps the RecordError a second time);
    # what matters here is the path, the case and the keys it lacks.
    (_lacks_keys, f"{{path}}: case {CASE}: *extra_info lacks dataset, model"),
], ids=["png-bytes", "benchmark-not-an-object", "extra-info-lacks-keys"])
@pytest.mark.parametrize("command", ["report", "compare"])
def test_bad_run_files_are_one_line_exit_2_and_nothing_written(tmp_path, make, message, command):
    path = make(tmp_path)
    good = write(tmp_path / "good.json", bench_json([train_info()]))
    before = tree(tmp_path)
    args = ([path, "--out", tmp_path / "out"] if command == "report" else [good, path])
    proc = cli(command, *args)
    assert (proc.returncode, proc.stdout) == (2, "")
    head, _, tail = message.format(path=path).partition("*")
    line = proc.stderr.removesuffix("\n")
    prefix = f"mnistperf {command}: error: {head}"
    assert line == prefix if not tail else (line.startswith(prefix) and tail in line)
    assert "\n" not in line and "Traceback" not in proc.stderr
    assert tree(tmp_path) == before


def _existing_file(tmp_path):
    out = tmp_path / "tables.md"
    out.write_text("mine")
    return out, f"{out}: exists and is not a folder; give a new or existing folder for --out"


def _under_a_file(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    out = tmp_path / "notes.txt" / "report"
    return out, (f"{out}: cannot write the report (Not a directory); give a writable --out "
                 f"folder")


def _read_only_folder(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders; see the in-process test below")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    out = locked / "report"
    return out, (f"{out}: cannot write the report (Permission denied); give a writable "
                 f"--out folder")


@pytest.mark.parametrize("make", [_existing_file, _under_a_file, _read_only_folder],
                         ids=["existing-file", "under-a-file", "read-only-folder"])
def test_report_out_that_cannot_be_written_is_one_line_exit_2(tmp_path, make):
    path = write(tmp_path / "run.json", bench_json([train_info()]))
    out, message = make(tmp_path)
    before = tree(tmp_path)
    proc = cli("report", path, "--out", out)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"mnistperf report: error: {message}\n"
    assert tree(tmp_path) == before


def test_report_write_error_names_the_path_that_failed(tmp_path, monkeypatch, capsys):
    from mnistperf.suite import compose

    def refuse(run, out):
        raise PermissionError(13, "Permission denied", str(tmp_path / "ro" / "out"))

    monkeypatch.setattr(compose, "write_report", refuse)
    path = write(tmp_path / "run.json", bench_json([train_info()]))
    assert main(["report", str(path), "--out", str(tmp_path / "ro" / "out")]) == 2
    assert capsys.readouterr().err == (
        f"mnistperf report: error: {tmp_path / 'ro' / 'out'}: cannot write the report "
        "(Permission denied); give a writable --out folder\n")


@pytest.mark.parametrize("read_first", [True, False], ids=["head-1", "reader-gone-at-once"])
def test_output_into_a_closed_pipe_ends_quietly(read_first):
    # As `python -m mnistperf grid --profile paper | head -1`. Closing before reading
    # makes the first write fail for certain; after one line it depends on timing.
    with subprocess.Popen([sys.executable, "-m", "mnistperf", "grid", "--profile", "paper"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        if read_first:
            assert proc.stdout.readline() == (
                b"grid       mnist-resnet18-bs16-sgd-lr0.001-e10-cpu\n")
        proc.stdout.close()
        stderr = proc.stderr.read()
        assert (proc.wait(timeout=120), stderr) == (0, b"")


def test_version_and_help_examples():
    proc = cli("--version")
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0, f"mnistperf {mnistperf.__version__}\n", "")
    assert mnistperf.__version__ == "0.1.0"
    help_text = cli("--help").stdout
    assert help_text.endswith(
        "examples:\n"
        "    python -m mnistperf flops resnet18 --input-size 224 --channels 3\n"
        "    python -m mnistperf report results/latest          # re-render a run folder\n"
        "    python -m mnistperf report .benchmarks/.../0001_x.json --out results/x\n"
        "    python -m mnistperf report study                    # the study's own figures\n"
        "    python -m mnistperf compare results/run-a results/run-b\n"
        "    python -m mnistperf compare study results/latest    # the study as run A\n"
        "    python -m mnistperf grid --profile quick            # every case id of a profile\n"
        "    python -m mnistperf plan -m cpu --mnistperf-profile quick   # predicted time per "
        "case\n"
        "    python -m mnistperf export mlflow results/latest    # into MLflow's default store\n"
        "    python -m mnistperf export tensorboard results/latest tb\n"
        "    python -m mnistperf cuda-check                      # does torch here see a GPU?\n")


def test_report_of_a_json_file_defaults_to_the_results_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MNISTPERF_RESULTS", str(tmp_path / "res"))
    path = write(tmp_path / "0001_saved.json", bench_json([train_info()]))
    assert main(["report", str(path)]) == 0
    out = tmp_path / "res" / "report-0001_saved"
    assert (out / "tables.md").is_file() and (out / "index.html").is_file()
    assert capsys.readouterr().out == f"wrote 8 files to {out}/ (1 cases from {path})\n"


def test_compare_command_and_its_missing_path_error(tmp_path, capsys):
    # compare shows the tables' time: the records' training seconds
    a = write(tmp_path / "a.json", bench_json([train_info(acc=90.0, train_seconds=10.0)]))
    b = write(tmp_path / "b.json", bench_json([train_info(acc=91.25, train_seconds=12.5)]))
    assert main(["compare", str(a), str(b)]) == 0
    row = capsys.readouterr().out.splitlines()[6]
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
