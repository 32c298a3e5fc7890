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


@pytest.fixture
def bench_project(pytester, data_root, monkeypatch):
    """A pytester project holding this repo's benchmarks/ and root conftest.py."""
    pytester.makeconftest('pytest_plugins = ["mnistperf.plugin"]\n')
    bench = pytester.mkdir("benchmarks")
    for src in (REPO / "benchmarks").glob("*.py"):
        (bench / src.name).write_text(src.read_text())
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    monkeypatch.setenv("MNISTPERF_DATA", str(data_root))
    return pytester
