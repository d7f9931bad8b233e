"""Shared blocks: CBAM gates per pixel (SE only per channel); the int-tuple argument check."""

from __future__ import annotations

import pytest
import torch

from denoisekit.errors import ConfigError
from denoisekit.models.blocks import CBAM, SqueezeExcite, check_int_tuple


def test_cbam_gates_pixels_and_channels_but_se_only_channels() -> None:
    torch.manual_seed(0)
    x = torch.rand(2, 8, 9, 11) + 0.5
    with torch.no_grad():
        cbam_gain = CBAM(8)(x) / x
        se_gain = SqueezeExcite(8)(x) / x
    assert cbam_gain.shape == x.shape
    assert (cbam_gain > 0).all() and (cbam_gain < 1).all()  # two sigmoid gates
    spatial_spread = cbam_gain.std(dim=(2, 3))
    assert (spatial_spread > 1e-4).all(), "CBAM's spatial gate should vary over the image"
    torch.testing.assert_close(se_gain.std(dim=(2, 3)), torch.zeros(2, 8), atol=1e-6, rtol=0)


def test_cbam_bf16_channels_last() -> None:
    module = CBAM(16).to(memory_format=torch.channels_last)
    x = torch.rand(1, 16, 7, 5)
    with torch.no_grad():
        reference = module(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            fast = module(x.to(memory_format=torch.channels_last))
    assert (fast.float() - reference).abs().max() < 0.02


def test_check_int_tuple() -> None:
    assert check_int_tuple("blocks", [1, 2]) == (1, 2)
    with pytest.raises(ConfigError, match=r"blocks\[1\]"):
        check_int_tuple("blocks", [1, 0])
    with pytest.raises(ConfigError, match="at least one"):
        check_int_tuple("blocks", ())
    with pytest.raises(ConfigError, match="must have 3 values"):
        check_int_tuple("blocks", (1, 2), length=3)
