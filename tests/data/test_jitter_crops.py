"""Brightness/contrast jitter and random resized crops (data/jitter_crops.py)."""

import pytest
import torch

from denoisekit.data.jitter_crops import augment_more, jitter, resized_crops
from denoisekit.errors import ConfigError


def test_off_changes_nothing_and_draws_nothing():
    clean = torch.rand(3, 3, 12, 10)
    generator = torch.Generator().manual_seed(0)
    state = generator.get_state()
    out = augment_more(clean, jitter_amount=0.0, crop_scale=1.0, generator=generator)
    assert torch.equal(out, clean) and torch.equal(generator.get_state(), state)


def test_jitter_stays_in_range_and_differs_per_image():
    clean = torch.full((4, 3, 8, 8), 0.5)
    clean[:, :, :4] = 0.3
    out = jitter(clean, 0.2, torch.Generator().manual_seed(1))
    assert out.min() >= 0 and out.max() <= 1
    means = out.mean(dim=(1, 2, 3))
    assert len({round(float(m), 4) for m in means}) == 4
    assert (means - 0.4).abs().max() <= 0.2 + 1e-6  # brightness moved by at most the amount


def test_crops_keep_the_size_and_zoom_in():
    clean = torch.linspace(0, 1, 20).repeat(2, 3, 20, 1)  # a left-to-right ramp
    out = resized_crops(clean, 0.25, torch.Generator().manual_seed(2))
    assert out.shape == clean.shape
    # a crop of a ramp, stretched back, spans a narrower range of values
    assert (out[..., -1] - out[..., 0]).min() < (clean[..., -1] - clean[..., 0]).min()


@pytest.mark.parametrize(("amount", "scale"), [(-0.1, 1.0), (1.0, 1.0), (0.0, 0.0), (0.0, 1.5)])
def test_bad_settings_are_config_errors(amount, scale):
    with pytest.raises(ConfigError):
        augment_more(
            torch.rand(1, 1, 4, 4),
            jitter_amount=amount,
            crop_scale=scale,
            generator=torch.Generator(),
        )
