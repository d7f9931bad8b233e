"""denoisekit: remove noise from images.

`import denoisekit` stays light: torch, models, data and training load when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from .registry import create_model, list_models, register_model  # noqa: E402

__all__ = ["__version__", "create_model", "denoise", "list_models", "load", "register_model"]

_LAZY_SUBMODULES = {
    *("metrics", "noise", "data", "io", "models", "train", "evaluate", "report"),
    *("inference", "classical", "benchmark", "checkpoints", "calibration", "batch"),
}


def __getattr__(name: str) -> Any:
    # `denoisekit.metrics.psnr` works after a bare `import denoisekit`, without importing torch
    # at package import time.
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'denoisekit' has no attribute {name!r}")


def load(source="auto", *, precision=None, device=None, runtime=None):
    """A model ready to denoise many images: `denoisekit.load()`, `denoisekit.load("gray-blind")`.

    `source`: "auto" (the default; None too) gives each image the pretrained model
    `denoisekit.denoise` and the CLI pick for it: gray-blind or color-blind, or gray-camera /
    color-camera when the noise reads as camera grain or JPEG and no sigma is given, so its
    results are theirs; use it unless you know which model you want (`.choose(image)` says
    which one an image gets). A fixed name gives that model for every image, with no choice:
    a pretrained name (listed by `denoisekit models`), a classical filter name ("nlm", "bm3d",
    ...), a checkpoint path (`.safetensors` + `.json`, never unpickled) or an `nn.Module`.
    Both have `.denoise(image, sigma=None, tile=512, overlap=32, strength=1.0)`; a fixed model
    is a `LoadedDenoiser` with `.model` (the nn.Module) and `.info` (its metadata).
    `precision`: "fp32" (the default), "bf16" or "auto" (bf16 where the CPU/GPU computes it
    natively: about 2.3x faster on such a CPU, at 0.001 dB; what `denoisekit denoise` uses, so
    pass "auto" for the CLI's exact numbers there). `device`: "auto" (a CUDA GPU when torch
    sees one, else the CPU; the default for names and paths), "cpu", "cuda" or "cuda:N"; an
    `nn.Module` given without one stays where it is. `runtime`: "torch" (the default),
    "onnxruntime", "openvino" or "auto" (the fastest one installed for this CPU, what
    `denoisekit denoise` uses; the converted network is cached on disk, see `runtimes/`).
    """
    from .inference import load as _load

    return _load(source, precision=precision, device=device, runtime=runtime)


def denoise(
    image,
    model=None,
    *,
    sigma=None,
    tile: int | None = 512,
    overlap: int = 32,
    strength: float = 1.0,
    precision: str | None = None,
    device: str | None = None,
    progress=None,
    runtime: str | None = None,
):
    """Denoise one image: an array (HW/HWC, uint8/uint16/float) or a tensor ((C,H,W)/(B,C,H,W)).

    Returns the same kind, dtype and layout. `model`: a name or checkpoint path (see `load`),
    an nn.Module or a loaded model; None picks pretrained weights for the image: gray-blind
    (gray), color-blind (colour), or gray-camera / color-camera when the noise reads as camera
    grain or JPEG and no `sigma` is given (`inference/choose.py`). `sigma`: noise std in [0, 1]
    units, or None to estimate it (noise-aware models only). `tile`/`overlap`: tiled inference
    in pixels (None: whole image). `strength`: factor on the noise level the model gets,
    estimated or given (0.7 keeps more detail, 1.5 smooths more). `precision`, `device`: see
    `load` (the result comes back on the image's device). `progress`: a callable, called as
    `progress(done, total)` after each tile, e.g. to draw a bar for a large image.
    `runtime`: "torch" (the default), "onnxruntime", "openvino" or "auto" (see `load`).
    """
    from .inference import denoise as _denoise

    return _denoise(
        image,
        model,
        sigma=sigma,
        tile=tile,
        overlap=overlap,
        strength=strength,
        precision=precision,
        device=device,
        progress=progress,
        runtime=runtime,
    )
