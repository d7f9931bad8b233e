"""DRUNet: the noise-level map is really used, the blind fallback, identity at init, sizes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from denoisekit.errors import ConfigError
from denoisekit.noise.estimate import estimate_sigma
from denoisekit.registry import count_parameters, create_model


def images(*shape: int, seed: int = 1) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def small(**kwargs) -> nn.Module:
    torch.manual_seed(0)
    model = create_model("drunet", channels=(4, 8, 16), blocks=1, **kwargs).eval()
    nn.init.normal_(model.tail.weight, std=0.1)  # a zero tail would hide what sigma does
    return model


def test_identity_at_init() -> None:
    model = create_model("drunet", in_channels=3, channels=(4, 8, 16), blocks=1).eval()
    noisy = images(2, 3, 37, 31)
    with torch.no_grad():
        torch.testing.assert_close(model(noisy, 0.1), noisy, rtol=0, atol=0)
        torch.testing.assert_close(model(noisy), noisy, rtol=0, atol=0)


def test_output_depends_on_sigma() -> None:
    model = small()
    noisy = images(2, 1, 37, 31)
    with torch.no_grad():
        low, high = model(noisy, 0.02), model(noisy, 0.2)
        per_image = model(noisy, torch.tensor([0.02, 0.2]))
        as_map = model(noisy, torch.full((2, 1, 37, 31), 0.02))
    assert (low - high).abs().mean() > 1e-3
    torch.testing.assert_close(per_image[0], low[0])
    torch.testing.assert_close(per_image[1], high[1])
    torch.testing.assert_close(as_map, low)


def test_sigma_none_uses_the_estimate() -> None:
    model = small()
    clean = images(2, 1, 40, 36).mul(0.1).add(0.4)
    noisy = clean + torch.tensor([0.05, 0.15]).view(2, 1, 1, 1) * torch.randn(
        clean.shape, generator=torch.Generator().manual_seed(2)
    )
    with torch.no_grad():
        blind = model(noisy)
        given = model(noisy, estimate_sigma(noisy))
        wrong = model(noisy, 0.0)
    torch.testing.assert_close(blind, given)
    assert (blind - wrong).abs().mean() > 1e-3


def test_default_size_and_padding_multiple() -> None:
    model = create_model("drunet")
    assert model.channels == (16, 32, 64, 128)
    assert model.multiple == 8  # 2 ** (levels - 1)
    assert 0.5e6 < count_parameters(model) <= 2e6
    yaml_list = create_model("drunet", channels=[8, 16])
    assert yaml_list.channels == (8, 16) and yaml_list.multiple == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"channels": []}, "at least one"),
        ({"channels": [16, 0]}, r"channels\[1\]"),
        ({"blocks": 0}, "blocks must be a positive integer"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_model("drunet", **kwargs)


def test_first_conv_reads_the_image_in_float32_under_bf16_autocast() -> None:
    model = small()
    seen = []
    model.head.register_forward_hook(lambda module, args, out: seen.append((args[0], out)))
    noisy = torch.rand(1, 1, 16, 16)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        denoised = model(noisy, 0.1)
    ((head_in, head_out),) = seen
    assert head_in.dtype == head_out.dtype == torch.float32
    assert torch.equal(head_in[:, :1], noisy)  # not rounded to bf16 on the way in
    assert denoised.shape == noisy.shape
