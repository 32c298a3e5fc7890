"""Crash-safe sweeps: records as each case ends, interruption, resume, statuses,
and bad options stopped before any training (smoke-size real cases)."""

import json
import re
import signal
import subprocess
import sys
import time

import pytest

FOUR = "mnist and resnet18 and bs32 and cpu and not pin and not pipe and not e4"


def _cases(results):
    return sorted(results.glob("*/cases/*.json"))


def _start(project, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "benchmarks", "-p", "no:cacheprovider",
         "--mnistperf-profile", "smoke", "-k", FOUR, *args],
        cwd=project.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for_first_record(proc, results, timeout=300):
    """Until the first case has its record and the second is training (a signal
    between two cases would interrupt none; one in a case's setup can land where
    pytest 9 cannot print the interrupt's traceback: tb_lineno None)."""
    deadline = time.monotonic() + timeout
    while not _cases(results) or _training(results) < 2:
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline, "no case record appeared"
        time.sleep(0.05)


def _training(results) -> int:
    """How many cases have said something while training (events.jsonl)."""
    cases = set()
    for path in results.glob("*/events.jsonl"):
        for line in path.read_text().splitlines():
            try:
                event = json.loads(line)
            except ValueError:  # the line being written
                continue
            if event.get("event") == "progress":
                cases.add(event["case_id"])
    return len(cases)


def _benchmarks(run_dir):
    return {b["param"]: b["extra_info"] for b in
            json.loads((run_dir / "benchmark.json").read_text())["benchmarks"]}


def test_sigint_keeps_what_finished_then_resume_trains_only_the_rest(bench_project):
    results = bench_project.path / "results"
    proc = _start(bench_project)
    _wait_for_first_record(proc, results)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2, out  # pytest's "interrupted"
    assert "Traceback" not in out and "min() arg is an empty sequence" not in out
    run_dir = (results / "latest").resolve()
    first = _benchmarks(run_dir)
    statuses = sorted(info["status"] for info in first.values())
    assert "ok" in statuses and statuses.count("interrupted") == 1, out
    assert "interrupted" in (run_dir / "tables.md").read_text()

    resumed = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks", "-p", "no:cacheprovider",
         "--mnistperf-profile", "smoke", "-k", FOUR, "--mnistperf-resume"],
        cwd=bench_project.path, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stdout
    n_ok = statuses.count("ok")
    assert (f"mnistperf: resume: {n_ok} of 4 cases taken from results/{run_dir.name}/, "
            f"{4 - n_ok} to run") in resumed.stdout
    assert resumed.stdout.count("resumed: ok record of") == n_ok
    final = _benchmarks((results / "latest").resolve())
    assert len(final) == 4 and all(i["status"] == "ok" for i in final.values())
    assert sum(bool(i.get("resumed")) for i in final.values()) == n_ok
    for case_id, info in first.items():  # resumed cases keep their recorded numbers
        if info["status"] == "ok":
            assert final[case_id]["test_accuracy"] == info["test_accuracy"]
    assert "interrupted" not in ((results / "latest") / "tables.md").read_text()


def test_sigkill_keeps_the_finished_records_and_report_rebuilds_the_run(bench_project):
    from mnistperf.__main__ import main

    results = bench_project.path / "results"
    proc = _start(bench_project)
    _wait_for_first_record(proc, results)
    proc.kill()
    proc.communicate(timeout=60)
    records = _cases(results)
    assert records and all(json.loads(p.read_text())["status"] == "ok" for p in records)
    run_dir = records[0].parent.parent
    assert not (run_dir / "benchmark.json").exists()
    assert main(["report", str(run_dir)]) == 0
    assert set(_benchmarks(run_dir)) == {p.stem for p in records}
    assert "Test accuracy (%) — MNIST, cpu, 1 epoch" in (run_dir / "tables.md").read_text()


def test_sigterm_ends_like_ctrl_c(bench_project):
    results = bench_project.path / "results"
    proc = _start(bench_project)
    _wait_for_first_record(proc, results)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "Traceback" not in out, out
    statuses = [i["status"] for i in _benchmarks((results / "latest").resolve()).values()]
    assert statuses.count("interrupted") == 1 and "ok" in statuses


def _run_in_process(project, *args):
    # No plan: these tests patch training to fail, and the plan's probes train too.
    return project.runpytest("benchmarks", "-p", "no:cacheprovider", "--mnistperf-profile",
                             "smoke", "--mnistperf-no-plan", *args)


def test_a_case_that_raises_is_recorded_as_error_and_the_others_run(bench_project,
                                                                    monkeypatch):
    import mnistperf.train

    real = mnistperf.train.train

    def flaky(config, *args, **kwargs):
        if config.optimizer == "adam" and config.lr == 1e-3:
            raise RuntimeError("backend exploded\nsecond line")
        return real(config, *args, **kwargs)

    monkeypatch.setattr(mnistperf.train, "train", flaky)
    result = _run_in_process(bench_project, "-k",
                             "mnist and resnet18 and bs32 and lr0.001 and cpu and not pin "
                             "and not pipe and not e4")
    result.assert_outcomes(passed=1, failed=1)
    run_dir = (bench_project.path / "results" / "latest").resolve()
    infos = _benchmarks(run_dir)
    assert infos["mnist-resnet18-bs32-adam-lr0.001-e1-cpu"]["status"] == "error"
    assert infos["mnist-resnet18-bs32-adam-lr0.001-e1-cpu"]["message"] == (
        "RuntimeError: backend exploded")
    assert infos["mnist-resnet18-bs32-sgd-lr0.001-e1-cpu"]["status"] == "ok"
    doc = json.loads((run_dir / "cases" / "mnist-resnet18-bs32-adam-lr0.001-e1-cpu.json")
                     .read_text())
    assert "Traceback" in doc["traceback"] and "backend exploded" in doc["traceback"]
    table = (run_dir / "tables.md").read_text()
    assert re.search(r"\| 32 +\| adam +\| 0.001 +\| error +\| error +\|", table), table


def test_out_of_memory_is_its_own_status(bench_project, monkeypatch):
    import torch

    import mnistperf.train

    def oom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(mnistperf.train, "train", oom)
    result = _run_in_process(bench_project, "-k", "mnist and resnet18 and bs32 and adam and "
                             "lr0.001 and cpu and not pin and not pipe and not e4")
    result.assert_outcomes(failed=1)
    (info,) = _benchmarks((bench_project.path / "results" / "latest").resolve()).values()
    assert info["status"] == "oom" and info["message"].startswith("OutOfMemoryError: CUDA out")


def test_forced_divergence_keeps_the_curves(bench_project, monkeypatch):
    import torch

    import mnistperf.train

    monkeypatch.setattr(mnistperf.train, "make_optimizer",
                        lambda name, params, lr, options=None, fused=False:
                        torch.optim.SGD(params, lr=1e12))
    result = _run_in_process(bench_project, "-k", "mnist and resnet18 and bs32 and sgd and "
                             "lr0.001 and cpu and not pin and not pipe and not e4")
    result.assert_outcomes(passed=1)
    (info,) = _benchmarks((bench_project.path / "results" / "latest").resolve()).values()
    assert info["status"] == "diverged" and info["test_accuracy"] is None
    assert len(info["train_loss"]) == 1 and info["message"].startswith("loss became")


def test_timeout_stops_the_case_and_keeps_finished_epochs(bench_project):
    result = _run_in_process(bench_project, "-k", "mnist and cpu and e4", "--mnistperf-timeout",
                             "0.2")
    result.assert_outcomes(passed=1)
    (info,) = _benchmarks((bench_project.path / "results" / "latest").resolve()).values()
    assert info["status"] == "timeout" and "timeout" in info["message"]
    assert len(info["val_accuracy"]) < 4 and info["test_accuracy"] is None


@pytest.mark.parametrize("args, message", [
    (["--mnistperf-compile", "nonexistent_backend"],
     "--mnistperf-compile='nonexistent_backend' is not a torch.compile backend here; "
     "choose one of: "),
    (["--mnistperf-seed", str(2**64)], f"--mnistperf-seed={2**64} is outside 0..4294967295"),
    (["--mnistperf-timeout", "0"], "--mnistperf-timeout=0 must be above 0 (seconds per case)"),
])
def test_bad_options_stop_at_startup(bench_project, args, message):
    # In a subprocess: checking the compile backend imports parts of torch._inductor,
    # which register themselves once per process and must not be dropped and
    # re-imported by an in-process run.
    result = bench_project.runpytest_subprocess("benchmarks", "-p", "no:cacheprovider",
                                                "--mnistperf-profile", "smoke", "-k", FOUR,
                                                *args)
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*{message}*"])
    assert not (bench_project.path / "results").exists()


def test_results_path_that_is_a_file_stops_before_training(bench_project):
    blocker = bench_project.path / "blocker"
    blocker.write_text("not a folder")
    result = _run_in_process(bench_project, "-k", FOUR, "--mnistperf-results", str(blocker))
    assert result.ret == 4
    result.stdout.fnmatch_lines([f"*--mnistperf-results {blocker}: cannot write a run folder "
                                 f"there (*); give a writable folder*"])
    assert "epoch 1/1" not in result.stdout.str()
    assert blocker.read_text() == "not a folder"


def test_a_user_folder_named_latest_is_never_replaced(bench_project):
    latest = bench_project.path / "results" / "latest"
    latest.mkdir(parents=True)
    (latest / "mine.txt").write_text("keep")
    result = _run_in_process(bench_project, "-k", "mnist and resnet18 and bs32 and adam and "
                             "lr0.001 and cpu and not pin and not pipe and not e4")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["mnistperf: results/latest is a folder, not the link "
                                 "mnistperf keeps; left as it is (the run is in results/smoke-*)"])
    assert sorted(p.name for p in latest.iterdir()) == ["mine.txt"]
    (run,) = [p for p in latest.parent.iterdir() if p.name != "latest"]
    assert (run / "benchmark.json").is_file() and (run / "tables.md").is_file()


def test_benchmark_disable_still_writes_the_run_and_says_times_are_not_measured(bench_project):
    result = _run_in_process(bench_project, "-k", "mnist and resnet18 and bs32 and adam and "
                             "lr0.001 and cpu and not pin and not pipe and not e4",
                             "--benchmark-disable")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["mnistperf: --benchmark-disable: times were not measured*"])
    (bench,) = json.loads(((bench_project.path / "results" / "latest") / "benchmark.json")
                          .read_text())["benchmarks"]
    assert bench["stats"] is None and bench["extra_info"]["status"] == "ok"


def test_damaged_data_ends_the_session_once_naming_the_file(bench_project, data_root,
                                                            tmp_path, monkeypatch):
    import shutil

    copy = tmp_path / "data"
    for name in ("MNIST",):
        shutil.copytree(data_root / name, copy / name, copy_function=shutil.copyfile)
    images = copy / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[: images.stat().st_size // 2])
    monkeypatch.setenv("MNISTPERF_DATA", str(copy))
    result = _run_in_process(bench_project, "-k", FOUR)
    assert result.ret == 4
    text = result.stdout.str() + result.stderr.str()
    assert text.count(str(images)) == 1 and "Traceback" not in text
    assert not list((bench_project.path / "results").glob("*/cases/*.json"))


def _cut_test_set(data_root, copy, count):
    """MNIST copied to `copy` with its official test images and labels cut to `count`."""
    import shutil
    import struct

    shutil.copytree(data_root / "MNIST", copy / "MNIST", copy_function=shutil.copyfile)
    raw = copy / "MNIST" / "raw"
    for name, header, item in (("t10k-images-idx3-ubyte", 16, 28 * 28),
                               ("t10k-labels-idx1-ubyte", 8, 1)):
        data = (raw / name).read_bytes()
        (raw / name).write_bytes(data[:4] + struct.pack(">I", count) + data[8:header]
                                 + data[header:header + count * item])
    return raw


def test_data_too_small_for_the_profile_stops_before_training(bench_project, data_root,
                                                              tmp_path, monkeypatch):
    raw = _cut_test_set(data_root, tmp_path / "data", 300)
    monkeypatch.setenv("MNISTPERF_DATA", str(tmp_path / "data"))
    result = _run_in_process(bench_project, "-k", FOUR)
    assert result.ret == 4
    text = result.stdout.str() + result.stderr.str()
    images = raw / "t10k-images-idx3-ubyte"
    assert (f"{images}: 300 images but profile 'smoke' needs official_test_size=512; "
            f"restore the original file (mnistperf.datafiles.KNOWN_SHA256 lists the expected "
            f"SHA-256), or choose a profile that needs at most 300") in text
    assert "Traceback" not in text and "epoch 1/1" not in text
    assert not list((bench_project.path / "results").glob("*/cases/*.json"))


def test_benchmarks_under_xdist_stop_with_one_line(bench_project):
    result = bench_project.runpytest_subprocess("benchmarks", "-p", "no:cacheprovider",
                                                "--mnistperf-profile", "smoke", "-k", FOUR,
                                                "-n", "2")
    assert result.ret == 4
    text = result.stdout.str() + result.stderr.str()
    assert ("pytest-xdist (-n): pytest-benchmark times nothing under xdist and the run folder "
            "needs a plain run; run the mnistperf cases without -n") in text
    assert "Traceback" not in text and "INTERNALERROR" not in text
    assert not (bench_project.path / "results").exists()


def test_plain_tests_under_xdist_run_as_before(pytester, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    pytester.makeconftest('pytest_plugins = ["mnistperf.plugin"]\n')
    pytester.makepyfile(test_plain="def test_one():\n    pass\n\ndef test_two():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*2 passed*"])


def test_a_full_disk_at_the_end_keeps_what_was_written_in_one_line(bench_project,
                                                                    monkeypatch):
    import errno

    import mnistperf.store

    real = mnistperf.store._atomic_write

    def full_at_figures(path, content):
        if path.suffix == ".png":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, content)

    monkeypatch.setattr(mnistperf.store, "_atomic_write", full_at_figures)
    result = _run_in_process(bench_project, "-k", "mnist and resnet18 and bs32 and adam and "
                             "lr0.001 and cpu and not pin and not pipe and not e4")
    assert result.ret == 1
    (run_dir,) = (bench_project.path / "results").glob("smoke-*")
    (figure,) = [line for line in result.stdout.lines if ".png: not written" in line]
    assert re.fullmatch(
        rf"mnistperf: \S*{run_dir.name}/\S+\.png: not written \(No space left on device\); "
        rf"the case records in cases/ are kept: python -m mnistperf report "
        rf"\S*{run_dir.name} rebuilds the rest", figure), figure
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert (run_dir / "benchmark.json").is_file() and (run_dir / "tables.md").is_file()
    assert len(list((run_dir / "cases").glob("*.json"))) == 1
    assert not list(run_dir.glob(".*.tmp")) and not list(run_dir.glob("*.png"))
    assert (bench_project.path / "results" / "latest").resolve() == run_dir.resolve()


def _session_with_a_record(tmp_path, data_root, dispatched=False):
    """A RunSession (no pytest) whose run folder holds one ok record."""
    from mnistperf.records import TrainRecord
    from mnistperf.session import RunSession, bench_entry
    from tests.test_session import CONFIG, ID, settings

    session = RunSession(settings(tmp_path, data_root), dispatched=dispatched)
    info = TrainRecord(**TrainRecord.config_fields(CONFIG), test_accuracy=50.0,
                       val_accuracy=[60.0], epoch_seconds=[2.0], train_seconds=2.0,
                       images_per_second=256.0).to_extra_info()
    session.store(CONFIG, bench_entry(CONFIG, info, 2.0, f"test_train[{ID}]", f"x[{ID}]"))
    return session


class _Tracker:
    """A live tracker that keeps what the session closed it with."""

    def __init__(self):
        self.closed = []

    def on_case_end(self, doc):
        pass

    def close(self, run, run_dir):
        self.closed.append((run, run_dir))


def test_a_failed_write_at_the_end_still_closes_the_tracker_and_moves_latest(
        tmp_path, data_root, monkeypatch):
    import errno

    import mnistperf.store
    from tests.test_session import ID

    def full(path, content):
        raise OSError(errno.ENOSPC, "No space left on device")

    session = _session_with_a_record(tmp_path, data_root)
    session.tracker = tracker = _Tracker()
    monkeypatch.setattr(mnistperf.store, "_atomic_write", full)
    assert session.finish({}) is None and session.failed
    assert session.notes == [f"{session.run_dir}/benchmark.json: not written (No space left "
                             f"on device); the case records in cases/ are kept: python -m "
                             f"mnistperf report {session.run_dir} rebuilds the rest"]
    ((run, run_dir),) = tracker.closed
    assert run_dir == session.run_dir and [c.case_id for c in run.cases] == [ID]
    assert (tmp_path / "results" / "latest").resolve() == session.run_dir.resolve()


class _RayNeverCalled:
    """A stand-in for Ray: the unreachable address must stop dispatch before ray.init."""

    def is_initialized(self):
        return False

    def init(self, **kwargs):
        raise AssertionError(f"ray.init called with {kwargs}")


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_dispatch_to_an_unreachable_cluster_stops_with_one_line(tmp_path, monkeypatch, capsys):
    from mnistperf.__main__ import main

    monkeypatch.setitem(sys.modules, "ray", _RayNeverCalled())
    address = f"127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    code = main(["dispatch", "-k", FOUR, "--mnistperf-profile", "smoke", "--mnistperf-results",
                 str(tmp_path / "results"), "--address", address, "--connect-timeout", "5"])
    assert code == 2 and time.monotonic() - start < 30
    assert capsys.readouterr().err == (
        f"mnistperf dispatch: error: --address {address}: cannot reach that Ray cluster "
        f"(Connection refused); is it running there? (--connect-timeout sets the wait)\n")
    assert not (tmp_path / "results").exists()


def test_dispatch_to_a_silent_cluster_gives_up_after_the_connect_timeout(monkeypatch):
    import socket

    from mnistperf.dispatch import DispatchError, _start_ray

    waited = []

    def silent(address, timeout):
        waited.append(timeout)
        raise socket.timeout("timed out")

    monkeypatch.setattr(socket, "create_connection", silent)
    with pytest.raises(DispatchError) as info:
        _start_ray(_RayNeverCalled(), "10.0.0.1:6379", None, 7)
    assert waited == [7] and str(info.value) == (
        "--address 10.0.0.1:6379: cannot reach that Ray cluster (no answer within 7 s); is it "
        "running there? (--connect-timeout sets the wait)")


def test_a_session_without_xdist_accepts_the_plugin(bench_project):
    """dispatch's workers run `pytest -p no:xdist`: the plugin's xdist hook is
    optional, so such a session runs its case (it was an INTERNALERROR)."""
    result = bench_project.runpytest_subprocess(
        "-p", "no:xdist", "benchmarks", "--mnistperf-profile", "smoke",
        "-k", "mnist and resnet18 and bs32 and sgd and lr0.001 and cpu and not pin and not "
              "pipe and not e4")
    result.assert_outcomes(passed=1)

# A conftest that presses Ctrl-C (SIGINT to itself) the moment the end of the session
# writes tables.md; SIGINT is made Python's again, as a shell's background job has it
# ignored.
CTRL_C_AT_TABLES = '''
import os
import signal

import mnistperf.store

pytest_plugins = ["mnistperf.plugin"]
signal.signal(signal.SIGINT, signal.default_int_handler)
_write = mnistperf.store._atomic_write


def _ctrl_c_at_tables(path, content):
    if path.name == "tables.md":
        os.kill(os.getpid(), signal.SIGINT)
    return _write(path, content)


mnistperf.store._atomic_write = _ctrl_c_at_tables
'''


HELD = "mnistperf: Ctrl-C while writing the run's files: finishing them first (a few seconds)"


def _held_ctrl_c(project):
    """Run the project; it must end as interrupted, the held Ctrl-C said once, no
    traceback, the run's files written. pytest's result and all its output."""
    result = project.runpytest_subprocess("--mnistperf-profile", "quick")
    text = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, text
    assert result.stderr.lines.count(HELD) == 1 and "Traceback" not in text, text
    latest = project.path / "results" / "latest"
    for name in ("benchmark.json", "tables.md", "index.html", "cases.csv"):
        assert (latest / name).is_file(), name
    return result, text


def test_ctrl_c_while_the_run_is_written_waits_for_its_files(fake_project):
    from tests.fakes import train_info

    project = fake_project([train_info()])
    project.makeconftest(CTRL_C_AT_TABLES)
    result, text = _held_ctrl_c(project)
    assert "KeyboardInterrupt" not in text  # the run itself was not interrupted
    result.stdout.fnmatch_lines(["*mnistperf: wrote results/quick-*"])


# A conftest that presses Ctrl-C a second time while pytest reports the first one
# (it takes a moment over the first one's traceback; the probe landed there).
CTRL_C_TWICE = '''
import os
import signal

pytest_plugins = ["mnistperf.plugin"]
signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_keyboard_interrupt(excinfo):
    os.kill(os.getpid(), signal.SIGINT)
'''


def test_a_second_ctrl_c_while_pytest_reports_the_first_waits_for_the_files(fake_project):
    from tests.fakes import train_info

    project = fake_project([train_info()])
    project.makeconftest(CTRL_C_TWICE)
    project.makepyfile(test_zz_ctrl_c="import os, signal\n\n\ndef test_ctrl_c():\n"
                                      "    os.kill(os.getpid(), signal.SIGINT)\n")
    _held_ctrl_c(project)


# A conftest whose pytest-benchmark raises KeyboardInterrupt in its own end of
# session: an interrupt no held signal can stop (raised by code, not signalled).
INTERRUPTED_IN_PYTEST_BENCHMARK = '''
from pytest_benchmark.session import BenchmarkSession

pytest_plugins = ["mnistperf.plugin"]


def _interrupted(self):
    raise KeyboardInterrupt


BenchmarkSession.finish = _interrupted
'''


def test_an_interrupt_that_gets_through_at_the_end_keeps_the_records_in_one_line(
        fake_project):
    from tests.fakes import train_info

    project = fake_project([train_info()])
    project.makeconftest(INTERRUPTED_IN_PYTEST_BENCHMARK)
    result = project.runpytest_subprocess("--mnistperf-profile", "quick")
    text = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, text
    (run_dir,) = (project.path / "results").glob("quick-*")
    assert (f"mnistperf: interrupted while writing the run's files; the case records are "
            f"kept in results/{run_dir.name}; `python -m mnistperf report "
            f"results/{run_dir.name}` rebuilds the tables and page") in result.stdout.lines, text
    assert "Traceback" not in text
    assert len(list((run_dir / "cases").glob("*.json"))) == 1
    assert not (run_dir / "tables.md").exists()


def test_dispatch_ctrl_c_while_the_run_is_written_waits_for_its_files(tmp_path, data_root,
                                                                       monkeypatch, capfd):
    import os

    import mnistperf.store
    from mnistperf.dispatch import _finish

    write = mnistperf.store._atomic_write

    def ctrl_c_at_tables(path, content):
        if path.name == "tables.md":
            os.kill(os.getpid(), signal.SIGINT)
        return write(path, content)

    session = _session_with_a_record(tmp_path, data_root, dispatched=True)
    monkeypatch.setattr(mnistperf.store, "_atomic_write", ctrl_c_at_tables)
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = _finish(session, 0)
    except KeyboardInterrupt:
        pytest.fail("the Ctrl-C was not held back while the run's files were written")
    finally:
        signal.signal(signal.SIGINT, old)
    assert code == 0 and session.interrupted
    assert capfd.readouterr().err == HELD.replace("mnistperf:", "dispatch:") + "\n"
    assert (session.run_dir / "tables.md").is_file() and (session.run_dir / "index.html").is_file()

def _dispatch_to(tmp_path, address, timeout="5"):
    from mnistperf.__main__ import main

    return main(["dispatch", "-k", FOUR, "--mnistperf-profile", "smoke", "--mnistperf-results",
                 str(tmp_path / "results"), "--address", address, "--connect-timeout", timeout])


def test_dispatch_auto_without_a_running_cluster_stops_with_one_line(tmp_path, monkeypatch,
                                                                     capsys):
    monkeypatch.setitem(sys.modules, "ray", _RayNeverCalled())
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))  # no ray/ray_current_cluster there
    assert _dispatch_to(tmp_path, "auto") == 2
    assert capsys.readouterr().err == (
        "mnistperf dispatch: error: no running Ray cluster found for --address auto; start "
        "one with `ray start --head` or give HOST:PORT\n")
    assert not (tmp_path / "results").exists()


def test_dispatch_auto_names_the_address_it_found_and_where(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", _RayNeverCalled())
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    (tmp_path / "ray").mkdir()
    noted = tmp_path / "ray" / "ray_current_cluster"  # left by a cluster since stopped
    address = f"127.0.0.1:{_closed_port()}"
    noted.write_text(f"{address}\n")
    assert _dispatch_to(tmp_path, "auto") == 2
    assert capsys.readouterr().err == (
        f"mnistperf dispatch: error: --address auto ({address}, from {noted}): cannot reach "
        f"that Ray cluster (Connection refused); is it running there? (--connect-timeout sets "
        f"the wait)\n")


class _NotRay:
    """A TCP server on a free local port that is not Ray: each connection is
    closed at once, answered with `reply`, or left silent."""

    def __init__(self, reply):
        import socket
        import threading

        self.reply, self.open = reply, []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed by the test
                return
            if self.reply is None:
                self.open.append(conn)  # silent: kept open until the test ends
                continue
            conn.sendall(self.reply)
            conn.close()

    def close(self):
        for conn in self.open:
            conn.close()
        self.sock.close()


@pytest.mark.parametrize("reply, timeout, cause", [
    (b"", "5", "it closed the connection without a gRPC answer"),
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", "5", "it answered b'HTTP/1.1 ', not gRPC"),
    (None, "1", "no gRPC answer within 1 s"),
])
def test_dispatch_to_a_port_that_is_not_ray_stops_with_one_line(tmp_path, monkeypatch, capsys,
                                                                reply, timeout, cause):
    monkeypatch.setitem(sys.modules, "ray", _RayNeverCalled())
    monkeypatch.delenv("RAY_USE_TLS", raising=False)
    server = _NotRay(reply)
    try:
        start = time.monotonic()
        assert _dispatch_to(tmp_path, server.address, timeout) == 2
        assert time.monotonic() - start < float(timeout) + 2
    finally:
        server.close()
    assert capsys.readouterr().err == (
        f"mnistperf dispatch: error: --address {server.address}: not a Ray cluster ({cause}); "
        f"give the address `ray start --head` printed (port 6379 unless set)\n")
    assert not (tmp_path / "results").exists()

