"""NAFNet-lite: shapes at odd sizes, half-resolution body, identity at init, sigma input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from denoisekit.errors import ConfigError
from denoisekit.models.nafnet import LayerNorm2d
from denoisekit.noise.estimate import estimate_sigma
from denoisekit.registry import count_parameters, create_model


def images(*shape: int, seed: int = 1) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("shape", [(1, 1, 37, 31), (2, 3, 37, 31)])
def test_shape_preserved_and_identity_at_init(shape: tuple[int, ...]) -> None:
    model = create_model("nafnet-lite", in_channels=shape[1], width=8).eval()
    noisy = images(*shape)
    with torch.no_grad():
        denoised = model(noisy)
    assert denoised.shape == noisy.shape
    torch.testing.assert_close(denoised, noisy, rtol=0, atol=0)


def test_body_runs_at_half_resolution() -> None:
    model = create_model("nafnet-lite", in_channels=3, width=8, enc_blocks=(1, 1, 1),
                         dec_blocks=(1, 1, 1)).eval()  # fmt: skip
    assert model.multiple == 16
    seen: list[torch.Size] = []
    model.intro.register_forward_hook(lambda mod, inp, out: seen.append(inp[0].shape))
    with torch.no_grad():
        out = model(images(1, 3, 64, 48))
    assert seen == [torch.Size([1, 12, 32, 24])]  # 4x the channels, 1/4 of the pixels
    assert out.shape == (1, 3, 64, 48)


def test_default_size_is_under_a_million() -> None:
    model = create_model("nafnet-lite")
    assert model.in_channels == 1 and not model.noise_aware
    assert 0.1e6 < count_parameters(model) <= 1e6


def perturbed(**kwargs) -> nn.Module:
    torch.manual_seed(0)
    model = create_model("nafnet-lite", width=8, **kwargs).eval()
    nn.init.normal_(model.ending.weight, std=0.1)
    return model


def test_sigma_input_is_used_and_estimated_when_missing() -> None:
    model = perturbed(sigma_input=True)
    assert model.noise_aware
    noisy = images(2, 1, 37, 31)
    with torch.no_grad():
        low, high = model(noisy, 0.02), model(noisy, 0.3)
        blind, given = model(noisy), model(noisy, estimate_sigma(noisy))
    assert (low - high).abs().mean() > 1e-4
    torch.testing.assert_close(blind, given)


def test_sigma_ignored_without_sigma_input() -> None:
    model = perturbed()
    noisy = images(2, 1, 37, 31)
    with torch.no_grad():
        torch.testing.assert_close(model(noisy, 0.02), model(noisy, 0.3), rtol=0, atol=0)


def test_layer_norm_normalises_each_pixel_over_channels() -> None:
    x = images(2, 6, 5, 7) * 3 + 1
    y = LayerNorm2d(6)(x)
    torch.testing.assert_close(y.mean(dim=1), torch.zeros(2, 5, 7), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(dim=1, unbiased=False), torch.ones(2, 5, 7), atol=1e-3,
                               rtol=0)  # fmt: skip


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dec_blocks": (1,)}, "one entry per encoder level"),
        ({"enc_blocks": [1, 0]}, r"enc_blocks\[1\]"),
        ({"enc_blocks": []}, "at least one"),
        ({"width": 0}, "width must be a positive integer"),
        ({"middle_blocks": -1}, "middle_blocks"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_model("nafnet-lite", **kwargs)
