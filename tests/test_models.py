"""Every registered model: shapes on odd sizes, gradients, bf16/channels_last, config errors.

The parametrized tests run over `model_names()`, so a model registered later is checked
without touching this file. Tensors are tiny to keep the file well under 30 s on 2 cores.
"""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from denoisekit.errors import ConfigError, UnknownNameError
from denoisekit.models import crop_to, expand_sigma, pad_to_multiple
from denoisekit.registry import constructor_args, create_model, get_entry, model_names

NAMES = model_names()
SIGMOID_MODELS = ["autoencoder-seed", "autoencoder-bottleneck", "autoencoder", "unet"]


def build(name: str, in_channels: int, **kwargs) -> nn.Module:
    """Build `name` with `in_channels` and a fixed seed; skip models without that argument."""
    if "in_channels" not in constructor_args(get_entry(name).cls):
        pytest.skip(f"{name} has no in_channels argument")
    torch.manual_seed(0)
    return create_model(name, in_channels=in_channels, **kwargs)


def images(*shape: int, seed: int = 1) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def assert_gradients_reach_every_parameter(model: nn.Module, out: torch.Tensor) -> None:
    out.square().mean().backward()
    params = dict(model.named_parameters())
    assert params, "a network model should have parameters"
    missing = [n for n, p in params.items() if p.grad is None]
    assert not missing, f"no gradient reached: {missing}"
    assert any(p.grad.abs().sum() > 0 for p in params.values()), "all gradients are zero"


# ---------------------------------------------------------------- padding helpers


@pytest.mark.parametrize("h, w, multiple", [(37, 31, 8), (28, 28, 4), (32, 16, 16), (5, 3, 8)])
def test_pad_to_multiple_round_trips(h: int, w: int, multiple: int) -> None:
    x = images(2, 3, h, w)
    padded, size = pad_to_multiple(x, multiple)
    assert size == (h, w)
    assert padded.shape[-2] % multiple == 0 and padded.shape[-1] % multiple == 0
    assert padded.shape[-2] - h < multiple and padded.shape[-1] - w < multiple
    assert torch.equal(crop_to(padded, size), x)


def test_pad_reflects_and_falls_back_to_replicate_on_tiny_images() -> None:
    x = images(1, 1, 37, 31)
    padded, _ = pad_to_multiple(x, 8)
    assert torch.equal(padded[..., 37, :31], x[..., 35, :])  # reflect mirrors, skipping the edge
    tiny = images(1, 1, 2, 3)
    padded, _ = pad_to_multiple(tiny, 8)  # reflect would need pad < side
    assert torch.equal(padded[..., 7, :3], tiny[..., 1, :])
    same, _ = pad_to_multiple(x[..., :32, :24], 8)
    assert same.shape[-2:] == (32, 24)


def test_pad_keeps_channels_last() -> None:
    x = images(2, 3, 37, 31).to(memory_format=torch.channels_last)
    padded, _ = pad_to_multiple(x, 8)
    assert padded.is_contiguous(memory_format=torch.channels_last)


def test_expand_sigma_shapes() -> None:
    x = images(2, 3, 5, 7)
    assert expand_sigma(0.1, x).shape == (2, 1, 5, 7)
    per_image = expand_sigma(torch.tensor([0.1, 0.2]), x)
    assert per_image.shape == (2, 1, 5, 7) and per_image[1].eq(0.2).all()
    assert expand_sigma(torch.full((2, 1, 5, 7), 0.3), x).shape == (2, 1, 5, 7)
    with pytest.raises(ValueError, match="does not match"):
        expand_sigma(torch.zeros(2, 1, 4, 7), x)


# ---------------------------------------------------------------- every registered model


@pytest.mark.parametrize("name", NAMES)
def test_odd_size_shape_finite_and_gradients(name: str) -> None:
    model = build(name, 3).train()
    noisy = images(2, 3, 37, 31)
    denoised = model(noisy, sigma=torch.full((2,), 0.1))
    assert denoised.shape == noisy.shape
    assert torch.isfinite(denoised).all()
    if get_entry(name).kind != "network":
        return  # classical filters have no parameters to train
    assert_gradients_reach_every_parameter(model, denoised)


@pytest.mark.parametrize("name", NAMES)
def test_one_channel_28x28(name: str) -> None:
    model = build(name, 1).eval()
    noisy = images(2, 1, 28, 28)
    with torch.no_grad():
        denoised = model(noisy)
    assert denoised.shape == noisy.shape
    assert torch.isfinite(denoised).all()


@pytest.mark.parametrize("name", NAMES)
def test_bf16_autocast_channels_last_matches_fp32(name: str) -> None:
    model = build(name, 3).eval()
    noisy = images(2, 3, 37, 31)
    with torch.no_grad():
        reference = model(noisy)
        model = model.to(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            fast = model(noisy.to(memory_format=torch.channels_last))
    assert fast.shape == noisy.shape
    assert torch.isfinite(fast).all()
    # bf16 keeps ~3 significant digits; a layout or padding bug gives errors of order 0.1+.
    scale = max(1.0, reference.abs().mean().item())  # linear-output models may be unbounded
    assert (fast.float() - reference).abs().mean() < 0.02 * scale


@pytest.mark.parametrize("name", NAMES)
def test_wrong_kwarg_is_config_error_naming_the_close_argument(name: str) -> None:
    args = list(constructor_args(get_entry(name).cls))
    if not args:
        with pytest.raises(ConfigError):
            create_model(name, bogus=1)
        return
    real = max(args, key=len)
    typo = real[:-2] + real[-1]  # drop one letter: close enough for difflib
    with pytest.raises(ConfigError, match=re.escape(real)):
        create_model(name, **{typo: 1})


def test_unknown_model_name() -> None:
    with pytest.raises(UnknownNameError, match="unet"):
        create_model("unett")


# ---------------------------------------------------------------- family specifics


def test_bottleneck_autoencoder_squeezes_100_to_25() -> None:
    model = create_model("autoencoder-bottleneck", in_channels=3, base_channels=8, depth=2)
    codes: list[torch.Tensor] = []
    model.bottleneck.register_forward_hook(lambda mod, inp, out: codes.append(out))
    with torch.no_grad():
        out = model(images(1, 3, 100, 100))
    assert out.shape == (1, 3, 100, 100)
    assert codes[0].shape == (1, 16, 25, 25)  # channels grow 8 -> 16 as the side halves twice


@pytest.mark.parametrize("output", ["linear", "sigmoid"])
def test_unet_residual_with_zero_head_returns_input(output: str) -> None:
    model = create_model("unet", in_channels=3, base_channels=8, residual=True, output=output)
    nn.init.zeros_(model.head.weight)
    nn.init.zeros_(model.head.bias)
    noisy = images(2, 3, 37, 31)
    with torch.no_grad():
        denoised = model(noisy)
    atol = 0.0 if output == "linear" else 2e-4  # logit space clamps 1e-4 from 0 and 1
    torch.testing.assert_close(denoised, noisy, rtol=0.0, atol=atol)


@pytest.mark.parametrize("name", SIGMOID_MODELS)
def test_sigmoid_outputs_lie_in_unit_interval(name: str) -> None:
    model = build(name, 3).eval()
    # Push the head's pre-activation to -6, 0 and +6 per channel: without squashing the output
    # would leave [0, 1]; a sigmoid keeps it strictly inside.
    with torch.no_grad():
        model.head.bias.copy_(torch.tensor([-6.0, 0.0, 6.0]))
        out = model(images(2, 3, 37, 31))
    assert out.min() > 0 and out.max() < 1
    assert out.max() - out.min() > 0.5, "the head bias should spread the outputs"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_norm": True, "attention": "se"},
        {"residual": True},
        {"residual": True, "output": "sigmoid"},
        {"output": "linear", "depth": 1},
        {"out_channels": 1, "depth": 4},
    ],
    ids=["bn-se", "residual", "residual-sigmoid", "linear-depth1", "gray-out-depth4"],
)
def test_unet_variants(kwargs: dict) -> None:
    model = build("unet", 3, base_channels=8, **kwargs).train()
    noisy = images(2, 3, 37, 31)
    denoised = model(noisy)
    assert denoised.shape == (2, kwargs.get("out_channels", 3), 37, 31)
    assert torch.isfinite(denoised).all()
    assert_gradients_reach_every_parameter(model, denoised)


@pytest.mark.parametrize("upsample", ["nearest", "bilinear", "transpose"])
def test_autoencoder_accepts_yaml_lists_and_upsample_modes(upsample: str) -> None:
    model = build("autoencoder", 3, filters=[8, 16], batch_norm=True, upsample=upsample)
    assert model.filters == (8, 16)
    denoised = model(images(2, 3, 37, 31))
    assert denoised.shape == (2, 3, 37, 31)
    assert_gradients_reach_every_parameter(model, denoised)


@pytest.mark.parametrize(
    "name, kwargs, message",
    [
        ("unet", {"output": "tanh"}, "output must be one of"),
        ("unet", {"attention": "cbam"}, "attention must be one of"),
        ("unet", {"residual": True, "out_channels": 1}, "must equal in_channels"),
        ("unet", {"depth": 0}, "depth must be a positive integer"),
        ("autoencoder", {"filters": []}, "at least one"),
        ("autoencoder", {"filters": [8, -1]}, r"filters\[1\]"),
        ("autoencoder-bottleneck", {"base_channels": 0}, "base_channels"),
    ],
)
def test_bad_arguments_are_config_errors(name: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_model(name, **kwargs)


def test_wrong_channel_count_is_a_clear_error() -> None:
    model = create_model("autoencoder-seed", in_channels=3, base_channels=4)
    with pytest.raises(ValueError, match="in_channels=1"):
        model(images(1, 1, 8, 8))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        model(images(3, 8, 8))


def test_tiny_image_pads_with_replicate() -> None:
    model = create_model("unet", in_channels=1, base_channels=4, depth=3)
    with torch.no_grad():
        out = model(images(1, 1, 3, 5))  # smaller than the 8-pixel multiple
    assert out.shape == (1, 1, 3, 5)
