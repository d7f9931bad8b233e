"""Inference on whole images: arrays or tensors in, the same kind out, in fp32."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .errors import DataError


def _as_model(model: nn.Module | str | Path) -> nn.Module:
    if isinstance(model, (str, Path)):
        from .train.checkpoint import load_checkpoint

        return load_checkpoint(model)[0]
    return model.eval()


@torch.no_grad()
def denoise_tensor(
    noisy: torch.Tensor, model: nn.Module, sigma: float | None = None
) -> torch.Tensor:
    """(B, C, H, W) in [0, 1] -> denoised (B, C, H, W), clamped to [0, 1]."""
    level = torch.full((noisy.shape[0],), float(sigma) if sigma is not None else 0.0)
    return model(noisy.float(), level if sigma is not None else None).float().clamp(0, 1)


def denoise_image(noisy: Any, model: nn.Module | str | Path, *, sigma: float | None = None) -> Any:
    """Denoise a numpy image (HWC/HW) or a tensor; a numpy input comes back in its own dtype."""
    from .io import from_tensor, to_tensor

    model = _as_model(model)
    if isinstance(noisy, torch.Tensor):
        batch = noisy if noisy.dim() == 4 else noisy.unsqueeze(0)
        out = denoise_tensor(batch, model, sigma)
        return out if noisy.dim() == 4 else out[0]
    array = np.asarray(noisy)
    tensor = to_tensor(array)
    out = denoise_tensor(tensor.unsqueeze(0), model, sigma)[0]
    # float64 in, float32 out: the model computes in fp32, more digits would be invented
    return from_tensor(out, dtype=array.dtype if array.dtype != np.float64 else np.float32)


def denoise_file(
    input_path: str | Path,
    output_path: str | Path,
    *,
    checkpoint: str | Path,
    sigma: str | None = None,
) -> Path:
    """Read `input_path`, denoise it with `checkpoint`, write `output_path` atomically."""
    from .io import load_image, save_image
    from .noise import parse_level

    input_path, output_path = Path(input_path), Path(output_path)
    if output_path.resolve() == input_path.resolve():
        raise DataError(f"output {output_path} is the input; choose another output path")
    model = _as_model(checkpoint)
    level = parse_level(sigma) if sigma is not None else None
    in_channels = _in_channels(model)
    clean_guess = load_image(input_path, channels=in_channels)
    out = denoise_tensor(clean_guess.unsqueeze(0), model, level)[0]
    save_image(out, output_path)
    return output_path


def _in_channels(model: nn.Module) -> int | None:
    if isinstance(getattr(model, "in_channels", None), int):
        return model.in_channels
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module.in_channels
    return None
