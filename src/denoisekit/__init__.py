"""denoisekit: remove noise from images.

`import denoisekit` stays light: torch, models, data and training load when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from .registry import create_model, list_models, register_model  # noqa: E402

__all__ = ["__version__", "create_model", "denoise", "list_models", "load", "register_model"]

_LAZY_SUBMODULES = {"metrics", "noise", "data", "io", "models", "train", "evaluate", "report"}


def __getattr__(name: str) -> Any:
    # `denoisekit.metrics.psnr` works after a bare `import denoisekit`, without importing torch
    # at package import time.
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'denoisekit' has no attribute {name!r}")


def load(checkpoint: str):
    """Rebuild a model from a `.safetensors` + `.json` checkpoint (never unpickles)."""
    from .train.checkpoint import load_checkpoint

    return load_checkpoint(checkpoint)[0]


def denoise(noisy, model, *, sigma: float | None = None):
    """Denoise an image array (HWC/HW, uint8/uint16/float) or a (B,C,H,W) tensor in [0,1].

    `model` is a loaded model or a checkpoint path; returns the same kind of input it was given.
    """
    from .infer import denoise_image

    return denoise_image(noisy, model, sigma=sigma)
