import warnings

import pytest

from mnistperf.flops import flops_per_image, macs_per_image, training_flops


@pytest.mark.parametrize("model, published", [("resnet18", 1.82e9), ("resnet50", 4.13e9)])
def test_fvcore_macs_at_224_match_the_seed_study(model, published):
    assert macs_per_image(model, 3, 224) == pytest.approx(published, rel=0.01)
    assert flops_per_image(model, 3, 224) == 2 * macs_per_image(model, 3, 224)


def test_counting_is_quiet_and_cached():
    macs_per_image.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = macs_per_image("resnet18", 1, 28)
    assert macs_per_image.cache_info().misses == 1
    assert macs_per_image("resnet18", 1, 28) == first
    assert macs_per_image.cache_info().hits == 1


def test_training_flops_is_three_forward_passes():
    assert training_flops("resnet18", 1, 28, 1000) == 3 * 2 * macs_per_image("resnet18", 1, 28) * 1000


@pytest.mark.parametrize("model", ["resnet18", "resnet50"])
@pytest.mark.parametrize("channels, size", [(1, 28), (3, 224)])
def test_flops_per_image_match_fvcore_computed_here(model, channels, size):
    import torch
    from fvcore.nn import FlopCountAnalysis

    from mnistperf.models import make_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = FlopCountAnalysis(make_model(model, channels).eval(),
                                     torch.zeros(1, channels, size, size))
        analysis.unsupported_ops_warnings(False)
        expected = analysis.total()
    assert macs_per_image(model, channels, size) == expected
    assert flops_per_image(model, channels, size) == 2 * expected


@pytest.mark.parametrize("model, count, printed", [
    ("resnet18", 1_823_526_912, "1.823527e+09"), ("resnet50", 4_131_715_072, "4.131715e+09")])
def test_the_study_count_is_thops_digit_for_digit(model, count, printed):
    from mnistperf.flops import study_flops_per_image

    # thop on the harness's own model (10-class head) at 1x3x224x224: the study's
    # Table 4 prints it to 7 significant digits
    assert study_flops_per_image(model, 3, 224) == count
    assert f"{count:.6e}" == printed
    # thop's count is not fvcore's (it adds BatchNorm and pooling)
    assert study_flops_per_image(model, 3, 224) > macs_per_image(model, 3, 224)
