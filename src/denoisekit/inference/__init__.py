"""Inference: load a model by name or path and denoise arrays, tensors, files and folders.

- `loaded.py`: `load(...)` -> `LoadedDenoiser` (`.denoise(image, sigma, tile, overlap)`), the
  channel rules (gray model on colour, colour model on gray, alpha).
- `auto.py`: `load("auto")` -> `AutoDenoiser`, the per-image model choice `denoise` makes.
- `levels.py`: `--sigma` values and the `strength` factor on the level a model gets.
- `tiles.py`: tiled inference with overlap blending, so memory is bounded by the tile size.
- `precision.py`: fp32 or bf16 autocast at inference (`auto`: bf16 where the device has it).
- `device.py`: `auto` / `cpu` / `cuda` / `cuda:N`, checked up front (`auto`: the GPU if any).
- the runtime (PyTorch, onnxruntime, OpenVINO) that runs a network: `../runtimes/`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .auto import AutoDenoiser
from .device import resolve_device
from .loaded import LoadedDenoiser, parse_sigma
from .loading import load, named_models
from .tiles import (
    Progress,
    check_tiling,
    ramp_window,
    tile_count,
    tile_layout,
    tiled_apply,
    tiled_bands,
)

__all__ = [
    "AutoDenoiser",
    "LoadedDenoiser",
    "check_tiling",
    "denoise",
    "load",
    "named_models",
    "parse_sigma",
    "ramp_window",
    "resolve_device",
    "tile_count",
    "tile_layout",
    "tiled_apply",
    "tiled_bands",
]

# Models `denoise` loaded by name, reused across calls; keyed by (weights folder, name, device,
# runtime), so a converted network is converted once per process.
_BY_NAME: dict[tuple[str, str, str, str], LoadedDenoiser] = {}


def denoise(
    image: Any,
    model: str | nn.Module | LoadedDenoiser | AutoDenoiser | None = None,
    *,
    sigma: Any = None,
    tile: int | None = 512,
    overlap: int = 32,
    strength: float = 1.0,
    precision: str | None = None,
    device: str | torch.device | None = None,
    progress: Progress | None = None,
    runtime: str | None = None,
) -> Any:
    """Denoise one image (array or tensor, see `LoadedDenoiser.denoise`) in one call.

    `model`: a pretrained or classical name, a checkpoint path, an `nn.Module` or a loaded
    model; None (or "auto") picks a pretrained one for the image (`choose.py`: gray-blind for gray,
    color-blind for colour, gray-camera / color-camera for camera grain or JPEG when `sigma`
    is not given).
    Models given by name are loaded once per device and kept for the next call. `strength`:
    see `LoadedDenoiser.denoise`; `precision` and `device` (None: "auto", the GPU when torch
    sees one, for a model given by name or path): see `load`. The result comes back on the
    image's device. `progress(done, total)` is called after each tile (see `tiles.py`).
    `runtime`: "torch" (None), "onnxruntime", "openvino" or "auto" (see `load`).
    """
    from ..checkpoints.pretrained import weights_dir
    from .choose import choose_pretrained

    if model is None or (isinstance(model, str) and model == "auto"):
        model = choose_pretrained(image, blind=parse_sigma(sigma) is None)
    if isinstance(model, str) and any(model in names for names in named_models()):
        where = resolve_device(device if device is not None else "auto")
        key = (str(weights_dir()), model, str(where), runtime or "torch")
        if key not in _BY_NAME:
            _BY_NAME[key] = load(model, device=where, runtime=runtime)
        model, device = _BY_NAME[key], None
    loaded = load(model, precision=precision, device=device, runtime=runtime)
    return loaded.denoise(image, sigma, tile, overlap, strength=strength, progress=progress)
