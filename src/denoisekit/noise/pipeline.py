"""Noise spec strings, parsed in one place: `gaussian:0.1`, `gaussian:25/255`, `gaussian:0-0.2`.

A spec becomes a `NoiseModel`: call it with a clean batch and a generator and it returns the
noisy batch and the (B,) noise level it used, which noise-level-aware models can take.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from ..errors import ConfigError, unknown
from . import functional as nf

_NUMBER = r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"


def parse_level(text: str, *, what: str = "sigma") -> float:
    """A level written `0.1`, `25/255` or `25` is read as [0,1] units (`25` alone is refused)."""
    text = text.strip()
    m = re.fullmatch(rf"({_NUMBER})(?:/({_NUMBER}))?", text)
    if text.startswith("-"):
        raise ConfigError(f"{what} must be >= 0, got {text}")
    if not m:
        raise ConfigError(f"{what} {text!r} is not a number; write e.g. 0.1 or 25/255")
    value = float(m.group(1)) / (float(m.group(2)) if m.group(2) else 1.0)
    if value > 1.0:
        raise ConfigError(
            f"{what} {text} is above 1: sigma is in [0,1] image units; write {text}/255 for 0-255"
        )
    return value


@dataclass(frozen=True)
class NoiseModel:
    """A parsed noise spec; `__call__(clean, generator) -> (noisy, sigma per image)`."""

    spec: str
    kind: str
    low: float
    high: float
    clip: bool = False

    @property
    def sigma(self) -> float:
        """A representative level (the midpoint of a range)."""
        return (self.low + self.high) / 2

    def at_midpoint(self) -> NoiseModel:
        """The same noise at one fixed level: how a range spec is evaluated."""
        mid = self.sigma
        return NoiseModel(f"{self.kind}:{mid:.6g}", self.kind, mid, mid, self.clip)

    def __call__(self, clean: Tensor, generator: torch.Generator | None = None):
        n = clean.shape[0]
        if self.low == self.high:
            sigma = torch.full((n,), self.low)
        else:
            sigma = nf.uniform_sigma(n, self.low, self.high, generator=generator)
        noisy = _APPLY[self.kind](clean, sigma.to(clean.dtype), generator)
        if self.clip:
            noisy = nf.clip(noisy)
        return noisy, sigma


_APPLY: dict[str, Callable[[Tensor, Tensor, torch.Generator | None], Tensor]] = {
    "gaussian": lambda clean, sigma, g: nf.gaussian(clean, sigma, generator=g),
}


def parse_noise(spec: str, *, clip: bool = False) -> NoiseModel:
    """Parse `kind:level` or `kind:low-high`; errors name the bad part and the known kinds."""
    if not isinstance(spec, str) or ":" not in spec:
        raise ConfigError(f"noise spec {spec!r} must look like 'gaussian:0.1' or 'gaussian:0-0.2'")
    kind, _, arg = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in _APPLY:
        raise unknown("noise", kind, _APPLY)
    arg = arg.strip()
    m = re.fullmatch(r"(.+?)-(.+)", arg) if not arg.startswith("-") else None
    if m:
        low, high = parse_level(m.group(1)), parse_level(m.group(2))
        if low > high:
            raise ConfigError(f"noise range {arg!r} has low > high")
    else:
        low = high = parse_level(arg)
    return NoiseModel(spec=spec, kind=kind, low=low, high=high, clip=clip)


def noise_kinds() -> list[str]:
    return sorted(_APPLY)
