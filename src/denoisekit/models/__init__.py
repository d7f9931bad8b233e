"""Neural denoisers, one family per module; importing this package registers them all.

To add a family: write `models/<family>.py` with `@register_model("name")` classes and import
it below. Shared pieces live in `base.py` (padding, `Denoiser`) and `blocks.py` (layers).
"""

from __future__ import annotations

from . import (  # noqa: F401  (imported for their registrations)
    attention_unet,
    autoencoder,
    dncnn,
    drunet,
    nafnet,
    unet,
)
from .base import Denoiser, crop_to, expand_sigma, pad_to_multiple

__all__ = ["Denoiser", "crop_to", "expand_sigma", "pad_to_multiple"]
