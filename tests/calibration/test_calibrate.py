"""Camera-noise calibration: recovers known (a, b) from synthetic noisy images, refuses bad input.

Noise here is the Gaussian approximation of Poisson-Gaussian noise, variance a*x + b for clean
intensity x, clipped to [0, 1] as a camera does (so the clipping correction is exercised).
Tolerances hold for all of 20 noise seeds of each case (worst seen in brackets); the issue's
targets (10% from one image, 3% from a burst of 8) are measured in benchmarks/calibration.py:
- one 512x512 step chart: a within 5% (2.5%), b within 10% (8.1%; median 3.0%), sigma(x)
  within 5% (1.9%)
- camera photo, one image: a within 5% (2.9%), b within 15% (12.1%)
- astronaut, colour, pooled: a within 5% (2.7%), sigma(x) within 8% (3.9%)
- camera, burst of 8: a within 1% (0.4%), b within 3% (2.3%; median 0.7%)
- a disc on black (`on_black`): see test_black_background_pins_b
The stated standard errors are honest: over those seeds the RMS of (b - true b) / b_stderr
is 0.91-1.13 on the chart and 1.03 on the camera photo.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import skimage.data
import torch

from denoisekit.calibration.calibrate import calibrate_burst, calibrate_images, usable_bins
from denoisekit.calibration.linefit import Bins, grid_step
from denoisekit.cli import main
from denoisekit.errors import DataError
from denoisekit.io import save_image

PAIRS = [(0.01, 0.0004), (0.002, 0.0001)]


def step_chart(patches: int = 8, size: int = 64, seed: int = 0) -> np.ndarray:
    """(H, W) gray step chart: patches x patches flat squares, levels 0.02-0.98 in shuffled
    order, spaced more densely in the dark (where b is measured)."""
    levels = 0.02 + 0.96 * np.linspace(0.0, 1.0, patches * patches) ** 2
    levels = np.random.default_rng(seed).permutation(levels).reshape(patches, patches)
    return np.kron(levels, np.ones((size, size)))


def on_black(size: int = 256) -> np.ndarray:
    """(H, W) a disc shaded 0.45-0.9 left to right on an exactly black background: produce
    on an inspection camera's black belt. No flat area between 0 and 0.45."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    inside = (yy - 0.5) ** 2 + (xx - 0.5) ** 2 < 0.35**2
    return np.where(inside, 0.45 + 0.45 * xx, 0.0)


def camera() -> np.ndarray:
    return skimage.data.camera() / 255.0


def add_noise(clean: np.ndarray, a: float, b: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(clean + np.sqrt(a * clean + b) * rng.standard_normal(clean.shape), 0.0, 1.0)


def rel(value: float, true: float) -> float:
    return abs(value / true - 1)


def max_sigma_error(cal, a: float, b: float) -> float:
    x = np.linspace(0.05, 0.95, 19)
    return float(np.abs(np.sqrt((cal.a * x + cal.b) / (a * x + b)) - 1).max())


# ----------------------------------------------------------------------------- recovery


@pytest.mark.parametrize("a,b", PAIRS)
def test_single_image_step_chart(a: float, b: float) -> None:
    cal = calibrate_images([add_noise(step_chart(), a, b, seed=1)])
    assert cal.method == "single"
    assert rel(cal.a, a) < 0.05, cal
    assert rel(cal.b, b) < 0.10, cal
    assert abs(cal.b - b) < 3 * cal.b_stderr and abs(cal.a - a) < 3 * cal.a_stderr, cal
    assert max_sigma_error(cal, a, b) < 0.05, cal
    # Dark patches, partly clipped at 0, carry b (see _MAX_CLIP and _ONE_LEVEL_SPREAD).
    assert cal.intensity_range[0] < 0.06 and cal.intensity_range[1] > 0.6


def test_single_image_natural_photo() -> None:
    a, b = PAIRS[0]
    cal = calibrate_images([add_noise(camera(), a, b, seed=2)])
    assert rel(cal.a, a) < 0.05, cal
    assert rel(cal.b, b) < 0.15, cal
    assert abs(cal.b - b) < 3 * cal.b_stderr, cal


def test_single_image_colour_channels_pooled() -> None:
    a, b = PAIRS[0]
    clean = skimage.data.astronaut().transpose(2, 0, 1) / 255.0  # (3, H, W)
    noisy = torch.from_numpy(add_noise(clean, a, b, seed=3)).float()  # tensors work too
    cal = calibrate_images([noisy])
    assert rel(cal.a, a) < 0.05, cal
    assert max_sigma_error(cal, a, b) < 0.08, cal
    hwc = calibrate_images([noisy.numpy().transpose(1, 2, 0)])  # an HWC array, as denoise takes
    assert (hwc.a, hwc.b) == pytest.approx((cal.a, cal.b), rel=1e-6)


@pytest.mark.parametrize("a,b", PAIRS)
def test_burst_of_8_is_tighter(a: float, b: float) -> None:
    clean = camera()
    cal = calibrate_burst([add_noise(clean, a, b, seed=10 + k) for k in range(8)])
    assert cal.method == "burst"
    assert rel(cal.a, a) < 0.01, cal
    assert rel(cal.b, b) < 0.03, cal
    assert cal.a_stderr < 0.01 * a


@pytest.mark.parametrize("a,b", PAIRS)
def test_black_background_pins_b(a: float, b: float) -> None:
    # The background is half clipped at 0, and only it lies below 0.45: b must come from it.
    # Over 20 seeds the worst errors were: one image, b 6.6% and a 3.6%; burst, b and a 0.9%.
    one = calibrate_images([add_noise(on_black(), a, b, seed=5)])
    assert rel(one.b, b) < 0.10 and rel(one.a, a) < 0.06, one
    assert one.intensity_range[0] < 0.01, one
    burst = calibrate_burst([add_noise(on_black(), a, b, seed=40 + k) for k in range(8)])
    assert rel(burst.b, b) < 0.03 and rel(burst.a, a) < 0.02, burst


@pytest.mark.parametrize("a,b", PAIRS)
def test_eight_bit_shots_are_modelled(a: float, b: float) -> None:
    # Rounding to 8 bits moves the moments of the half-clipped black (b from a burst was 6.3%
    # high at a=0.002 before the fit modelled it). Over 20 seeds the worst errors were: one
    # image, b 8.0%, a 3.7%; burst, b 1.0%, a 0.9%.
    def eight_bit(x: np.ndarray) -> np.ndarray:
        return np.round(x * 255) / 255

    assert grid_step(eight_bit(on_black())) == pytest.approx(1 / 255)
    assert grid_step(add_noise(on_black(), a, b, seed=0)) == 0.0
    one = calibrate_images([eight_bit(add_noise(on_black(), a, b, seed=6))])
    assert rel(one.b, b) < 0.10 and rel(one.a, a) < 0.06, one
    assert one.to_dict()["rounding_step"] == pytest.approx(1 / 255)
    shots = [eight_bit(add_noise(on_black(), a, b, seed=60 + k)) for k in range(8)]
    burst = calibrate_burst(shots)
    assert rel(burst.b, b) < 0.03 and rel(burst.a, a) < 0.02, burst


@pytest.mark.parametrize("shots", [2, 3, 8])
def test_burst_statistics_binned_in_slices_agree(shots: int, monkeypatch) -> None:
    # Large bursts are binned a slice of values at a time to bound memory; the slices must
    # add up to the same fit as one pass.
    import denoisekit.calibration.burststats as burststats

    burst = [add_noise(on_black(128), *PAIRS[0], seed=70 + k) for k in range(shots)]
    whole = calibrate_burst(burst)
    monkeypatch.setattr(burststats, "CHUNK", 1000)
    sliced = calibrate_burst(burst)
    assert (sliced.a, sliced.b) == pytest.approx((whole.a, whole.b), rel=1e-9)
    assert sliced.n_samples == whole.n_samples


@pytest.mark.parametrize("shots", [2, 3])
def test_short_bursts_work(shots: int) -> None:
    a, b = PAIRS[0]
    cal = calibrate_burst([add_noise(camera(), a, b, seed=20 + k) for k in range(shots)])
    assert rel(cal.a, a) < 0.05, cal


def test_pooling_more_images_helps_and_names_them() -> None:
    a, b = PAIRS[0]
    images = [add_noise(step_chart(seed=k), a, b, seed=30 + k) for k in range(3)]
    one = calibrate_images(images[:1])
    three = calibrate_images(images, names=["x.png", "y.png", "z.png"])
    assert three.n_samples > 2.5 * one.n_samples
    assert three.b_stderr < one.b_stderr
    assert three.images == ["x.png", "y.png", "z.png"]


def test_spec_and_json_document() -> None:
    a, b = PAIRS[0]
    cal = calibrate_images([add_noise(step_chart(), a, b, seed=1)])
    m = re.fullmatch(r"poisson-gaussian:a=([0-9.]+),b=([0-9.]+)", cal.spec)
    assert m, cal.spec  # plain decimals, no exponent
    assert float(m.group(1)) == pytest.approx(cal.a, rel=1e-3)
    assert float(m.group(2)) == pytest.approx(cal.b, rel=1e-3)
    doc = cal.to_dict()
    assert list(doc)[:3] == ["noise", "a", "b"]
    assert doc["method"] == "single" and doc["channels"] == "pooled"
    assert doc["sigma_at_0.5"] == pytest.approx(np.sqrt(cal.a * 0.5 + cal.b))
    assert len(doc["bins"]) == doc["n_bins"]
    json.dumps(doc)  # plain JSON types only


# ----------------------------------------------------------------------------- bins


def test_usable_bins_take_heavy_clipping_only_at_one_dark_level() -> None:
    sd = np.full(5, 0.02)
    bins = Bins(
        mean=np.array([0.008, 0.008, 0.95, 0.008, 0.3]),
        var=sd**2,
        n=np.full(5, 1000.0),
        clipped=np.array([0.5, 0.5, 0.5, 0.7, 0.01]),
        spread=np.array([0.001, 0.01, 0.001, 0.001, 0.05]),
    )
    # one dark level: in; dark shades: out; a white level: out; too clipped: out; unclipped: in
    assert usable_bins(bins, "burst").tolist() == [True, False, False, False, True]


# ----------------------------------------------------------------------------- refusals


def test_refuses_too_small_images() -> None:
    small = add_noise(np.full((20, 40), 0.5), *PAIRS[0], seed=0)
    with pytest.raises(DataError, match=r"40x20 pixels.*at least 32x32"):
        calibrate_images([small])
    with pytest.raises(DataError, match="at least 32x32"):
        calibrate_burst([small, small])


def test_refuses_burst_of_mixed_sizes_and_single_shot() -> None:
    a, b = PAIRS[0]
    big, other = add_noise(camera(), a, b, 0), add_noise(camera()[:256], a, b, 1)
    with pytest.raises(DataError, match=r"differ in size: b.png is 512x256, a.png is 512x512"):
        calibrate_burst([big, other], names=["a.png", "b.png"])
    with pytest.raises(DataError, match="at least 2 shots.*got 1"):
        calibrate_burst([big])
    with pytest.raises(DataError, match="no images"):
        calibrate_images([])


def test_refuses_a_single_brightness() -> None:
    """A flat gray card: a and b cannot be told apart, so no number comes back."""
    flat = add_noise(np.full((256, 256), 0.5), *PAIRS[0], seed=0)
    with pytest.raises(
        DataError, match=r"intensity levels? spanning 0.50-0.50 .*need 3\+ spanning >= 0.25"
    ):
        calibrate_images([flat])
    with pytest.raises(DataError, match="intensity level"):
        calibrate_burst([add_noise(np.full((64, 64), 0.5), *PAIRS[0], seed=k) for k in range(4)])


def test_refuses_texture_without_flat_regions() -> None:
    yy, xx = np.mgrid[0:256, 0:256]
    texture = 0.15 + 0.7 * xx / 255 + 0.15 * np.sin(2 * np.pi * xx / 5) * np.sin(2 * np.pi * yy / 7)
    with pytest.raises(DataError, match="flat regions at 0 intensity levels.*smooth areas"):
        calibrate_images([add_noise(texture, *PAIRS[1], seed=0)])


def test_refuses_values_off_the_unit_scale() -> None:
    with pytest.raises(DataError, match=r"\[0, 1\] scale"):
        calibrate_images([camera() * 255])
    nan = camera().copy()
    nan[0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        calibrate_images([nan])


# ----------------------------------------------------------------------------- CLI


def test_cli_writes_json(tmp_path, capsys) -> None:
    a, b = PAIRS[0]
    image = tmp_path / "chart.png"
    save_image(add_noise(step_chart(), a, b, seed=1).astype(np.float32), image, bit_depth=16)
    out = tmp_path / "camera.json"
    assert main(["calibrate", str(image), "--out", str(out)]) == 0
    line = capsys.readouterr().out.strip()
    assert "single" in line and "sigma at mid-gray" in line and str(out) in line
    doc = json.loads(out.read_text())
    for key in ("noise", "a", "b", "a_stderr", "b_stderr", "method", "images", "sigma_at_0.5"):
        assert key in doc
    assert doc["rounding_step"] == 0.0  # a 16-bit file: rounding too fine to model
    assert doc["noise"].startswith("poisson-gaussian:a=")
    assert doc["method"] == "single" and doc["images"] == [str(image)]
    assert rel(doc["a"], a) < 0.05


def test_cli_warns_about_jpeg(tmp_path, capsys) -> None:
    clean = np.kron(np.linspace(0.05, 0.95, 16).reshape(4, 4), np.ones((64, 64)))
    png, jpg = tmp_path / "a.png", tmp_path / "b.jpg"
    save_image(add_noise(clean, *PAIRS[0], seed=1).astype(np.float32), png)
    save_image(add_noise(clean, *PAIRS[0], seed=2).astype(np.float32), jpg, quality=97)
    assert main(["calibrate", str(png), "--out", str(tmp_path / "p.json")]) == 0
    assert "JPEG" not in capsys.readouterr().err
    assert main(["calibrate", str(png), str(jpg), "--out", str(tmp_path / "j.json")]) == 0
    err = capsys.readouterr().err
    assert f"note: {jpg} is JPEG: compression smooths the noise" in err, err


def test_cli_burst_from_folder(tmp_path, capsys) -> None:
    a, b = PAIRS[0]
    folder = tmp_path / "burst"
    for k in range(4):
        save_image(
            add_noise(camera(), a, b, seed=k).astype(np.float32), folder / f"{k}.png", bit_depth=16
        )
    out = tmp_path / "camera.json"
    assert main(["calibrate", str(folder), "--burst", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["method"] == "burst" and len(doc["images"]) == 4
    assert rel(doc["a"], a) < 0.03


def test_cli_refusal_is_one_line_and_writes_nothing(tmp_path, capsys) -> None:
    image = tmp_path / "tiny.png"
    save_image(np.full((16, 16), 0.5, np.float32), image)
    out = tmp_path / "camera.json"
    assert main(["calibrate", str(image), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("denoisekit: error:") and "16x16" in err[0]
    assert not out.exists()
    assert main(["calibrate", str(tmp_path / "missing.png"), "--out", str(out)]) == 1
    assert "missing.png" in capsys.readouterr().err


def test_json_is_a_noise_spec(tmp_path) -> None:
    """`--noise camera.json` works: parse_noise reads the "noise" entry."""
    from denoisekit.noise import parse_noise

    a, b = PAIRS[0]
    cal = calibrate_burst([add_noise(camera(), a, b, seed=k) for k in range(8)])
    path = tmp_path / "camera.json"
    from denoisekit.batch.calibrate import write_calibration

    write_calibration(cal, path)
    model = parse_noise(str(path))
    assert model.kind == "poisson-gaussian"
    assert model.sigma == pytest.approx(cal.sigma(0.5), rel=1e-3)
