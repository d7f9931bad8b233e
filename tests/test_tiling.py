"""Tiled inference: full coverage, exact normalisation, no visible seams, bad settings refused."""

import math

import pytest
import torch
from torch import nn

import denoisekit
from denoisekit.errors import ConfigError
from denoisekit.inference import (
    LoadedDenoiser,
    ramp_window,
    tile_count,
    tile_layout,
    tiled_apply,
)
from denoisekit.metrics import psnr

# small tensors: one thread is faster, and immune to other jobs on a busy machine
pytestmark = pytest.mark.usefixtures("one_thread")


def _smooth_noisy(height: int, width: int, channels: int = 1, sigma: float = 0.1):
    yy, xx = torch.meshgrid(
        torch.linspace(0, 1, height), torch.linspace(0, 1, width), indexing="ij"
    )
    clean = (0.5 + 0.3 * torch.sin(6 * xx + 3 * yy) * torch.cos(5 * yy)).expand(
        1, channels, height, width
    )
    noise = torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    return clean, (clean + sigma * noise).clamp(0, 1)


def test_tile_layout_covers_with_overlap_and_the_fewest_tiles_of_at_most_tile():
    for length in range(1, 90):
        for tile in range(1, 40):
            for overlap in range(tile):
                size, starts = tile_layout(length, tile, overlap)
                assert size <= min(tile, length) and starts[0] == 0
                assert starts[-1] + size == length
                for a, b in zip(starts, starts[1:], strict=False):
                    assert b > a and a + size - b >= overlap  # neighbours share >= overlap
                n = len(starts)  # one fewer full-size tiles, sharing just `overlap`, fall short:
                assert n == 1 or (n - 1) * tile - (n - 2) * overlap < length


def test_tile_layout_spreads_evenly_in_multiples_of_8():
    assert tile_layout(2048, 512, 32) == (440, [0, 402, 804, 1206, 1608])  # not 5 x 512
    assert tile_layout(1024, 512, 32) == (368, [0, 328, 656])  # two of 512 would share nothing
    assert tile_layout(300, 512, 32) == (300, [0])


def test_ramp_window_facing_ramps_sum_to_one():
    w = ramp_window(20, 8, rise=True, fall=True)
    assert (w > 0).all() and w.max() == 1 and w[0] < 0.01
    torch.testing.assert_close(w[:8] + w[-8:], torch.ones(8))  # the next tile's rise + this fall
    assert torch.equal(ramp_window(20, 8, rise=False, fall=False), torch.ones(20))


@pytest.mark.parametrize("tile,overlap", [(7, 3), (16, 0), (20, 19), (3, 0)])
def test_pointwise_model_tiled_equals_untiled(tile, overlap):
    """A 1x1 conv has no context: any mistake in coverage or weights shows up exactly."""
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 3, 1)
    image = torch.rand(2, 3, 23, 29)  # odd sizes, neither a multiple of the tile
    whole = tiled_apply(conv, image, None, 0)
    tiled = tiled_apply(conv, image, tile, overlap)
    torch.testing.assert_close(tiled, whole, atol=1e-5, rtol=0)


def test_tile_larger_than_image_runs_once():
    calls = []

    def fn(crop):
        calls.append(tuple(crop.shape))
        return crop * 2

    image = torch.rand(1, 1, 21, 17)
    assert torch.equal(tiled_apply(fn, image, 512, 32), image * 2)
    assert calls == [(1, 1, 21, 17)]
    calls.clear()
    tiled_apply(fn, image, 16, 4)  # taller and wider than a tile: 2 x 2 tiles of 16 x 16
    assert calls == [(1, 1, 16, 16)] * 4


def test_progress_is_called_once_per_tile_with_done_and_total():
    calls, seen = [], []

    def fn(crop):
        seen.append(len(calls))  # the callback comes after its tile, never before
        return crop

    image = torch.rand(1, 1, 37, 50)
    total = tile_count(37, 50, 16, 4)
    assert total == 3 * 4  # ceil((37 - 4) / 12) rows, ceil((50 - 4) / 12) columns
    tiled_apply(fn, image, 16, 4, progress=lambda done, n: calls.append((done, n)))
    assert calls == [(done, total) for done in range(1, total + 1)]
    assert seen == list(range(total))
    calls.clear()
    tiled_apply(fn, image, None, 0, progress=lambda done, n: calls.append((done, n)))
    assert calls == [(1, 1)] and tile_count(37, 50, None, 0) == 1
    calls.clear()
    tiled_apply(fn, image, 512, 32, progress=lambda done, n: calls.append((done, n)))
    assert calls == [(1, 1)] and tile_count(37, 50, 512, 32) == 1


@pytest.mark.parametrize("kind", ["array", "tensor", "public"])
def test_denoise_reports_progress_per_tile(kind):
    """`progress` reaches the tiles through `denoise` (arrays, tensors, the public function);
    a gray model on an RGB image still counts each tile once."""
    calls = []
    image = torch.rand(3, 40, 30)
    model = LoadedDenoiser(nn.Conv2d(1, 1, 1))
    record = lambda done, total: calls.append((done, total))  # noqa: E731
    if kind == "array":
        model.denoise(image.permute(1, 2, 0).numpy(), tile=16, overlap=4, progress=record)
    elif kind == "tensor":
        model.denoise(image, tile=16, overlap=4, progress=record)
    else:
        denoisekit.denoise(image, model, tile=16, overlap=4, progress=record)
    total = tile_count(40, 30, 16, 4)
    assert total > 1 and calls == [(done, total) for done in range(1, total + 1)]


@pytest.mark.parametrize(
    "tile,overlap,needle",
    [
        (32, 32, "smaller than tile"),
        (32, 40, "smaller than tile"),
        (32, -1, "overlap"),
        (-8, 0, "tile"),
    ],
)
def test_bad_tiling_is_a_config_error(tile, overlap, needle):
    with pytest.raises(ConfigError, match=needle):
        LoadedDenoiser(nn.Conv2d(1, 1, 1)).denoise(
            torch.rand(1, 1, 8, 8), tile=tile, overlap=overlap
        )


def test_megapixel_tiled_matches_untiled():
    """~1 MP through the Gaussian-blur filter (a real denoiser here: +8 dB) in 256 px tiles."""
    clean, noisy = _smooth_noisy(1000, 1024)
    blur = denoisekit.load("gaussian-blur")
    whole = blur.denoise(noisy, tile=None)
    tiled = blur.denoise(noisy, tile=400, overlap=32)  # 3 x 3 tiles
    gain = float(psnr(whole, clean) - psnr(noisy, clean))
    assert gain > 5
    assert abs(float(psnr(tiled, clean) - psnr(whole, clean))) < 0.05
    assert float((tiled - whole).abs().max()) < 2e-3  # no seam anywhere
    hard_seams = blur.denoise(noisy, tile=400, overlap=0)
    assert float((hard_seams - whole).abs().max()) > 0.01  # what the blending removes


def test_unet_odd_sizes_tiled_close_to_untiled():
    torch.manual_seed(0)
    net = denoisekit.create_model("unet", in_channels=3, base_channels=4, depth=2, residual=True)
    with torch.no_grad():  # away from the identity it starts as
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    model = LoadedDenoiser(net)
    clean, noisy = _smooth_noisy(97, 131, channels=3)
    whole = model.denoise(noisy, tile=None)
    assert float(psnr(whole, noisy)) < 45  # the model does change the image
    tiled = model.denoise(noisy, tile=49, overlap=16)  # 3 x 4 tiles, padded inside
    assert abs(float(psnr(tiled, clean) - psnr(whole, clean))) < 0.05
    assert float(psnr(tiled, whole)) > 70
    assert not math.isnan(float(tiled.sum()))
