"""The network as an exportable graph: `noisy` (N, C, H, W) [+ `level` (N, 1, H, W)] -> denoised.

`Denoiser.forward` pads to the model's multiple with Python branches on the shape (no pad
needed, replicate for sides too small to reflect); an exported graph cannot branch on H and W,
so `ExportGraph` always reflect-pads by `(-H) % multiple` (0 where nothing is needed), runs
`denoise_padded` and crops back. Reflection needs the side to be at least the pad, so exported
files take H and W >= `min_side(model)`; `RuntimeNetwork` pads smaller inputs itself, exactly as
`Denoiser.forward` does, before calling a runtime.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models.base import Denoiser

INPUT_IMAGE = "noisy"
INPUT_LEVEL = "level"
OUTPUT = "denoised"


def exportable(model: nn.Module) -> bool:
    """Whether `model` can become a runtime graph: a network built on `Denoiser` with weights."""
    has_weights = next(model.parameters(), None) is not None
    return isinstance(model, Denoiser) and has_weights


def min_side(model: nn.Module) -> int:
    """The smallest height and width an exported graph takes (torch.export treats sides 0 and 1
    as special cases, so never below 2)."""
    return max(int(getattr(model, "multiple", 1)), 2)


def input_names(model: nn.Module) -> list[str]:
    return [INPUT_IMAGE, INPUT_LEVEL] if getattr(model, "noise_aware", False) else [INPUT_IMAGE]


class ExportGraph(nn.Module):
    """`model` with shape-independent padding (see the module docstring); eval mode, fp32."""

    def __init__(self, model: Denoiser) -> None:
        super().__init__()
        self.model = model.eval()
        self.multiple = int(getattr(model, "multiple", 1))
        self.noise_aware = bool(getattr(model, "noise_aware", False))

    def _pad(self, x: Tensor) -> Tensor:
        height, width = x.shape[-2:]
        pad_h, pad_w = (-height) % self.multiple, (-width) % self.multiple
        return F.pad(x, (0, pad_w, 0, pad_h), mode="reflect")

    def forward(self, noisy: Tensor, level: Tensor | None = None) -> Tensor:
        height, width = noisy.shape[-2:]
        sigma = self._pad(level) if self.noise_aware else None
        out = self.model.denoise_padded(self._pad(noisy), sigma)
        return out[..., :height, :width]


def example_inputs(model: nn.Module, height: int = 37, width: int = 53) -> tuple[Tensor, ...]:
    """A random odd-sized input (and a level map of 25/255) for tracing and parity checks."""
    generator = torch.Generator().manual_seed(0)
    channels = int(getattr(model, "in_channels", 3) or 3)
    noisy = torch.rand(1, channels, height, width, generator=generator)
    if not getattr(model, "noise_aware", False):
        return (noisy,)
    return noisy, torch.full((1, 1, height, width), 25 / 255)
