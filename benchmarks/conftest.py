"""Parametrisation of the benchmark cases: the grid comes from mnistperf.config,
sized by the run's profile, so case ids carry the profile's epoch count."""

from mnistperf.config import resnet_grid
from mnistperf.plugin import case_params, get_settings


def pytest_generate_tests(metafunc):
    if "train_case" in metafunc.fixturenames and metafunc.function.__name__ == "test_train":
        settings = get_settings(metafunc.config)
        metafunc.parametrize("train_case", case_params(resnet_grid(settings.profile,
                                                                   settings.seed)))
