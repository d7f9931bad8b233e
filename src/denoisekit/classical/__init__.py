"""Classical denoisers registered like networks: `create_model("nlm")`, `model(noisy, sigma)`.

bm3d, nlm, tv, wavelet, bilateral, median, gaussian-blur. Each takes a (B, C, H, W) batch in
[0, 1] and the noise std per image (given, or estimated from the image when None), and picks its
strength from `strengths.py`: tuned per sigma on Train400 by `benchmarks/tune_classical.py`,
never on the test sets. `bm3d` needs the optional extra: pip install 'denoisekit[classical]'.
"""

from . import methods  # noqa: F401  (imported for its registrations)
from .base import ClassicalDenoiser, estimate_noise_sigma, interpolate_strength
from .strengths import STRENGTHS, TUNING

__all__ = [
    "STRENGTHS",
    "TUNING",
    "ClassicalDenoiser",
    "estimate_noise_sigma",
    "interpolate_strength",
]
