"""U-Net (Ronneberger et al., 2015) for denoising, with the seed projects' options and more."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from ..errors import ConfigError
from ..registry import register_model
from .base import Denoiser, check_positive, resolve_out_channels
from .blocks import ATTENTIONS, OUTPUTS, SqueezeExcite, Upsample2x, check_choice, conv_stack

# Keeps logit() finite on pixels that are exactly 0 or 1 (clipped noisy images have many).
_LOGIT_EPS = 1e-4


class DecoderBlock(nn.Module):
    """Up-sample, concatenate the skip, two 3x3 convs, optional squeeze-excitation.

    x (B, in_channels, H, W) + skip (B, out_channels, 2H, 2W) -> (B, out_channels, 2H, 2W).
    """

    def __init__(
        self, in_channels: int, out_channels: int, *, batch_norm: bool, attention: str
    ) -> None:
        super().__init__()
        self.up = Upsample2x(in_channels, out_channels, "transpose")
        self.convs = conv_stack(2 * out_channels, out_channels, batch_norm=batch_norm)
        self.attention = SqueezeExcite(out_channels) if attention == "se" else nn.Identity()

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        x = torch.cat([self.up(x), skip], dim=1)
        return self.attention(self.convs(x))


def encode_decode(
    x: Tensor,
    pool: nn.Module,
    down: Sequence[Callable[[Tensor], Tensor]],
    up: Sequence[Callable[[Tensor, Tensor], Tensor]],
) -> Tensor:
    """A U-Net's body after its stem: pool and `down[i]` per level, then `up[i](x, skip)` from
    the deepest level back up, each level's input before pooling being its skip."""
    skips = []
    for stage in down:
        skips.append(x)
        x = stage(pool(x))
    for stage, skip in zip(reversed(up), reversed(skips), strict=True):
        x = stage(x, skip)
    return x


@register_model("unet")
class UNet(Denoiser):
    """U-Net with skip connections: `depth` max-pool levels, channels doubling per level.

    (B, in_channels, H, W) -> (B, out_channels, H, W); H, W are padded inside to 2**depth.
    With the defaults (base 32, depth 3) it has about 1.9 M parameters.

    Output modes, with the 1x1 `head` producing `y`:
      - residual=False, output="sigmoid" (default): `sigmoid(y)`, always in (0, 1).
      - residual=False, output="linear": `y`, unbounded.
      - residual=True, output="linear" (default when residual): `noisy + y`; the head learns
        minus the noise, which is easier to fit than the image (DnCNN's observation).
      - residual=True, output="sigmoid": `sigmoid(logit(noisy) + y)`, the residual taken in
        logit space so the output stays in (0, 1) and a zero head still returns `noisy`
        (up to clamping at 1e-4 from 0 and 1). Gradients are small on near-black/white pixels.
    `attention="se"` adds squeeze-excitation after each decoder block (the seeds' future work).
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int | None = None,
        base_channels: int = 32,
        depth: int = 3,
        batch_norm: bool = False,
        residual: bool = False,
        output: str | None = None,
        attention: str = "none",
    ) -> None:
        super().__init__()
        check_positive(in_channels=in_channels, base_channels=base_channels, depth=depth)
        self.in_channels = in_channels
        self.out_channels = resolve_out_channels(in_channels, out_channels)
        if residual and self.out_channels != in_channels:
            raise ConfigError(
                f"residual=True adds the input to the output, so out_channels "
                f"({self.out_channels}) must equal in_channels ({in_channels})"
            )
        if output is None:
            output = "linear" if residual else "sigmoid"
        self.output = check_choice("output", output, OUTPUTS)
        check_choice("attention", attention, ATTENTIONS)
        self.residual = residual
        self.multiple = 2**depth

        widths = [base_channels * 2**i for i in range(depth + 1)]
        self.stem = conv_stack(in_channels, widths[0], batch_norm=batch_norm)
        self.pool = nn.MaxPool2d(2)
        # down[i] works at 1 / 2**(i+1) resolution; down[-1] is the bottleneck.
        self.down = nn.ModuleList(
            conv_stack(widths[i], widths[i + 1], batch_norm=batch_norm) for i in range(depth)
        )
        # up[i] brings level i+1 back to level i; applied from the deepest level up.
        self.up = nn.ModuleList(
            DecoderBlock(widths[i + 1], widths[i], batch_norm=batch_norm, attention=attention)
            for i in range(depth)
        )
        self.head = nn.Conv2d(widths[0], self.out_channels, 1)
        if residual:
            # Start as the identity: the first steps then refine the noisy input instead of
            # first undoing a random residual (measured: faster early progress).
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def denoise_padded(self, noisy: Tensor, sigma: Tensor | None) -> Tensor:
        y = self.head(encode_decode(self.stem(noisy), self.pool, self.down, self.up))
        if not self.residual:
            return y.sigmoid() if self.output == "sigmoid" else y
        if self.output == "sigmoid":
            return torch.sigmoid(torch.logit(noisy, eps=_LOGIT_EPS) + y)
        return noisy + y
