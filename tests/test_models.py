import pytest
import torch

from mnistperf.config import ConfigError
from mnistperf.models import count_params, make_model


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
@pytest.mark.parametrize("channels, size", [(1, 28), (3, 224)])
def test_output_shape_and_conv1(name, channels, size):
    model = make_model(name, in_channels=channels).eval()
    with torch.inference_mode():
        out = model(torch.zeros(2, channels, size, size))
    assert out.shape == (2, 10)
    assert model.conv1.in_channels == channels
    assert (model.conv1.kernel_size, model.conv1.stride, model.conv1.padding) == ((7, 7), (2, 2), (3, 3))


def test_parameter_counts_match_torchvision_with_10_classes():
    # torchvision's ResNet-18 has 11,689,512 parameters with 1000 classes; the 10-class
    # head removes 512 * 990 + 990 of them, a 1-channel conv1 removes 2 * 64 * 49.
    assert count_params(make_model("resnet18", 3)) == 11_689_512 - 512 * 990 - 990
    assert count_params(make_model("resnet18", 1)) == 11_689_512 - 512 * 990 - 990 - 2 * 64 * 49


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ConfigError, match="model='vgg16' is not supported; choose one of: "
                                          "resnet18, resnet50"):
        make_model("vgg16")
