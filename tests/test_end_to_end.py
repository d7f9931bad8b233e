"""Train 1 epoch on 8 tiny images -> evaluate -> denoise -> experiment -> report, via the CLI."""

import json

import numpy as np
import pytest
from PIL import Image

from denoisekit.cli import main


@pytest.fixture
def tiny_folder(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(10):
        base = np.linspace(0, 255, 24)[None, :, None] * np.ones((24, 1, 3))
        img = (base + rng.integers(0, 40, (24, 24, 3))).clip(0, 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"img{i:02d}.png")
    return folder


def _run_config(tmp_path, folder):
    path = tmp_path / "run.yaml"
    path.write_text(
        f"data: {{train: '{folder}', channels: 3, limit: 8}}\n"
        "model: {name: unet, kwargs: {base_channels: 4, depth: 2}}\n"
        "noise: {train: 'gaussian:0.1'}\n"
        "train: {epochs: 1, batch_size: 4, precision: 32-true}\n"
    )
    return path


def test_train_evaluate_denoise(tmp_path, tiny_folder, capsys):
    out = tmp_path / "run"
    assert main(["train", str(_run_config(tmp_path, tiny_folder)), "--out", str(out)]) == 0
    for name in ["config.yaml", "metrics.csv", "best.safetensors", "best.json", "last.safetensors"]:
        assert (out / name).is_file(), name
    header = (out / "metrics.csv").read_text().splitlines()[0]
    assert header.startswith("epoch,train_loss,val_loss,val_psnr,val_ssim")
    meta = json.loads((out / "best.json").read_text())
    assert meta["model"] == "unet" and meta["epoch"] == 1 and meta["config"]["seed"] == 0

    ev = tmp_path / "eval"
    args = [
        "evaluate",
        "--checkpoint",
        str(out / "best.safetensors"),
        "--data",
        str(tiny_folder),
        "--noise",
        "gaussian:25/255",
        "--split",
        "all",
        "--out",
        str(ev),
    ]
    assert main(args) == 0
    summary = json.loads((ev / "summary.json").read_text())
    assert {"psnr", "ssim", "mse", "mae", "noisy", "n", "protocol"} <= summary.keys()
    assert summary["n"] == 10
    assert summary["protocol"]["seed"] == 0
    assert len((ev / "per_image.csv").read_text().splitlines()) == 11
    # noise fixed per image: a second evaluation repeats the numbers exactly
    assert main(args[:-1] + [str(tmp_path / "eval2")]) == 0
    again = json.loads((tmp_path / "eval2" / "summary.json").read_text())
    assert again["psnr"] == summary["psnr"] and again["noisy"] == summary["noisy"]

    noisy_png = tiny_folder / "img00.png"
    denoised_png = tmp_path / "denoised.png"
    assert (
        main(
            [
                "denoise",
                str(noisy_png),
                str(denoised_png),
                "--checkpoint",
                str(out / "best.safetensors"),
            ]
        )
        == 0
    )
    assert Image.open(denoised_png).size == (24, 24)

    # resume continues from last.* to the new epoch count
    assert (
        main(
            [
                "train",
                str(_run_config(tmp_path, tiny_folder)),
                "--out",
                str(out),
                "--resume",
                "--set",
                "train.epochs=2",
            ]
        )
        == 0
    )
    assert len((out / "metrics.csv").read_text().splitlines()) == 3


def test_experiment_and_report(tmp_path, tiny_folder):
    exp = tmp_path / "exp.yaml"
    exp.write_text(
        f"name: tiny\ndata: {{train: '{tiny_folder}', channels: 3}}\n"
        "noise: {train: 'gaussian:0.1', clip: true}\n"
        "train: {epochs: 1, batch_size: 4}\n"
        "report: {samples: 2}\n"
        "runs:\n"
        "  ae: {model: {name: autoencoder-seed, kwargs: {base_channels: 4}}, train: {loss: bce}}\n"
        "  unet:\n    model: {name: unet, kwargs: {base_channels: 4, depth: 2}}\n"
        "    data: {patch_size: 16, patches_per_image: 2}\n"
    )
    out = tmp_path / "exp"
    assert main(["experiment", str(exp), "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert list(results["runs"]) == ["ae", "unet"]
    assert results["protocol"]["clip_noisy"] is True
    assert len(results["runs"]["ae"]["per_image"]["psnr"]) == results["protocol"]["n_images"]
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "report.html").is_file()
    # a second run reuses the finished trainings instead of training again
    before = (out / "runs" / "ae" / "best.safetensors").stat().st_mtime_ns
    assert main(["experiment", str(exp), "--out", str(out)]) == 0
    assert (out / "runs" / "ae" / "best.safetensors").stat().st_mtime_ns == before
