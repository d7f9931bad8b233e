import pytest
import torch

from denoisekit.noise import clip, gaussian, quantize


def test_gaussian_statistics_and_determinism():
    clean = torch.full((2, 3, 128, 128), 0.5)
    noisy = gaussian(clean, 0.1, generator=torch.Generator().manual_seed(1))
    residual = noisy - clean
    assert residual.mean().abs() < 0.002
    assert residual.std().item() == pytest.approx(0.1, rel=0.02)
    again = gaussian(clean, 0.1, generator=torch.Generator().manual_seed(1))
    assert torch.equal(noisy, again)
    other = gaussian(clean, 0.1, generator=torch.Generator().manual_seed(2))
    assert not torch.equal(noisy, other)


def test_gaussian_per_image_sigma_and_no_clipping():
    clean = torch.zeros(2, 1, 64, 64)
    noisy = gaussian(clean, torch.tensor([0.0, 0.3]), generator=torch.Generator().manual_seed(0))
    assert noisy[0].abs().max() == 0
    assert noisy[1].std().item() == pytest.approx(0.3, rel=0.05)
    assert noisy.min() < 0  # published protocol: no clipping


def test_negative_sigma_rejected():
    with pytest.raises(ValueError, match=">= 0"):
        gaussian(torch.zeros(1, 1, 4, 4), -0.1)


def test_clip_and_quantize():
    x = torch.tensor([-0.2, 0.5, 0.7012, 1.3])
    assert clip(x).tolist() == [0.0, 0.5, pytest.approx(0.7012), 1.0]
    q = quantize(x)
    assert torch.allclose(q * 255, (q * 255).round())
    assert q.min() >= 0 and q.max() <= 1
