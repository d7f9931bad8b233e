"""DnCNN: the paper's layer count and size, identity at init, argument checks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from denoisekit.errors import ConfigError
from denoisekit.registry import count_parameters, create_model


def images(*shape: int, seed: int = 1) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def test_default_is_the_papers_17_layer_gray_network() -> None:
    model = create_model("dncnn")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(convs) == 17
    assert len(norms) == 15  # not on the first and last conv
    assert convs[0].in_channels == 1 and convs[-1].out_channels == 1
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert count_parameters(model) == 556_096  # ~0.56 M as in the paper


def test_depth_and_features_set_the_size() -> None:
    model = create_model("dncnn", in_channels=3, depth=10, features=32)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 10 and convs[1].out_channels == 32 and convs[-1].out_channels == 3


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_identity_at_init_and_residual_after(mode: str) -> None:
    model = create_model("dncnn", depth=5, features=8).train(mode == "train")
    noisy = images(2, 1, 37, 31)
    with torch.no_grad():
        torch.testing.assert_close(model(noisy), noisy, rtol=0, atol=0)
        nn.init.normal_(model.head.weight, std=0.1)
        predicted_noise = model.head(model.body(noisy))
        torch.testing.assert_close(model(noisy), noisy - predicted_noise)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"depth": 1}, "depth must be at least 2"),
        ({"depth": 0}, "depth must be a positive integer"),
        ({"features": 0}, "features"),
        ({"in_channels": 2.0}, "in_channels"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_model("dncnn", **kwargs)
