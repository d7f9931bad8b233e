"""Convolutional denoising autoencoders from the seed projects (pistachio, MNIST, CIFAR-10).

No skip connections: everything the decoder knows passes through the down-sampled code, which
is why these blur fine detail and the U-Net beats them. They are kept to reproduce the seeds.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from ..errors import ConfigError
from ..registry import register_model
from .base import Denoiser, check_positive, resolve_out_channels
from .blocks import UPSAMPLE_MODES, ConvNormAct, Upsample2x, check_choice


@register_model("autoencoder-seed")
class AutoencoderSeed(Denoiser):
    """Pistachio seed autoencoder: 2x (conv + max-pool), 2x (conv + 2x up-sample), sigmoid.

    Mirrors the Keras model: Conv2D(base, 3x3, relu, same) + MaxPooling2D twice, then
    Conv2D + UpSampling2D (nearest) twice and a 3x3 conv to `out_channels` with a sigmoid.
    (B, in_channels, H, W) -> (B, out_channels, H, W); the code is (B, base, H/4, W/4).
    """

    multiple = 4

    def __init__(
        self, in_channels: int = 3, out_channels: int | None = None, base_channels: int = 32
    ) -> None:
        super().__init__()
        check_positive(in_channels=in_channels, base_channels=base_channels)
        self.in_channels = in_channels
        self.out_channels = resolve_out_channels(in_channels, out_channels)
        c = base_channels
        self.encoder = nn.Sequential(
            ConvNormAct(in_channels, c),
            nn.MaxPool2d(2),
            ConvNormAct(c, c),
            nn.MaxPool2d(2),
        )
        self.decoder = nn.Sequential(
            ConvNormAct(c, c),
            nn.Upsample(scale_factor=2, mode="nearest"),
            ConvNormAct(c, c),
            nn.Upsample(scale_factor=2, mode="nearest"),
        )
        self.head = nn.Conv2d(c, self.out_channels, 3, padding=1)

    def denoise_padded(self, noisy: Tensor, sigma: Tensor | None) -> Tensor:
        return self.head(self.decoder(self.encoder(noisy))).sigmoid()


@register_model("autoencoder-bottleneck")
class AutoencoderBottleneck(Denoiser):
    """Pistachio "100 -> 25" autoencoder: `depth` conv + max-pool levels, channels doubling.

    On 100x100 inputs with depth=2 the code is (B, 2 * base, 25, 25), the output of
    `self.bottleneck`. Transposed convs bring it back up; sigmoid output.
    (B, in_channels, H, W) -> (B, out_channels, H, W).
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int | None = None,
        base_channels: int = 32,
        depth: int = 2,
    ) -> None:
        super().__init__()
        check_positive(in_channels=in_channels, base_channels=base_channels, depth=depth)
        self.in_channels = in_channels
        self.out_channels = resolve_out_channels(in_channels, out_channels)
        self.multiple = 2**depth
        widths = [base_channels * 2**i for i in range(depth)]

        encoder: list[nn.Module] = []
        c = in_channels
        for width in widths:
            encoder += [ConvNormAct(c, width), nn.MaxPool2d(2)]
            c = width
        self.encoder = nn.Sequential(*encoder)
        self.bottleneck = ConvNormAct(c, c)

        decoder: list[nn.Module] = []
        for width in reversed(widths):
            decoder += [Upsample2x(c, width, "transpose"), ConvNormAct(width, width)]
            c = width
        self.decoder = nn.Sequential(*decoder)
        self.head = nn.Conv2d(c, self.out_channels, 3, padding=1)

    def denoise_padded(self, noisy: Tensor, sigma: Tensor | None) -> Tensor:
        code = self.bottleneck(self.encoder(noisy))
        return self.head(self.decoder(code)).sigmoid()


@register_model("autoencoder")
class Autoencoder(Denoiser):
    """Generic MNIST / CIFAR-10 autoencoder: conv (+BN) + ReLU per filter width, sigmoid output.

    Encoder: one 3x3 ConvNormAct per entry of `filters`, with a 2x max-pool between entries
    (not after the last, so 28x28 MNIST goes 28 -> 14 -> 7 without padding). The decoder
    mirrors it: 2x up-sampling (`upsample`: "nearest", "bilinear" or "transpose") + ConvNormAct.
    (B, in_channels, H, W) -> (B, out_channels, H, W).
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int | None = None,
        filters: Sequence[int] = (32, 64, 128),
        batch_norm: bool = False,
        upsample: str = "nearest",
    ) -> None:
        super().__init__()
        # YAML gives lists, not tuples; store a tuple so the model's config is hashable/stable.
        filters = tuple(filters)
        if not filters:
            raise ConfigError("filters must list at least one channel width, e.g. [32, 64, 128]")
        check_positive(
            in_channels=in_channels, **{f"filters[{i}]": f for i, f in enumerate(filters)}
        )
        check_choice("upsample", upsample, UPSAMPLE_MODES)
        self.in_channels = in_channels
        self.out_channels = resolve_out_channels(in_channels, out_channels)
        self.filters = filters
        self.multiple = 2 ** (len(filters) - 1)

        encoder: list[nn.Module] = []
        c = in_channels
        for i, width in enumerate(filters):
            if i > 0:
                encoder.append(nn.MaxPool2d(2))
            encoder.append(ConvNormAct(c, width, batch_norm=batch_norm))
            c = width
        self.encoder = nn.Sequential(*encoder)

        decoder: list[nn.Module] = []
        for width in reversed(filters[:-1]):
            # Interpolation keeps the width (the next 3x3 conv changes it; a 1x1 in between
            # would only add a redundant linear map); a transposed conv changes it itself.
            up_width = width if upsample == "transpose" else c
            decoder += [
                Upsample2x(c, up_width, upsample),
                ConvNormAct(up_width, width, batch_norm=batch_norm),
            ]
            c = width
        self.decoder = nn.Sequential(*decoder)
        self.head = nn.Conv2d(c, self.out_channels, 3, padding=1)

    def denoise_padded(self, noisy: Tensor, sigma: Tensor | None) -> Tensor:
        return self.head(self.decoder(self.encoder(noisy))).sigmoid()
