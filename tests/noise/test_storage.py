"""Stored forms of noisy training images: float, clipped, 8-bit and 16-bit, drawn per sample."""

import pytest
import torch

from denoisekit.errors import ConfigError
from denoisekit.noise import parse_noise
from denoisekit.noise.storage import parse_storage, storage_text, store


def test_parse_storage_normalises_weights_and_round_trips():
    mix = parse_storage("float=1, clip=1, 8bit=2")
    assert mix == (("float", 0.25), ("clip", 0.25), ("8bit", 0.5))
    assert parse_storage(storage_text(mix)) == mix
    assert parse_storage("8bit") == (("8bit", 1.0),)
    assert parse_storage(None) == () and parse_storage(" ") == ()
    assert parse_storage("float=0,16bit=3") == (("16bit", 1.0),)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("12bit", "unknown form"),
        ("8bit=x", "not a number"),
        ("8bit=-1", ">= 0"),
        ("float=0", "sum to 0"),
        ("clip,clip", "twice"),
    ],
)
def test_parse_storage_refuses_bad_mixes(text, words):
    with pytest.raises(ConfigError, match=words):
        parse_storage(text)


def test_each_form_stores_as_a_file_would():
    noisy = torch.tensor([-0.2, 0.1234567, 0.5, 1.3]).view(1, 1, 2, 2)
    assert torch.equal(store(noisy, parse_storage("float")), noisy)
    assert store(noisy, parse_storage("clip")).min() == 0.0
    eight = store(noisy, parse_storage("8bit"))
    assert torch.allclose(eight * 255, (eight * 255).round(), atol=1e-4)
    assert eight.min() == 0.0 and eight.max() == 1.0
    sixteen = store(noisy, parse_storage("16bit"))
    assert (sixteen - noisy.clamp(0, 1)).abs().max() <= 0.5 / 65535 + 1e-7
    assert not torch.allclose(sixteen * 255, (sixteen * 255).round(), atol=1e-4)


def test_a_mix_draws_each_form_in_proportion_and_repeats_with_the_seed():
    noisy = torch.full((400, 1, 2, 2), 1.2)  # above white: clipped forms read 1, float 1.2
    mix = parse_storage("float=0.25,8bit=0.75")
    out = store(noisy, mix, torch.Generator().manual_seed(3))
    kept = (out[:, 0, 0, 0] > 1.0).float().mean().item()
    assert 0.18 < kept < 0.32
    again = store(noisy, mix, torch.Generator().manual_seed(3))
    assert torch.equal(out, again)


def test_noise_model_stores_after_the_noise_and_keeps_the_level_before_clipping():
    clean = torch.full((64, 3, 8, 8), 0.02)  # near black: clipping changes the noise
    model = parse_noise("gaussian:50/255", storage="8bit")
    noisy, sigma = model(clean, torch.Generator().manual_seed(0))
    assert noisy.min() >= 0.0
    assert torch.allclose(noisy * 255, (noisy * 255).round(), atol=1e-4)
    assert torch.allclose(sigma, torch.full_like(sigma, 50 / 255))
    plain, _ = parse_noise("gaussian:50/255")(clean, torch.Generator().manual_seed(0))
    assert plain.min() < 0.0
    assert model.at_midpoint().storage == model.storage == (("8bit", 1.0),)
    assert model.per_pixel().storage == model.storage
