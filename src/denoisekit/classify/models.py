"""Classifier networks, trained from scratch (nothing is downloaded)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from ..models.blocks import ConvNormAct, check_int_tuple
from .registry import register_classifier


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 strided) shortcut (He et al. 2016)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(
            ConvNormAct(in_channels, out_channels, stride=stride, batch_norm=True),
            ConvNormAct(out_channels, out_channels, batch_norm=True, activation=False),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = ConvNormAct(
                in_channels, out_channels, 1, stride=stride, batch_norm=True, activation=False
            )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.body(x) + self.shortcut(x))


@register_classifier("resnet-small")
class SmallResNet(nn.Module):
    """A small ResNet: a strided 3x3 stem, one stage of `blocks` residual blocks per width
    (each stage after the first halves the size), global average pooling, dropout, a linear
    head. (B, in_channels, H, W) in [0, 1] -> (B, num_classes) logits; any H, W >= 1."""

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 2,
        widths: Sequence[int] = (16, 32, 64, 128),
        blocks: int = 1,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        widths = check_int_tuple("widths", widths)
        self.in_channels = in_channels
        self.num_classes = num_classes
        layers: list[nn.Module] = [ConvNormAct(in_channels, widths[0], stride=2, batch_norm=True)]
        previous = widths[0]
        for index, width in enumerate(widths):
            for block in range(blocks):
                stride = 2 if index > 0 and block == 0 else 1
                layers.append(BasicBlock(previous, width, stride))
                previous = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(previous, num_classes),
        )

    def forward(self, images: Tensor) -> Tensor:
        # centred inputs train faster than [0, 1] ones with no normalisation layer in front
        return self.head(self.features(images * 2.0 - 1.0))
