"""The numeric precision a training run computes in, as Lightning Fabric names it.

Apart from `inference/precision.py`, which picks fp32 or bf16 for a loaded model: training
picks one of Fabric's precision plugins (mixed or true, 16, 32 or 64 bits).
"""

from __future__ import annotations

import torch

from ..errors import ConfigError
from ..inference.precision import native_bf16

PRECISIONS = ("auto", "32-true", "bf16-mixed", "16-mixed", "bf16-true", "16-true", "64-true")


def resolve_precision(precision: str, accelerator: str) -> str:
    """'auto' -> bf16-mixed where the device computes bf16 natively, else 32-true."""
    if precision not in PRECISIONS:
        raise ConfigError(f"train.precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    use_cuda = accelerator in ("cuda", "gpu") or (
        accelerator == "auto" and torch.cuda.is_available()
    )
    if use_cuda:
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return "bf16-mixed" if native_bf16(torch.device("cpu")) else "32-true"
