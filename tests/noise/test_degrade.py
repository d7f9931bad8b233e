"""Motion blur and JPEG: kernels, flat images, direction, and 8-bit round trips."""

import math

import pytest
import torch

from denoisekit.noise import jpeg, motion_blur, motion_blur_kernel


@pytest.mark.parametrize("length,angle", [(1, 0), (2, 0), (9, 0), (9, 30), (15.5, -120), (4, 90)])
def test_kernel_is_normalised_odd_and_centred(length, angle):
    kernel = motion_blur_kernel(length, angle)
    assert kernel.sum().item() == pytest.approx(1.0, abs=1e-12)
    assert kernel.min() >= 0
    k = kernel.shape[-1]
    assert kernel.shape == (k, k) and k % 2 == 1
    # the path is centred: the kernel is point-symmetric about its middle
    assert torch.allclose(kernel, kernel.flip(0, 1), atol=1e-12)


def test_kernel_shape_follows_length_and_angle():
    assert torch.equal(motion_blur_kernel(1, 45), torch.ones(1, 1, dtype=torch.float64))
    horizontal = motion_blur_kernel(9, 0)
    rows = horizontal.sum(1).nonzero().flatten()
    assert len(rows) == 1  # one row
    assert 9 <= int((horizontal.sum(0) > 0).sum()) <= 11  # 9 pixels, ends shared
    assert torch.allclose(motion_blur_kernel(9, 90), horizontal.T, atol=1e-12)


def test_flat_image_stays_flat():
    flat = torch.full((2, 3, 33, 41), 0.37)
    out = motion_blur(flat, 9, 30)
    assert out.shape == flat.shape
    assert torch.allclose(out, flat, atol=1e-6)
    tiny = torch.full((1, 1, 3, 3), 0.5)  # smaller than the kernel: replicate padding
    assert torch.allclose(motion_blur(tiny, 15, 10), tiny, atol=1e-6)


def test_blur_direction_matches_the_angle():
    impulse = torch.zeros(1, 1, 41, 41)
    impulse[..., 20, 20] = 1.0
    out = motion_blur(impulse, 15, 30)[0, 0].double()
    assert out.sum().item() == pytest.approx(1.0, abs=1e-5)
    rows, cols = torch.meshgrid(torch.arange(41.0), torch.arange(41.0), indexing="ij")
    rows, cols = rows.double() - 20, cols.double() - 20
    cov = torch.tensor(
        [
            [(out * cols * cols).sum(), (out * cols * -rows).sum()],
            [(out * cols * -rows).sum(), (out * rows * rows).sum()],
        ]
    )
    _, vectors = torch.linalg.eigh(cov)
    dx, dy = vectors[:, -1].tolist()  # principal axis, y pointing up
    angle = math.degrees(math.atan2(dy, dx)) % 180
    assert angle == pytest.approx(30, abs=2)
    # spread along the path: a uniform segment of length 15 has variance 15^2 / 12
    assert cov.trace().item() == pytest.approx(15**2 / 12, rel=0.1)


def test_per_image_lengths():
    batch = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    out = motion_blur(batch, torch.tensor([1.0, 7.0]), torch.tensor([0.0, 45.0]))
    assert torch.allclose(out[0], batch[0])  # length 1: identity
    assert torch.allclose(out[1:], motion_blur(batch[1:], 7, 45), atol=1e-6)
    assert out[1].std() < batch[1].std()


def test_bad_length():
    with pytest.raises(ValueError, match="length"):
        motion_blur_kernel(0.5, 0)


@pytest.mark.parametrize("channels", [1, 3, 2])
def test_jpeg_round_trip_is_8bit_and_lossy(channels):
    g = torch.Generator().manual_seed(0)
    clean = torch.rand(2, channels, 32, 40, generator=g)
    out = jpeg(clean, 60)
    assert out.shape == clean.shape and out.dtype == clean.dtype
    assert torch.allclose(out * 255, (out * 255).round(), atol=1e-4)
    assert not torch.equal(out, clean)
    assert torch.equal(out, jpeg(clean, 60))  # deterministic


def test_jpeg_lower_quality_loses_more():
    x = torch.linspace(0, 1, 64)
    smooth = (0.5 + 0.4 * torch.sin(x.view(1, -1) * 9) * torch.cos(x.view(-1, 1) * 7)).expand(
        1, 3, 64, 64
    )
    error = [(jpeg(smooth, q) - smooth).square().mean().item() for q in (10, 50, 95)]
    assert error[0] > error[1] > error[2]
    per_image = jpeg(smooth.expand(2, -1, -1, -1), torch.tensor([10, 95]))
    assert torch.equal(per_image[0], jpeg(smooth, 10)[0])
    assert torch.equal(per_image[1], jpeg(smooth, 95)[0])
