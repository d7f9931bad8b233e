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
from collections.abc import Callable, Iterator

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


Crop = Callable[[int, int, int, int], Tensor]
"""The input of one region: `crop(y, x, height, width)` -> (B, C, height, width)."""


def tiled_bands(
    fn: Callable[[Tensor], Tensor],
    crop: Crop,
    height: int,
    width: int,
    tile: int | None,
    overlap: int,
    *,
    progress: Progress | None = None,
    device: torch.device | str = "cpu",
) -> Iterator[tuple[int, Tensor]]:
    """`fn` applied tile by tile to the `height` x `width` image that `crop` reads, blended;
    yields (y, band): float32 (B, C', rows, width) output rows from `y` on, top to bottom, each
    row once and final (the image's full height over all bands).

    A band is given out as soon as no later tile touches its rows, so a caller that writes
    bands away (e.g. into a uint8 array) never holds the whole output in float32: memory is
    one band of at most two tile rows, its weights, and what `fn` needs for one tile. The
    input is read through `crop`, so it need not be float32 either. The blending is
    `tiled_apply`'s, in the same order, so the values are the same to the bit. Bands are
    summed and given out on `device`.
    """
    tile = check_tiling(tile, overlap)
    if tile is None or (height <= tile and width <= tile):
        out = fn(crop(0, 0, height, width)).to(device, torch.float32)
        if progress is not None:
            progress(1, 1)
        yield 0, out
        return
    (th, ys), (tw, xs) = tile_layout(height, tile, overlap), tile_layout(width, tile, overlap)
    done, total = 0, len(ys) * len(xs)
    wxs = [ramp_window(tw, overlap, rise=x > 0, fall=x + tw < width) for x in xs]
    band: Tensor | None = None  # weighted sums of rows [top, top + rows), as far as computed
    weight = torch.zeros(0, width, device=device)
    top = 0
    for row, y in enumerate(ys):
        wy = ramp_window(th, overlap, rise=y > 0, fall=y + th < height)
        rows = y + th - top
        if band is not None and band.shape[-2] < rows:
            band = _grown(band, rows)
        weight = _grown(weight, rows) if weight.shape[-2] < rows else weight
        for x, wx in zip(xs, wxs, strict=True):
            piece = fn(crop(y, x, th, tw)).to(device, torch.float32)
            if band is None:
                band = torch.zeros((*piece.shape[:-2], rows, width), device=device)
            w = (wy[:, None] * wx[None, :]).to(device)
            band[..., y - top : y - top + th, x : x + tw].addcmul_(piece, w)
            weight[y - top : y - top + th, x : x + tw] += w
            done += 1
            if progress is not None:
                progress(done, total)
        assert band is not None  # at least one tile per row
        # rows above the next tile row are final: no later tile reaches them
        final = (ys[row + 1] if row + 1 < len(ys) else height) - top
        yield top, band[..., :final, :] / weight[:final]
        band, weight, top = band[..., final:, :].clone(), weight[final:].clone(), top + final


def _grown(partial: Tensor, rows: int) -> Tensor:
    """`partial` (..., r, W) with zero rows added below, to (..., rows, W)."""
    grown = partial.new_zeros((*partial.shape[:-2], rows, partial.shape[-1]))
    grown[..., : partial.shape[-2], :] = partial
    return grown


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
    whole image. Memory: the float32 output, `tiled_bands`' band and whatever `fn` needs for
    one tile. `progress(done, total)` is called after every tile (once, with (1, 1), for an
    untiled image); `total` is `tile_count(H, W, tile, overlap)`.
    """
    height, width = image.shape[-2:]

    def crop(y: int, x: int, h: int, w: int) -> Tensor:
        return image[..., y : y + h, x : x + w]

    bands = tiled_bands(
        fn, crop, height, width, tile, overlap, progress=progress, device=image.device
    )
    return gathered(bands, height)


def gathered(bands: Iterator[tuple[int, Tensor]], height: int) -> Tensor:
    """The bands of `tiled_bands` as one (B, C', height, W) tensor; a single band covering the
    whole height (an untiled image) comes back as it is, not copied."""
    y, band = next(bands)
    if band.shape[-2] == height:
        return band
    out = band.new_empty((*band.shape[:-2], height, band.shape[-1]))
    out[..., y : y + band.shape[-2], :] = band
    for y, band in bands:
        out[..., y : y + band.shape[-2], :] = band
    return out
