import pytest
import torch

from denoisekit.errors import ConfigError, UnknownNameError
from denoisekit.noise import parse_level, parse_noise


@pytest.mark.parametrize(
    "text,value", [("0.1", 0.1), ("25/255", 25 / 255), ("1e-2", 0.01), (" 0.05 ", 0.05)]
)
def test_parse_level(text, value):
    assert parse_level(text) == pytest.approx(value)


@pytest.mark.parametrize(
    "spec,message",
    [
        ("gaussian:-0.1", ">= 0"),
        ("gaussian:25", "25/255"),
        ("gaussian:abc", "not a number"),
        ("gaussian:0.3-0.1", "low > high"),
        ("gaussian", "gaussian:0.1"),
    ],
)
def test_bad_specs(spec, message):
    with pytest.raises(ConfigError, match=message):
        parse_noise(spec)


def test_unknown_kind_lists_close_names():
    with pytest.raises(UnknownNameError, match="gaussian"):
        parse_noise("gausian:0.1")


def test_range_draws_per_image_levels_and_midpoint():
    noise = parse_noise("gaussian:0-0.2")
    clean = torch.zeros(64, 1, 32, 32)
    noisy, sigma = noise(clean, torch.Generator().manual_seed(0))
    assert sigma.shape == (64,)
    assert 0 <= sigma.min() and sigma.max() <= 0.2 and sigma.std() > 0.03
    measured = noisy.flatten(1).std(1)
    assert torch.allclose(measured, sigma, atol=0.02)
    mid = noise.at_midpoint()
    assert mid.low == mid.high == pytest.approx(0.1)


def test_clip_flag():
    noise = parse_noise("gaussian:0.5", clip=True)
    noisy, _ = noise(torch.full((1, 1, 32, 32), 0.5), torch.Generator().manual_seed(0))
    assert noisy.min() >= 0 and noisy.max() <= 1
