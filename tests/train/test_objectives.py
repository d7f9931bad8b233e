"""Training objectives: N2V masking, the Nb2Nb sub-sampler, each loss on a tiny set."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from denoisekit import create_model
from denoisekit.errors import ConfigError, UnknownNameError
from denoisekit.noise.estimate import estimate_sigma_haar
from denoisekit.train.objectives import (
    OBJECTIVES,
    Batch,
    blind_spot_mask,
    get_objective,
    neighbour_pairs,
    neighbour_replace,
    subsample,
)


class Spy(nn.Module):
    """Returns a learnable image, whatever the input; records what it was called with."""

    def __init__(self, shape):
        super().__init__()
        self.out = nn.Parameter(torch.zeros(shape))
        self.calls = []

    def forward(self, noisy, sigma=None):
        self.calls.append((noisy.detach().clone(), sigma))
        return self.out[..., : noisy.shape[-2], : noisy.shape[-1]]


def _unique(b=2, c=1, h=13, w=11):
    """Every pixel of every image a different value (channel k offset by 10000 k)."""
    x = torch.arange(b * h * w, dtype=torch.float32).view(b, 1, h, w)
    return torch.cat([x + 10_000 * k for k in range(c)], dim=1)


def test_blind_spot_mask_takes_one_pixel_per_box():
    mask = blind_spot_mask((3, 1, 64, 64), 8, torch.Generator().manual_seed(0))
    assert mask.shape == (3, 1, 64, 64) and mask.dtype == torch.bool
    boxes = mask.view(3, 8, 8, 8, 8).sum(dim=(2, 4))  # (B, box row, box col)
    assert torch.equal(boxes, torch.ones_like(boxes))  # 64 of 4096 pixels: 1.6 %
    edge = blind_spot_mask((2, 1, 30, 21), 8, torch.Generator().manual_seed(1))
    assert 0 < edge.sum() <= 2 * 4 * 3


def test_neighbour_replace_changes_only_masked_pixels_and_never_to_themselves():
    x = _unique(b=2, c=2, h=13, w=11)
    mask = torch.ones(2, 1, 13, 11, dtype=torch.bool)  # every pixel, borders included
    mask[0, 0, 5, 5] = False
    out = neighbour_replace(x, mask, 2, torch.Generator().manual_seed(0))
    assert out[0, :, 5, 5].tolist() == x[0, :, 5, 5].tolist()  # unmasked: unchanged
    changed = out != x
    assert torch.equal(changed[:, :1], mask) and torch.equal(changed[:, 1:], mask)
    # the source pixel is another one of the same image, within the 5x5 window, same for
    # both channels
    assert torch.equal(out[:, 1] - out[:, 0], torch.full_like(out[:, 0], 10_000))
    src = out[:, 0].long() - torch.arange(2).view(2, 1, 1) * 13 * 11
    sy, sx = src // 11, src % 11
    ys, xs = torch.meshgrid(torch.arange(13), torch.arange(11), indexing="ij")
    dy, dx = (sy - ys).abs(), (sx - xs).abs()
    assert ((src >= 0) & (src < 13 * 11)).all()
    assert (torch.maximum(dy, dx)[mask[:, 0]] >= 1).all()
    assert (dy <= 2).all() and (dx <= 2).all()
    with pytest.raises(ConfigError, match="at least 5x5"):
        neighbour_replace(torch.rand(1, 1, 4, 9), mask[:1, :, :4, :9], 2, torch.Generator())


def test_noise2void_loss_is_taken_only_on_masked_pixels_against_noisy_values():
    noisy = torch.rand(2, 3, 24, 20) + 0.1
    spy = Spy(noisy.shape)
    objective = get_objective("noise2void", F.mse_loss)
    loss = objective(spy, Batch(noisy), torch.Generator().manual_seed(5))
    loss.backward()
    mask = blind_spot_mask(noisy.shape, 8, torch.Generator().manual_seed(5)).expand_as(noisy)
    assert torch.equal(spy.out.grad != 0, mask)
    assert torch.isclose(loss, noisy[mask].square().mean())
    seen, sigma = spy.calls[0]
    assert sigma is None  # not noise-aware: no level passed
    assert torch.equal(seen != noisy, mask)  # the input differs exactly at the blind spots


def test_neighbour_pairs_take_two_different_adjacent_pixels_of_each_cell():
    x = _unique(b=4, c=3, h=9, w=7)  # odd sides: the last row and column are dropped
    pairs = neighbour_pairs(x.shape, torch.Generator().manual_seed(0))
    g1, g2 = subsample(x, pairs)
    assert g1.shape == g2.shape == (4, 3, 4, 3)
    assert torch.equal(g1[:, 2] - g1[:, 0], torch.full_like(g1[:, 0], 20_000))  # same pixel
    base = (torch.arange(4) * 9 * 7).view(4, 1, 1)
    for g in (g1, g2):  # both come from the 2x2 cell at (2i, 2j)
        pos = g[:, 0].long() - base
        y, x_ = pos // 7, pos % 7
        assert torch.equal(y // 2, torch.arange(4).view(1, 4, 1).expand_as(y))
        assert torch.equal(x_ // 2, torch.arange(3).view(1, 1, 3).expand_as(x_))
    step = (g1[:, 0] - g2[:, 0]).abs()
    assert set(step.unique().tolist()) <= {1.0, 7.0}  # a horizontal or vertical neighbour
    many = neighbour_pairs((64, 1, 16, 16), torch.Generator().manual_seed(1))
    assert len({tuple(p) for p in many.permute(0, 2, 3, 1).reshape(-1, 2).tolist()}) == 8


def test_neighbor2neighbor_identity_has_no_regulariser_and_gamma_ramps():
    noisy = torch.rand(2, 1, 16, 16)
    objective = get_objective("neighbor2neighbor", F.mse_loss)
    identity = lambda x, sigma=None: x  # noqa: E731
    gen = torch.Generator().manual_seed(3)
    g1, g2 = subsample(noisy, neighbour_pairs(noisy.shape, torch.Generator().manual_seed(3)))
    loss = objective(identity, Batch(noisy), gen, progress=1.0)
    assert torch.isclose(loss, F.mse_loss(g1, g2))  # f(g1) - g2 - (g1 - g2) = 0
    spy = Spy(noisy.shape)
    early = objective(spy, Batch(noisy), torch.Generator().manual_seed(3), progress=0.0)
    late = objective(spy, Batch(noisy), torch.Generator().manual_seed(3), progress=0.5)
    gap = (-g2).square().mean()  # zero output: f(g1) - g2 - (0 - 0)
    assert torch.isclose(early, g2.square().mean())
    assert torch.isclose(late - early, 2.0 * 0.5 * gap)
    assert spy.calls[0][0].shape == (2, 1, 16, 16) and spy.calls[1][0].shape == (2, 1, 8, 8)


def test_self_supervised_objectives_give_noise_aware_models_an_estimated_level():
    noisy = torch.rand(2, 1, 32, 32)
    for name in ("noise2void", "neighbor2neighbor", "noise2noise"):
        spy = Spy(noisy.shape)
        objective = get_objective(name, F.mse_loss, noise_aware=True)
        batch = Batch(noisy, target=noisy.flip(-1) if name == "noise2noise" else None)
        batch.sigma = torch.full((2,), 0.5)  # the true level, which they must not use
        objective(spy, batch, torch.Generator().manual_seed(0))
        for _, sigma in spy.calls:
            assert torch.allclose(sigma, estimate_sigma_haar(noisy))


def test_unknown_objective_and_missing_target():
    with pytest.raises(UnknownNameError, match="neighbor2neighbor"):
        get_objective("neighbour2neighbour", F.mse_loss)
    with pytest.raises(ValueError, match="second noisy shot"):
        n2n = get_objective("noise2noise", F.mse_loss)
        n2n(Spy((1, 1, 8, 8)), Batch(torch.rand(1, 1, 8, 8)), torch.Generator())


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_each_loss_is_finite_and_decreases_on_a_tiny_set(name, one_thread):
    torch.manual_seed(0)  # also fixes the model initialisation
    ramp = torch.linspace(0, 1, 32)
    clean = (ramp.view(1, 1, 1, -1) * ramp.view(1, 1, -1, 1)).expand(8, 1, 32, 32)
    clean = clean * torch.rand(8, 1, 1, 1)
    gen = torch.Generator().manual_seed(1)
    noisy = clean + 0.2 * torch.randn(clean.shape, generator=gen)
    target = {"supervised": clean, "noise2noise": clean + 0.2 * torch.randn(clean.shape)}
    batch = Batch(noisy, target=target.get(name))
    model = create_model("unet", in_channels=1, base_channels=4, depth=2)  # sigmoid output
    objective = get_objective(name, F.mse_loss)
    before = objective(model, batch, torch.Generator().manual_seed(99), progress=1.0).item()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(10):
        loss = objective(model, batch, torch.Generator().manual_seed(step), progress=1.0)
        assert torch.isfinite(loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = objective(model, batch, torch.Generator().manual_seed(99), progress=1.0).item()
    assert after < 0.9 * before
