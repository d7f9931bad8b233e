"""U-Net with channel/spatial attention in every stage (SE or CBAM): the seeds' "future work".

Built from the plain `unet`'s pieces with the same width arguments, so comparing the two at an
equal parameter budget is one argument away (see the class docstring for the counts).
"""

from __future__ import annotations

from torch import Tensor, nn

from ..registry import register_model
from .base import Denoiser, check_positive
from .blocks import CBAM, SqueezeExcite, check_choice, conv_stack
from .unet import DecoderBlock, encode_decode

ATTENTION_KINDS = ("se", "cbam")


def attention_module(kind: str, channels: int) -> nn.Module:
    return SqueezeExcite(channels) if kind == "se" else CBAM(channels)


@register_model("attention-unet")
class AttentionUNet(Denoiser):
    """U-Net with an attention module after every encoder and decoder stage; residual output.

    (B, in_channels, H, W) -> (B, in_channels, H, W); H, W padded to 2**depth. Same layout as
    `unet` (two 3x3 convs per stage, max-pool down, transposed conv up, concatenated skips,
    widths `base_channels * 2**level`), plus `attention` ("se" or "cbam") after the stem, each
    pooled stage (the bottleneck included) and each decoder stage: 2 * depth + 1 modules.
    Returns noisy - head(features): the linear 1x1 head predicts the noise and starts at zero,
    so the untrained network is the identity (as `unet(residual=True)`).

    Parameters, 3 channels, base 32, depth 3: unet 1,925,667; attention-unet "se" 1,953,595
    (+1.5%), "cbam" 1,954,288 (+1.5%: CBAM adds only a 99-weight 7x7 spatial conv per module to
    the SE-sized MLP). So at the same base_channels and depth the two compare at an equal
    budget to within 1.5%; CBAM's extra cost is elementwise work (pooling, gating), not weights.
    """

    def __init__(
        self,
        in_channels: int = 1,
        base_channels: int = 32,
        depth: int = 3,
        batch_norm: bool = False,
        attention: str = "cbam",
    ) -> None:
        super().__init__()
        check_positive(in_channels=in_channels, base_channels=base_channels, depth=depth)
        self.attention = check_choice("attention", attention, ATTENTION_KINDS)
        self.in_channels = self.out_channels = in_channels
        self.multiple = 2**depth

        widths = [base_channels * 2**i for i in range(depth + 1)]

        def stage(c_in: int, c_out: int) -> nn.Sequential:
            convs = conv_stack(c_in, c_out, batch_norm=batch_norm)
            return nn.Sequential(convs, attention_module(attention, c_out))

        self.stem = stage(in_channels, widths[0])
        self.pool = nn.MaxPool2d(2)
        # down[i] works at 1 / 2**(i+1) resolution; down[-1] is the bottleneck.
        self.down = nn.ModuleList(stage(widths[i], widths[i + 1]) for i in range(depth))
        # up[i] brings level i+1 back to level i; applied from the deepest level up. The plain
        # U-Net decoder block (attention "none") is reused; the attention follows it.
        self.up = nn.ModuleList(
            DecoderBlock(widths[i + 1], widths[i], batch_norm=batch_norm, attention="none")
            for i in range(depth)
        )
        self.up_attention = nn.ModuleList(
            attention_module(attention, widths[i]) for i in range(depth)
        )
        self.head = nn.Conv2d(widths[0], in_channels, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def denoise_padded(self, noisy: Tensor, sigma: Tensor | None) -> Tensor:
        # Each decoder stage is the plain block followed by its attention module.
        up = [
            lambda x, skip, block=block, attend=attend: attend(block(x, skip))
            for block, attend in zip(self.up, self.up_attention, strict=True)
        ]
        x = encode_decode(self.stem(noisy), self.pool, self.down, up)
        return noisy - self.head(x)
