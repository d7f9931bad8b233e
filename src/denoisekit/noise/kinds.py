"""The noise kinds a spec string can name: their parameters, limits, examples and noise level.

Each kind ties a pure function (`functional.py`, `degrade.py`) to the names and limits of its
parameters, so `pipeline.parse_noise` can check a spec and show a valid example for the kind,
and to the per-image noise level it adds, which noise-level-aware models take as input.
Adding a kind: one function plus one `Kind(...)` entry below.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from . import camera, degrade
from . import functional as nf

Params = dict[str, Tensor]  # parameter name -> (B,) values, one per image


@dataclass(frozen=True)
class Param:
    """One parameter of a kind: allowed values are `low <= v <= high` (`low < v` if `above`)."""

    name: str
    low: float
    high: float = math.inf
    default: float | None = None  # None: required
    above: bool = False
    integer: bool = False
    unit: bool = False  # a level in [0, 1] image units: `25` is refused with a `25/255` hint

    def problem(self, value: float) -> str | None:
        """What is wrong with `value` ("must be >= 0"), or None when it is allowed."""
        if value < self.low or (self.above and value == self.low):
            return f"must be {'>' if self.above else '>='} {self.low:g}"
        if value > self.high:
            return f"must be <= {self.high:g}"
        return None


@dataclass(frozen=True)
class Kind:
    """A noise kind: `apply(x, params, generator)` returns the degraded batch; `level(x, y,
    params)` the (B,) standard deviation it added going from x to y; `nominal(values)` that
    standard deviation on a flat mid-gray (0.5) image, for a single representative number;
    `pixel(intensity, params)` the standard deviation at each pixel, (B, 1, H, W), given the
    local intensity there (B, 1, H, W): None for kinds whose level does not follow the signal
    (`NoiseModel.level_map` spreads their `nominal` level over every pixel)."""

    name: str
    params: tuple[Param, ...]
    example: str
    about: str
    apply: Callable[[Tensor, Params, torch.Generator | None], Tensor]
    level: Callable[[Tensor, Tensor, Params], Tensor]
    nominal: Callable[[dict[str, float]], float]
    pixel: Callable[[Tensor, Params], Tensor] | None = None


def _mean(x: Tensor) -> Tensor:
    return x.flatten(1).mean(1)


def _rms(x: Tensor) -> Tensor:
    return x.flatten(1).square().mean(1).sqrt()


def _zero(x: Tensor, y: Tensor, p: Params) -> Tensor:
    return torch.zeros(x.shape[0], device=x.device)


def _changed(x: Tensor, y: Tensor, p: Params) -> Tensor:
    """Measured: the root mean square of what the stage changed, per image."""
    return _rms((y - x).float())


def _salt_pepper_level(x: Tensor, p: Params) -> Tensor:
    """Expected root mean square change: amount * E[ratio (1 - x)^2 + (1 - ratio) x^2]."""
    amount, ratio = (p[k].to(x.device).view(-1, 1, 1, 1) for k in ("amount", "ratio"))
    square = ratio * (1 - x) ** 2 + (1 - ratio) * x**2
    return (amount.flatten() * _mean(square.float())).sqrt()


def _per_image(p: Params, name: str, like: Tensor) -> Tensor:
    """Parameter `name` shaped (B, 1, 1, 1) to broadcast against a (B, 1, H, W) map."""
    return p[name].to(like.device, like.dtype).view(-1, 1, 1, 1)


def _ramp_map(like: Tensor, p: Params) -> Tensor:
    """The (B, 1, H, W) std map of a gaussian-ramp stage on images shaped like `like`."""
    return nf.ramp(like.shape, p["start"], p["end"], p["angle"], like=like.float()).to(like)


def _share(bayer: float | Tensor) -> float | Tensor:
    """The raw variance left after the camera pipeline's demosaicing: 7/12 with it, 1 without."""
    return 1 + (camera.DEMOSAIC_VARIANCE - 1) * bayer


def _levels(bits: Tensor) -> Tensor:
    return 2.0 ** bits.round() - 1


_KINDS = (
    Kind(
        "gaussian",
        (Param("sigma", 0.0, 1.0, unit=True),),
        "gaussian:0.1 or gaussian:0-50/255",
        "additive white Gaussian noise, std sigma in [0,1] units",
        lambda x, p, g: nf.gaussian(x, p["sigma"], generator=g),
        lambda x, y, p: p["sigma"],
        lambda v: v["sigma"],
        lambda i, p: _per_image(p, "sigma", i).expand_as(i),
    ),
    Kind(
        "gaussian-ramp",
        (
            Param("start", 0.0, 1.0, unit=True),
            Param("end", 0.0, 1.0, unit=True),
            Param("angle", -360.0, 360.0, default=0.0),
        ),
        "gaussian-ramp:5/255,50/255,angle=0-360",
        "Gaussian noise whose std rises from start to end across the image (angle in degrees: "
        "0 left to right, 90 top to bottom)",
        lambda x, p, g: nf.gaussian_ramp(x, p["start"], p["end"], p["angle"], generator=g),
        lambda x, y, p: _rms(_ramp_map(x, p).float()),
        lambda v: math.sqrt((v["start"] ** 2 + v["start"] * v["end"] + v["end"] ** 2) / 3),
        lambda i, p: _ramp_map(i, p),
    ),
    Kind(
        "gaussian-correlated",
        (Param("sigma", 0.0, 1.0, unit=True), Param("rho", 0.0, 1.0)),
        "gaussian-correlated:25/255,rho=0.5",
        "Gaussian noise of std sigma in each channel, correlated across channels by rho",
        lambda x, p, g: nf.correlated_gaussian(x, p["sigma"], p["rho"], generator=g),
        lambda x, y, p: p["sigma"],
        lambda v: v["sigma"],
        lambda i, p: _per_image(p, "sigma", i).expand_as(i),
    ),
    Kind(
        "poisson",
        (Param("peak", 0.0, above=True),),
        "poisson:30",
        "photon noise, peak photons at intensity 1 (variance x/peak)",
        lambda x, p, g: nf.poisson(x, p["peak"], generator=g),
        lambda x, y, p: (_mean(x.clamp(min=0).float()) / p["peak"].to(x.device)).sqrt(),
        lambda v: math.sqrt(0.5 / v["peak"]),
        lambda i, p: (i.clamp(min=0) / _per_image(p, "peak", i)).sqrt(),
    ),
    Kind(
        "poisson-gaussian",
        (Param("a", 0.0, 1.0), Param("b", 0.0, 1.0)),
        "poisson-gaussian:a=0.01,b=0.0004",
        "camera noise, variance a*x + b (scaled Poisson + Gaussian read noise)",
        lambda x, p, g: nf.poisson_gaussian(x, p["a"], p["b"], generator=g),
        lambda x, y, p: (
            p["a"].to(x.device) * _mean(x.clamp(min=0).float()) + p["b"].to(x.device)
        ).sqrt(),
        lambda v: math.sqrt(0.5 * v["a"] + v["b"]),
        lambda i, p: (_per_image(p, "a", i) * i.clamp(min=0) + _per_image(p, "b", i)).sqrt(),
    ),
    Kind(
        "camera-pipeline",
        (
            Param("a", 0.0, 1.0),
            Param("b", 0.0, 1.0),
            Param("bayer", 0.0, 1.0, default=1.0, integer=True),
        ),
        "camera-pipeline:a=0.004,b=0.0001 (add +jpeg:85 for a saved photo)",
        "raw Poisson-Gaussian noise (variance a*L + b in linear light L) through a Bayer "
        "mosaic, bilinear demosaicing (bayer=0: none, white noise) and the sRGB curve, "
        "clipped: a camera's grain",
        lambda x, p, g: camera.camera_pipeline(x, p["a"], p["b"], p["bayer"], generator=g),
        _changed,
        lambda v: float(
            camera.camera_pipeline_std(torch.tensor(0.5), v["a"], v["b"], _share(v["bayer"]))
        ),
        lambda i, p: camera.camera_pipeline_std(
            i, _per_image(p, "a", i), _per_image(p, "b", i), _share(_per_image(p, "bayer", i))
        ),
    ),
    Kind(
        "speckle",
        (Param("sigma", 0.0, 1.0),),
        "speckle:0.1",
        "multiplicative noise x*(1 + sigma*n), std sigma*x",
        lambda x, p, g: nf.speckle(x, p["sigma"], generator=g),
        lambda x, y, p: p["sigma"].to(x.device) * _rms(x.float()),
        lambda v: 0.5 * v["sigma"],
        lambda i, p: _per_image(p, "sigma", i) * i.clamp(min=0),
    ),
    Kind(
        "salt-pepper",
        (Param("amount", 0.0, 1.0), Param("ratio", 0.0, 1.0, default=0.5)),
        "salt-pepper:0.05,0.5 or salt-pepper:amount=0.05,ratio=0.5",
        "impulse noise: a fraction amount of pixels set to 1 (ratio of them) or 0",
        lambda x, p, g: nf.salt_pepper(x, p["amount"], p["ratio"], generator=g),
        lambda x, y, p: _salt_pepper_level(x, p),
        lambda v: math.sqrt(v["amount"] * 0.25),
    ),
    Kind(
        "motion-blur",
        (Param("length", 1.0, 255.0), Param("angle", -360.0, 360.0, default=0.0)),
        "motion-blur:9,30 (length 9 pixels, angle 30 degrees)",
        "linear motion blur, length pixels at angle degrees (adds no noise)",
        lambda x, p, g: degrade.motion_blur(x, p["length"], p["angle"]),
        _zero,
        lambda v: 0.0,
    ),
    Kind(
        "jpeg",
        (Param("quality", 1.0, 100.0, integer=True),),
        "jpeg:60",
        "JPEG round trip at quality 1-100 (Pillow, 8-bit)",
        lambda x, p, g: degrade.jpeg(x, p["quality"]),
        _changed,
        lambda v: 0.0,
    ),
    Kind(
        "quantize",
        (Param("bits", 1.0, 16.0, integer=True),),
        "quantize:8",
        "clip and round to a bit depth (8: 256 levels)",
        lambda x, p, g: nf.quantize(x, _levels(p["bits"])),
        _changed,
        lambda v: 1 / (2 ** v["bits"] - 1) / math.sqrt(12),
    ),
)

KINDS: dict[str, Kind] = {kind.name: kind for kind in _KINDS}
