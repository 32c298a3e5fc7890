"""Cases from the experiment registry, their markers, and the fixtures they use."""

from __future__ import annotations

import dataclasses
import time
from contextlib import contextmanager
import pytest

from mnistperf.config import PipelineConfig, SvmConfig, TrainConfig
from mnistperf.data import DataFileError, DatasetNotFoundError, make_batches
from mnistperf.device import absent_reason, resolve_device
from mnistperf.experiments import get_experiment
from mnistperf.plugin.options import get_session, get_settings
from mnistperf.settings import Settings

def _case_marks(config) -> list:
    """Markers for `-m`: device, dataset, and model or kind."""
    if isinstance(config, SvmConfig):
        names = [config.device, config.dataset, "svm"]
    elif isinstance(config, PipelineConfig):
        names = [config.device, config.train.dataset, config.train.model, "pipeline"]
    else:
        names = [config.device, config.dataset, config.model]
    return [getattr(pytest.mark, name) for name in names]


def case_params(configs, settings: Settings | None = None, reuses_grid: bool = False):
    """pytest.param per config, id = case_id; a case whose device (CUDA) or backend
    (scikit-learn-intelex) is absent is skipped with the reason. Session-wide
    settings (torch.compile; SGD momentum, which adds an id token) are applied here."""
    params = []
    for c in configs:
        if settings is not None and isinstance(c, TrainConfig) and c.optimizer == "sgd":
            c = c.with_options(momentum=settings.momentum)
        if settings is not None and settings.compile:
            if isinstance(c, TrainConfig):
                c = c.replace(compile=settings.compile)
            elif isinstance(c, PipelineConfig):
                c = dataclasses.replace(c, train=c.train.replace(compile=settings.compile))
        marks = _case_marks(c)
        if reuses_grid:
            marks.append(pytest.mark.reuses_grid)
        reason = absent_reason(c)
        if reason:
            marks.append(pytest.mark.skip(reason=reason))
        params.append(pytest.param(c, id=c.case_id, marks=marks))
    return params


def pytest_generate_tests(metafunc):
    """Parametrise a benchmark function marked `experiment(name)` over
    that experiment's cases for the session's profile and seed."""
    marker = metafunc.definition.get_closest_marker("experiment")
    if marker is None:
        return
    name = marker.args[0] if marker.args else marker.kwargs.get("name")
    try:
        experiment = get_experiment(name)
    except KeyError as exc:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: {exc.args[0]}") from None
    if experiment.fixture not in metafunc.fixturenames:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: experiment {name!r} parametrises the argument "
            f"{experiment.fixture!r}, which this function does not take")
    settings = get_settings(metafunc.config)
    configs = experiment.cases(settings.profile, settings.seed)
    metafunc.parametrize(experiment.fixture,
                         case_params(configs, settings, reuses_grid=experiment.reuses_grid))


@pytest.fixture(scope="session")
def mnistperf_settings(request) -> Settings:
    return get_settings(request.config)


@pytest.fixture
def progress(request):
    """Print `[case] message` on the terminal while the case runs, without -s."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capman = request.config.pluginmanager.get_plugin("capturemanager")
    name = request.node.callspec.id if hasattr(request.node, "callspec") else request.node.name

    run = get_session(request.config)

    def emit(message: str) -> None:
        run.event("progress", case_id=name, message=message)
        if reporter is None:
            return
        if capman is not None:
            with capman.global_and_fixture_disabled():
                reporter.write_line(f"  [{name}] {message}")
        else:
            reporter.write_line(f"  [{name}] {message}")

    return emit


@pytest.fixture
def epoch_done(request):
    """`emit(case_id, round, epoch, values)` after each epoch: to the run session
    (events.jsonl, numbers rounded as the record keeps them; round 0 is a warm-up;
    and the live tracker for round 1, the round whose curves the record keeps)."""
    from mnistperf.records.resnet import epoch_point

    run = get_session(request.config)

    def emit(case_id: str, round_: int, epoch: int, values: dict) -> None:
        run.epoch(case_id, round_, epoch, epoch_point(**values))

    return emit


@pytest.fixture
def case_batches(request, train_case, mnistperf_settings):
    """The input batches for the parametrised `train_case`, on its device; built
    outside the timed region (None for a resumed case, which does not train)."""
    if get_session(request.config).is_resumed(train_case):
        return None
    device = resolve_device(train_case.device)
    with _data_errors_end_the_session():
        return make_batches(train_case, mnistperf_settings.data_root, device)


@pytest.fixture
def pipeline_batches(request, pipeline_case, mnistperf_settings):
    """Input batches of the pipeline case's own kind (DataLoader or tensors)."""
    if get_session(request.config).is_resumed(pipeline_case):
        return None
    device = resolve_device(pipeline_case.device)
    with _data_errors_end_the_session():
        return make_batches(pipeline_case.train, mnistperf_settings.data_root, device)


@pytest.fixture
def svm_case_data(request, svm_case, mnistperf_settings):
    """Flat pixel arrays for the parametrised `svm_case`, built outside the timed region."""
    from mnistperf.data import load_raw, make_split
    from mnistperf.svm import svm_data

    if get_session(request.config).is_resumed(svm_case):
        return None
    with _data_errors_end_the_session():
        split = make_split(load_raw(svm_case.dataset, mnistperf_settings.data_root),
                           svm_case.seed)
    return svm_data(svm_case, split)


def _round_label(n: int, measured: int, timed: bool, seed: int) -> str:
    """Progress text of the round about to run (n < 0: the warm-up)."""
    if n < 0:
        return "warm-up round"
    return f"round {n + 1}/{measured} (seed {seed})" if timed else \
        f"seed {seed} ({n + 1}/{measured})"


@pytest.fixture
def run_train_case(benchmark, mnistperf_settings, progress, epoch_done):
    """Train a config as the benchmark and fill extra_info. A grid case trains one
    pedantic round per repeat, each round a new seed (seed, seed+1, ...); a case of
    an experiment whose question is speed (`timed_rounds`) trains a warm-up round,
    then `timed_rounds` rounds of the same seed, for a median and a spread."""
    from mnistperf.experiments import experiment_of
    from mnistperf.records import TrainRecord
    from mnistperf.train import train

    def run(config, batches):
        experiment = experiment_of(config)
        warmup, _ = experiment.rounds(mnistperf_settings.repeats)
        seeds = experiment.seeds(config.seed, mnistperf_settings.repeats)
        results = []
        timeout = mnistperf_settings.timeout
        deadline = None if timeout is None else time.perf_counter() + timeout

        def setup():
            n = len(results) - warmup  # the measured round about to run; < 0 in warm-up
            seeded = config.replace(seed=seeds[max(n, 0)])
            if len(seeds) > 1:
                progress(_round_label(n, len(seeds), bool(experiment.timed_rounds),
                                      seeded.seed))
            return (seeded, batches, batches.device), {
                "progress": progress, "deadline": deadline,
                "on_epoch": lambda epoch, values: epoch_done(config.case_id, n + 1 if n >= 0
                                                             else 0, epoch, values)}

        def one_round(*args, **kwargs):
            results.append(train(*args, **kwargs))

        benchmark.pedantic(one_round, setup=setup, rounds=len(seeds), warmup_rounds=warmup,
                           iterations=1)
        # A disabled benchmark (--benchmark-disable, xdist) runs a single round.
        measured = results[warmup:] or results
        warmups = results[:len(results) - len(measured)]
        if experiment.timed_rounds:
            record = TrainRecord.from_timed_rounds(config, measured, warmups)
        else:
            record = TrainRecord.from_seeds(config, measured, seeds[:len(measured)])
        benchmark.extra_info.update(record.to_extra_info())
        return measured

    return run


@pytest.fixture
def run_pipeline_case(benchmark, progress):
    """Run a pipeline case as the benchmark: a warm-up round, then the experiment's
    timed rounds of its training steps; fill extra_info."""
    from mnistperf.experiments import experiment_of
    from mnistperf.records import PipelineRecord
    from mnistperf.throughput import measure_throughput

    def run(config, batches):
        warmup, timed_rounds = experiment_of(config).rounds(1)
        results = []

        def one_round():
            results.append(measure_throughput(config.train, batches, batches.device,
                                              config.steps, config.warmup))
            n = len(results) - warmup
            progress(f"{'warm-up round' if n < 1 else f'round {n}/{timed_rounds}'}: "
                     f"{results[-1].images_per_second:.1f} img/s over "
                     f"{results[-1].steps} steps")

        benchmark.pedantic(one_round, rounds=timed_rounds, warmup_rounds=warmup,
                           iterations=1)
        measured = results[warmup:] or results  # --benchmark-disable runs one round
        benchmark.extra_info.update(PipelineRecord.from_result(
            config, measured, warmup=results[:len(results) - len(measured)]).to_extra_info())
        return measured

    return run


@contextmanager
def _data_errors_end_the_session():
    # Every later case would fail the same way: stop with the one-line message.
    try:
        yield
    except (DatasetNotFoundError, DataFileError) as exc:
        pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_collection_modifyitems(session, config, items):
    """Cases marked `reuses_grid` (experiment copies of grid
    configurations) are deselected when the grid's own case with the same config
    is selected too, so nothing is trained twice in one session."""
    grid = {item.callspec.params["train_case"] for item in items
            if hasattr(item, "callspec") and "train_case" in item.callspec.params
            and item.get_closest_marker("reuses_grid") is None}
    keep, dropped = [], []
    for item in items:
        train_config = getattr(item, "callspec", None) and item.callspec.params.get("train_case")
        if item.get_closest_marker("reuses_grid") and train_config in grid:
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep

