"""Noise models: pure functions in `functional`, `degrade` and `camera`, the kinds a spec string
can name in `kinds`, spec strings parsed in `pipeline`, blind noise-level estimation in
`estimate`."""

from .camera import camera_pipeline
from .degrade import jpeg, motion_blur, motion_blur_kernel
from .functional import (
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
from .pipeline import (
    NoiseModel,
    Stage,
    noise_examples,
    noise_kinds,
    parse_level,
    parse_noise,
    read_spec_file,
)

__all__ = [
    "NoiseModel",
    "Stage",
    "camera_pipeline",
    "clip",
    "correlated_gaussian",
    "gaussian",
    "gaussian_ramp",
    "jpeg",
    "motion_blur",
    "motion_blur_kernel",
    "noise_examples",
    "noise_kinds",
    "parse_level",
    "parse_noise",
    "poisson",
    "poisson_gaussian",
    "quantize",
    "ramp",
    "read_spec_file",
    "salt_pepper",
    "speckle",
    "uniform_sigma",
]
