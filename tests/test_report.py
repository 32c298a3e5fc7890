import json
import shutil
import struct

import pytest

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from mnistperf.report.compare import compare_runs
from mnistperf.experiments import primary_experiments
from mnistperf.suite.compose import build_findings, build_tables, markdown, write_report
from mnistperf.report.render import render_markdown
from mnistperf.run import ReportError, load_run, parse_run
from tests.fakes import bench_json, pipe_info, run_of, train_info, write

FIXTURE = Path(__file__).parent / "fixtures" / "run-0.1.0-smoke"
GOLDEN = Path(__file__).parent / "fixtures" / "run-0.2-golden"  # made by tests/golden.py
# Names that changed on purpose since that run was saved: "seed" now only means
# a random seed; the course report is "the study".
RENAMES = [
    ("(seed Table 4)", "(the study's Table 4)"),
    ("(seed: 10 vs 20 epochs)", "(the study: 10 vs 20 epochs)"),
    ("(seed Table 3)", "(the study's Table 3)"),
    ("Input pipeline: seed study's vs harness's", "Input pipeline: the study's vs the harness's"),
    ("; seed = PIL", "; study = PIL"),
    ("| seed img/s ", "| study img/s "), ("| fast / seed ", "| fast / study "),
    ("| seed input wait % ", "| study input wait % "),
]


INFOS = [
    train_info(bs=16, opt="adam", lr=0.001, acc=91.5, official=90.25, train_seconds=20.0),
    train_info(model="resnet50", bs=16, opt="adam", lr=0.001, acc=88.25, official=87.0,
               train_seconds=61.0, train_size=1000),
    train_info(bs=32, opt="sgd", lr=0.0001, status="diverged"),
    train_info(dataset="fashion", bs=16, opt="sgd", lr=0.001, acc=80.0, official=79.5),
]

EXPECTED_MNIST_ACCURACY = """\
## Test accuracy (%) — MNIST, cpu, 2 epochs

train images: ResNet-18 3,000, ResNet-50 1,000; test = 2,000 images of the split, official = the official test set

| batch   | optimizer   | lr     | ResNet-18 test   | ResNet-18 official   | ResNet-50 test   | ResNet-50 official   |
|---------|-------------|--------|------------------|----------------------|------------------|----------------------|
| 16      | adam        | 0.001  | 91.50            | 90.25                | 88.25            | 87.00                |
| 32      | sgd         | 0.0001 | diverged         | diverged             | –                | –                    |
"""


def test_the_golden_run_renders_every_section_of_its_tables_md_again(tmp_path):
    run = load_run(GOLDEN)
    assert len(run.cases) == 36
    expected = (GOLDEN / "tables.md").read_text()
    assert markdown(run) == expected
    assert len(expected.split("\n## ")) == 12  # the header, findings, 9 tables, the claims
    # From its case records alone (format 2, read and migrated on load): the same
    # sections, the run's own header lines aside.
    shutil.copytree(GOLDEN / "cases", tmp_path / "cases")
    rebuilt = markdown(load_run(tmp_path)).split("\n## ")
    assert rebuilt[1:] == expected.split("\n## ")[1:]


def test_a_run_saved_before_the_records_rewrite_renders_the_same_tables_md():
    run = load_run(FIXTURE)
    assert len(run.cases) == 36
    expected = (FIXTURE / "tables.md").read_text()
    for old, new in RENAMES:
        assert old in expected
        expected = expected.replace(old, new)
    new = {s.split("\n")[0]: s for s in markdown(run).split("\n## ")}
    old = {s.split("\n")[0]: s for s in expected.split("\n## ")}
    # Sections changed on purpose after the rewrite (the study-fidelity, quick-study
    # and user-facing issues): the header gained a line, findings are per dataset,
    # Table 4 follows the study's layout, SVMs show their training-set accuracy,
    # timing experiments show spreads, and the study's claims are new.
    changed = {"# mnistperf run", "Findings", "CPU vs GPU (the study's Table 4): FashionMNIST, "
               "batch 16, lr 0.001", "pin_memory: accuracy, time and input wait",
               "Input pipeline: the study's vs the harness's (images/s)",
               "SVM: accuracy and training time (the study's Table 3)",
               "Classical vs deep: best SVM and best ResNet per dataset",
               "The study's claims: the verdict of its own tables, and this run's",
               # epochs and where they are read from in two columns (typed CSVs)
               "Short vs long training (the study: 10 vs 20 epochs)"}
    # The old run's SVMs fit 1,000 images, its networks 512/256: no longer compared.
    gone = {"Classical vs deep: best SVM and best ResNet per dataset"}
    assert set(old) - set(new) == gone and set(new) - set(old) <= changed
    unchanged = [title for title in old if title not in changed | gone]
    assert len(unchanged) == 4  # the four grid tables
    for title in unchanged:
        assert new[title] == old[title]


def test_tables_pivot_rows_and_models_with_missing_cells_and_statuses():
    run = run_of(INFOS)
    tables = build_tables(run)
    assert [t.name for t in tables] == ["mnist-cpu-accuracy", "mnist-cpu-time",
                                        "fashion-cpu-accuracy", "fashion-cpu-time", "devices"]
    text = render_markdown(run, tables, build_findings(run))
    assert EXPECTED_MNIST_ACCURACY in text
    time_rows = tables[1].display_rows()
    # 3,000 images x 2 epochs / 20 s = 300 img/s; ResNet-50 2,000 / 61 s = 33 img/s.
    # Time-to-target is derived from the curves against the run's target (99 %).
    assert time_rows[0] == ["16", "adam", "0.001", "20.0", "300", "not reached", "61.0", "33",
                            "not reached"]
    assert tables[2].display_rows() == [["16", "sgd", "0.001", "80.00", "79.50", "–", "–"]]


def test_header_names_profile_devices_versions_and_wall_time():
    from mnistperf.experiments import primary_experiments

    text = render_markdown(run_of(INFOS, cuda=True), [], ["a finding"],
                           primary=primary_experiments())
    assert text.split("\n## Findings")[0] == (
        "# mnistperf run\n\n"
        "- run: quick-20261128T000000Z (started 2026-11-28T00:00:00Z)\n"
        "- profile: quick; seed: 0; cases: 4; devices: cpu\n"
        "- training images: ResNet-18 3,000, ResNet-50 1,000; grid epochs: 2\n"
        "- torch 2.14.1, torchvision 0.29.1, CUDA 13.0, GPU H200, 2 torch threads\n"
        "- wall time: 123.4 s\n"
        # 4 cases x (train + eval): (20 + 1) + (61 + 1) + (10 + 1) + (10 + 1) = 105 s
        "- harness overhead: 18.4 s of 123.4 s wall (14.9%): everything but the cases' "
        "training, evaluation, fit/predict and pipeline steps (105.0 s)\n"
    )
    assert "## Findings\n\n- a finding\n" in text


def _png_size(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_write_report_files_csv_png_and_html(tmp_path):
    run = load_run(write(tmp_path / "b.json", bench_json(INFOS)))
    out = tmp_path / "out"
    write_report(run, out)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["accuracy-vs-time-fashion.png", "accuracy-vs-time-mnist.png",
                     "cases.csv", "curves-fashion-resnet18-cpu.png",
                     "curves-mnist-resnet18-cpu.png", "curves-mnist-resnet50-cpu.png",
                     "curves.csv", "devices.csv", "devices.png",
                     "fashion-cpu-accuracy.csv",
                     "fashion-cpu-time.csv", "index.html", "mnist-cpu-accuracy.csv",
                     "mnist-cpu-time.csv", "tables.md"]
    # CSVs hold numbers, nothing for a case not run, and a failed case's status word
    # in a column of its own (a numeric column holds numbers only).
    lines = (out / "mnist-cpu-accuracy.csv").read_text().splitlines()
    assert lines[0] == ("batch,optimizer,lr,resnet18_test,resnet18_test_note,resnet18_official,"
                        "resnet18_official_note,resnet50_test,resnet50_official")
    assert lines[1:] == ["16,adam,0.001,91.5,,90.25,,88.25,87", "32,sgd,0.0001,,diverged,,diverged,,"]
    png = (out / "curves-mnist-resnet18-cpu.png").read_bytes()
    width, height = _png_size(png)
    assert width >= 1000 and height >= 400 and len(png) > 20_000


def test_index_html_has_every_table_and_figure_embedded(tmp_path):
    from html.parser import HTMLParser

    run = load_run(write(tmp_path / "b.json", bench_json(INFOS)))
    write_report(run, tmp_path)

    class Page(HTMLParser):
        tables, images = [], []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "table":
                self.tables.append(attrs.get("data-name"))
            if tag == "img":
                self.images.append(attrs["src"])

    page = Page()
    page.feed((tmp_path / "index.html").read_text())
    # the best configurations first, then every table of the run
    assert page.tables == ["best"] + [t.name for t in build_tables(run)]
    # three curve figures, accuracy against time per dataset, the CPU-vs-GPU figure
    assert len(page.images) == 6
    assert all(src.startswith("data:image/png;base64,iVBORw0KGgo") for src in page.images)
    assert "http" not in (tmp_path / "index.html").read_text().replace("http-equiv", "")


def test_compare_prints_exact_deltas_and_one_sided_cases(tmp_path):
    # pytest-benchmark's means (seconds=) differ from the records' training seconds on
    # purpose: compare shows the records' (20 and 15 s), as the tables do.
    a = bench_json([INFOS[0], INFOS[1]], seconds=[99.0, 99.0])
    changed = dict(INFOS[0], test_accuracy=93.0, train_seconds=15.0)
    b = bench_json([changed, INFOS[3]], seconds=[99.0, 99.0])
    text = compare_runs(parse_run(json.dumps(a), "a.json"), parse_run(json.dumps(b), "b.json"))
    assert text.splitlines()[2].startswith("time = training seconds from the records (ResNet: "
                                           "train_seconds, SVM: fit_seconds, pipeline: ")
    assert text.splitlines()[4:] == [
        "case                                     acc A %    acc B %    Δ acc    time A s    time B s    Δ time s    Δ time %    not comparable",
        "---------------------------------------  ---------  ---------  -------  ----------  ----------  ----------  ----------  ----------------",
        "mnist-resnet18-bs16-adam-lr0.001-e2-cpu  91.50      93.00      +1.50    20.00       15.00       -5.00       -25.0%",
        "",
        "only in A (1): mnist-resnet50-bs16-adam-lr0.001-e2-cpu",
        "",
        "only in B (1): fashion-resnet18-bs16-sgd-lr0.001-e2-cpu",
    ]


def test_compare_shows_a_failed_case_by_its_status():
    a = run_of([INFOS[0]])
    b = run_of([dict(INFOS[0], status="diverged", test_accuracy=None, train_seconds=5.0)])
    assert compare_runs(a, b).splitlines()[6].split() == [
        "mnist-resnet18-bs16-adam-lr0.001-e2-cpu", "91.50", "diverged", "–", "20.00",
        "diverged", "–", "–"]


def _runs_for_fail_above(tmp_path, slower_seconds):
    base = [INFOS[0], INFOS[1], train_info(bs=32, opt="sgd", status="diverged")]
    slow = [dict(INFOS[0], train_seconds=slower_seconds), INFOS[1],
            # a failed case never counts as a slowdown, however long it took
            train_info(bs=32, opt="sgd", status="diverged", train_seconds=1e6)]
    return (str(write(tmp_path / "a.json", bench_json(base))),
            str(write(tmp_path / "b.json", bench_json(slow))))


def test_compare_fail_above_exits_1_on_a_slowdown_past_the_threshold(tmp_path, capsys):
    from mnistperf.__main__ import main

    a, b = _runs_for_fail_above(tmp_path, slower_seconds=23.0)  # 20 s -> 23 s: +15 %
    assert main(["compare", a, b, "--fail-above", "10"]) == 1
    out = capsys.readouterr().out
    assert out.endswith(
        "\nFAILED: 1 case slowed down by more than 10% (--fail-above 10):\n"
        "  mnist-resnet18-bs16-adam-lr0.001-e2-cpu: +15.0% (20.00 s -> 23.00 s)\n")
    assert main(["compare", a, b, "--fail-above", "20"]) == 0
    assert capsys.readouterr().out.endswith(
        "--fail-above 20: no comparable case in both runs slowed down by more than 20%\n")
    assert main(["compare", a, b]) == 0  # no threshold: a report, never a failure


def test_compare_fail_above_passes_when_nothing_slowed(tmp_path, capsys):
    from mnistperf.__main__ import main

    a, b = _runs_for_fail_above(tmp_path, slower_seconds=21.0)  # +5 %
    assert main(["compare", a, b, "--fail-above", "10"]) == 0
    a, b = _runs_for_fail_above(tmp_path, slower_seconds=12.0)  # faster
    assert main(["compare", a, b, "--fail-above", "0"]) == 0
    with pytest.raises(SystemExit) as exc:
        main(["compare", a, b, "--fail-above", "-5"])
    assert exc.value.code == 2
    assert "'-5' is not a percentage >= 0" in capsys.readouterr().err


def test_compare_by_config_matches_a_smoke_and_a_quick_case(tmp_path, capsys):
    from mnistperf.__main__ import main

    smoke = train_info(epochs=1, train_size=512, train_seconds=2.0, acc=60.0,
                       val=(55.0,), train=(50.0,), train_loss=[1.5], epoch_seconds=[2.0],
                       profile="smoke")
    quick = train_info(epochs=2, train_size=3000, train_seconds=20.0, acc=94.0)
    other = train_info(opt="sgd", epochs=2)  # another configuration: stays one-sided
    a = str(write(tmp_path / "smoke.json", bench_json([smoke])))
    b = str(write(tmp_path / "quick.json", bench_json([quick, other])))
    assert main(["compare", a, b]) == 0
    by_id = capsys.readouterr().out
    assert "no case is in both runs" in by_id
    # Smoke against quick: matched, shown, flagged, and kept out of --fail-above.
    assert main(["compare", a, b, "--by", "config", "--fail-above", "50"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [f"A: {a} (profile smoke; GPU none, 2 torch threads, torch 2.14.1)",
                         f"B: {b} (profile quick; GPU none, 2 torch threads, torch 2.14.1)"]
    assert lines[3].startswith("matched by configuration: kind + dataset, model, batch")
    row = next(line for line in lines if line.startswith("mnist-resnet18-bs16-adam-lr0.001-cpu"))
    assert row.split() == ["mnist-resnet18-bs16-adam-lr0.001-cpu", "(e1", "->", "e2)",
                           "60.00", "94.00", "+34.00", "2.00", "20.00", "+18.00", "+900.0%",
                           "other", "profile,", "other", "budget"]
    assert "only in B (1): mnist-resnet18-bs16-sgd-lr0.001-e2-cpu" in lines
    assert lines[-1] == ("--fail-above 50: no comparable case in both runs slowed down by more "
                         "than 50% (1 pair left out: not comparable)")
    assert any(line.startswith("not comparable: 1 of 1 pairs (contended = ") for line in lines)


def test_compare_flags_a_contended_pair_and_leaves_it_out_of_fail_above(tmp_path, capsys):
    from mnistperf.__main__ import main

    a = str(write(tmp_path / "a.json", bench_json([INFOS[0]])))
    b = str(write(tmp_path / "b.json", bench_json([dict(INFOS[0], train_seconds=40.0,
                                                        contended=True)])))
    assert main(["compare", a, b, "--fail-above", "10"]) == 0  # +100 %, but contended
    out = capsys.readouterr().out
    assert "+100.0%     contended" in out
    assert out.endswith("(1 pair left out: not comparable)\n")


def test_compare_by_config_keys_svm_and_pipeline_cases_too():
    from mnistperf.report.compare import compare, match_key
    from mnistperf.records import SvmRecord

    svm = SvmRecord(case_id="mnist-svm-rbf-sklearn-cpu", experiment="svm", dataset="mnist",
                    kernel="rbf", backend="sklearn", train_size=1000, test_size=1000,
                    fit_seconds=1.0, predict_seconds=1.0, test_accuracy=90.0).to_extra_info()
    bigger = dict(svm, train_size=15000, fit_seconds=9.0, profile="quick")
    pipe_a = pipe_info("cpu", 28, 16, "study", 100.0)
    pipe_b = dict(pipe_a, case_id=pipe_a["case_id"].replace("-s6-", "-s40-"), steps=40)
    result = compare(run_of([svm, pipe_a]), run_of([bigger, pipe_b]), by="config",
                     primary=primary_experiments())
    assert [r.label for r in result.rows] == [
        "mnist-svm-rbf-sklearn-cpu", "fashion-resnet18-bs16-28px-studypipe-cpu (s6 -> s40)"]
    assert [r.time_b for r in result.rows] == [9.0, 10.0]  # fit seconds; timed steps' seconds
    assert match_key(run_of([svm]).records()[0], "config") == ("svm", "mnist", "rbf", "sklearn")


def test_bad_inputs_are_one_line_errors(tmp_path):
    with pytest.raises(ReportError, match=r"nowhere/benchmark.json: no such file"):
        load_run(tmp_path / "nowhere" / "benchmark.json")
    with pytest.raises(ReportError, match=r"not a pytest-benchmark JSON file"):
        load_run(write(tmp_path / "a.json", {"hello": 1}))
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ReportError, match=r"broken.json: not JSON"):
        load_run(tmp_path / "broken.json")
    foreign = bench_json(INFOS)
    for bench in foreign["benchmarks"]:
        bench["extra_info"] = {}
    with pytest.raises(ReportError, match=r"no mnistperf cases in it \(4 benchmarks"):
        load_run(write(tmp_path / "c.json", foreign))


def test_a_bad_case_in_the_json_is_one_line(tmp_path):
    data = bench_json([dict(i) for i in INFOS])  # copies: INFOS is shared by other tests
    del data["benchmarks"][1]["extra_info"]["model"]
    with pytest.raises(ReportError, match=r"c.json: case mnist-resnet50-bs16-adam-lr0.001-e2-cpu: "
                                          r"extra_info lacks model$"):
        load_run(write(tmp_path / "c.json", data))
    data["benchmarks"][1] = ["not", "an", "object"]
    with pytest.raises(ReportError, match=r"d.json: benchmark 1 is a list, not an object$"):
        load_run(write(tmp_path / "d.json", data))
    (tmp_path / "e.json").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ReportError, match=r"e.json: not JSON \(not UTF-8 text\)"):
        load_run(tmp_path / "e.json")
    (tmp_path / "f.json").write_text('{"a": "\x01"}')
    with pytest.raises(ReportError) as info:
        load_run(tmp_path / "f.json")
    assert str(info.value) == (f"{tmp_path / 'f.json'}: not JSON (Invalid control character "
                               f"at line 1)")


def test_overhead_line_counts_pipeline_steps_and_warm_up():
    infos = [pipe_info("cpu", 28, 16, "study", 150.0), pipe_info("cpu", 28, 16, "fast", 180.0),
             pipe_info("cpu", 224, 16, "study", 10.0)]
    # wall 123.4 s minus 3 x (10 s timed + 2.5 s warm-up steps)
    assert render_markdown(run_of(infos), [], []).splitlines()[7] == (
        "- harness overhead: 85.9 s of 123.4 s wall (69.6%): everything but the cases' "
        "training, evaluation, fit/predict and pipeline steps (37.5 s)")


# ---------------------------------------------------------------- terminal and CSV


def test_terminal_drops_unreached_target_columns_and_ends_with_the_findings():
    from mnistperf.suite.compose import terminal

    reached = dict(INFOS[0], val_accuracy=[80.0, 99.5])  # 99 % after the second epoch
    text = terminal(run_of([reached] + INFOS[1:]))
    mnist, fashion = text.split("\nTraining time — ")[1:3]
    assert "ResNet-18 to target s" in mnist  # one case reached it: the column stays
    assert "to target s" not in fashion.split("\n", 2)[2].split("\n\n")[0]
    assert fashion.split("\n")[1] == ("(no case here reached its validation target: "
                                      "ResNet-18 to target s, ResNet-50 to target s left out)")
    tail = text.split("\nFindings\n")
    assert len(tail) == 2 and tail[1].startswith("- Adam vs SGD")
    # the findings come after every table: no table title follows them
    assert "\nTraining time — " not in tail[1]


def test_csv_headers_are_unique_and_numbered_when_a_table_repeats_one(tmp_path):
    import csv

    from mnistperf.report.render import write_csv
    from mnistperf.report.tables import Column, Table

    table = Table(name="t", title="t", columns=[Column("dataset"), Column("acc %"),
                                                 Column("acc %"), Column("acc %")],
                  rows=[["MNIST", 1.0, 2.0, None]])
    write_csv(table, tmp_path / "t.csv")
    rows = list(csv.reader((tmp_path / "t.csv").read_text().splitlines()))
    assert rows == [["dataset", "acc_pct", "acc_pct_2", "acc_pct_3"], ["MNIST", "1", "2", ""]]
    from tests.test_page import EVERY_KIND  # every kind of case: svm-vs-resnet repeats "acc %"

    write_report(run_of(EVERY_KIND), tmp_path / "out")
    for path in (tmp_path / "out").glob("*.csv"):
        header = next(csv.reader(path.read_text().splitlines()))
        assert len(header) == len(set(header)), path.name


def test_every_csv_column_parses_as_one_type(tmp_path):
    """Numbers or empty, or words, or true/false: never a word in a numeric column
    ('not reached', 'baseline', a status word), headers snake_case."""
    import csv
    import re

    from tests.test_page import EVERY_KIND

    # Time-to-target is derived against the run's target (99 %): 'not reached'.
    write_report(run_of(EVERY_KIND), tmp_path / "out")
    checked = 0
    for path in sorted((tmp_path / "out").glob("*.csv")):
        rows = list(csv.reader(path.read_text().splitlines()))
        for n, header in enumerate(rows[0]):
            # cases.csv and curves.csv are named by the records' fields (SVM "C")
            assert re.fullmatch(r"[a-z0-9_]+" if path.name not in ("cases.csv", "curves.csv")
                                else r"[A-Za-z0-9_]+", header), (path.name, header)
            values = [row[n] for row in rows[1:] if row[n] != ""]
            kinds = {"number" if re.fullmatch(r"-?[0-9.]+(e[-+]?[0-9]+)?", v) else
                     "bool" if v in ("true", "false") else "word" for v in values}
            assert len(kinds) <= 1, (path.name, header, values)
            checked += 1
    assert checked > 100
    svm = (tmp_path / "out" / "svm.csv").read_text().splitlines()
    assert "all_train_accuracy_pct" in svm[0] and "speedup_fit,speedup_fit_note" in svm[0]


def test_a_contended_case_is_explained_in_every_output(tmp_path):
    """The `*` of a time measured under contention says what it means under its
    table, in the terminal, tables.md and the page; the CSV has a boolean column;
    the best configuration keeps the mark."""
    from mnistperf.suite.compose import terminal
    from mnistperf.report.tables import MARK_NOTE

    infos = [dict(INFOS[0], contended=True)] + INFOS[1:]
    run = run_of(infos)
    write_report(run, tmp_path)
    md = (tmp_path / "tables.md").read_text()
    page = (tmp_path / "index.html").read_text()
    text = terminal(run)
    assert "20.0*" in md and MARK_NOTE in md
    assert "20.0*" in text and MARK_NOTE in text
    assert MARK_NOTE.replace("*", "*") in page.replace("&#x27;", "'")
    assert md.count(MARK_NOTE) == 1  # only the time table of MNIST holds a mark
    header, first = (tmp_path / "mnist-cpu-time.csv").read_text().splitlines()[:2]
    assert "resnet18_train_s_not_comparable" in header.split(",")
    assert dict(zip(header.split(","), first.split(",")))["resnet18_train_s_not_comparable"] \
        == "true"
    best = [line for line in page.splitlines() if "mnist-resnet18-bs16-adam" in line]
    assert any("20.0*" in line for line in best)


def test_results_readme_lists_exactly_the_files_a_run_writes(tmp_path):
    """Every file of a report matches a name results/README.md lists, and every name
    listed (but the session's own files, written by the plugin) is written by a run
    holding every kind of case."""
    import re

    from tests.test_page import EVERY_KIND

    readme = (ROOT / "results" / "README.md").read_text()
    listed = [name for name in re.findall(r"`([^` ]+\.(?:html|md|jsonl?|csv|png))`", readme)
              if name != "FILE.json"]
    patterns = {name: re.compile(re.sub(r"<[^>]+>", "[^/]+", re.escape(name)
                                        .replace(r"\<", "<").replace(r"\>", ">")) + "$")
                for name in listed}
    pin = [train_info(dataset="fashion", experiment="pin_memory", pin_memory=p,
                      loader="dataloader", round_seconds=[10.0, 10.2]) for p in (True, False)]
    write_report(run_of(EVERY_KIND + pin), tmp_path)
    written = sorted(p.name for p in tmp_path.iterdir())
    for name in written:
        assert any(p.match(name) for p in patterns.values()), f"{name} is not in results/README.md"
    session = {"benchmark.json", "cases/<case_id>.json", "events.jsonl"}
    for name, pattern in patterns.items():
        if name not in session:
            assert any(pattern.match(w) for w in written), f"{name} listed but not written"
    assert session <= set(listed)


def test_every_file_a_report_writes_is_readable_by_others(tmp_path):
    import os
    import stat

    from mnistperf.store import atomic_write

    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "benchmark.json", "{}")
        write_report(run_of(INFOS), tmp_path / "out")
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode)
             for p in [tmp_path / "benchmark.json", *(tmp_path / "out").iterdir()]}
    assert set(modes.values()) == {0o644}, modes
