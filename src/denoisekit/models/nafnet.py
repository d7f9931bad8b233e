"""A small NAFNet (Chen et al., 2022, "Simple Baselines for Image Restoration") for laptop CPUs.

NAFNet showed that a restoration network needs no nonlinear activations: a gate that multiplies
two halves of the channels (SimpleGate) and a cheap channel attention do their work, and
depthwise 3x3 convs keep the spatial mixing cheap. This "lite" variant also starts with a 2x
pixel-unshuffle, so every layer runs on a quarter of the pixels: the cost that matters on a CPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError
from ..noise.estimate import sigma_or_estimate
from ..registry import register_model
from .base import Denoiser, check_positive
from .blocks import check_int_tuple, encode_decode


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of each pixel: (B, C, H, W) -> (B, C, H, W).

    Unlike batch norm it behaves the same in training and inference and for any batch size,
    and unlike a norm over H, W it does not depend on the image size (tiles = whole image).
    """

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        # Channels last is what layer_norm wants; for a channels_last tensor this is a free view.
        y = F.layer_norm(x.permute(0, 2, 3, 1), self.weight.shape, self.weight, self.bias, self.eps)
        return y.permute(0, 3, 1, 2)


class SimpleGate(nn.Module):
    """Split the channels in two halves and multiply them: (B, 2C, H, W) -> (B, C, H, W)."""

    def forward(self, x: Tensor) -> Tensor:
        a, b = x.chunk(2, dim=1)
        return a * b


class NAFBlock(nn.Module):
    """NAFNet block: a gated depthwise-conv half and a gated feed-forward half, each residual.

    (B, C, H, W) -> (B, C, H, W). Both halves are scaled by learnable per-channel factors
    (`beta`, `gamma`) that start at zero, so a fresh block is the identity and a deep stack of
    them trains stably without warm-up tricks.
    """

    def __init__(self, channels: int, expand: int = 2) -> None:
        super().__init__()
        hidden = channels * expand
        self.norm1 = LayerNorm2d(channels)
        self.expand = nn.Conv2d(channels, hidden, 1)
        self.depthwise = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.gate = SimpleGate()
        # Simplified channel attention: squeeze-excitation without its MLP and sigmoid.
        gated = hidden // 2
        self.attention = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(gated, gated, 1))
        self.project = nn.Conv2d(gated, channels, 1)
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))

        self.norm2 = LayerNorm2d(channels)
        self.ffn_expand = nn.Conv2d(channels, hidden, 1)
        self.ffn_project = nn.Conv2d(gated, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        y = self.gate(self.depthwise(self.expand(self.norm1(x))))
        y = self.project(y * self.attention(y))
        x = x + self.beta * y
        y = self.ffn_project(self.gate(self.ffn_expand(self.norm2(x))))
        return x + self.gamma * y


def naf_stage(channels: int, n: int) -> nn.Sequential:
    return nn.Sequential(*(NAFBlock(channels) for _ in range(n)))


@register_model("nafnet-lite")
class NAFNetLite(Denoiser):
    """Small NAFNet at half resolution: unshuffle, NAF encoder-decoder, shuffle, noisy - noise.

    (B, in_channels, H, W) -> (B, in_channels, H, W); H, W padded to 2 * 2**len(enc_blocks).
    After a 2x pixel-unshuffle (4x the channels, 1/4 the pixels) a 3x3 conv makes `width`
    channels; each encoder level runs `enc_blocks[i]` NAF blocks then halves the resolution
    with a 2x2 strided conv (doubling the width); `middle_blocks` run at the bottom; each
    decoder level goes up with a 1x1 conv + pixel-shuffle, adds the skip and runs
    `dec_blocks[i]` blocks (listed top level first, like `enc_blocks`). A 3x3 conv to
    4 * in_channels and a pixel-shuffle give the predicted noise; that conv starts at zero.
    Gray, defaults: 0.38 M parameters, 20 GFLOP per megapixel (DnCNN: 0.56 M, 1108).

    `sigma_input=True` appends a noise-level map to the input (noise-aware, like `drunet`;
    estimated per image when the call gives no sigma).
    """

    def __init__(
        self,
        in_channels: int = 1,
        width: int = 24,
        enc_blocks: Sequence[int] = (1, 2),
        middle_blocks: int = 4,
        dec_blocks: Sequence[int] = (1, 1),
        sigma_input: bool = False,
    ) -> None:
        super().__init__()
        check_positive(in_channels=in_channels, width=width, middle_blocks=middle_blocks)
        self.enc_blocks = check_int_tuple("enc_blocks", enc_blocks)
        self.dec_blocks = check_int_tuple("dec_blocks", dec_blocks)
        if len(self.dec_blocks) != len(self.enc_blocks):
            raise ConfigError(
                f"dec_blocks needs one entry per encoder level ({len(self.enc_blocks)}), "
                f"got {list(self.dec_blocks)}"
            )
        self.in_channels = self.out_channels = in_channels
        self.noise_aware = bool(sigma_input)
        levels = len(self.enc_blocks)
        self.multiple = 2 * 2**levels
        widths = [width * 2**i for i in range(levels + 1)]

        self.intro = nn.Conv2d(4 * (in_channels + self.noise_aware), width, 3, padding=1)
        self.encoder = nn.ModuleList(naf_stage(widths[i], n) for i, n in enumerate(self.enc_blocks))
        self.down = nn.ModuleList(
            nn.Conv2d(widths[i], widths[i + 1], 2, stride=2) for i in range(levels)
        )
        self.middle = naf_stage(widths[-1], middle_blocks)
        # 1x1 conv to 2x the channels, then pixel-shuffle: 4x the pixels at half the width.
        self.up = nn.ModuleList(
            nn.Sequential(nn.Conv2d(w, 2 * w, 1, bias=False), nn.PixelShuffle(2))
            for w in widths[1:]
        )
        self.decoder = nn.ModuleList(naf_stage(widths[i], n) for i, n in enumerate(self.dec_blocks))
        self.ending = nn.Conv2d(width, 4 * in_channels, 3, padding=1)
        nn.init.zeros_(self.ending.weight)
        nn.init.zeros_(self.ending.bias)

    def forward(self, noisy: Tensor, sigma: Tensor | float | None = None) -> Tensor:
        """noisy (B, C, H, W) in [0, 1]; sigma is used only with `sigma_input=True`."""
        if self.noise_aware:
            sigma = sigma_or_estimate(noisy, sigma, self.sigma_estimator)
        return super().forward(noisy, sigma)

    def denoise_padded(self, noisy: Tensor, sigma: Tensor | None) -> Tensor:
        x = noisy
        if self.noise_aware:
            if sigma is None:  # only reachable by calling denoise_padded directly
                raise ValueError("nafnet-lite with sigma_input=True needs a sigma map")
            x = torch.cat([noisy, sigma.to(noisy.dtype)], dim=1)
        x = self.intro(F.pixel_unshuffle(x, 2))
        x = encode_decode(x, self.encoder, self.down, self.middle, self.up, self.decoder)
        return noisy - F.pixel_shuffle(self.ending(x), 2)
