"""Attention U-Net: odd sizes, identity at init, one attention module per stage, budget."""

from __future__ import annotations

import pytest
import torch

from denoisekit.errors import ConfigError
from denoisekit.models.blocks import CBAM, SqueezeExcite
from denoisekit.registry import count_parameters, create_model


def images(*shape: int, seed: int = 1) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("shape", [(1, 1, 37, 31), (2, 1, 33, 17), (1, 1, 5, 3)])
def test_cbam_odd_sizes_keep_shape_and_start_as_identity(shape: tuple[int, ...]) -> None:
    model = create_model("attention-unet", base_channels=4, depth=3).eval()
    noisy = images(*shape)
    with torch.no_grad():
        denoised = model(noisy)
    assert denoised.shape == noisy.shape
    torch.testing.assert_close(denoised, noisy, rtol=0, atol=0)


@pytest.mark.parametrize("attention, kind", [("cbam", CBAM), ("se", SqueezeExcite)])
def test_an_attention_module_per_stage(attention: str, kind: type) -> None:
    depth = 2
    model = create_model("attention-unet", base_channels=4, depth=depth, attention=attention)
    found = [m for m in model.modules() if isinstance(m, (CBAM, SqueezeExcite))]
    assert len(found) == 2 * depth + 1  # stem, each pooled stage, each decoder stage
    assert all(isinstance(m, kind) for m in found)


def test_output_is_noisy_minus_the_heads_prediction() -> None:
    torch.manual_seed(0)
    model = create_model("attention-unet", in_channels=3, base_channels=8, depth=2).eval()
    torch.nn.init.normal_(model.head.weight, std=0.1)
    features: list[torch.Tensor] = []
    model.head.register_forward_hook(lambda mod, inp, out: features.append(out))
    noisy = images(2, 3, 20, 20)
    with torch.no_grad():
        denoised = model(noisy)
    assert features[0].abs().mean() > 1e-4
    torch.testing.assert_close(denoised, noisy - features[0])


@pytest.mark.parametrize("base, depth", [(32, 3), (16, 2)])
def test_equal_budget_with_plain_unet(base: int, depth: int) -> None:
    plain = count_parameters(create_model("unet", in_channels=3, base_channels=base, depth=depth))
    for attention in ("se", "cbam"):
        model = create_model(
            "attention-unet", in_channels=3, base_channels=base, depth=depth, attention=attention
        )
        extra = count_parameters(model) / plain - 1
        assert 0 < extra < 0.03, (attention, extra)


@pytest.mark.parametrize("attention", ["none", "bam", "se+cbam"])
def test_unknown_attention(attention: str) -> None:
    with pytest.raises(ConfigError, match="attention must be one of se, cbam"):
        create_model("attention-unet", attention=attention)
