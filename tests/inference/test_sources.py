"""Band-by-band denoising of numpy images: the same values as the whole-image path, to the bit,
without reading the whole image in float (the memory bound of a 24-megapixel photo)."""

import numpy as np
import pytest
import torch

from denoisekit import create_model
from denoisekit.inference import LoadedDenoiser, tiled_apply
from denoisekit.inference.levels import parse_sigma
from denoisekit.inference.sources import ImageSource, array_source, denoise_array
from denoisekit.inference.tiles import tiled_bands
from denoisekit.io import from_tensor, to_tensor
from denoisekit.noise.estimate import channel_sigmas, estimate_sigma

pytestmark = pytest.mark.usefixtures("one_thread")


def _denoiser(channels: int) -> LoadedDenoiser:
    torch.manual_seed(0)
    model = create_model("drunet", in_channels=channels, channels=(4, 8), blocks=1)
    return LoadedDenoiser(model, runtime="torch", precision="fp32")


def _whole_image_path(denoiser, image, sigma=None, tile=48, overlap=16):
    """What `denoise` of a numpy image gave before bands: the whole image in float32."""
    planes = image if image.ndim == 3 else image[..., None]
    split = planes.shape[-1] in (2, 4)
    colour = planes[..., :-1] if split else planes
    batch = to_tensor(colour).unsqueeze(0)
    level = parse_sigma(sigma)
    out = from_tensor(denoiser.denoise_batch(batch, level, tile, overlap)[0], image.dtype)
    out = out.reshape(*planes.shape[:2], -1)
    if split:
        out = np.concatenate([out, planes[..., -1:]], axis=-1)
    return out if image.ndim == 3 else out[..., 0]


@pytest.mark.parametrize(
    ("model_channels", "shape", "dtype"),
    [
        (3, (70, 101, 3), np.uint8),
        (1, (70, 101, 3), np.uint8),  # gray model on colour: each channel its own image
        (3, (61, 45), np.uint8),  # colour model on gray
        (3, (53, 66, 4), np.uint8),  # RGBA: alpha passes through
        (1, (40, 57), np.uint16),
        (3, (37, 53, 3), np.float64),
    ],
)
def test_bands_give_the_whole_image_result_to_the_bit(model_channels, shape, dtype):
    rng = np.random.default_rng(1)
    values = rng.random(shape)
    if dtype == np.float64:
        image = values
    else:
        image = np.round(values * np.iinfo(dtype).max).astype(dtype)
    denoiser = _denoiser(model_channels)
    for sigma in (None, 0.08, "gaussian:0.05"):
        got = denoiser.denoise(image, sigma=sigma, tile=48, overlap=16)
        assert got.dtype == image.dtype and got.shape == image.shape
        np.testing.assert_array_equal(got, _whole_image_path(denoiser, image, sigma))


def test_tiled_bands_give_each_row_once_and_hold_at_most_two_tile_rows():
    image = torch.rand(1, 2, 301, 133, generator=torch.Generator().manual_seed(0))

    def fn(crop):
        return crop.sin() * 3

    def crop(y, x, h, w):
        return image[..., y : y + h, x : x + w]

    whole = tiled_apply(fn, image, 64, 24)
    rows = 0
    for y, band in tiled_bands(fn, crop, 301, 133, 64, 24):
        assert y == rows and band.shape[-2] <= 2 * 64
        assert torch.equal(band, whole[..., y : y + band.shape[-2], :])
        rows += band.shape[-2]
    assert rows == 301


def test_an_array_is_read_a_tile_at_a_time_never_whole():
    image = (np.random.default_rng(0).random((130, 90, 3)) * 255).astype(np.uint8)
    inner = array_source(image)
    biggest = []

    def crop(y, x, h, w):
        biggest.append(h * w)
        return inner.crop(y, x, h, w)

    def whole():
        raise AssertionError("the whole image was read in float32")

    source = ImageSource(crop, 1, 3, 130, 90, whole=whole, read_channel=inner.read_channel)
    bands = list(_denoiser(3).denoised_bands(source, None, 48, 16, 1.0, None))
    assert sum(band.shape[-2] for _, band in bands) == 130
    assert max(biggest) <= 48 * 48


@pytest.mark.parametrize("method", ["pca", "haar"])
def test_channel_readings_average_to_estimate_sigma_to_the_bit(method):
    noisy = (torch.rand(2, 3, 40, 50, generator=torch.Generator().manual_seed(2)) * 0.3).add(0.3)
    readings = channel_sigmas(noisy, method)
    assert readings.shape == (2, 3)
    assert torch.equal(readings.mean(dim=1).float(), estimate_sigma(noisy, method))
    one_at_a_time = torch.cat([channel_sigmas(noisy[:, j : j + 1], method) for j in range(3)], 1)
    assert torch.equal(one_at_a_time, readings)


def test_empty_and_non_finite_arrays_are_refused_with_one_line():
    denoiser = _denoiser(3)
    with pytest.raises(Exception, match="empty"):
        denoise_array(denoiser, np.zeros((0, 5, 3), np.uint8), None, 48, 16, 1.0, None)
    bad = np.full((8, 8, 3), 0.5)
    bad[2, 3, 1] = np.nan
    with pytest.raises(Exception, match="NaN"):
        denoiser.denoise(bad)
