"""Shared fixtures: the real datasets from MNISTPERF_DATA (tests never download)."""

import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = os.environ.get("MNISTPERF_DATA")
    if not root:
        pytest.fail("set MNISTPERF_DATA to the datasets folder (e.g. ../shared/datasets)",
                    pytrace=False)
    return Path(root).resolve()


@pytest.fixture(scope="session", autouse=True)
def calibration_cache(tmp_path_factory):
    """One calibration cache for the whole test session (pytester moves HOME, which
    would make every inner run time its units afresh)."""
    if os.environ.get("MNISTPERF_CACHE"):
        yield Path(os.environ["MNISTPERF_CACHE"])
        return
    path = tmp_path_factory.mktemp("calibrations")
    os.environ["MNISTPERF_CACHE"] = str(path)
    yield path
    del os.environ["MNISTPERF_CACHE"]


@pytest.fixture
def bench_project(pytester, data_root, monkeypatch):
    """A pytester project holding this repo's benchmarks/ and root conftest.py."""
    pytester.makeconftest('pytest_plugins = ["mnistperf.plugin"]\n')
    bench = pytester.mkdir("benchmarks")
    for src in (REPO / "benchmarks").glob("*.py"):
        (bench / src.name).write_text(src.read_text())
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    monkeypatch.setenv("MNISTPERF_DATA", str(data_root))
    _not_an_xdist_worker(monkeypatch)
    return pytester


def _not_an_xdist_worker(monkeypatch):
    # Under `pytest -n`, the inner sessions would inherit the worker's variable and
    # pytest-benchmark would switch itself off in them.
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


@pytest.fixture
def fake_project(pytester, monkeypatch):
    """A pytester project whose cases only inject crafted extra_info (no training)."""
    _not_an_xdist_worker(monkeypatch)

    def make(infos):
        import json

        pytester.makeconftest('pytest_plugins = ["mnistperf.plugin"]\n')
        pytester.makepyfile(test_fake=FAKE_SUITE.format(infos=json.dumps(infos)))
        return pytester

    return make


FAKE_SUITE = '''
import json
import pytest

INFOS = json.loads({infos!r})


@pytest.mark.parametrize("info", INFOS, ids=[i["case_id"] for i in INFOS])
def test_case(benchmark, info):
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    benchmark.extra_info.update(info)
'''
