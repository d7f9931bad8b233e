"""`denoisekit benchmark`: the three files, their keys, the protocol flags and bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from denoisekit.benchmark import CSV_COLUMNS, BenchmarkProtocol, parse_sigmas, run_benchmark
from denoisekit.benchmark.speed import conv_flops
from denoisekit.checkpoints.checkpoint import save_checkpoint
from denoisekit.cli import main
from denoisekit.errors import ConfigError, UnknownNameError
from denoisekit.registry import create_model


def _image_folder(root: Path, mode: str = "L", n: int = 2, size: int = 24) -> Path:
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        y, x = np.mgrid[:size, :size]
        base = 128 + 80 * np.sin(x / 3.0 + i) * np.cos(y / 4.0)
        pixels = np.clip(base + rng.normal(0, 5, base.shape), 0, 255).astype(np.uint8)
        if mode == "RGB":
            pixels = np.stack([pixels, pixels[::-1], pixels[:, ::-1]], axis=-1)
        Image.fromarray(pixels, mode).save(root / f"img{i}.png")
    return root


def _gray_checkpoint(path: Path, channels: int = 1) -> Path:
    model = create_model("unet", in_channels=channels, base_channels=4, depth=1)
    meta = {"model": "unet", "kwargs": {"in_channels": channels, "base_channels": 4, "depth": 1}}
    return save_checkpoint(path / "run" / "best", model, meta)


def test_writes_three_files_with_documented_keys(tmp_path: Path) -> None:
    data = _image_folder(tmp_path / "tiny")
    out = tmp_path / "bench"
    summary = run_benchmark("median,gaussian-blur", str(data), "15,25", out, log=lambda _: None)
    assert {p.name for p in out.iterdir()} == {"per_image.csv", "summary.json", "table.md"}
    with open(out / "per_image.csv") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 2 * 2 * 2  # images x sigmas x methods
    assert {r["sigma"] for r in rows} == {"15", "25"}
    saved = json.loads((out / "summary.json").read_text())
    assert saved["results"] == json.loads(json.dumps(summary["results"]))
    entry = saved["results"][str(data)]["25"]["median"]
    for key in ("psnr", "ssim", "ms_per_mp", "cpu_ms_per_mp", "peak_rss_mb", "n"):
        assert key in entry
    assert entry["n"] == 2 and entry["peak_rss_mb"] > 10
    assert all(float(r["cpu_seconds"]) > 0 for r in rows)
    assert saved["noisy"][str(data)]["25"]["psnr"] < entry["psnr"]
    assert saved["protocol"]["clip"] is False and saved["protocol"]["seed"] == 0
    table = (out / "table.md").read_text()
    assert "| median |" in table and "## Protocol" in table and "not quantised" in table


def test_same_seed_same_numbers_and_bm3d_comparison(tmp_path: Path) -> None:
    pytest.importorskip("bm3d")
    data = _image_folder(tmp_path / "tiny", n=1, size=20)
    first = run_benchmark("bm3d,median", str(data), "25", tmp_path / "a", log=lambda _: None)
    second = run_benchmark("bm3d,median", str(data), "25", tmp_path / "b", log=lambda _: None)
    a, b = first["results"][str(data)]["25"], second["results"][str(data)]["25"]
    assert a["median"]["psnr"] == b["median"]["psnr"]
    vs = a["median"]["vs_bm3d"]
    assert vs["psnr_gain"] == pytest.approx(a["median"]["psnr"] - a["bm3d"]["psnr"])
    assert vs["speed_ratio"] > 0
    assert "× faster than BM3D" in (tmp_path / "a" / "table.md").read_text()


def test_quantize_makes_noisy_input_multiples_of_one_255th() -> None:
    clean = torch.rand(1, 16, 16)
    noisy = BenchmarkProtocol(quantize=True).make_noisy(clean, 25 / 255, 3)
    codes = noisy * 255
    assert torch.allclose(codes, codes.round(), atol=1e-4)
    assert noisy.min() >= 0 and noisy.max() <= 1
    raw = BenchmarkProtocol().make_noisy(clean, 25 / 255, 3)
    assert raw.min() < 0 or raw.max() > 1  # the default neither clips nor rounds
    assert not torch.allclose(raw * 255, (raw * 255).round(), atol=1e-4)


def test_clip_border_and_y_channel_change_what_they_should() -> None:
    clean = torch.rand(3, 32, 32)
    assert BenchmarkProtocol(clip=True).make_noisy(clean, 0.5, 0).min() >= 0
    assert (
        BenchmarkProtocol(seed=1)
        .make_noisy(clean, 0.1, 0)
        .ne(BenchmarkProtocol(seed=0).make_noisy(clean, 0.1, 0))
        .any()
    )
    batch = clean.unsqueeze(0)
    assert BenchmarkProtocol(border=4).metric_view(batch).shape == (1, 3, 24, 24)
    y = BenchmarkProtocol(y_channel=True).metric_view(batch)
    assert y.shape == (1, 1, 32, 32)
    white = BenchmarkProtocol(y_channel=True).metric_view(torch.ones(1, 3, 2, 2))
    assert torch.allclose(white, torch.full_like(white, 235 / 255))
    with pytest.raises(ConfigError, match="border"):
        BenchmarkProtocol(border=16).metric_view(batch)


def test_protocol_flags_reach_the_outputs(tmp_path: Path) -> None:
    data = _image_folder(tmp_path / "tiny", n=1)
    argv = ["benchmark", "--models", "median", "--data", str(data), "--sigmas", "25"]
    assert (
        main([*argv, "--quantize", "--border", "2", "--seed", "7", "--out", str(tmp_path / "o")])
        == 0
    )
    proto = json.loads((tmp_path / "o" / "summary.json").read_text())["protocol"]
    assert proto["quantize"] and proto["border"] == 2 and proto["seed"] == 7
    assert "rounded to 8-bit" in (tmp_path / "o" / "table.md").read_text()


def test_parse_sigmas_reads_the_0_255_scale_and_names_bad_values() -> None:
    assert parse_sigmas("25,15, 25/255") == [15 / 255, 25 / 255]
    for bad in ("15,abc", "15,-5", "0", "300"):
        with pytest.raises(ConfigError, match="sigma") as err:
            parse_sigmas(bad)
        assert repr(bad.split(",")[-1].strip()) in str(err.value)


def test_networks_get_flops_and_channel_mismatch_is_refused(tmp_path: Path) -> None:
    gray = _image_folder(tmp_path / "gray", n=1)
    colour = _image_folder(tmp_path / "colour", mode="RGB", n=1)
    ckpt = _gray_checkpoint(tmp_path)
    summary = run_benchmark(
        str(ckpt), str(gray), "25", tmp_path / "o", roofline=False, log=lambda _: None
    )
    entry = summary["results"][str(gray)]["25"]["run"]
    assert entry["kind"] == "network" and entry["gflop_per_mp"] > 0
    assert summary["methods"]["run"]["colour"] == "a gray network"
    with pytest.raises(ConfigError, match="gray model"):
        run_benchmark(str(ckpt), str(colour), "25", tmp_path / "p", log=lambda _: None)
    assert not (tmp_path / "p").exists()


def test_conv_flops_counts_multiply_adds_twice() -> None:
    conv = torch.nn.Conv2d(2, 3, 3, padding=1)
    flops = conv_flops(_sigma_ignoring(conv), torch.zeros(1, 2, 5, 7), None)
    assert flops == 2 * (3 * 5 * 7) * (2 * 3 * 3)


def _sigma_ignoring(conv: torch.nn.Module) -> torch.nn.Module:
    class Wrap(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = conv

        def forward(self, x, sigma=None):
            return self.conv(x)

    return Wrap()


@pytest.mark.parametrize(
    "models,data,needle",
    [
        ("bm4d", "{gray}", "bm3d"),
        ("median", "set13", "set12"),
        ("unet", "{gray}", "no trained weights"),
        ("runs/missing/best.safetensors", "{gray}", "checkpoint not found"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, capsys, models: str, data: str, needle: str) -> None:
    gray = _image_folder(tmp_path / "gray", n=1)
    argv = ["benchmark", "--models", models, "--data", data.format(gray=gray), "--sigmas", "25"]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert not (tmp_path / "o").exists()


def test_unknown_method_lists_close_names() -> None:
    with pytest.raises(UnknownNameError, match="nlm"):
        run_benchmark("nlmm", "set12", "25", "unused", log=lambda _: None)


def test_colour_sets_state_how_each_method_handles_channels(tmp_path: Path) -> None:
    colour = _image_folder(tmp_path / "colour", mode="RGB", n=1)
    run_benchmark("median,nlm", str(colour), "25", tmp_path / "o", log=lambda _: None)
    table = (tmp_path / "o" / "table.md").read_text()
    assert "colour)" in table
    assert "median: each channel filtered on its own" in table
    assert "nlm: colour patches compared jointly" in table


def test_sigma_auto_runs_blind_and_says_so(tmp_path: Path) -> None:
    data = _image_folder(tmp_path / "tiny", n=1, size=32)
    given = run_benchmark("nlm", str(data), "25", tmp_path / "a", log=lambda _: None)
    blind = run_benchmark(
        "nlm",
        str(data),
        "25",
        tmp_path / "b",
        protocol=BenchmarkProtocol(blind=True),
        log=lambda _: None,
    )
    psnr_given = given["results"][str(data)]["25"]["nlm"]["psnr"]
    psnr_blind = blind["results"][str(data)]["25"]["nlm"]["psnr"]
    assert psnr_given != psnr_blind  # the estimated sigma is not exactly the true one
    assert blind["protocol"]["blind"] is True
    assert "estimates it from the noisy image" in (tmp_path / "b" / "table.md").read_text()
