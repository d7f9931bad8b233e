"""Per-sigma strengths of the classical denoisers.

Written by benchmarks/tune_classical.py (run it again to reproduce); do not edit by hand.
`values` maps sigma on the 0-255 scale to the chosen `parameter` value ([0, 1] units for
h, weight and sigma_color; px for size and sigma_px); `mean_psnr` is the tuning PSNR.
"""

from __future__ import annotations

from typing import Any

TUNING: dict[str, Any] = {
    "data": "Train400 split 'train', first 8 images, gray 180x180",
    "images": [
        "test_277.png",
        "test_372.png",
        "test_349.png",
        "test_255.png",
        "test_094.png",
        "test_310.png",
        "test_391.png",
        "test_151.png",
    ],
    "noise": "float Gaussian, no clipping; generator seeded with seed + image index",
    "seed": 0,
    "sigmas_255": [15, 25, 50],
    "objective": "highest mean PSNR (data range 1, output clamped to [0, 1], true sigma)",
    "interpolation": "linear in sigma: see denoisekit.classical.base.interpolate_strength",
    "versions": "scikit-image 0.26.0, scipy 1.17.1",
    "seconds": 16.3,
}

STRENGTHS: dict[str, dict[str, Any]] = {
    "bm3d": {
        "parameter": "sigma scale",
        "grid": "not tuned: 1.0, the sigma BM3D's own parameters are designed for",
        "values": {15: 1.0, 25: 1.0, 50: 1.0},
        "mean_psnr": {},
    },
    "nlm": {
        "parameter": "h",
        "grid": "h = 0.6 * sigma * 2 ** (k / 4), k = -4..4",
        "values": {15: 0.04197, 25: 0.05882, 50: 0.1176},
        "mean_psnr": {15: 29.6, 25: 26.99, 50: 23.8},
    },
    "tv": {
        "parameter": "weight",
        "grid": "weight = sigma * 2 ** (k / 4), k = -8..4",
        "values": {15: 0.03498, 25: 0.06932, 50: 0.1961},
        "mean_psnr": {15: 29.28, 25: 26.75, 50: 23.78},
    },
    "wavelet": {
        "parameter": "sigma scale",
        "grid": "sigma scale = 2 ** (k / 4), k = -4..4",
        "values": {15: 1.0, 25: 1.0, 50: 1.0},
        "mean_psnr": {15: 28.31, 25: 25.47, 50: 22.03},
    },
    "bilateral": {
        "parameter": "sigma_color",
        "grid": "sigma_color = sigma * 2 ** (k / 4), k = -4..12",
        "values": {15: 0.1664, 25: 0.3298, 50: 0.7843},
        "mean_psnr": {15: 29.15, 25: 26.27, 50: 23.15},
    },
    "median": {
        "parameter": "size",
        "grid": "size in {1, 3, 5, 7, 9, 11}",
        "values": {15: 3.0, 25: 3.0, 50: 7.0},
        "mean_psnr": {15: 26.09, 25: 24.28, 50: 21.69},
    },
    "gaussian-blur": {
        "parameter": "sigma_px",
        "grid": "sigma_px = 0.5 * 2 ** (k / 4), k = 0..12",
        "values": {15: 0.5946, 25: 0.7071, 50: 1.414},
        "mean_psnr": {15: 27.9, 25: 25.47, 50: 22.84},
    },
}
