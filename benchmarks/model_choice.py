"""How well `denoise` picks between the shipped colour models when none is named.

    python benchmarks/model_choice.py [--data cbsd68] [--split all] [--limit N] [--seed 0]
        [--threads 2]

For each noise below, the same noisy images as `denoisekit evaluate` (seed + index), run blind
through `color-blind`, through `color-camera`, and through the one `inference.choose` picks for
each image (from `noise.cues`: the grain ratio or the JPEG grid score over its threshold sends
it to `color-camera`). Prints mean PSNR per noise, the share of images sent to `color-camera`,
and the range of both cues; writes runs/bench/model_choice-<data>-<split>.json. Pick the
thresholds on `--data cbsd432 --split val` (never trained on), then check them on a test set.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from denoisekit.data import load_dataset
from denoisekit.evaluate import make_noisy_pairs
from denoisekit.files import atomic_write_json
from denoisekit.inference.choose import (
    CAMERA_GRAIN_RATIO,
    CAMERA_JPEG_GRID,
    CAMERA_MODEL,
    looks_like_camera_noise,
)
from denoisekit.inference.loaded import load
from denoisekit.metrics import psnr
from denoisekit.noise import parse_noise
from denoisekit.noise.cues import grain_ratio, jpeg_grid

NOISES = [
    *(f"gaussian:{level}/255" for level in (5, 10, 15, 25, 35, 50)),
    "camera-pipeline:a=0.002,b=0.00005",
    "camera-pipeline:a=0.004,b=0.0001",
    "camera-pipeline:a=0.01,b=0.0002+jpeg:90",
    "camera-pipeline:a=0.02,b=0.0004+jpeg:80",
    "camera-pipeline:a=0.01,b=0.0002,bayer=0+jpeg:90",
    "gaussian:15/255+jpeg:85",
    "poisson:525+gaussian:7.5/255+jpeg:85",
    "poisson-gaussian:a=0.01,b=0.0004",
    "jpeg:90",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="cbsd68")
    parser.add_argument("--split", default="all")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = args.out or Path(f"runs/bench/model_choice-{args.data}-{args.split}.json")

    models = {name: load(name) for name in ("color-blind", CAMERA_MODEL)}
    images = list(load_dataset(args.data, split=args.split, channels=3, limit=args.limit))
    start = time.perf_counter()
    rows = []
    print(f"{'noise':<48} {'blind':>6} {'camera':>6} {'picked':>6} {'sent':>5}  grain / jpeg")
    for spec in NOISES:
        pairs = make_noisy_pairs(images, parse_noise(spec), args.seed)
        scores: dict[str, list[float]] = {"color-blind": [], CAMERA_MODEL: [], "picked": []}
        cues: dict[str, list[float]] = {"grain_ratio": [], "jpeg_grid": []}
        sent = 0
        for clean, noisy in zip(pairs.clean, pairs.noisy, strict=True):
            clean, noisy = clean[None], noisy[None]
            for name, model in models.items():
                denoised = model.denoise_batch(noisy, None, tile=None)
                scores[name].append(psnr(denoised, clean).item())
            cues["grain_ratio"].append(grain_ratio(noisy).item())
            cues["jpeg_grid"].append(jpeg_grid(noisy).item())
            camera = looks_like_camera_noise(noisy)
            sent += camera
            scores["picked"].append(scores[CAMERA_MODEL if camera else "color-blind"][-1])
        means = {name: statistics.fmean(values) for name, values in scores.items()}
        share = sent / len(images)
        rows.append({"noise": spec, "psnr": means, "sent_to_camera": share, **cues})
        grain, grid = cues["grain_ratio"], cues["jpeg_grid"]
        print(
            f"{spec:<48} {means['color-blind']:6.2f} {means[CAMERA_MODEL]:6.2f} "
            f"{means['picked']:6.2f} {share:5.0%}  {min(grain):.2f}-{max(grain):.2f} / "
            f"{min(grid):.2f}-{max(grid):.2f}",
            flush=True,
        )
    result = {
        "data": args.data,
        "split": args.split,
        "n": len(images),
        "seed": args.seed,
        "thresholds": {"grain_ratio": CAMERA_GRAIN_RATIO, "jpeg_grid": CAMERA_JPEG_GRID},
        "rows": rows,
        "seconds": round(time.perf_counter() - start, 1),
    }
    atomic_write_json(out, result)
    print(f"wrote {out} ({result['seconds']} s)")


if __name__ == "__main__":
    main()
