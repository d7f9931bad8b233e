"""`train.init`: the weights a run starts from, a pretrained name or a checkpoint path."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..checkpoints.checkpoint import load_checkpoint, read_meta
from ..checkpoints.pretrained import resolve_weights
from ..errors import ConfigError


def initial_weights(
    spec: str, model_name: str, kwargs: dict[str, Any], grow_into: nn.Module | None = None
) -> dict[str, torch.Tensor]:
    """The state dict named by `train.init`: a pretrained name or a checkpoint path.

    Refuses weights of another architecture or other kwargs, naming both, because loading them
    would fail halfway or (with matching shapes) silently start from the wrong network. With
    `grow_into` (`train.grow`), weights of a smaller network of the same architecture are
    expanded by its `grown_state` (drunet: more blocks per level) instead.
    """
    path = resolve_weights(spec, "train.init")
    meta = read_meta(path)
    same_model = meta.get("model") == model_name
    if grow_into is not None and not hasattr(grow_into, "grown_state"):
        raise ConfigError(f"train.grow: {model_name} cannot grow (drunet can); set it to false")
    if same_model and grow_into is not None:
        return grow_into.grown_state(load_checkpoint(path, fusion=False)[0])
    if not same_model or (meta.get("kwargs") or {}) != kwargs:
        raise ConfigError(
            f"train.init: {spec} is {meta.get('model')} {meta.get('kwargs')}, the config trains "
            f"{model_name} {kwargs}; set model.name and model.kwargs to match"
        )
    return load_checkpoint(path, fusion=False)[0].state_dict()
