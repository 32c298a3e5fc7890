import pytest

from mnistperf.config import ConfigError, format_lr
from mnistperf.experiments.grid import cases as resnet_grid
from mnistperf.profiles import get_profile, train_config


def test_grid_has_every_combination_once_with_contract_ids():
    cases = resnet_grid(get_profile("paper"))
    ids = [c.case_id for c in cases]
    assert len(ids) == 2 * 2 * 2 * 2 * 2 * 2 == len(set(ids))
    assert "fashion-resnet18-bs16-adam-lr0.001-e10-gpu" in ids
    assert "mnist-resnet50-bs32-sgd-lr0.0001-e10-cpu" in ids
    assert not any("mnist" in i for i in ids if i.startswith("fashion"))


def test_quick_profile_sizes_ids_and_resnet50_subset():
    quick = get_profile("quick")
    cases = {c.case_id: c for c in resnet_grid(quick)}
    r18 = cases["mnist-resnet18-bs32-adam-lr0.001-e2-cpu"]
    r50 = cases["mnist-resnet50-bs32-adam-lr0.001-e2-cpu"]
    assert (r18.train_size, r50.train_size, r18.val_size, r18.test_size) == (1400, 1400, 500, 1000)
    assert (r18.input_size, r18.channels, r18.amp) == (28, 1, False)


def test_paper_profile_is_the_seed_protocol_with_amp_on_gpu_only():
    paper = get_profile("paper")
    gpu = train_config(paper, dataset="fashion", model="resnet18", batch_size=16,
                       optimizer="adam", lr=1e-3, device="gpu", experiment="grid")
    cpu = gpu.replace(device="cpu", amp=False)
    assert (gpu.train_size, gpu.val_size, gpu.test_size) == (42000, 6000, 12000)
    assert (gpu.epochs, gpu.input_size, gpu.channels, gpu.amp) == (10, 224, 3, True)
    assert cpu.case_id == "fashion-resnet18-bs16-adam-lr0.001-e10-cpu"


@pytest.mark.parametrize("lr, token", [(1e-3, "lr0.001"), (1e-4, "lr0.0001"), (0.1, "lr0.1"),
                                       (3e-5, "lr0.00003")])
def test_format_lr_never_uses_scientific_notation(lr, token):
    assert format_lr(lr) == token


def test_unknown_profile_and_values_name_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"^--mnistperf-profile='huge' is not supported; "
                                          r"choose one of: smoke, quick, paper$"):
        get_profile("huge")
    with pytest.raises(ConfigError, match="optimizer='rmsprop' is not supported; choose one "
                                          "of: sgd, adam"):
        train_config(get_profile("smoke"), dataset="mnist", model="resnet18", batch_size=16,
                     optimizer="rmsprop", lr=1e-3, device="cpu", experiment="grid")
    with pytest.raises(ConfigError, match="batch_size must be at least 1, got 0"):
        train_config(get_profile("smoke"), dataset="mnist", model="resnet18", batch_size=0,
                     optimizer="sgd", lr=1e-3, device="cpu", experiment="grid")


@pytest.mark.parametrize("name", ["smoke", "quick", "paper"])
def test_every_model_and_the_svms_train_on_the_same_images(name):
    from mnistperf.experiments import grid, svm

    profile = get_profile(name)
    sizes = {(c.train_size, c.seed) for c in grid.cases(profile, 0)}
    sizes |= {(c.train_size, c.seed) for c in svm.cases(profile, 0)}
    # One size and one seed: the first N images of the same seeded split part.
    assert len(sizes) == 1
    assert sizes == {({"smoke": 512, "quick": 1400, "paper": 42000}[name], 0)}


def test_optimizer_options_add_id_tokens_only_when_not_default():
    base = train_config(get_profile("smoke"), dataset="mnist", model="resnet18", batch_size=16,
                        optimizer="sgd", lr=1e-3, device="cpu", experiment="grid")
    assert base.with_options(momentum=0.0).case_id == "mnist-resnet18-bs16-sgd-lr0.001-e1-cpu"
    sgd = base.with_options(momentum=0.9)
    assert sgd.case_id == "mnist-resnet18-bs16-sgd-lr0.001-m0.9-e1-cpu"  # the contract's id
    assert (sgd.momentum, sgd.optimizer_options) == (0.9, (("momentum", 0.9),))
    both = sgd.with_options(weight_decay=5e-4)
    assert both.case_id == "mnist-resnet18-bs16-sgd-lr0.001-m0.9-wd0.0005-e1-cpu"
    adam = base.replace(optimizer="adam").with_options(weight_decay=1e-4)
    assert adam.case_id == "mnist-resnet18-bs16-adam-lr0.001-wd0.0001-e1-cpu"
    with pytest.raises(ConfigError, match="^optimizer option momentum applies to sgd only, "
                                          "not adam$"):
        adam.with_options(momentum=0.9)
    with pytest.raises(ConfigError, match="^optimizer option='nesterov' is not supported; "
                                          "choose one of: momentum, weight_decay$"):
        base.replace(optimizer_options=(("nesterov", 1.0),))


def test_the_optimizer_gets_the_options_as_keywords():
    import torch

    from mnistperf.train import make_optimizer

    params = [torch.nn.Parameter(torch.zeros(2))]
    sgd = make_optimizer("sgd", params, 0.1, {"momentum": 0.9, "weight_decay": 0.01})
    assert (sgd.defaults["momentum"], sgd.defaults["weight_decay"]) == (0.9, 0.01)
    assert make_optimizer("adam", params, 0.1).defaults["weight_decay"] == 0
