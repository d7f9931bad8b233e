"""Building blocks shared by the model families (conv stacks, up-sampling, attention, heads)."""

from __future__ import annotations

from torch import Tensor, nn

from ..errors import ConfigError

UPSAMPLE_MODES = ("nearest", "bilinear", "transpose")
OUTPUTS = ("sigmoid", "linear")
ATTENTIONS = ("none", "se")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    """Return `value` if it is one of `choices`, else raise a one-line `ConfigError`."""
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


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


def output_activation(output: str) -> nn.Module:
    """ "sigmoid" squashes to (0, 1) like the seed projects; "linear" leaves values unbounded."""
    check_choice("output", output, OUTPUTS)
    return nn.Sigmoid() if output == "sigmoid" else nn.Identity()
