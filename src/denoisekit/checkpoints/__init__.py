"""Checkpoints and shipped weights, the files both training and inference stand on.

- `checkpoint.py`: `NAME.safetensors` + `NAME.json` save and load (never unpickles; the
  weights' header names their model and kwargs), optimizer state for `--resume`.
- `pretrained.py`: the weights shipped in `denoisekit/weights/` (or `$DENOISEKIT_WEIGHTS`):
  names, lookup, model cards.
"""

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use: `pretrained` is read by `denoisekit models` and the CLI's help without
# torch, which `checkpoint` needs.
_HOMES = {
    **dict.fromkeys(
        (
            "load_checkpoint",
            "load_training_state",
            "read_meta",
            "save_checkpoint",
            "weights_header",
        ),
        "checkpoint",
    ),
    **dict.fromkeys(
        (
            "default_pretrained",
            "find_weights",
            "pretrained_info",
            "pretrained_names",
            "resolve_weights",
            "weights_dir",
        ),
        "pretrained",
    ),
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    if name in ("checkpoint", "pretrained"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'denoisekit.checkpoints' has no attribute {name!r}")
