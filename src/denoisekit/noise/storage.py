"""How a noisy image is stored, drawn per sample: what a model sees in a user's file.

A saved photo's noise is clipped at black and white and rounded to the file's bit depth; a
model trained only on unclipped float noise loses 0.3-1.75 dB on such files (CBSD68, sigma
15-50). `noise.storage` mixes the forms a training sample can take:

- `float`: unclipped float noise (the published-table protocol);
- `clip`: clipped to [0, 1];
- `8bit`: clipped and rounded to 255 steps (a PNG/JPEG a user saved);
- `16bit`: clipped and rounded to 65535 steps (a 16-bit PNG/TIFF).

A mix is written `float=0.3,clip=0.1,8bit=0.5,16bit=0.1` (weights, normalised to sum to 1) or
names one form (`8bit`). The level a noise-aware model is given stays the std of the noise
before storage: that is what `--sigma 25` means to a user of an 8-bit file.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..errors import ConfigError
from .functional import generator_device, quantize

STORAGE_FORMS = ("float", "clip", "8bit", "16bit")
_LEVELS = {"8bit": 255, "16bit": 65535}

Storage = tuple[tuple[str, float], ...]


def parse_storage(text: str | None) -> Storage:
    """`"float=0.3,8bit=0.7"` -> (("float", 0.3), ("8bit", 0.7)); "" or None -> () (no change).

    Weights are normalised to sum to 1; a form named without a weight counts 1.
    """
    if text is None or not str(text).strip():
        return ()
    weights: dict[str, float] = {}
    for part in str(text).split(","):
        name, _, value = (p.strip() for p in part.partition("="))
        name = name.lower()
        if name not in STORAGE_FORMS:
            raise ConfigError(
                f"noise.storage {text!r}: unknown form {name!r}; use {', '.join(STORAGE_FORMS)}, "
                "e.g. float=0.3,clip=0.1,8bit=0.5,16bit=0.1"
            )
        if name in weights:
            raise ConfigError(f"noise.storage {text!r}: {name} is named twice")
        try:
            weight = float(value) if value else 1.0
        except ValueError:
            raise ConfigError(f"noise.storage {text!r}: {name}={value!r} is not a number") from None
        if not weight >= 0.0 or weight == float("inf"):
            raise ConfigError(f"noise.storage {text!r}: {name} weight must be >= 0, got {value}")
        weights[name] = weight
    total = sum(weights.values())
    if total <= 0.0:
        raise ConfigError(f"noise.storage {text!r}: the weights sum to 0; give one above 0")
    return tuple((name, w / total) for name, w in weights.items() if w > 0.0)


def storage_text(storage: Storage) -> str:
    """The canonical text of a parsed mix (round-trips through `parse_storage`)."""
    return ",".join(f"{name}={weight:g}" for name, weight in storage)


def store(noisy: Tensor, storage: Storage, generator: torch.Generator | None = None) -> Tensor:
    """Each image of `noisy` (B, C, H, W) stored in a form drawn from `storage`.

    One uniform number per image is drawn from `generator` when the mix has more than one form
    (so a single form consumes no randomness); `()` returns `noisy` unchanged.
    """
    if not storage:
        return noisy
    if len(storage) == 1:
        return _stored(noisy, storage[0][0])
    n = noisy.shape[0]
    u = torch.rand(n, generator=generator, dtype=torch.float64, device=generator_device(generator))
    edges = torch.tensor([w for _, w in storage], dtype=torch.float64).cumsum(0)
    which = torch.searchsorted(edges.to(u.device), u, right=True).clamp(max=len(storage) - 1)
    which = which.to(noisy.device)
    out = noisy.clone()
    for index, (name, _) in enumerate(storage):
        chosen = which == index
        if bool(chosen.any()) and name != "float":
            out[chosen] = _stored(noisy[chosen], name)
    return out


def _stored(noisy: Tensor, form: str) -> Tensor:
    if form == "float":
        return noisy
    if form == "clip":
        return noisy.clamp(0.0, 1.0)
    return quantize(noisy, _LEVELS[form])
