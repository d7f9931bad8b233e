"""Choose each classical denoiser's strength per noise level and write classical/strengths.py.

    .venv/bin/python benchmarks/tune_classical.py [--data-root DIR] [--images 8] [--seed 0]

Protocol: the first `--images` gray 180x180 images of Train400's train split (never Set12, BSD68
or CBSD68, which are the test sets); for sigma in {15, 25, 50}/255 add float Gaussian noise from a
generator seeded with seed + image index (no clipping, as in the published tables); filter with
the true sigma at each grid value; clamp to [0, 1]; keep the value with the highest mean PSNR.
One process, a couple of minutes on 2 cores. BM3D is not tuned (about 2.5 s per image per value):
it keeps sigma scale 1.0, the level its published parameters were designed for.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from denoisekit.data import load_dataset
from denoisekit.noise import gaussian
from denoisekit.registry import create_model

SIGMAS_255 = (15, 25, 50)
OUT = Path(__file__).resolve().parents[1] / "src" / "denoisekit" / "classical" / "strengths.py"


def geometric(start: float, first: int, last: int, per_octave: int = 4) -> list[float]:
    """start * 2 ** (k / per_octave) for k = first..last: even steps in log scale (19% apart at
    4 per octave), fine enough since PSNR is flat near the optimum."""
    return [start * 2 ** (k / per_octave) for k in range(first, last + 1)]


# method -> (description of the grid, grid values as a function of sigma in [0, 1] units)
GRIDS: dict[str, tuple[str, Callable[[float], list[float]]]] = {
    "nlm": ("h = 0.6 * sigma * 2 ** (k / 4), k = -4..4", lambda s: geometric(0.6 * s, -4, 4)),
    "tv": ("weight = sigma * 2 ** (k / 4), k = -8..4", lambda s: geometric(s, -8, 4)),
    "wavelet": ("sigma scale = 2 ** (k / 4), k = -4..4", lambda s: geometric(1.0, -4, 4)),
    "bilateral": ("sigma_color = sigma * 2 ** (k / 4), k = -4..12", lambda s: geometric(s, -4, 12)),
    "median": ("size in {1, 3, 5, 7, 9, 11}", lambda s: [1, 3, 5, 7, 9, 11]),
    "gaussian-blur": ("sigma_px = 0.5 * 2 ** (k / 4), k = 0..12", lambda s: geometric(0.5, 0, 12)),
}
PARAMETER = {
    "bm3d": "sigma scale",
    "nlm": "h",
    "tv": "weight",
    "wavelet": "sigma scale",
    "bilateral": "sigma_color",
    "median": "size",
    "gaussian-blur": "sigma_px",
}


def psnr(clean: np.ndarray, denoised: np.ndarray) -> float:
    """PSNR in dB, data range 1, after clamping the output as the evaluation protocol does."""
    mse = float(np.mean((np.clip(denoised, 0.0, 1.0) - clean) ** 2))
    return 10.0 * np.log10(1.0 / mse)


def noisy_images(clean: list[np.ndarray], sigma: float, seed: int) -> list[np.ndarray]:
    out = []
    for index, image in enumerate(clean):
        generator = torch.Generator().manual_seed(seed + index)
        tensor = torch.from_numpy(image)[None, None]
        out.append(gaussian(tensor, sigma, generator=generator)[0, 0].numpy())
    return out


def tune(clean: list[np.ndarray], seed: int) -> dict[str, dict]:
    """Grid-search every method in GRIDS at every sigma; returns the STRENGTHS table."""
    table: dict[str, dict] = {
        "bm3d": {
            "parameter": PARAMETER["bm3d"],
            "grid": "not tuned: 1.0, the sigma BM3D's own parameters are designed for",
            "values": {s: 1.0 for s in SIGMAS_255},
            "mean_psnr": {},
        }
    }
    for name, (grid_text, grid) in GRIDS.items():
        model = create_model(name)
        entry = {"parameter": PARAMETER[name], "grid": grid_text, "values": {}, "mean_psnr": {}}
        for s255 in SIGMAS_255:
            sigma = s255 / 255
            noisy = noisy_images(clean, sigma, seed)
            candidates = grid(sigma)
            scores = []
            for value in candidates:
                model.strength = value
                pairs = zip(clean, noisy, strict=True)
                scores.append(np.mean([psnr(c, model.denoise_array(n, sigma)) for c, n in pairs]))
            best = int(np.argmax(scores))
            if best in (0, len(candidates) - 1):
                print(f"warning: {name} sigma={s255} best value is at the grid edge", flush=True)
            entry["values"][s255] = float(f"{candidates[best]:.4g}")
            entry["mean_psnr"][s255] = round(float(scores[best]), 2)
            print(
                f"{name:14s} sigma={s255:3d}  {PARAMETER[name]}={candidates[best]:.4g}  "
                f"PSNR {scores[best]:.2f} dB",
                flush=True,
            )
        table[name] = entry
    return table


def _py(value: object) -> str:
    """A Python literal that `ruff format` leaves alone (double-quoted strings)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_py(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in value.items()) + "}"
    return repr(value)


def render(tuning: dict, table: dict) -> str:
    lines = [
        '"""Per-sigma strengths of the classical denoisers.',
        "",
        "Written by benchmarks/tune_classical.py (run it again to reproduce); do not edit by hand.",
        "`values` maps sigma on the 0-255 scale to the chosen `parameter` value ([0, 1] units for",
        "h, weight and sigma_color; px for size and sigma_px); `mean_psnr` is the tuning PSNR.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        "TUNING: dict[str, Any] = {",
    ]
    for key, value in tuning.items():
        line = f"    {_py(key)}: {_py(value)},"
        if len(line) > 100 and isinstance(value, list):  # one item per line, as ruff would
            line = (
                f"    {_py(key)}: [\n" + "".join(f"        {_py(v)},\n" for v in value) + "    ],"
            )
        lines.append(line)
    lines += ["}", "", "STRENGTHS: dict[str, dict[str, Any]] = {"]
    for name, entry in table.items():
        lines.append(f"    {_py(name)}: {{")
        lines += [f"        {_py(k)}: {_py(v)}," for k, v in entry.items()]
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None, help="folder holding Train400/")
    parser.add_argument("--images", type=int, default=8, help="Train400 images to tune on")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (image i uses seed + i)")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write strengths.py")
    args = parser.parse_args(argv)

    import scipy
    import skimage

    start = time.perf_counter()
    images = load_dataset("train400", root=args.data_root, split="train", limit=args.images)
    clean = [image[0].double().numpy() for image in images.images]
    table = tune(clean, args.seed)
    seconds = time.perf_counter() - start
    tuning = {
        "data": f"Train400 split 'train', first {len(clean)} images, gray 180x180",
        "images": list(images.names),
        "noise": "float Gaussian, no clipping; generator seeded with seed + image index",
        "seed": args.seed,
        "sigmas_255": list(SIGMAS_255),
        "objective": "highest mean PSNR (data range 1, output clamped to [0, 1], true sigma)",
        "interpolation": "linear in sigma: see denoisekit.classical.base.interpolate_strength",
        "versions": f"scikit-image {skimage.__version__}, scipy {scipy.__version__}",
        "seconds": round(seconds, 1),
    }
    text = render(tuning, table)
    # temp file + rename: an interrupted run never leaves a half-written module behind
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, args.out)
    print(f"wrote {args.out} in {seconds:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
