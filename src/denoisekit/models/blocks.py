"""Building blocks shared by the model families (conv stacks, up-sampling, attention, heads)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ..errors import ConfigError
from .base import check_positive

UPSAMPLE_MODES = ("nearest", "bilinear", "transpose")
OUTPUTS = ("sigmoid", "linear")
ATTENTIONS = ("none", "se")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    """Return `value` if it is one of `choices`, else raise a one-line `ConfigError`."""
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def check_int_tuple(
    name: str, values: Sequence[int], *, length: int | None = None
) -> tuple[int, ...]:
    """A YAML list or tuple of positive ints as a tuple (hashable, stable in a saved config).

    Raises a `ConfigError` naming the bad item (`channels[2]`), an empty list, or a length
    other than `length` when one is required.
    """
    values = tuple(values)
    if not values:
        raise ConfigError(f"{name} must list at least one value")
    if length is not None and len(values) != length:
        raise ConfigError(f"{name} must have {length} values, got {len(values)}: {list(values)}")
    check_positive(**{f"{name}[{i}]": v for i, v in enumerate(values)})
    return values


class ConvNormAct(nn.Sequential):
    """Conv (k x k, 'same' padding) -> BatchNorm (optional) -> ReLU (optional).

    (B, in_channels, H, W) -> (B, out_channels, H / stride, W / stride).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        *,
        stride: int = 1,
        batch_norm: bool = False,
        activation: bool = True,
    ) -> None:
        # BatchNorm's shift makes a conv bias redundant; dropping it saves a parameter per channel.
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=kernel_size // 2,
                bias=not batch_norm,
            )
        ]
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        if activation:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


def conv_stack(
    in_channels: int, out_channels: int, n: int = 2, *, batch_norm: bool = False
) -> nn.Sequential:
    """`n` ConvNormAct 3x3 layers: (B, in_channels, H, W) -> (B, out_channels, H, W)."""
    layers = [
        ConvNormAct(in_channels if i == 0 else out_channels, out_channels, batch_norm=batch_norm)
        for i in range(n)
    ]
    return nn.Sequential(*layers)


class Upsample2x(nn.Module):
    """Linear 2x up-sampling that also changes the channel count.

    (B, in_channels, H, W) -> (B, out_channels, 2H, 2W). `mode="transpose"` learns the
    up-sampling (2x2 stride-2 transposed conv: no overlapping taps, so no checkerboard);
    "nearest"/"bilinear" interpolate and mix channels with a 1x1 conv.
    """

    def __init__(self, in_channels: int, out_channels: int, mode: str = "transpose") -> None:
        super().__init__()
        check_choice("upsample", mode, UPSAMPLE_MODES)
        self.mode = mode
        if mode == "transpose":
            self.up = nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)
            self.mix = None
        else:
            align = False if mode == "bilinear" else None
            self.up = nn.Upsample(scale_factor=2, mode=mode, align_corners=align)
            # A 1x1 conv commutes with interpolation, so run it first on 4x fewer pixels.
            self.mix = (
                nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else None
            )

    def forward(self, x: Tensor) -> Tensor:
        if self.mix is not None:
            x = self.mix(x)
        return self.up(x)


class SqueezeExcite(nn.Module):
    """Channel attention (Hu et al., 2018): rescale each channel by a gate from global context.

    (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        hidden = max(channels // reduction, 4)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, hidden, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gate(x)


class CBAM(nn.Module):
    """Convolutional block attention (Woo et al., 2018): channel gate, then spatial gate.

    (B, C, H, W) -> (B, C, H, W). The channel gate is SqueezeExcite's MLP fed both the average
    and the max over the image (the max keeps a strong local response, e.g. an edge, from being
    averaged away); the spatial gate is a 7x7 conv over the per-pixel [mean, max] across
    channels, so the network can weight where to act as well as which features to use.
    """

    def __init__(self, channels: int, reduction: int = 8, kernel_size: int = 7) -> None:
        super().__init__()
        hidden = max(channels // reduction, 4)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1),
        )
        self.spatial = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2)

    def forward(self, x: Tensor) -> Tensor:
        avg = x.mean(dim=(2, 3), keepdim=True)
        peak = x.amax(dim=(2, 3), keepdim=True)
        x = x * torch.sigmoid(self.mlp(avg) + self.mlp(peak))
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.spatial(pooled))


def output_activation(output: str) -> nn.Module:
    """ "sigmoid" squashes to (0, 1) like the seed projects; "linear" leaves values unbounded."""
    check_choice("output", output, OUTPUTS)
    return nn.Sigmoid() if output == "sigmoid" else nn.Identity()


def encode_decode(
    x: Tensor,
    encoder: nn.ModuleList,
    down: nn.ModuleList,
    middle: nn.Module,
    up: nn.ModuleList,
    decoder: nn.ModuleList,
) -> Tensor:
    """The U-Net pass with additive skips shared by drunet and nafnet-lite.

    encoder[i] runs at level i and its output is kept as the skip; down[i] halves the size;
    middle runs at the lowest level; up[i] brings level i+1 back to level i, where the skip is
    added before decoder[i].
    """
    skips = []
    for encode, halve in zip(encoder, down, strict=True):
        x = encode(x)
        skips.append(x)
        x = halve(x)
    x = middle(x)
    for double, decode, skip in zip(reversed(up), reversed(decoder), reversed(skips), strict=True):
        x = decode(double(x) + skip)
    return x
