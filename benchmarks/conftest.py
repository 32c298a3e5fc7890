"""Parametrisation of the benchmark cases: the grids come from mnistperf.config,
sized by the run's profile, so case ids carry the profile's epoch count. Each
test function takes its cases from the grid named for it."""

from mnistperf.config import (
    device_cases, epochs_cases, pin_memory_cases, pipeline_cases, resnet_grid, svm_grid,
)
from mnistperf.plugin import case_params, get_settings

CASES = {
    "test_train": ("train_case", resnet_grid),
    "test_device": ("train_case", device_cases),
    "test_pin_memory": ("train_case", pin_memory_cases),
    "test_epochs": ("train_case", epochs_cases),
    "test_fit": ("svm_case", svm_grid),
    "test_steps": ("pipeline_case", pipeline_cases),
}


def pytest_generate_tests(metafunc):
    settings = get_settings(metafunc.config)
    name, grid = CASES[metafunc.function.__name__]
    metafunc.parametrize(name, case_params(grid(settings.profile, settings.seed), settings))
