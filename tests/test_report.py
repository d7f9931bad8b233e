"""Report: figures + self-contained HTML from a fake run folder (no models, no real data)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from denoisekit.errors import DataError
from denoisekit.metrics import psnr
from denoisekit.report import draw_figures, write_report
from denoisekit.report.html import format_sigma

EVIL = "<script>alert(1)</script>"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURES = ("loss_curves", "distributions", "comparison")
SAMPLES = 3  # sample images in make_run_dir


def _metrics(rng: np.random.Generator, n: int, psnr: float) -> dict:
    per = {
        "psnr": (psnr + rng.normal(0, 1, n)).tolist(),
        "ssim": np.clip(0.5 + psnr / 100 + rng.normal(0, 0.02, n), 0, 1).tolist(),
        "mse": (10 ** (-psnr / 10) * (1 + 0.1 * rng.random(n))).tolist(),
        "mae": (0.05 * rng.random(n) + 0.01).tolist(),
    }
    summary = {k: {"mean": float(np.mean(v)), "std": float(np.std(v))} for k, v in per.items()}
    return {"per_image": per, "summary": summary}


def _history(epochs: int, start: float) -> list[dict]:
    return [
        {
            "epoch": e,
            "train_loss": start / e,
            "val_loss": start / e * 1.1,
            "val_psnr": 20 + e,
            "val_ssim": 0.7 + 0.01 * e,
        }
        for e in range(1, epochs + 1)
    ]


def make_run_dir(
    root: Path, *, size: int, channels: int, runs: tuple[str, ...], sampled: tuple[str, ...]
) -> Path:
    """Write results.json + samples.npz for `runs`; only the `sampled` runs get denoised samples."""
    rng = np.random.default_rng(0)
    n, k = 12, SAMPLES
    losses = ["bce", "l1", "mse"]
    results = {
        "name": "fake",
        "title": "Fake experiment, Gaussian sigma=0.1",
        "protocol": {
            "data": "fakedata",
            "split": "test",
            "n_images": n,
            "image_size": size,
            "noise": "gaussian:0.1",
            "seed": 1234,
            "clip_noisy": True,
            "ssim": "Wang et al. 2004: 11x11 Gaussian window",
        },
        "noisy": _metrics(rng, n, 20.0),
        "runs": {
            name: {
                "model": f"model-{i}",
                "kwargs": {},
                "loss": losses[i % len(losses)],
                "params": 18627 * (i + 1),
                "epochs": 3,
                "train_seconds": 12.5 * (i + 1),
                "best_epoch": 3,
                "history": _history(3, start=0.7 if i == 0 else 0.05),
                **_metrics(rng, n, 25.0 + 2 * i),
                "checkpoint": f"runs/{name}/best.safetensors",
            }
            for i, name in enumerate(runs)
        },
        "seed_reported": {"ssim": {"autoencoder": 0.81, "tuned U-Net": 0.96}},
    }
    clean = rng.random((k, size, size, channels), dtype=np.float32)
    noisy = np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1).astype(np.float32)
    arrays = {"clean": clean, "noisy": noisy, "names": np.array([f"img{i}.png" for i in range(k)])}
    for name in sampled:
        arrays[f"denoised__{name}"] = np.clip(clean + rng.normal(0, 0.03, clean.shape), 0, 1)
    root.mkdir(parents=True, exist_ok=True)
    (root / "results.json").write_text(json.dumps(results))
    np.savez(root / "samples.npz", **arrays)
    return root


def _check_png(path: Path) -> tuple[int, int]:
    assert path.is_file(), path
    assert path.read_bytes()[:8] == PNG_MAGIC
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        return im.size


@pytest.mark.parametrize(("size", "channels"), [(28, 1), (32, 3)])
def test_write_report_self_contained(tmp_path: Path, size: int, channels: int) -> None:
    runs = ("ae-seed-bce", f"unet-{EVIL}")
    run_dir = make_run_dir(tmp_path / "run", size=size, channels=channels, runs=runs, sampled=runs)
    out = write_report(run_dir)

    assert out == run_dir / "report.html"
    for name in FIGURES:
        w, h = _check_png(run_dir / "figures" / f"{name}.png")
        assert w > 200 and h > 150
    html = out.read_text(encoding="utf-8")
    # the figures, and each sample as original, noisy input and one output per run
    assert html.count("data:image/png;base64,") == len(FIGURES) + SAMPLES * (2 + len(runs))
    assert 'src="figures/' not in html and "src='figures/" not in html
    assert not re.search(r'src="(?!data:)', html), "only data URIs may be referenced"
    assert "<script" not in html, "run name must be escaped, and the report needs no JS"
    assert "unet-&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "ae-seed-bce" in html
    for value in ("fakedata", "gaussian:0.1", "1234", "Wang et al. 2004", "clip_noisy", "true"):
        assert value in html, value
    assert "tuned U-Net" in html and "0.9600" in html  # seed-reported comparison
    # No temp files left behind by the atomic writes.
    assert not [p for p in run_dir.rglob("*") if p.name.endswith(".tmp")]


def test_best_value_is_bold(tmp_path: Path) -> None:
    run_dir = make_run_dir(tmp_path, size=28, channels=1, runs=("a", "b"), sampled=("a", "b"))
    results = json.loads((run_dir / "results.json").read_text())
    best_psnr = max(r["summary"]["psnr"]["mean"] for r in results["runs"].values())
    worst_psnr = min(r["summary"]["psnr"]["mean"] for r in results["runs"].values())
    html = write_report(run_dir).read_text()
    assert f"<b>{best_psnr:.2f} ±" in html
    assert f"<b>{worst_psnr:.2f} ±" not in html


def test_partial_folder(tmp_path: Path) -> None:
    """Only one run has samples, one run has no history, and no seed numbers: still a report."""
    run_dir = make_run_dir(tmp_path, size=32, channels=3, runs=("a", "bm3d"), sampled=("a",))
    results = json.loads((run_dir / "results.json").read_text())
    del results["seed_reported"]
    del results["runs"]["bm3d"]["history"]
    (run_dir / "results.json").write_text(json.dumps(results))
    html = write_report(run_dir).read_text()
    assert "bm3d" in html and html.count("data:image/png;base64,") == len(FIGURES) + SAMPLES * 3
    assert "seed project" not in html and "red lines" not in html  # none are drawn


def test_without_samples_skips_grid(tmp_path: Path) -> None:
    run_dir = make_run_dir(tmp_path, size=28, channels=1, runs=("a",), sampled=("a",))
    (run_dir / "samples.npz").unlink()
    html = write_report(run_dir).read_text()
    assert html.count("data:image/png;base64,") == len(FIGURES)
    assert "no sample images" in html and "<h2>Samples</h2>" not in html


def test_draw_figures_returns_paths(tmp_path: Path) -> None:
    run_dir = make_run_dir(tmp_path / "r", size=28, channels=1, runs=("a",), sampled=("a",))
    results = json.loads((run_dir / "results.json").read_text())
    figs = draw_figures(results, tmp_path / "out")
    assert set(figs) == set(FIGURES)
    assert all(p.parent == tmp_path / "out" and p.is_file() for p in figs.values())
    assert not (tmp_path / "r" / "report.html").exists()


def test_missing_results_is_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=re.escape(str(tmp_path / "results.json"))):
        write_report(tmp_path)


def test_bad_json_is_data_error(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(DataError, match="results.json"):
        write_report(tmp_path)


def _tiles(html: str) -> list[tuple[int, int, str]]:
    """(width, height, caption) of every sample tile in the report."""
    found = re.findall(
        r'<img alt="[^"]*" width="(\d+)" height="(\d+)" src="data:image/png;'
        r'base64,[^"]+"><figcaption>(.*?)</figcaption>',
        html,
    )
    return [(int(w), int(h), caption) for w, h, caption in found]


@pytest.mark.parametrize(("size", "shown"), [(28, 28 * 5), (32, 32 * 4), (200, 200), (300, 256)])
def test_samples_at_full_resolution(tmp_path: Path, size: int, shown: int) -> None:
    """1:1 pixels up to a 256-pixel centre crop; tiny images enlarged by a whole factor."""
    run_dir = make_run_dir(tmp_path, size=size, channels=3, runs=("a", "b"), sampled=("a", "b"))
    html = write_report(run_dir).read_text()
    tiles = _tiles(html)
    assert len(tiles) == SAMPLES * 4 and {(w, h) for w, h, _ in tiles} == {(shown, shown)}
    assert ("1:1" in html) == (shown <= size) and ("enlarged" in html) == (shown > size)
    assert ("centre 256×256 crop" in html) == (size > 256)


def test_sample_captions_give_psnr_from_metrics(tmp_path: Path) -> None:
    run_dir = make_run_dir(tmp_path, size=32, channels=3, runs=("a", "b"), sampled=("a", "b"))
    with np.load(run_dir / "samples.npz") as npz:
        clean, a, b = (
            torch.from_numpy(npz[k]).permute(0, 3, 1, 2)
            for k in ("clean", "denoised__a", "denoised__b")
        )
    captions = [c for _, _, c in _tiles(write_report(run_dir).read_text())]
    for j in range(SAMPLES):
        want_a, want_b = float(psnr(a, clean)[j]), float(psnr(b, clean)[j])
        row = captions[j * 4 : (j + 1) * 4]
        assert row[0] == "original" and row[1].startswith("noisy input · ")
        best = max(want_a, want_b)
        for caption, label, want in ((row[2], "a", want_a), (row[3], "b", want_b)):
            text = f"{label} · {want:.2f} dB"
            assert caption == (f"<b>{text}</b>" if want == best else text)


@pytest.mark.parametrize(
    ("sigma", "text"),
    [
        (25 / 255, "25/255"),
        (0.1, "25.5/255"),
        (15 / 255, "15/255"),
        (0.0, "0/255"),
        (0.123456, "0.1235"),
        ("n/a", "n/a"),
    ],
)
def test_format_sigma(sigma, text) -> None:
    assert format_sigma(sigma) == text


def test_levels_are_shown_on_the_255_scale(tmp_path: Path) -> None:
    run_dir = make_run_dir(tmp_path, size=28, channels=1, runs=("a",), sampled=("a",))
    results = json.loads((run_dir / "results.json").read_text())
    results["protocol"]["sigma"] = 25 / 255
    by_method = {"noisy": {"psnr": 20.0, "ssim": 0.3}, "a": {"psnr": 30.0, "ssim": 0.9}}
    results["levels"] = {"15": by_method, "25": by_method}
    (run_dir / "results.json").write_text(json.dumps(results))
    html = write_report(run_dir).read_text()
    assert "<b>sigma</b>: 25/255" in html and "0.0980" not in html
    assert "<td>15/255</td>" in html and "<td>25/255</td>" in html


def _untrained(run_dir: Path) -> None:
    """Make every run of a fake folder a pretrained model or a classical filter."""
    results = json.loads((run_dir / "results.json").read_text())
    for run in results["runs"].values():
        for key in ("loss", "epochs", "best_epoch", "train_seconds", "history"):
            run.pop(key)
    del results["seed_reported"]
    (run_dir / "results.json").write_text(json.dumps(results))


def test_no_training_sections_without_training(tmp_path: Path) -> None:
    run_dir = make_run_dir(tmp_path, size=28, channels=1, runs=("nlm", "bm3d"), sampled=("nlm",))
    _untrained(run_dir)
    html = write_report(run_dir).read_text()
    headers = re.findall(r"<th>(.*?)</th>", html)
    assert "params" in headers and "PSNR (dB)" in headers
    assert not {"loss", "epochs", "train time"} & set(headers)
    assert "loss per epoch" not in html and not (run_dir / "figures" / "loss_curves.png").exists()
    assert html.count("data:image/png;base64,") == 2 + SAMPLES * 3  # distributions, comparison


def test_training_columns_when_one_run_trained(tmp_path: Path) -> None:
    run_dir = make_run_dir(tmp_path, size=28, channels=1, runs=("unet", "bm3d"), sampled=())
    results = json.loads((run_dir / "results.json").read_text())
    for key in ("loss", "epochs", "best_epoch", "train_seconds", "history"):
        results["runs"]["bm3d"].pop(key)
    (run_dir / "results.json").write_text(json.dumps(results))
    html = write_report(run_dir).read_text()
    assert {"loss", "epochs", "train time"} <= set(re.findall(r"<th>(.*?)</th>", html))
    assert "loss per epoch" in html


def test_comparison_caption_names_red_lines_only_when_drawn(tmp_path: Path) -> None:
    run_dir = make_run_dir(tmp_path, size=28, channels=1, runs=("a",), sampled=("a",))
    assert "red lines mark the numbers the original student projects reported" in (
        write_report(run_dir).read_text()
    )
    _untrained(run_dir)
    html = write_report(run_dir).read_text()
    assert "Mean PSNR and SSIM with ±1 std error bars." in html and "red line" not in html
