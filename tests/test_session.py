"""The run session without pytest: resume takes a record only when its configuration
and fingerprint match, and says why not; old record formats load; a new target
applies to old records."""

import json
import shutil

import pytest

from mnistperf.experiments.grid import cases
from mnistperf.fingerprint import cpu_model, libraries, source_hash
from mnistperf.profiles import get_profile
from mnistperf.records import TrainRecord
from mnistperf.session import RunSession, SessionError, bench_entry
from mnistperf.settings import resolve_settings
from mnistperf.store import FORMAT, StoreError, read_cases

CONFIG = cases(get_profile("smoke"))[0]
ID = "mnist-resnet18-bs16-sgd-lr0.001-e1-cpu"


def settings(tmp_path, data_root, **changes):
    fields = dict(profile="smoke", data=str(data_root), results=str(tmp_path / "results"),
                  seed=0, repeats=1, compile="", targets={})
    return resolve_settings(**{**fields, **changes})


def earlier_run(tmp_path, data_root, **fingerprint_changes):
    """A run holding one ok record of CONFIG, its fingerprint edited as given."""
    session = RunSession(settings(tmp_path, data_root))
    info = TrainRecord(**TrainRecord.config_fields(CONFIG), test_accuracy=50.0,
                       val_accuracy=[60.0], epoch_seconds=[2.0], train_seconds=2.0,
                       images_per_second=256.0).to_extra_info()
    session.store(CONFIG, bench_entry(CONFIG, info, 2.0, f"test_train[{ID}]", f"x[{ID}]"))
    path = session.run_dir / "cases" / f"{ID}.json"
    doc = json.loads(path.read_text())
    for part, value in fingerprint_changes.items():
        doc["fingerprint"][part] = value(doc["fingerprint"][part]) if callable(value) else value
    path.write_text(json.dumps(doc))
    return session.run_dir


def plan(tmp_path, data_root, source, **changes):
    session = RunSession(settings(tmp_path, data_root, resume=str(source), **changes))
    return session.plan_resume([CONFIG])


def test_the_same_case_on_the_same_machine_is_taken(tmp_path, data_root):
    source = earlier_run(tmp_path, data_root)
    found = plan(tmp_path, data_root, source)
    assert list(found.taken) == [ID] and found.refused == {}
    assert found.lines(1) == [f"resume: 1 of 1 cases taken from {source}/, 0 to run"]


def test_changed_code_libraries_or_experiment_version_are_refused_with_the_reason(
        tmp_path, data_root):
    source = earlier_run(tmp_path, data_root, source="a" * 64,
                         libraries=lambda v: dict(v, torch="2.0.0"), experiment_version=0)
    found = plan(tmp_path, data_root, source)
    assert found.taken == {}
    assert found.refused == {ID: [
        "experiment version changed (0 -> 1)",
        f"code changed (aaaaaaaaaaaa -> {source_hash()[:12]})",
        f"library versions changed (torch 2.0.0 -> {libraries()['torch']})"]}
    assert found.lines(1)[1] == (f"resume: not taken ({'; '.join(found.refused[ID])}): {ID}")


def test_another_machine_is_refused_unless_any_machine_is_asked_for(tmp_path, data_root):
    source = earlier_run(tmp_path, data_root, machine=lambda m: dict(m, cpu="Other CPU 9000"))
    assert plan(tmp_path, data_root, source).refused == {
        ID: [f"other machine (cpu Other CPU 9000 -> {cpu_model()})"]}
    assert list(plan(tmp_path, data_root, source, resume_any_machine=True).taken) == [ID]


def test_more_repeats_are_refused(tmp_path, data_root):
    source = earlier_run(tmp_path, data_root)
    assert plan(tmp_path, data_root, source, repeats=2).refused == {
        ID: ["options changed (repeats 1 -> 2)"]}


def test_changed_data_files_are_refused(tmp_path, data_root):
    source = earlier_run(tmp_path, data_root)
    # A copy of the data whose training labels differ in one (still valid) label.
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for path in (data_root / "MNIST" / "raw").glob("*-ubyte"):
        (raw / path.name).symlink_to(path)
    labels = raw / "train-labels-idx1-ubyte"
    content = bytearray(labels.read_bytes())
    labels.unlink()
    content[8] = (content[8] + 1) % 10
    labels.write_bytes(bytes(content))
    assert plan(tmp_path, tmp_path / "data", source).refused == {
        ID: ["data changed (MNIST/train-labels-idx1-ubyte)"]}


def test_a_record_of_the_previous_format_loads_and_is_never_taken(tmp_path, data_root):
    source = earlier_run(tmp_path, data_root)
    path = source / "cases" / f"{ID}.json"
    old = json.loads(path.read_text())
    del old["fingerprint"], old["format"]  # what 0.1.0 wrote
    path.write_text(json.dumps(old))
    (doc,) = read_cases(source)
    assert (doc["format"], doc["fingerprint"]) == (FORMAT, None)
    assert doc["benchmark"]["extra_info"]["test_accuracy"] == 50.0
    assert plan(tmp_path, data_root, source).refused == {
        ID: ["no fingerprint (written by an older mnistperf)"]}
    path.write_text(json.dumps(dict(old, format=FORMAT + 1)))
    with pytest.raises(StoreError, match=rf"^case {ID}: record format {FORMAT + 1} is newer "
                                         rf"than this mnistperf reads \({FORMAT}\)"):
        read_cases(source)


def test_resume_without_an_earlier_run_is_one_line(tmp_path, data_root):
    session = RunSession(settings(tmp_path, data_root, resume=""))
    with pytest.raises(SessionError, match=r"^--mnistperf-resume: no earlier smoke run with "
                                           r"case records under .*results/$"):
        session.plan_resume([CONFIG])


def test_a_new_target_applies_to_old_records(tmp_path, data_root):
    from mnistperf.run import load_run
    from mnistperf.suite.compose import build_tables

    source = earlier_run(tmp_path, data_root)
    assert RunSession(settings(tmp_path, data_root)).fingerprint(CONFIG)["options"] == {
        "repeats": 1, "compile": ""}
    for target, cell in ((99.0, "not reached"), (55.0, "2.0")):
        session = RunSession(settings(tmp_path, data_root, resume=str(source),
                                      targets={"mnist": target}))
        session.plan_resume([CONFIG])
        session.store_resumed(CONFIG)
        session.finish({"mnistperf": {}})
        time = next(t for t in build_tables(load_run(session.run_dir))
                    if t.name == "mnist-cpu-time")
        assert time.display_rows()[0][5] == cell, target
        shutil.rmtree(session.run_dir)
