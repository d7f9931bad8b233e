"""Measured statistics of each pure noise function against its parameters, on large flat
images (262k pixels per level: a sample variance is then within ~0.3% of the truth, so the
tolerances below are ~10 standard errors wide), and determinism from the generator."""

import pytest
import torch

from denoisekit.noise import (
    clip,
    correlated_gaussian,
    gaussian,
    gaussian_ramp,
    poisson,
    poisson_gaussian,
    quantize,
    ramp,
    salt_pepper,
    speckle,
    uniform_sigma,
)

LEVELS = (0.05, 0.2, 0.5, 0.8)


def _flat(levels=LEVELS, size=256, channels=1):
    """One flat image per gray level: (len(levels), channels, size, size)."""
    return torch.tensor(levels).view(-1, 1, 1, 1).expand(-1, channels, size, size).clone()


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


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


def test_quantize_levels_per_image():
    ramp = torch.linspace(0, 1, 1000).view(1, 1, 1, -1).expand(2, 1, 1, -1)
    q = quantize(ramp, torch.tensor([15.0, 3.0]))
    assert torch.allclose(q[0].unique() * 15, torch.arange(16.0), atol=1e-5)
    assert torch.allclose(q[1].unique() * 3, torch.arange(4.0), atol=1e-5)
    # rounding error on a ramp is uniform in +-step/2: std step / sqrt(12)
    assert (q[0] - ramp[0]).std().item() == pytest.approx(1 / 15 / 12**0.5, rel=0.05)


def test_poisson_mean_and_variance_x_over_peak():
    clean = _flat()
    noisy = poisson(clean, 30.0, generator=_gen())
    for i, x in enumerate(LEVELS):
        assert noisy[i].mean().item() == pytest.approx(x, rel=0.01)
        assert noisy[i].var().item() == pytest.approx(x / 30, rel=0.03)
    counts = noisy * 30  # whole photon counts
    assert torch.allclose(counts, counts.round(), atol=1e-3)


def test_poisson_gaussian_variance_is_a_x_plus_b():
    a, b = 0.01, 0.0004
    clean = _flat()
    noisy = poisson_gaussian(clean, a, b, generator=_gen())
    means = noisy.flatten(1).mean(1)
    variances = noisy.flatten(1).var(1)
    for i, x in enumerate(LEVELS):
        assert means[i].item() == pytest.approx(x, abs=0.001)
        assert variances[i].item() == pytest.approx(a * x + b, rel=0.03)
    # a straight-line fit of variance against intensity recovers a and b
    xs = torch.tensor(LEVELS, dtype=torch.float64)
    slope, intercept = torch.linalg.lstsq(
        torch.stack([xs, torch.ones_like(xs)], 1), variances.double().unsqueeze(1)
    ).solution.flatten()
    assert slope.item() == pytest.approx(a, rel=0.03)
    assert intercept.item() == pytest.approx(b, rel=0.15)


def test_poisson_gaussian_edge_cases_and_per_image_parameters():
    clean = _flat((0.5, 0.5))
    noisy = poisson_gaussian(
        clean, torch.tensor([0.0, 0.02]), torch.tensor([0.0001, 0.0]), generator=_gen()
    )
    assert noisy[0].var().item() == pytest.approx(0.0001, rel=0.03)  # a = 0: Gaussian only
    assert noisy[1].var().item() == pytest.approx(0.01, rel=0.03)  # b = 0: shot noise only


def test_speckle_variance_proportional_to_x_squared():
    clean = _flat((0.0, 0.2, 0.5, 0.9))
    noisy = speckle(clean, 0.1, generator=_gen())
    assert torch.equal(noisy[0], clean[0])  # black stays black
    for i, x in enumerate((0.2, 0.5, 0.9), start=1):
        assert noisy[i].mean().item() == pytest.approx(x, rel=0.005)
        assert noisy[i].var().item() == pytest.approx((0.1 * x) ** 2, rel=0.03)


def test_salt_pepper_flipped_fraction_and_salt_ratio():
    clean = _flat((0.5,), size=512, channels=3)
    noisy = salt_pepper(clean, 0.1, 0.3, generator=_gen())
    changed = (noisy != clean).any(1)  # (1, H, W)
    assert changed.float().mean().item() == pytest.approx(0.1, abs=0.004)
    assert torch.equal((noisy != clean).all(1), changed)  # all channels flip together
    salt = (noisy == 1).all(1) & changed
    assert (salt.sum() / changed.sum()).item() == pytest.approx(0.3, abs=0.01)
    assert set(noisy[:, :, changed[0]].unique().tolist()) == {0.0, 1.0}


def test_salt_pepper_limits():
    clean = _flat((0.5,), size=32)
    assert torch.equal(salt_pepper(clean, 0.0, generator=_gen()), clean)
    assert set(salt_pepper(clean, 1.0, 1.0, generator=_gen()).unique().tolist()) == {1.0}
    with pytest.raises(ValueError, match="amount"):
        salt_pepper(clean, 1.5)


def test_gaussian_ramp_std_follows_the_ramp_in_its_direction():
    clean = torch.full((1, 1, 512, 512), 0.5)
    for angle, axis in ((0, 3), (90, 2)):
        noise = gaussian_ramp(clean, 0.02, 0.2, angle, generator=_gen()) - clean
        std_map = ramp(clean.shape, 0.02, 0.2, angle, like=clean)
        for band in range(8):  # 64-pixel bands across the ramp: 32k samples each
            sl = [slice(None)] * 4
            sl[axis] = slice(band * 64, (band + 1) * 64)
            expected = float(std_map[tuple(sl)].square().mean().sqrt())
            assert float(noise[tuple(sl)].std()) == pytest.approx(expected, rel=0.03)
    corners = ramp((1, 1, 5, 9), 0.1, 0.3, 45, like=clean)
    assert float(corners[0, 0, 0, 0]) == pytest.approx(0.1)
    assert float(corners[0, 0, -1, -1]) == pytest.approx(0.3)
    assert torch.allclose(ramp((1, 1, 1, 1), 0.1, 0.3, 0, like=clean), torch.tensor(0.2))


def test_correlated_gaussian_channel_std_and_correlation():
    clean = _flat((0.5,), channels=3, size=512)
    for rho in (0.0, 0.5, 1.0):
        noise = (correlated_gaussian(clean, 0.1, rho, generator=_gen()) - clean)[0].flatten(1)
        assert noise.std(1).tolist() == pytest.approx([0.1] * 3, rel=0.01)
        corr = torch.corrcoef(noise)
        assert corr[0, 1] == pytest.approx(rho, abs=0.01)
        assert corr[1, 2] == pytest.approx(rho, abs=0.01)
    with pytest.raises(ValueError, match="rho"):
        correlated_gaussian(clean, 0.1, 1.5)


RANDOM_NOISES = pytest.mark.parametrize(
    "fn",
    [
        lambda x, g: gaussian(x, 0.1, generator=g),
        lambda x, g: poisson(x, 10.0, generator=g),
        lambda x, g: poisson_gaussian(x, 0.01, 0.001, generator=g),
        lambda x, g: speckle(x, 0.2, generator=g),
        lambda x, g: salt_pepper(x, 0.2, generator=g),
        lambda x, g: gaussian_ramp(x, 0.0, 0.2, 30, generator=g),
        lambda x, g: correlated_gaussian(x, 0.1, 0.5, generator=g),
        lambda x, g: uniform_sigma(2, 0.0, 0.2, generator=g),
    ],
    ids=["gaussian", "poisson", "pg", "speckle", "salt_pepper", "ramp", "corr", "uniform_sigma"],
)


@RANDOM_NOISES
def test_same_seed_same_noise(fn):
    clean = torch.rand(2, 3, 24, 20, generator=_gen(9))
    assert torch.equal(fn(clean, _gen(1)), fn(clean, _gen(1)))
    assert not torch.equal(fn(clean, _gen(1)), fn(clean, _gen(2)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@RANDOM_NOISES
def test_a_cuda_generator_draws_on_the_gpu_and_repeats(fn):
    # training on a GPU draws its noise there (train/loop.py); nothing may fall back to the host
    def gen(seed):
        return torch.Generator(device="cuda").manual_seed(seed)

    clean = torch.rand(2, 3, 24, 20, generator=_gen(9)).cuda()
    out = fn(clean, gen(1))
    assert out.device.type == "cuda"
    assert torch.equal(out, fn(clean, gen(1)))
    assert not torch.equal(out, fn(clean, gen(2)))
