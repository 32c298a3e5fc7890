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


@pytest.mark.parametrize("model, study", [("resnet18", 1.823527e9), ("resnet50", 4.131715e9)])
def test_the_study_count_matches_its_published_flops(model, study):
    from mnistperf.flops import batchnorm_activations, study_flops_per_image

    assert study_flops_per_image(model, 3, 224) == pytest.approx(study, rel=1e-6)
    # eval-mode total + 2 per BatchNorm activation (ResNet-18: 2,483,712 activations)
    assert study_flops_per_image(model, 3, 224) == (
        macs_per_image(model, 3, 224) + 2 * batchnorm_activations(model, 3, 224))
    if model == "resnet18":
        assert batchnorm_activations(model, 3, 224) == 2_483_712
