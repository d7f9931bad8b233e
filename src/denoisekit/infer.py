"""Inference entry points, kept for existing imports; the code lives in `denoisekit.inference`
(`loaded.py`: load + LoadedDenoiser, `tiles.py`: tiled blending, `batch.py`: files/folders)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import Tensor, nn

from .inference import (
    LoadedDenoiser,
    Summary,
    denoise,
    denoise_paths,
    load,
    parse_sigma,
    tiled_apply,
)

__all__ = [
    "LoadedDenoiser",
    "Summary",
    "denoise",
    "denoise_file",
    "denoise_image",
    "denoise_paths",
    "denoise_tensor",
    "load",
    "parse_sigma",
    "tiled_apply",
]


def denoise_tensor(noisy: Tensor, model: nn.Module, sigma: float | None = None) -> Tensor:
    """(B, C, H, W) in [0, 1] -> denoised (B, C, H, W) float32 in [0, 1], whole image at once."""
    return load(model).denoise_batch(noisy, parse_sigma(sigma), tile=None)


def denoise_image(noisy: Any, model: Any, *, sigma: Any = None) -> Any:
    """Denoise an array or tensor; returns the same kind (see `LoadedDenoiser.denoise`)."""
    return denoise(noisy, model, sigma=sigma)


def denoise_file(
    input_path: str | Path,
    output_path: str | Path,
    *,
    checkpoint: str | Path,
    sigma: str | float | None = None,
) -> Path:
    """Read `input_path`, denoise it with `checkpoint`, write `output_path` atomically."""
    denoise_paths([input_path], output_path, checkpoint=checkpoint, sigma=sigma)
    return Path(output_path)
