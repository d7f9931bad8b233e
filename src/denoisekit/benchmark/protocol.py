"""The benchmark protocol: how noisy inputs are made and which pixels the metrics look at.

The defaults are what the published Gaussian-denoising tables do (see REFERENCES.md): clean image
from the 8-bit file scaled to [0, 1], float Gaussian noise from a generator seeded per image, no
clipping, no quantisation, PSNR over all pixels and channels, SSIM of Wang et al., no border crop.
Every switch here changes one part of that, and `describe()` writes down what was used.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from ..errors import ConfigError
from ..metrics import SSIM_PROTOCOL

_NUMBER = re.compile(r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?")


def parse_sigmas(text: str) -> list[float]:
    """`15,25,50` (0-255 units, as the published tables write them) -> sorted unique [0, 1] values.

    `25/255` is accepted too. Anything else is refused naming the bad item.
    """
    values: list[float] = []
    for item in str(text).split(","):
        item = item.strip()
        num, _, den = item.partition("/")
        if not _NUMBER.fullmatch(num) or (den and not _NUMBER.fullmatch(den)):
            raise ConfigError(
                f"sigma {item!r} in --sigmas is not a positive number; write e.g. 15,25,50 "
                "(0-255 units)"
            )
        value = float(num) / (float(den) if den else 255.0)
        if not 0 < value <= 1:
            raise ConfigError(
                f"sigma {item!r} in --sigmas is out of range: use values in (0, 255] "
                "on the 0-255 scale, e.g. 15,25,50"
            )
        if value not in values:
            values.append(value)
    return sorted(values)


def sigma_label(sigma: float) -> str:
    """The 0-255 value of a [0, 1] sigma as the key tables use: 25/255 -> '25'."""
    return f"{sigma * 255:.4g}"


def rgb_to_y(image: Tensor) -> Tensor:
    """ITU-R BT.601 luma of (B, 3, H, W) in [0, 1], on MATLAB's rgb2ycbcr scale (16-235)/255."""
    r, g, b = image[:, 0:1], image[:, 1:2], image[:, 2:3]
    return (16.0 + 65.481 * r + 128.553 * g + 24.966 * b) / 255.0


@dataclass(frozen=True)
class BenchmarkProtocol:
    """Noise and metric settings shared by every method in one benchmark run."""

    seed: int = 0
    clip: bool = False
    quantize: bool = False
    y_channel: bool = False
    border: int = 0
    precision: str = "auto"  # networks: auto (bf16 where the device has it natively), fp32, bf16
    threads: int = 0  # 0: leave torch's default
    blind: bool = False  # True: methods get no sigma and estimate it from the noisy image
    device: str = "auto"  # networks: auto (a CUDA GPU when torch sees one), cpu, cuda, cuda:N
    runtime: str = "auto"  # networks: auto (fastest installed, runtimes/choose.py), torch, ...

    def __post_init__(self) -> None:
        if not isinstance(self.border, int) or self.border < 0:
            raise ConfigError(f"--border must be an integer >= 0, got {self.border!r}")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ConfigError(f"--precision must be auto, fp32 or bf16, got {self.precision!r}")
        if self.runtime not in ("auto", "torch", "onnxruntime", "openvino"):
            raise ConfigError(
                f"--runtime must be auto, torch, onnxruntime or openvino, got {self.runtime!r}"
            )
        if not isinstance(self.threads, int) or self.threads < 0:
            raise ConfigError(f"--threads must be an integer >= 0, got {self.threads!r}")

    def make_noisy(self, clean: Tensor, sigma: float, index: int) -> Tensor:
        """Noisy version of image `index` (C, H, W); the generator is seeded with seed + index.

        The same seed at every sigma, so the noise pattern of an image only scales with sigma.
        Quantising rounds to 8-bit codes, which cannot go outside [0, 255], so it also clips.
        """
        generator = torch.Generator().manual_seed(self.seed + index)
        noise = torch.randn(clean.shape, generator=generator, dtype=torch.float32)
        noisy = clean.float() + sigma * noise
        if self.clip or self.quantize:
            noisy = noisy.clamp(0.0, 1.0)
        if self.quantize:
            noisy = torch.round(noisy * 255.0) / 255.0
        return noisy

    def metric_view(self, image: Tensor) -> Tensor:
        """(B, C, H, W) -> the pixels PSNR and SSIM are computed on (Y channel, border crop)."""
        if self.y_channel and image.shape[1] == 3:
            image = rgb_to_y(image)
        b = self.border
        if b:
            if image.shape[-1] <= 2 * b or image.shape[-2] <= 2 * b:
                raise ConfigError(
                    f"--border {b} crops away all of a {image.shape[-2]}x{image.shape[-1]} image"
                )
            image = image[..., b:-b, b:-b]
        return image

    def describe(self) -> dict:
        """Every part of the protocol, for summary.json and table.md."""
        return {
            **asdict(self),
            "clean": "8-bit file scaled to [0,1]",
            "noise": "additive Gaussian, float32, torch.Generator seeded with seed + image index "
            "(same pattern at every sigma)",
            "noisy_input": (
                "clipped to [0,1] and rounded to 8-bit"
                if self.quantize
                else "clipped to [0,1]"
                if self.clip
                else "not clipped, not quantised"
            ),
            "sigma_given": (
                "none: every method estimates it from the noisy image (blind)"
                if self.blind
                else "the true sigma is passed to every method (non-blind)"
            ),
            "output": "clamped to [0,1], not quantised",
            "psnr": "data range 1, "
            + ("Y channel (BT.601) of colour images" if self.y_channel else "all channels")
            + (f", {self.border}-pixel border cropped" if self.border else ", no border crop"),
            "ssim": SSIM_PROTOCOL
            + (", Y channel" if self.y_channel else ", colour = mean over channels"),
            "speed": "wall time per image, batch 1, after one warm-up image per method and set; "
            "median over the set, in ms per megapixel",
        }

    def text(self) -> str:
        """The protocol as the lines printed under the table."""
        d = self.describe()
        return "\n".join(
            [
                f"- Clean: {d['clean']}. Noise: {d['noise']}, seed {self.seed}.",
                f"- Noisy input: {d['noisy_input']}. Sigma: {d['sigma_given']}.",
                f"- Output: {d['output']}. PSNR: {d['psnr']}. SSIM: {d['ssim']}.",
                f"- Speed: {d['speed']}. Networks run in {self.precision} on {self.device} "
                f"by {self.runtime}; "
                "classical filters in float64 numpy on the CPU.",
            ]
        )
