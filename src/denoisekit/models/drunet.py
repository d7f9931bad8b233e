"""Noise-level-aware residual U-Net after DRUNet (Zhang et al., 2021) and FFDNet (2018).

One network for every noise level: the level enters as an extra input channel (a map, so it may
vary over the image), which lets a user turn denoising strength up or down at inference and
lets one set of weights cover a range of sigma instead of one model per level.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ..errors import ConfigError
from ..noise.estimate import sigma_or_estimate
from ..registry import register_model
from .base import Denoiser, check_positive
from .blocks import check_int_tuple, encode_decode


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    # Bias-free, as in DRUNet: without additive constants the network is scale-equivariant
    # (Mohan et al., 2020), which helps it generalise to noise levels it was not trained on.
    return nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)


class ResBlock(nn.Module):
    """conv3x3 -> ReLU -> conv3x3, plus the input; no batch norm (it ties the output to the
    batch statistics, which differ between training patches and a whole photo).

    (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv3x3(channels, channels), nn.ReLU(inplace=True), conv3x3(channels, channels)
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


@register_model("drunet")
class DRUNet(Denoiser):
    """Residual U-Net conditioned on a noise-level map; returns noisy - predicted noise.

    (B, in_channels, H, W) + sigma -> (B, in_channels, H, W); H, W padded to 2**(levels - 1).
    `channels` lists the width per level (len = levels); each level has `blocks` residual
    blocks on the way down and again on the way up; 2x2 strided convs go down, 2x2 transposed
    convs go up, and skips are added (not concatenated: half the width, same information).
    Gray, defaults: 1.06 M parameters, 136 GFLOP per megapixel (DRUNet's (64, 128, 256, 512)
    x 4 blocks: 32.6 M; (32, 64, 128, 256) x 2 blocks: 4.25 M, 542 GFLOP/MP).

    `sigma` is a float, (B,) or (B, 1, H, W) map in [0, 1] units. Without it the level is
    estimated per image (`noise.estimate`, by `sigma_estimator`), so `model(noisy)` still works
    blind. Unlike DRUNet (which predicts the image) it predicts the noise with a
    zero-initialised last conv: it starts as the identity and trains faster.
    """

    noise_aware = True

    def __init__(
        self,
        in_channels: int = 1,
        channels: Sequence[int] = (16, 32, 64, 128),
        blocks: int = 2,
    ) -> None:
        super().__init__()
        self.channels = check_int_tuple("channels", channels)
        check_positive(in_channels=in_channels, blocks=blocks)
        self.in_channels = self.out_channels = in_channels
        self.multiple = 2 ** (len(self.channels) - 1)
        widths = self.channels

        def stage(width: int) -> nn.Sequential:
            return nn.Sequential(*(ResBlock(width) for _ in range(blocks)))

        self.head = conv3x3(in_channels + 1, widths[0])
        self.encoder = nn.ModuleList(stage(w) for w in widths[:-1])
        pairs = list(zip(widths[:-1], widths[1:], strict=True))  # (level i, level i + 1)
        self.down = nn.ModuleList(nn.Conv2d(a, b, 2, stride=2, bias=False) for a, b in pairs)
        self.middle = stage(widths[-1])
        self.up = nn.ModuleList(nn.ConvTranspose2d(b, a, 2, stride=2, bias=False) for a, b in pairs)
        self.decoder = nn.ModuleList(stage(w) for w in widths[:-1])
        self.tail = conv3x3(widths[0], in_channels)
        nn.init.zeros_(self.tail.weight)

    def grown_state(self, smaller: DRUNet) -> dict[str, Tensor]:
        """This network's state dict holding the weights of `smaller`, the same DRUNet with fewer
        residual blocks per level (`train.grow`). Each level's extra blocks come after the copied
        ones with their last conv zeroed, so they start as the identity: the grown network
        computes exactly what `smaller` did, and training adds depth without starting over.
        """
        have, want = len(smaller.middle), len(self.middle)
        if (smaller.in_channels, smaller.channels) != (self.in_channels, self.channels):
            raise ConfigError(
                f"train.grow: the init weights are drunet in_channels={smaller.in_channels}, "
                f"channels={list(smaller.channels)}; only blocks may differ (this one: "
                f"in_channels={self.in_channels}, channels={list(self.channels)})"
            )
        if have >= want:
            raise ConfigError(
                f"train.grow: the init weights have {have} blocks per level, not fewer than {want}"
            )
        state = self.state_dict()
        state.update(smaller.state_dict())
        for name, module in self.named_modules():
            if isinstance(module, ResBlock) and int(name.rsplit(".", 1)[1]) >= have:
                state[f"{name}.body.2.weight"] = torch.zeros_like(module.body[2].weight)
        return state

    def forward(self, noisy: Tensor, sigma: Tensor | float | None = None) -> Tensor:
        """noisy (B, C, H, W) in [0, 1]; sigma float, (B,) or (B, 1, H, W), None = estimate."""
        return super().forward(noisy, sigma_or_estimate(noisy, sigma, self.sigma_estimator))

    def denoise_padded(self, noisy: Tensor, sigma: Tensor | None) -> Tensor:
        if sigma is None:  # only reachable by calling denoise_padded directly
            raise ValueError("drunet needs a sigma map (B, 1, H, W); call the model instead")
        # The first conv reads the image in its weights' dtype (float32) even under bf16
        # autocast: bf16 keeps 8 bits of mantissa, so it would round the input about as coarsely
        # as 8-bit quantising it (`benchmark` on BSD68, sigma 25: -0.0023 dB in bf16, -0.0002 dB
        # with this conv in fp32).
        with torch.autocast(noisy.device.type, enabled=False):
            x = self.head(torch.cat([noisy, sigma.to(noisy.dtype)], dim=1).to(self.head.weight))
        x = encode_decode(x, self.encoder, self.down, self.middle, self.up, self.decoder)
        return noisy - self.tail(x)
