"""Tiled inference: run a model on overlapping tiles and blend them, so memory is bounded by the
tile size instead of the image size (a 24-megapixel photo through a U-Net would need tens of GB).

Along each axis the image gets the fewest tiles of at most `tile` pixels whose neighbours share
at least `overlap` pixels, all of one size (a multiple of 8 where it can be, since the U-Nets pad
to that), spread evenly from border to border. Full-size tiles stepping by `tile - overlap`,
the last one moved back onto the border, would compute more: a 2048-pixel side at `tile` 512
takes 5 tiles either way, of 440 pixels instead of 512, so 26% fewer pixels go through the
network on a 2048x2048 image. Each tile's output is weighted by a window that rises from ~0 to
1 over the `overlap` pixels at every side shared with a neighbour (a half-cosine ramp) and stays
1 elsewhere and along the image border; neighbours may share more than `overlap` pixels. The
output is the weighted sum divided by the summed weights, so tile edges, where a network sees
zero padding and gives its worst answers, contribute little, and no seam is visible.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ..errors import ConfigError


def check_tiling(tile: int | None, overlap: int) -> int | None:
    """Validate `tile` and `overlap` (pixels); returns the tile size, or None for whole images.

    `tile` None or 0 means no tiling. Otherwise it must be a positive integer and `overlap` an
    integer with 0 <= overlap < tile; anything else is a ConfigError naming the value.
    """
    for name, value in (("tile", tile), ("overlap", overlap)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ConfigError(f"{name} must be an integer number of pixels, got {value!r}")
    if overlap is None or overlap < 0:
        raise ConfigError(f"overlap must be >= 0 pixels, got {overlap!r}")
    if not tile:
        return None
    if tile < 0:
        raise ConfigError(f"tile must be > 0 pixels (or 0 for the whole image), got {tile}")
    if overlap >= tile:
        raise ConfigError(
            f"overlap ({overlap}) must be smaller than tile ({tile}); lower --overlap "
            f"(e.g. --overlap {tile // 4}) or raise --tile"
        )
    return tile


def tile_layout(length: int, tile: int, overlap: int) -> tuple[int, list[int]]:
    """(size, starts) of the tiles covering [0, length): the fewest tiles of at most `tile`
    pixels whose neighbours share >= `overlap` pixels, of one size, spread evenly."""
    if length <= tile:
        return length, [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    # The smallest size whose `count` tiles still cover the length with that overlap.
    size = min(tile, _round_up(math.ceil((length + (count - 1) * overlap) / count), 8))
    return size, [i * (length - size) // (count - 1) for i in range(count)]


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def ramp_window(size: int, overlap: int, *, rise: bool, fall: bool) -> Tensor:
    """1-D weights (size,) float32: 1, with a half-cosine rise over the first `overlap` samples
    (when `rise`) and a fall over the last ones (when `fall`). Every weight is > 0."""
    window = torch.ones(size)
    k = min(overlap, size)
    if k == 0:
        return window
    # (i + 0.5) keeps the ends off 0, and ramp[i] + ramp[k - 1 - i] == 1 exactly.
    ramp = 0.5 - 0.5 * torch.cos(math.pi * (torch.arange(k, dtype=torch.float64) + 0.5) / k)
    ramp = ramp.float()
    if rise:
        window[:k] = torch.minimum(window[:k], ramp)
    if fall:
        window[-k:] = torch.minimum(window[-k:], ramp.flip(0))
    return window


Progress = Callable[[int, int], object]
"""A progress callback: called as `progress(done, total)` after each tile (done = 1..total)."""


def tile_count(height: int, width: int, tile: int | None, overlap: int) -> int:
    """How many tiles `tiled_apply` runs on an image of `height` x `width` pixels (1 untiled)."""
    tile = check_tiling(tile, overlap)
    if tile is None:
        return 1
    return len(tile_layout(height, tile, overlap)[1]) * len(tile_layout(width, tile, overlap)[1])


def tiled_apply(
    fn: Callable[[Tensor], Tensor],
    image: Tensor,
    tile: int | None,
    overlap: int,
    *,
    progress: Progress | None = None,
) -> Tensor:
    """`fn` applied to `image` (B, C, H, W) tile by tile, blended; returns (B, C', H, W) float32.

    `fn` maps a (B, C, h, w) crop to (B, C', h, w) (any device; the result is moved to
    `image`'s). With `tile` None/0, or an image no larger than one tile, `fn` runs once on the
    whole image. Memory: one float32 accumulator the size of the output, one (H, W) weight map,
    and whatever `fn` needs for one tile. `progress(done, total)` is called after every tile
    (once, with (1, 1), for an untiled image); `total` is `tile_count(H, W, tile, overlap)`.
    """
    tile = check_tiling(tile, overlap)
    height, width = image.shape[-2:]
    if tile is None or (height <= tile and width <= tile):
        out = fn(image).to(image.device, torch.float32)
        if progress is not None:
            progress(1, 1)
        return out
    (th, ys), (tw, xs) = tile_layout(height, tile, overlap), tile_layout(width, tile, overlap)
    done, total = 0, len(ys) * len(xs)
    out: Tensor | None = None
    weight = torch.zeros(height, width, device=image.device)
    wxs = [ramp_window(tw, overlap, rise=x > 0, fall=x + tw < width) for x in xs]
    for y in ys:
        wy = ramp_window(th, overlap, rise=y > 0, fall=y + th < height)
        for x, wx in zip(xs, wxs, strict=True):
            piece = fn(image[..., y : y + th, x : x + tw]).to(image.device, torch.float32)
            if out is None:
                out = torch.zeros(
                    (*piece.shape[:-2], height, width), dtype=torch.float32, device=image.device
                )
            w = (wy[:, None] * wx[None, :]).to(image.device)
            out[..., y : y + th, x : x + tw].addcmul_(piece, w)
            weight[y : y + th, x : x + tw] += w
            done += 1
            if progress is not None:
                progress(done, total)
    assert out is not None  # at least one tile
    return out.div_(weight)
