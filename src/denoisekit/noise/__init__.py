"""Noise models: pure functions in `functional`, spec strings parsed in `pipeline`."""

from .functional import clip, gaussian, quantize, uniform_sigma
from .pipeline import NoiseModel, noise_kinds, parse_level, parse_noise

__all__ = [
    "NoiseModel",
    "clip",
    "gaussian",
    "noise_kinds",
    "parse_level",
    "parse_noise",
    "quantize",
    "uniform_sigma",
]
