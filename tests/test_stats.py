import pytest

from mnistperf.config import ConfigError, check_target
from mnistperf.stats import mean_std, pairs, time_to_target


def test_time_to_target_from_an_epoch_log():
    val = [95.0, 98.9, 99.0, 99.5]
    seconds = [10.0, 11.0, 12.5, 9.0]
    assert time_to_target(val, seconds, 99.0) == 33.5  # 10 + 11 + 12.5
    assert time_to_target(val, seconds, 95.0) == 10.0
    assert time_to_target(val, seconds, 99.6) is None
    assert time_to_target([], [], 90.0) is None


def test_mean_and_sample_std():
    assert mean_std([91.0, 93.0]) == (92.0, pytest.approx(2 ** 0.5))
    assert mean_std([90.0]) == (90.0, 0.0)
    assert mean_std([None]) == (None, None)


@pytest.mark.parametrize("value", [0, -1, 100.5, float("nan")])
def test_target_outside_0_100_is_rejected(value):
    with pytest.raises(ConfigError, match=r"--mnistperf-target-mnist=.* is outside \(0, 100\]"):
        check_target(value, "--mnistperf-target-mnist")
    assert check_target(100, "--x") == 100


def test_pairs_match_on_every_key_but_the_factor():
    from types import SimpleNamespace as R

    a = R(opt="adam", bs=16, lr=1)
    b = R(opt="sgd", bs=16, lr=1)
    c = R(opt="sgd", bs=32, lr=1)
    assert pairs([a, b, c], "opt", "adam", "sgd", ("bs", "lr")) == [(a, b)]
    assert pairs([a, c], "opt", "adam", "sgd", ("bs", "lr")) == []
