"""DnCNN (Zhang et al., 2017): a plain deep conv stack that predicts the noise, not the image.

The reference point for Gaussian denoising tables: no pooling, so every layer sees the full
resolution and the receptive field grows only by 2 pixels per layer (35x35 at depth 17).
"""

from __future__ import annotations

from torch import Tensor, nn

from ..errors import ConfigError
from ..registry import register_model
from .base import Denoiser, check_positive
from .blocks import ConvNormAct


@register_model("dncnn")
class DnCNN(Denoiser):
    """DnCNN: conv+ReLU, (depth - 2) x conv+BN+ReLU, conv; returns noisy - predicted noise.

    (B, in_channels, H, W) -> (B, in_channels, H, W); any H, W (no pooling, `multiple` 1).
    `depth` counts the conv layers (17 in the paper's DnCNN-S, 20 for its blind DnCNN-B).
    Gray with the defaults: 556 k parameters.

    Residual learning is the paper's point: the noise is closer to white and simpler to fit
    than the image, and with batch norm it trains fast. The last conv starts at zero so the
    untrained network returns its input, and early steps refine rather than undo a random map.
    """

    def __init__(self, in_channels: int = 1, depth: int = 17, features: int = 64) -> None:
        super().__init__()
        check_positive(in_channels=in_channels, depth=depth, features=features)
        if depth < 2:
            raise ConfigError(f"depth must be at least 2 (first and last conv), got {depth}")
        self.in_channels = self.out_channels = in_channels
        self.depth = depth
        layers: list[nn.Module] = [ConvNormAct(in_channels, features)]
        layers += [ConvNormAct(features, features, batch_norm=True) for _ in range(depth - 2)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(features, in_channels, 3, padding=1, bias=False)
        nn.init.zeros_(self.head.weight)

    def denoise_padded(self, noisy: Tensor, sigma: Tensor | None) -> Tensor:
        return noisy - self.head(self.body(noisy))
