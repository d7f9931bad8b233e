"""Pure noise functions: (B, C, H, W) clean tensors in [0, 1] in, noisy tensors out.

`sigma` is a standard deviation in image units ([0, 1] scale): 25/255 on the 0-255 scale is
`sigma=25/255`. Randomness comes only from the explicit `generator`, so a caller decides whether
noise repeats (evaluation: one generator seeded per image) or is fresh (training: per epoch).
Random numbers are drawn where the generator lives and moved to the input's device: a CPU
`torch.Generator()` (evaluation, `denoisekit noise`) gives the same noise on every device, and
a CUDA one (training on a GPU) keeps the drawing off the host, where it would stall the GPU.

Every parameter is a Python number or a (B,) tensor, one value per image. No function clips
its output unless the noise itself is bounded (salt-and-pepper, quantize); see `clip`.
Blur and JPEG, which are degradations rather than noise, live in `degrade.py`.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _per_image(value: float | Tensor, clean: Tensor, name: str = "sigma") -> Tensor:
    """Broadcast a scalar or (B,) parameter to (B, 1, 1, 1), refusing negative values (and a
    `clean` that is not a (B, C, H, W) float batch)."""
    check_batch(clean)
    s = torch.as_tensor(value, dtype=clean.dtype, device=clean.device)
    if s.dim() == 0:
        s = s.expand(clean.shape[0])
    if s.dim() == 1:
        if s.shape[0] != clean.shape[0]:
            raise ValueError(f"{name} has {s.shape[0]} values for a batch of {clean.shape[0]}")
        s = s.view(-1, 1, 1, 1)
    if (s < 0).any():
        raise ValueError(f"{name} must be >= 0, got {s.min().item():g}")
    return s


def check_batch(clean: Tensor) -> None:
    """Noise functions take (B, C, H, W) float tensors; say so instead of broadcasting wrong."""
    if not isinstance(clean, Tensor) or clean.dim() != 4:
        shape = tuple(clean.shape) if hasattr(clean, "shape") else type(clean).__name__
        raise ValueError(
            f"noise takes a (B, C, H, W) tensor, got {shape}; one (C, H, W) image: x.unsqueeze(0)"
        )
    if not clean.is_floating_point():
        raise ValueError(f"noise takes float images in [0, 1], got {clean.dtype}")


def generator_device(generator: torch.Generator | None) -> torch.device:
    """Where `generator` draws its numbers (the CPU without one)."""
    return torch.device("cpu") if generator is None else generator.device


def _randn(clean: Tensor, generator: torch.Generator | None) -> Tensor:
    device = generator_device(generator)
    noise = torch.randn(clean.shape, generator=generator, dtype=clean.dtype, device=device)
    return noise.to(clean.device)


def gaussian(
    clean: Tensor, sigma: float | Tensor, *, generator: torch.Generator | None = None
) -> Tensor:
    """Additive white Gaussian noise with standard deviation `sigma` (scalar, (B,) or a map).

    No clipping: published Gaussian-denoising tables feed the unclipped float image.
    """
    if isinstance(sigma, Tensor) and sigma.dim() == 4:  # a map; `_per_image` checks the rest
        check_batch(clean)
        s = sigma
    else:
        s = _per_image(sigma, clean)
    if (s > 1).any():
        raise ValueError(
            f"sigma {s.max().item():g} is above 1: sigma is in [0, 1] image units (25 on the "
            "0-255 scale is 25/255)"
        )
    return clean + s * _randn(clean, generator)


def poisson(
    clean: Tensor, peak: float | Tensor, *, generator: torch.Generator | None = None
) -> Tensor:
    """Photon (shot) noise: `Poisson(clean * peak) / peak`, `peak` photons at intensity 1.

    Mean `clean`, variance `clean / peak`: a lower peak is a darker, noisier exposure. Values
    below 0 count as 0 photons. The output is >= 0 but not clipped at 1.
    """
    p = _per_image(peak, clean, "peak")
    if (p <= 0).any():
        raise ValueError(f"peak must be > 0, got {p.min().item():g}")
    rate = (clean.clamp(min=0) * p).detach().to(generator_device(generator), torch.float32)
    counts = torch.poisson(rate, generator=generator).to(clean.device, clean.dtype)
    return counts / p


def poisson_gaussian(
    clean: Tensor,
    a: float | Tensor,
    b: float | Tensor,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The standard raw-camera model: variance `a * clean + b` at each pixel.

    Exact, not a Gaussian approximation: `a * Poisson(clean / a)` (shot noise; `a` is the
    gain, intensity per photon) plus Gaussian read noise of variance `b`. So the mean is `clean`
    and the variance `a * clean + b` at every intensity, with the Poisson skew at low counts
    that a Gaussian approximation misses. `a = 0` leaves only the Gaussian part; values
    below 0 count as 0 photons. Not clipped.
    """
    ga = _per_image(a, clean, "a")
    gb = _per_image(b, clean, "b")
    rate = torch.where(ga > 0, clean.clamp(min=0) / ga.clamp(min=1e-30), torch.zeros_like(clean))
    rate = rate.detach().to(generator_device(generator), torch.float32)
    counts = torch.poisson(rate, generator=generator)
    shot = torch.where(ga > 0, ga * counts.to(clean.device, clean.dtype), clean)
    return shot + gb.sqrt() * _randn(clean, generator)


def ramp(
    shape: torch.Size | tuple[int, ...],
    start: float | Tensor,
    end: float | Tensor,
    angle: float | Tensor,
    *,
    like: Tensor,
) -> Tensor:
    """A (B, 1, H, W) map that rises linearly from `start` to `end` across the image.

    `angle` in degrees sets the direction: 0 runs from the left edge to the right one, 90 from
    the top to the bottom (image rows grow downwards), 45 from the top-left corner to the
    bottom-right one. The extreme corners (or edges) take exactly `start` and `end`.
    """
    b, _, h, w = shape
    theta = torch.deg2rad(_angle(angle, like))
    cos, sin = theta.cos(), theta.sin()
    xs = torch.arange(w, device=like.device, dtype=like.dtype).view(1, 1, 1, w) - (w - 1) / 2
    ys = torch.arange(h, device=like.device, dtype=like.dtype).view(1, 1, h, 1) - (h - 1) / 2
    reach = (cos.abs() * (w - 1) + sin.abs() * (h - 1)) / 2  # the projection of a far corner
    t = (xs * cos + ys * sin) / reach.clamp(min=1e-12) / 2 + 0.5
    t = torch.where(reach > 0, t, torch.full_like(t, 0.5))
    lo, hi = _per_image(start, like, "start"), _per_image(end, like, "end")
    return (lo + (hi - lo) * t).expand(b, 1, h, w)


def _angle(angle: float | Tensor, like: Tensor) -> Tensor:
    """An angle (scalar or (B,)) as (B, 1, 1, 1); unlike levels, it may be negative."""
    a = torch.as_tensor(angle, dtype=like.dtype, device=like.device)
    return (a.expand(like.shape[0]) if a.dim() == 0 else a).reshape(-1, 1, 1, 1)


def gaussian_ramp(
    clean: Tensor,
    start: float | Tensor,
    end: float | Tensor,
    angle: float | Tensor = 0.0,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Spatially varying Gaussian noise: std rising linearly from `start` to `end` across the
    image in the direction `angle` (see `ramp`), the same in every channel. Not clipped.

    Noise whose strength changes over the frame (vignetting corrected by gain, uneven light)
    is what a per-pixel noise level map lets a noise-aware model follow.
    """
    return clean + ramp(clean.shape, start, end, angle, like=clean) * _randn(clean, generator)


def correlated_gaussian(
    clean: Tensor,
    sigma: float | Tensor,
    rho: float | Tensor,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Gaussian noise of std `sigma` per channel, correlated across channels with coefficient
    `rho` (0: independent, 1: the same noise in every channel, a gray grain).

    Demosaicing and colour conversion in a camera mix the channels' noise this way. Drawn as
    `sqrt(rho) * shared + sqrt(1 - rho) * own` from two standard normal fields. Not clipped.
    """
    r = _per_image(rho, clean, "rho")
    if (r > 1).any():
        raise ValueError(f"rho must be in [0, 1], got {r.max().item():g}")
    own = _randn(clean, generator)
    shared = _randn(clean[:, :1], generator)
    return clean + _per_image(sigma, clean) * (r.sqrt() * shared + (1 - r).sqrt() * own)


def speckle(
    clean: Tensor, sigma: float | Tensor, *, generator: torch.Generator | None = None
) -> Tensor:
    """Multiplicative noise `clean * (1 + sigma * n)`, n standard normal.

    Standard deviation `sigma * clean`: dark regions stay clean, bright ones get noisy (as in
    ultrasound, radar and laser imaging). Not clipped.
    """
    return clean * (1 + _per_image(sigma, clean) * _randn(clean, generator))


def salt_pepper(
    clean: Tensor,
    amount: float | Tensor,
    ratio: float | Tensor = 0.5,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Impulse noise: a fraction `amount` of the pixels replaced, `ratio` of those by 1 (salt)
    and the rest by 0 (pepper).

    A pixel is a spatial position: all its channels flip together (white or black dots, as a
    dead or hot sensor site shows them, not coloured ones). Draws two uniform numbers per
    pixel from `generator`.
    """
    amt = _per_image(amount, clean, "amount")
    rat = _per_image(ratio, clean, "ratio")
    if (amt > 1).any() or (rat > 1).any():
        raise ValueError("amount and ratio must be in [0, 1]")
    b, _, h, w = clean.shape
    device = generator_device(generator)
    u = torch.rand((b, 2, h, w), generator=generator, dtype=torch.float64, device=device)
    u = u.to(clean.device)
    replaced = u[:, :1] < amt
    salt = (u[:, 1:] < rat).to(clean.dtype)
    return torch.where(replaced, salt, clean)


def uniform_sigma(
    batch: int, low: float, high: float, *, generator: torch.Generator | None = None
) -> Tensor:
    """(B,) noise levels drawn uniformly from [low, high], for blind training, on the
    generator's device."""
    device = generator_device(generator)
    u = torch.rand(batch, generator=generator, dtype=torch.float64, device=device)
    return low + (high - low) * u.float()


def clip(noisy: Tensor) -> Tensor:
    """Clip to the displayable range, as an 8-bit camera pipeline (and the seed projects) would."""
    return noisy.clamp(0.0, 1.0)


def quantize(noisy: Tensor, levels: int | Tensor = 255) -> Tensor:
    """Round to `levels` steps after clipping, like saving the noisy image as 8-bit.

    `levels` is 2**bits - 1 for a bit depth (255: 8-bit, 65535: 16-bit); an int or a (B,)
    tensor. No randomness: the same input always gives the same output.
    """
    q = levels if not isinstance(levels, Tensor) else _per_image(levels, noisy, "levels")
    return torch.round(noisy.clamp(0.0, 1.0) * q) / q
