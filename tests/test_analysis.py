import pytest

from mnistperf.analysis import (
    check_target, findings, mean_std, pin_memory_finding, speedup_finding, time_to_target,
)
from tests.fakes import train_info


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
    with pytest.raises(ValueError, match=r"--mnistperf-target-mnist=.* is outside \(0, 100\]"):
        check_target(value, "--mnistperf-target-mnist")
    assert check_target(100, "--x") == 100


def _pair(opt_a_acc, opt_b_acc, **common):
    return [train_info(opt="adam", acc=opt_a_acc, **common),
            train_info(opt="sgd", acc=opt_b_acc, **common)]


def test_clear_effect_counts_agreeing_configurations_and_mean_difference():
    infos = (_pair(92.0, 90.0, bs=16) + _pair(93.0, 90.0, bs=32)
             + _pair(89.0, 90.0, lr=0.0001, bs=16))
    line = findings(infos)[0]
    # diffs +2, +3, -1 -> mean +1.33
    assert line == ("Adam vs SGD: Adam is better: Adam has the higher test accuracy in 2 of 3 "
                    "configurations, by +1.33 points on average (range -1.00 to +3.00)")


def test_a_tie_is_no_clear_effect():
    line = findings(_pair(90.2, 90.0) + _pair(89.9, 90.0, bs=32))[0]
    assert line.startswith("Adam vs SGD: no clear effect: Adam has the higher test accuracy in "
                           "1 of 2 configurations, by +0.05 points on average")
    assert line.endswith("the mean difference is below 0.50 points")


def test_a_difference_inside_the_spread_of_repeats_is_no_clear_effect():
    infos = _pair(92.0, 90.5)
    for info in infos:
        info.update(repeats=3, test_accuracy_std=2.0)
    line = findings(infos)[0]
    assert "no clear effect" in line and "below 2.00 points (the spread of repeats)" in line


def test_too_little_data_is_said_not_guessed():
    lines = findings([train_info(opt="adam")])
    assert lines[0] == ("Adam vs SGD: too little data (no pair of configurations differing "
                        "only in optimizer)")
    assert not any("GPU" in line for line in lines)


def test_speedup_and_pin_memory_findings():
    cpu = train_info(device="cpu", train_seconds=100.0)
    gpu = train_info(device="gpu", train_seconds=4.0)
    assert speedup_finding([cpu, gpu]) == ("GPU vs CPU: the GPU trains 25.0x faster (median "
                                           "over 1 configuration, range 25.0x to 25.0x)")
    pin = [dict(train_info(), experiment="pin_memory", pin_memory=p) for p in (True, False)]
    assert pin_memory_finding(pin).startswith("pin_memory: no clear effect can exist here: "
                                              "only CPU cases ran")
    gpu_pin = [dict(train_info(device="gpu", train_seconds=t), experiment="pin_memory",
                    pin_memory=p) for p, t in ((True, 8.0), (False, 10.0))]
    assert pin_memory_finding(gpu_pin) == (
        "pin_memory: faster with pinning: training with pin_memory takes 0.80x the time "
        "without it on the GPU (1 configuration)")
