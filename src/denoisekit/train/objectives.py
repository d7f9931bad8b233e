"""Training objectives: how one batch becomes a loss. `train.objective` picks one by name.

Every objective is called the same way, `objective(model, batch, generator, progress) -> loss`,
so the loop only dispatches. `batch.noisy` is the model input; `batch.target` is the clean image
for `supervised`, another noisy shot of the same scene for `noise2noise`, and None for
`noise2void` and `neighbor2neighbor`, which learn from the noisy image alone:

- supervised: `loss(f(noisy), clean)`.
- noise2noise (Lehtinen et al., 2018): `loss(f(shot 1), shot 2)`. With zero-mean noise that is
  independent between shots, the noisy target has the clean image as its expectation, so the
  squared error has the same minimiser as with clean targets.
- noise2void (Krull et al., 2019): blind-spot masking. About 1.6 % of the pixels of each patch
  (one per 8x8 box, stratified) are replaced in the input by a random other pixel of their 5x5
  neighbourhood; the loss is taken only on those pixels, against their original noisy values.
  The network cannot copy the pixel it must predict, so with pixel-wise independent noise the
  best it can do is predict the clean value from the surroundings.
- neighbor2neighbor (Huang et al., 2021): a random neighbour sub-sampler takes two different
  adjacent pixels from every 2x2 cell, giving two half-resolution noisy images g1, g2 of
  nearly the same content. Loss `|f(g1) - g2|^2 + gamma * |f(g1) - g2 - (g1(f(y)) -
  g2(f(y)))|^2`, f(y) computed without gradient on the full noisy image y, and gamma raised
  linearly from 0 to `gamma` (2) over training as in the paper.

Per-pixel distances use `train.loss` (noise2void and neighbor2neighbor were published with
`mse`, which the self-supervised configs set); the neighbor2neighbor regulariser is squared by
definition. Noise-level-aware models get, in the self-supervised objectives, the level estimated
from the noisy input (`noise.estimate.estimate_sigma_haar`), never the level the noise was made
with: a user with real photos does not know it either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError, unknown
from ..noise.estimate import estimate_sigma_haar

LossFn = Callable[[Tensor, Tensor], Tensor]


@dataclass
class Batch:
    """One training batch, images (B, C, H, W). `sigma` (B,) is the noise level when the
    objective may use it (supervised: the level the noise was made with), else None."""

    noisy: Tensor
    target: Tensor | None = None
    sigma: Tensor | None = None


class Objective:
    """Base: `__call__(model, batch, generator, progress)` returns a scalar fp32 loss.

    `progress` is the fraction of training done, in (0, 1]; validation passes 1.0.
    Class attributes: `supervised` (the target is a clean image), `shots` (noisy shots of one
    scene each self-supervised training item holds).
    """

    name: ClassVar[str]
    supervised: ClassVar[bool] = False
    shots: ClassVar[int] = 1

    def __init__(self, loss_fn: LossFn, *, noise_aware: bool = False) -> None:
        self.loss_fn = loss_fn
        self.noise_aware = noise_aware

    def level(self, noisy: Tensor) -> Tensor | None:
        """Estimated (B,) noise level of `noisy` for noise-aware models, else None."""
        return estimate_sigma_haar(noisy).float() if self.noise_aware else None

    def __call__(
        self, model: nn.Module, batch: Batch, generator: torch.Generator, progress: float = 1.0
    ) -> Tensor:
        raise NotImplementedError


class Supervised(Objective):
    name = "supervised"
    supervised = True

    def __call__(self, model, batch, generator, progress=1.0):
        if batch.target is None:
            raise ValueError("supervised training needs batch.target (the clean image)")
        return self.loss_fn(model(batch.noisy, batch.sigma), batch.target)


class Noise2Noise(Objective):
    name = "noise2noise"
    shots = 2

    def __call__(self, model, batch, generator, progress=1.0):
        if batch.target is None:
            raise ValueError("noise2noise needs batch.target (a second noisy shot)")
        return self.loss_fn(model(batch.noisy, self.level(batch.noisy)), batch.target)


# ------------------------------------------------------------------------------ noise2void


def blind_spot_mask(
    shape: torch.Size | tuple[int, ...], box: int, generator: torch.Generator
) -> Tensor:
    """(B, 1, H, W) bool: one random pixel in every `box` x `box` cell (cells cut at the edge
    keep theirs only when it falls inside), so masked pixels are spread evenly."""
    b, _, h, w = shape
    dev = generator.device  # drawn and built where the generator lives (a GPU when training there)
    nby, nbx = -(-h // box), -(-w // box)
    oy = torch.randint(box, (b, nby, nbx), generator=generator, device=dev)
    ox = torch.randint(box, (b, nby, nbx), generator=generator, device=dev)
    ys = oy + torch.arange(nby, device=dev).view(1, -1, 1) * box
    xs = ox + torch.arange(nbx, device=dev).view(1, 1, -1) * box
    keep = (ys < h) & (xs < w)
    mask = torch.zeros(b, h * w, dtype=torch.bool, device=dev)
    bi = torch.arange(b, device=dev).view(-1, 1, 1).expand_as(ys)
    mask[bi[keep], (ys * w + xs)[keep]] = True
    return mask.view(b, 1, h, w)


def neighbour_replace(
    noisy: Tensor, mask: Tensor, radius: int, generator: torch.Generator
) -> Tensor:
    """Copy of `noisy` (B, C, H, W) where each pixel of `mask` (B, 1, H, W) holds the value of a
    random other pixel within `radius` (all channels from the same pixel); others unchanged.

    Offsets are uniform over the (2r+1)^2 - 1 non-zero offsets; a component that would leave
    the image is mirrored (y - dy instead of y + dy), which keeps it non-zero, so a pixel is
    never replaced by itself. Needs H, W >= 2 * radius + 1.
    """
    b, c, h, w = noisy.shape
    side = 2 * radius + 1
    if h < side or w < side:
        raise ConfigError(
            f"noise2void needs images of at least {side}x{side} pixels, got {h}x{w}; "
            "raise data.patch_size"
        )
    dev = generator.device
    pick = torch.randint(side * side - 1, (b, 1, h, w), generator=generator, device=dev)
    pick = pick + (pick >= side * side // 2).long()  # skip the centre offset (0, 0)
    dy, dx = pick // side - radius, pick % side - radius
    y = torch.arange(h, device=dev).view(1, 1, -1, 1)
    x = torch.arange(w, device=dev).view(1, 1, 1, -1)
    sy, sx = y + dy, x + dx
    sy = torch.where((sy < 0) | (sy >= h), y - dy, sy)
    sx = torch.where((sx < 0) | (sx >= w), x - dx, sx)
    source = (sy * w + sx).to(noisy.device).flatten(2).expand(b, c, h * w)
    moved = noisy.flatten(2).gather(2, source).view_as(noisy)
    return torch.where(mask.to(noisy.device), moved, noisy)


class Noise2Void(Objective):
    """`box` = 8 masks 1/64 = 1.6 % of the pixels (N2V: 64 per 64x64 patch); `radius` = 2
    draws replacements from the 5x5 neighbourhood."""

    name = "noise2void"

    def __init__(
        self, loss_fn: LossFn, *, noise_aware: bool = False, box: int = 8, radius: int = 2
    ):
        super().__init__(loss_fn, noise_aware=noise_aware)
        self.box, self.radius = box, radius

    def __call__(self, model, batch, generator, progress=1.0):
        noisy = batch.noisy
        mask = blind_spot_mask(noisy.shape, self.box, generator)
        masked = neighbour_replace(noisy, mask, self.radius, generator)
        denoised = model(masked, self.level(noisy))
        where = mask.to(noisy.device).expand_as(noisy)
        return self.loss_fn(denoised[where], noisy[where])


# ----------------------------------------------------------------------- neighbor2neighbor

# Ordered pairs of edge-adjacent pixels in a 2x2 cell numbered 0 1 / 2 3 (no diagonals).
_ADJACENT = torch.tensor([[0, 1], [1, 0], [0, 2], [2, 0], [1, 3], [3, 1], [2, 3], [3, 2]])


def neighbour_pairs(shape: torch.Size | tuple[int, ...], generator: torch.Generator) -> Tensor:
    """(B, 2, H // 2, W // 2) indices 0..3: for each 2x2 cell the pixel for g1 and for g2,
    a random ordered pair of different, edge-adjacent pixels."""
    b, _, h, w = shape
    dev = generator.device
    choice = torch.randint(len(_ADJACENT), (b, h // 2, w // 2), generator=generator, device=dev)
    return _ADJACENT.to(dev)[choice].permute(0, 3, 1, 2)


def subsample(x: Tensor, pairs: Tensor) -> tuple[Tensor, Tensor]:
    """The two half-resolution images (B, C, H // 2, W // 2) that `pairs` picks from x
    (B, C, H, W); an odd last row or column is dropped. Same pixel in every channel."""
    b, c, h, w = x.shape
    x = x[..., : h // 2 * 2, : w // 2 * 2]
    cells = F.pixel_unshuffle(x, 2).reshape(b, c, 4, h // 2, w // 2)  # cells: 0 1 / 2 3
    pairs = pairs.to(x.device)
    first = cells.gather(2, pairs[:, None, :1].expand(b, c, 1, h // 2, w // 2))[:, :, 0]
    second = cells.gather(2, pairs[:, None, 1:].expand(b, c, 1, h // 2, w // 2))[:, :, 0]
    return first, second


class Neighbor2Neighbor(Objective):
    name = "neighbor2neighbor"

    def __init__(self, loss_fn: LossFn, *, noise_aware: bool = False, gamma: float = 2.0):
        super().__init__(loss_fn, noise_aware=noise_aware)
        self.gamma = gamma

    def __call__(self, model, batch, generator, progress=1.0):
        noisy = batch.noisy
        if noisy.shape[-2] < 2 or noisy.shape[-1] < 2:
            raise ConfigError("neighbor2neighbor needs images of at least 2x2 pixels")
        sigma = self.level(noisy)  # sub-sampling keeps the level of pixel-wise noise
        pairs = neighbour_pairs(noisy.shape, generator)
        g1, g2 = subsample(noisy, pairs)
        with torch.no_grad():
            f1, f2 = subsample(model(noisy, sigma), pairs)
        out = model(g1, sigma)
        reconstruction = self.loss_fn(out, g2)
        gap = out.float() - g2.float() - (f1.float() - f2.float())
        return reconstruction + self.gamma * progress * gap.square().mean()


OBJECTIVES: dict[str, type[Objective]] = {
    cls.name: cls for cls in (Supervised, Noise2Void, Neighbor2Neighbor, Noise2Noise)
}


def get_objective(name: str, loss_fn: LossFn, *, noise_aware: bool = False) -> Objective:
    """The objective called `name` (see `OBJECTIVES`), using `loss_fn` per pixel."""
    if name not in OBJECTIVES:
        raise unknown("train.objective", name, OBJECTIVES)
    return OBJECTIVES[name](loss_fn, noise_aware=noise_aware)
