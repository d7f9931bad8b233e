"""Training losses: zero at the target, larger for worse outputs, finite gradients, bad names."""

import pytest
import torch

from denoisekit.errors import UnknownNameError
from denoisekit.train.losses import LOSSES, get_loss


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_orders_outputs_and_has_gradients(name):
    gen = torch.Generator().manual_seed(0)
    clean = torch.rand(2, 3, 24, 24, generator=gen)
    slightly = (clean + 0.02 * torch.randn(clean.shape, generator=gen)).requires_grad_()
    badly = (clean + 0.2 * torch.randn(clean.shape, generator=gen)).clamp(0, 1)
    loss = get_loss(name)
    near = loss(slightly, clean)
    assert near < loss(badly, clean)
    near.backward()
    assert torch.isfinite(slightly.grad).all() and slightly.grad.abs().sum() > 0
    if name != "bce":  # BCE's minimum is the target's entropy, not zero
        assert loss(clean, clean) < 1.01e-3  # charbonnier bottoms out at its eps


def test_ssim_l1_cares_about_texture_more_than_l1():
    # Blurring keeps the mean error small but destroys structure: ssim-l1 penalises it more,
    # relative to an equal-L1 offset, than plain L1 does.
    gen = torch.Generator().manual_seed(1)
    clean = torch.rand(1, 1, 32, 32, generator=gen)
    blurred = torch.nn.functional.avg_pool2d(clean, 3, stride=1, padding=1, count_include_pad=False)
    offset = clean + (blurred - clean).abs().mean()
    l1, mixed = get_loss("l1"), get_loss("ssim-l1")
    assert abs(l1(blurred, clean) - l1(offset, clean)) < 1e-4
    assert mixed(blurred, clean) > 2 * mixed(offset, clean)


def test_unknown_loss_lists_close_names():
    with pytest.raises(UnknownNameError, match="ssim-l1"):
        get_loss("ssim")


def test_ssim_term_has_gradients():
    # The metric `ssim` is detached float64; the loss must use the differentiable one, else
    # ssim-l1 would silently train on its L1 part only.
    gen = torch.Generator().manual_seed(2)
    clean = torch.rand(1, 1, 24, 24, generator=gen)
    denoised = (clean + 0.05 * torch.randn(clean.shape, generator=gen)).requires_grad_()
    get_loss("ssim-l1")(denoised, clean).backward()
    mixed = denoised.grad.clone()
    denoised.grad = None
    (0.16 * get_loss("l1")(denoised, clean)).backward()
    assert (mixed - denoised.grad).abs().sum() > denoised.grad.abs().sum()
