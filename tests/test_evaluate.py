"""Evaluation pairs carry the noise level in the form the noise model gives it (number or map),
and a checkpoint trained with per-pixel levels is evaluated with them."""

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image

from denoisekit.cli import main
from denoisekit.evaluate import denoise_pairs, make_noisy_pairs
from denoisekit.models.base import Denoiser
from denoisekit.noise import parse_noise


class SeesSigma(Denoiser):
    """Returns its input and remembers the noise level it was handed."""

    noise_aware = True

    def __init__(self):
        super().__init__()
        self.seen = []

    def denoise_padded(self, noisy, sigma):
        self.seen.append(sigma)
        return noisy


def test_pairs_hand_the_model_a_number_or_a_map():
    images = [torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(i)) for i in range(3)]
    spec = "poisson-gaussian:a=0.01,b=0.0004"
    model = SeesSigma()
    denoise_pairs(model, make_noisy_pairs(images, parse_noise(spec), seed=0), batch_size=3)
    flat = model.seen[-1]
    assert torch.allclose(flat.amax((1, 2, 3)), flat.amin((1, 2, 3)))
    pairs = make_noisy_pairs(images, parse_noise(spec, level="pixel"), seed=0)
    denoise_pairs(model, pairs, batch_size=3)
    varying = model.seen[-1]
    assert varying.shape == (3, 1, 16, 16)
    assert torch.allclose(varying, torch.stack(pairs.sigma))
    assert bool((varying.amax((1, 2, 3)) > varying.amin((1, 2, 3)) * 1.1).all())


class SeesLayout(torch.nn.Module):
    """A 3x3 convolution that records whether its input is channels_last."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 2, 3, padding=1)
        self.seen = []

    def forward(self, noisy, sigma):
        self.seen.append(noisy.is_contiguous(memory_format=torch.channels_last))
        return self.conv(noisy)


def test_pairs_follow_the_model_memory_layout():
    images = [torch.rand(2, 12, 10, generator=torch.Generator().manual_seed(i)) for i in range(2)]
    pairs = make_noisy_pairs(images, parse_noise("gaussian:0.1"), seed=0)
    model = SeesLayout()
    nchw, _ = denoise_pairs(model, pairs)
    model.to(memory_format=torch.channels_last)
    channels_last, _ = denoise_pairs(model, pairs)
    assert model.seen == [False, True]
    for a, b in zip(nchw, channels_last, strict=True):
        torch.testing.assert_close(a, b)


def test_checkpoint_trained_with_pixel_levels_is_evaluated_with_them(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(8):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    run = tmp_path / "run"
    settings = [
        f"data.train={folder}",
        "data.channels=3",
        "model.name=drunet",
        "model.kwargs={in_channels: 3, channels: [4, 8, 8, 8], blocks: 1}",
        "noise.train=poisson-gaussian:a=0.01,b=0.0004",
        "noise.level=pixel",
        "train.epochs=1",
        "train.batch_size=4",
        "train.precision=32-true",
    ]
    args = ["train", "--out", str(run)] + [a for s in settings for a in ("--set", s)]
    assert main(args) == 0
    out = tmp_path / "eval"
    base = ["evaluate", "--checkpoint", str(run), "--data", str(folder), "--split", "all"]
    assert main([*base, "--noise", "poisson-gaussian:a=0.01,b=0.0004", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["protocol"]["noise_level"] == "pixel"
    with open(out / "per_image.csv", newline="") as f:
        assert all(0.01 < float(row["sigma"]) < 0.11 for row in csv.DictReader(f))
    forced = tmp_path / "eval-image"
    args = [*base, "--noise", "gaussian:0.1", "--noise-level", "image", "--out", str(forced)]
    assert main(args) == 0
    assert json.loads((forced / "summary.json").read_text())["protocol"]["noise_level"] == "image"
    blind = tmp_path / "eval-auto"
    args = [*base, "--noise", "gaussian:0.1", "--noise-level", "auto", "--out", str(blind)]
    assert main(args) == 0
    assert json.loads((blind / "summary.json").read_text())["protocol"]["noise_level"] == "auto"
    with open(blind / "per_image.csv", newline="") as f:
        estimated = [float(row["sigma"]) for row in csv.DictReader(f)]
    # estimated from each noisy image (the 16x16 random images read as extra noise), not 0.1
    assert len(set(estimated)) == len(estimated) and all(e != 0.1 for e in estimated)


def test_blind_levels_use_the_estimator_named():
    from denoisekit.evaluate import blind_levels
    from denoisekit.noise.estimate import estimate_sigma_haar, estimate_sigma_pca

    noisy = [
        0.5 + 0.1 * torch.randn(1, 32, 40, generator=torch.Generator().manual_seed(i))
        for i in range(2)
    ]
    for method, estimator in (("pca", estimate_sigma_pca), ("haar", estimate_sigma_haar)):
        levels = blind_levels(noisy, method)
        assert [level.shape for level in levels] == [torch.Size([])] * 2
        for level, x in zip(levels, noisy, strict=True):
            assert float(level) == pytest.approx(float(estimator(x.unsqueeze(0))))


def test_evaluate_checkpoint_from_python_matches_the_cli(tmp_path):
    from denoisekit.evaluate import evaluate_checkpoint

    folder = tmp_path / "images"
    folder.mkdir()
    from skimage import data

    camera = data.camera()  # natural content: random pixels would read as noise
    for i in range(3):
        Image.fromarray(camera[100 * i : 100 * i + 48, 200:240]).save(folder / f"{i}.png")
    common = {"split": "all", "seed": 3, "clip": True}
    result = evaluate_checkpoint(
        "gray-blind", str(folder), "gaussian:25/255", tmp_path / "py", **common
    )
    assert result["n"] == 3 and result["noise"].clip
    args = ["evaluate", "--checkpoint", "gray-blind", "--data", str(folder), "--split", "all"]
    args += ["--noise", "gaussian:25/255", "--seed", "3", "--clip", "--out", str(tmp_path / "cli")]
    assert main(args) == 0
    from_python = json.loads((tmp_path / "py" / "summary.json").read_text())
    from_cli = json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert from_python["psnr"] == from_cli["psnr"] == result["summary"]["psnr"]["mean"]
    assert from_python["psnr"] > from_python["noisy"]["psnr"] + 3
    median = evaluate_checkpoint("median", str(folder), "gaussian:25/255", tmp_path / "f", **common)
    assert from_python["noisy"]["psnr"] < median["summary"]["psnr"]["mean"] < from_python["psnr"]
