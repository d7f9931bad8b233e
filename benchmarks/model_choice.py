"""How well `denoise` picks between the shipped models when none is named.

    python benchmarks/model_choice.py [--channels 3] [--data cbsd68] [--split all] [--limit N]
        [--seed 0] [--threads 2]

For each noise below, the same noisy images as `denoisekit evaluate` (seed + index), run blind
through the blind model (`color-blind`, or `gray-blind` with `--channels 1`), through the
camera model (`color-camera` / `gray-camera`), and through the one `inference.choose` picks for
each image (from `noise.cues`, see `choose.py`). Prints mean PSNR per noise, the share of images
sent to the camera model, and the range of the cues; writes
runs/bench/model_choice-<data>-<split>.json, with every image's scores, cues and estimated sigma
so that other rules can be tried offline. Pick the thresholds on data never trained on
(`--data cbsd432 --split val`; gray: `--channels 1 --data train400 --split val`), then check
them on a test set (cbsd68; gray: bsd68).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from denoisekit.checkpoints.pretrained import DEFAULT_COLOR, DEFAULT_GRAY
from denoisekit.data import load_dataset
from denoisekit.evaluate import make_noisy_pairs
from denoisekit.files import atomic_write_json
from denoisekit.inference.choose import (
    CAMERA_GRAIN_RATIO,
    CAMERA_JPEG_GRID,
    CAMERA_MODELS,
    CAMERA_SHADOW_RATIO,
    looks_like_camera_noise,
)
from denoisekit.inference.loading import load
from denoisekit.metrics import psnr
from denoisekit.noise import parse_noise
from denoisekit.noise.cues import grain_ratio, jpeg_grid, shadow_ratio
from denoisekit.noise.estimate import estimate_sigma_haar

NOISES = [
    *(f"gaussian:{level}/255" for level in (5, 10, 15, 25, 35, 50)),
    "camera-pipeline:a=0.002,b=0.00005",
    "camera-pipeline:a=0.004,b=0.0001",
    "camera-pipeline:a=0.002,b=0.00005+jpeg:90",
    "camera-pipeline:a=0.01,b=0.0002+jpeg:90",
    "camera-pipeline:a=0.02,b=0.0004+jpeg:80",
    "camera-pipeline:a=0.01,b=0.0002,bayer=0+jpeg:90",  # colour only: gray grain is white
    "gaussian:15/255+jpeg:85",
    "poisson:525+gaussian:7.5/255+jpeg:85",
    "poisson-gaussian:a=0.01,b=0.0004",
    "jpeg:90",
    "jpeg:75",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, choices=(1, 3), default=3)
    parser.add_argument("--data", default=None, help="default: cbsd68, or bsd68 for gray")
    parser.add_argument("--split", default="all")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gray = args.channels == 1
    data = args.data or ("bsd68" if gray else "cbsd68")
    out = args.out or Path(f"runs/bench/model_choice-{data}-{args.split}.json")

    blind, camera_model = DEFAULT_GRAY if gray else DEFAULT_COLOR, CAMERA_MODELS[args.channels]
    models = {name: load(name) for name in (blind, camera_model)}
    images = list(load_dataset(data, split=args.split, channels=args.channels, limit=args.limit))
    start = time.perf_counter()
    rows = []
    print(
        f"{'noise':<48} {'blind':>6} {'camera':>6} {'picked':>6} {'sent':>5}  "
        "grain / jpeg / shadow (median)"
    )
    for spec in NOISES:
        if gray and "bayer=0" in spec:
            continue
        pairs = make_noisy_pairs(images, parse_noise(spec), args.seed)
        scores: dict[str, list[float]] = {blind: [], camera_model: [], "picked": []}
        cues: dict[str, list[float]] = {
            "grain_ratio": [],
            "jpeg_grid": [],
            "shadow_ratio": [],
            "sigma": [],
        }
        sent = 0
        for clean, noisy in zip(pairs.clean, pairs.noisy, strict=True):
            clean, noisy = clean[None], noisy[None]
            for name, model in models.items():
                denoised = model.denoise_batch(noisy, None, tile=None)
                scores[name].append(psnr(denoised, clean).item())
            cues["grain_ratio"].append(grain_ratio(noisy).item())
            cues["jpeg_grid"].append(jpeg_grid(noisy).item())
            cues["shadow_ratio"].append(shadow_ratio(noisy).item())
            cues["sigma"].append(estimate_sigma_haar(noisy).item())
            camera = looks_like_camera_noise(noisy)
            sent += camera
            scores["picked"].append(scores[camera_model if camera else blind][-1])
        means = {name: statistics.fmean(values) for name, values in scores.items()}
        share = sent / len(images)
        rows.append({"noise": spec, "psnr": means, "sent_to_camera": share, "per_image": scores})
        rows[-1].update(cues)
        grain, grid = cues["grain_ratio"], cues["jpeg_grid"]
        shadow = [r for r in cues["shadow_ratio"] if r == r] or [float("nan")]  # NaN: no shadows
        print(
            f"{spec:<48} {means[blind]:6.2f} {means[camera_model]:6.2f} "
            f"{means['picked']:6.2f} {share:5.0%}  {min(grain):.2f}-{max(grain):.2f} / "
            f"{min(grid):.2f}-{max(grid):.2f} / {min(shadow):.2f}-{max(shadow):.2f} "
            f"({statistics.median(shadow):.2f})",
            flush=True,
        )
    result = {
        "data": data,
        "models": [blind, camera_model],
        "split": args.split,
        "n": len(images),
        "seed": args.seed,
        "thresholds": {
            "grain_ratio": CAMERA_GRAIN_RATIO,
            "jpeg_grid": CAMERA_JPEG_GRID,
            "shadow_ratio": CAMERA_SHADOW_RATIO,
        },
        "rows": rows,
        "seconds": round(time.perf_counter() - start, 1),
    }
    atomic_write_json(out, result)
    print(f"wrote {out} ({result['seconds']} s)")


if __name__ == "__main__":
    main()
