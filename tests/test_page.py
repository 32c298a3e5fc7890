"""index.html (one self-contained page: contents, best configurations, links) and
the figures on it."""

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mnistperf.suite.compose import build_sections, write_report
from mnistperf.run import load_run
from tests.fakes import bench_json, pipe_info, run_of, train_info, write

FIXTURE = Path(__file__).parent / "fixtures" / "run-0.1.0-smoke"


class Page(HTMLParser):
    """The parts of the page the tests look at, in document order."""

    def __init__(self, text):
        super().__init__()
        self.ids, self.links, self.order, self.metas = [], [], [], []
        self.tables, self.images, self.not_run = [], [], []
        self._in, self._nav = None, False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
            self.order.append(attrs["id"])
        if tag == "nav":
            self._nav = True
        if tag == "a":
            self.links.append((attrs["href"], self._nav))
        if tag == "meta":
            self.metas.append(attrs)
        if tag == "table":
            self.tables.append(attrs.get("data-name"))
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "tr" and attrs.get("class") == "not-run":
            self._in = "not-run"

    def handle_endtag(self, tag):
        if tag == "nav":
            self._nav = False
        if tag == "tr":
            self._in = None

    def handle_data(self, data):
        if self._in == "not-run":
            self.not_run.append(data)

    def contents(self):
        return [href[1:] for href, nav in self.links if nav]


@pytest.fixture(scope="module")
def fixture_page(tmp_path_factory):
    """The saved smoke run as a run folder (benchmark.json and cases/), reported."""
    out = tmp_path_factory.mktemp("run")
    shutil.copy(FIXTURE / "benchmark.json", out / "benchmark.json")
    (out / "cases").mkdir()
    run = load_run(out)
    write_report(run, out)
    return build_sections(run), out, (out / "index.html").read_text()


def test_contents_link_every_table_and_figure_in_page_order(fixture_page):
    sections, out, text = fixture_page
    page = Page(text)
    tables = [t.name for s in sections for t in s.tables]
    figures = ["fig-" + Path(f.name).stem for s in sections for f in s.figures]
    assert len(figures) == 11 and len(tables) >= 9  # no svm-vs-resnet: its SVMs saw other images
    linked = page.contents()
    assert set(tables + figures + ["best", "findings"]) <= set(linked)
    assert all(target in page.ids for target in linked)  # no link into nowhere
    # the contents list things in the order the page shows them
    assert linked == [i for i in page.order if i in set(linked)]
    assert page.tables == ["best"] + tables
    assert len(page.images) == len(figures)


def test_each_figure_follows_its_own_experiments_tables(fixture_page):
    sections, out, text = fixture_page
    page = Page(text)
    for section in sections:
        own = [t.name for t in section.tables] + ["fig-" + Path(f.name).stem
                                                  for f in section.figures]
        where = [page.order.index(i) for i in own]
        assert where == sorted(where)
        start = page.order.index(f"exp-{section.name}")
        later = [page.order.index(i) for i in page.order if i.startswith("exp-")
                 and page.order.index(i) > start]
        assert all(start < w < min(later, default=10**9) for w in where), section.name
    # the figures carry captions, not file names
    assert "<figcaption><b>Figure 1.</b> ResNet-18 on MNIST (cpu), every grid configuration" \
        in text


def test_best_configuration_and_findings_come_first(fixture_page):
    sections, out, text = fixture_page
    page = Page(text)
    assert page.order.index("best") < page.order.index("findings") \
        < page.order.index("contents") < page.order.index("exp-grid")
    best = text.split('data-name="best"')[1].split("</table>")[0]
    assert "mnist-resnet18-bs16-adam-lr0.001-e4-cpu" in best and "69.73" in best
    assert "fashion-resnet18-bs16-adam-lr0.001-e1-cpu" in best and "61.91" in best


def test_viewport_links_and_nothing_fetched(fixture_page):
    sections, out, text = fixture_page
    page = Page(text)
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in page.metas
    hrefs = {href for href, _ in page.links}
    csvs = {p.name for p in out.glob("*.csv")}
    assert {"cases.csv", "curves.csv", "benchmark.json", "cases/", "tables.md"} <= hrefs
    assert csvs <= hrefs and {p.name for p in out.glob("*.png")} <= hrefs
    for href in hrefs - {h for h in hrefs if h.startswith("#")}:
        assert (out / href).exists(), href  # relative, and there
    assert "http" not in text.replace("http-equiv", "")
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    assert "<script" not in text and "@import" not in text and "url(" not in text


def test_a_device_that_ran_nothing_is_one_line(fixture_page):
    sections, out, text = fixture_page
    page = Page(text)
    assert page.not_run == ["gpu: not run"]  # the CPU-only run's Table 4
    devices = text.split('data-name="devices"')[1].split("</table>")[0]
    assert "<td>gpu</td>" not in devices and devices.count("<tr>") == 5  # head + 4 cpu


def test_a_bare_json_report_links_only_what_is_there(tmp_path):
    write_report(load_run(write(tmp_path / "b.json", bench_json([train_info()]))),
                 tmp_path / "out")
    hrefs = {href for href, _ in Page((tmp_path / "out" / "index.html").read_text()).links}
    assert {"cases.csv", "curves.csv", "tables.md"} <= hrefs
    assert not {"benchmark.json", "cases/"} & hrefs


def test_the_page_drops_target_columns_no_case_reached_but_the_csv_keeps_them(tmp_path):
    run = run_of([train_info()])  # 85 % at best: the 99 % target is never reached
    write_report(run, tmp_path)
    text = (tmp_path / "index.html").read_text()
    time_table = text.split('data-name="mnist-cpu-time"')[1].split("</table>")[0]
    assert "to target" not in time_table
    assert "No case here reached its validation target" in text
    assert "resnet18_to_target_s" in (tmp_path / "mnist-cpu-time.csv").read_text().splitlines()[0]


# ---------------------------------------------------------------- figures


def _svm_info(dataset, kernel, backend, acc, fit, predict):
    from mnistperf.records import SvmRecord

    return SvmRecord(case_id=f"{dataset}-svm-{kernel}-{backend}-cpu", experiment="svm",
                     dataset=dataset, kernel=kernel, backend=backend, profile="quick",
                     train_size=1000, test_size=1000, fit_seconds=fit,
                     predict_seconds=predict, test_accuracy=acc).to_extra_info()


EVERY_KIND = [
    train_info(bs=16, opt="adam", lr=0.001, acc=91.5, official=90.25, train_seconds=20.0),
    train_info(model="resnet50", acc=88.25, official=87.0, train_seconds=61.0, train_size=1000),
    train_info(bs=32, opt="sgd", lr=0.0001, status="diverged"),
    train_info(dataset="fashion", opt="sgd", acc=80.0, official=79.5),
    train_info(dataset="fashion", epochs=4, experiment="epochs", val=(60, 70, 75, 76),
               train=(50, 65, 72, 75), train_loss=[1.2, 0.9, 0.7, 0.6], epoch_seconds=[5] * 4,
               checkpoints={2: {"test_accuracy": 70.0, "official_test_accuracy": 69.0}}),
    _svm_info("mnist", "rbf", "sklearn", 92.0, 3.0, 7.0),
    _svm_info("mnist", "rbf", "sklearnex", 92.0, 1.0, 0.5),
    pipe_info("cpu", 28, 16, "study", 150.0), pipe_info("cpu", 28, 16, "fast", 180.0),
    pipe_info("cpu", 224, 16, "study", 10.0),
]


def _chance_lines(ax):
    return [line for line in ax.get_lines() if list(line.get_ydata()) == [10.0, 10.0]]


def test_every_accuracy_axis_runs_from_0_past_100_with_a_chance_line():
    from mnistperf.suite.compose import build_figures

    figures = build_figures(run_of(EVERY_KIND))
    assert {"svm.png", "pipeline.png", "epochs.png", "accuracy-vs-time-mnist.png"} <= set(figures)
    checked = 0
    for name, fig in figures.items():
        for ax in fig.axes:
            if "accuracy" in ax.get_ylabel():
                low, high = ax.get_ylim()
                assert low == 0 and 100 <= high <= 110, (name, ax.get_ylim())
                assert len(_chance_lines(ax)) == 1, name
                checked += 1
    assert checked >= 8


def test_a_one_epoch_curve_is_a_visible_marker_and_curves_have_a_loss_panel():
    from mnistperf.experiments import get_experiment

    one = train_info(epochs=1, val=(50.0,), train=(40.0,), train_loss=[1.7],
                     epoch_seconds=[10.0])
    fig = get_experiment("grid").figures(run_of([one]))["curves-mnist-resnet18-cpu.png"]
    loss, train, val = fig.axes[:3]
    assert loss.get_ylabel() == "cross-entropy loss"
    curves = [line for ax in (loss, train, val) for line in ax.get_lines()
              if len(line.get_xdata()) == 1]
    assert [list(c.get_ydata()) for c in curves] == [[1.7], [40.0], [50.0]]
    assert all(c.get_marker() == "o" and c.get_markersize() >= 8 for c in curves)
    # the loss panel's chance line: ln 10, what guessing among ten classes scores
    assert any(abs(line.get_ydata()[0] - 2.3026) < 1e-3 for line in loss.get_lines())


def test_accuracy_against_time_has_one_point_per_ok_training_case():
    from mnistperf.experiments import get_experiment

    run = run_of(EVERY_KIND)
    fig = get_experiment("grid").figures(run)["accuracy-vs-time-mnist.png"]
    points = sorted(tuple(p) for c in fig.axes[0].collections for p in c.get_offsets())
    ok = [r for r in run.records("resnet") if r.ok and r.dataset == "mnist"]
    assert points == sorted((r.train_seconds, r.test_accuracy) for r in ok)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert "R18 bs16 adam 0.001 e2" in labels and "R50 bs16 adam 0.001 e2" in labels


def _bar_heights(ax):
    return [round(p.get_height(), 6) for p in ax.patches]


def test_svm_figure_draws_the_fit_time_its_table_calls_training_time():
    from mnistperf.experiments import get_experiment

    fig = get_experiment("svm").figures(run_of(EVERY_KIND))["svm.png"]
    assert fig.axes[1].get_title() == "Training time (SVC.fit)"
    assert _bar_heights(fig.axes[1]) == [3.0, 1.0]  # fit only, not fit + predict (10, 1.5)


def test_pipeline_figure_shows_images_per_second_per_input_size_and_batch():
    from mnistperf.experiments import get_experiment

    fig = get_experiment("pipeline").figures(run_of(EVERY_KIND))["pipeline.png"]
    assert [ax.get_title() for ax in fig.axes] == ["cpu, 28x28x1", "cpu, 224x224x3"]
    assert _bar_heights(fig.axes[0]) == [150.0, 180.0]  # study, fast
    assert _bar_heights(fig.axes[1]) == [10.0]  # fast did not run at 224 px


def test_a_label_pushed_away_from_its_dot_gets_a_leader_line():
    from mnistperf.report.figures import label_points, new_figure

    fig = new_figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 100)
    # six points a pixel apart: four labels fit right beside the dots, two go further
    names = ["first", "second", "third", "fourth", "fifth", "sixth"]
    assert label_points(ax, [5.0] * 6, [50.0 + 0.5 * i for i in range(6)], names) == []
    notes = [a for a in ax.texts if a.get_text() in names]
    assert len(notes) == 6
    far = [a for a in notes if abs(a.xyann[1]) >= 12]
    near = [a for a in notes if abs(a.xyann[1]) < 12]
    assert far and near
    assert all(a.arrow_patch is not None for a in far)
    assert all(a.arrow_patch is None for a in near)
