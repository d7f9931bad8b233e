"""How well `denoisekit.noise.estimate`'s estimators recover the true noise level.

    python benchmarks/sigma_estimation.py [--sets set12,bsd68] [--sigmas 5,10,15,25,35,50]
                                          [--clip]

Noises every image of each test set at each sigma (benchmark protocol: float Gaussian, seeded
per image, no clipping; `--clip`: then clipped to [0, 1] and rounded to 8 bits, as a saved
photo is), estimates sigma with each of ours ("pca", the default, and "haar") and with
scikit-image's `estimate_sigma` (the reference the issue names), and reports the mean estimate,
the bias and the mean absolute error, all on the 0-255 scale, and each of ours' median ms/MP.
Writes runs/bench/sigma_estimation[-clip].json and prints a table.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from denoisekit.benchmark import BenchmarkProtocol, parse_sigmas
from denoisekit.data import load_dataset
from denoisekit.files import atomic_write_json
from denoisekit.noise.estimate import ESTIMATORS, estimate_sigma


def skimage_sigma(noisy: torch.Tensor) -> float:
    from skimage.restoration import estimate_sigma as sk_estimate

    image = noisy[0].double().numpy()
    if image.shape[0] == 1:
        return float(sk_estimate(image[0]))
    return float(sk_estimate(image.transpose(1, 2, 0), channel_axis=-1, average_sigmas=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="set12,bsd68")
    parser.add_argument("--sigmas", default="5,10,15,25,35,50")
    parser.add_argument("--clip", action="store_true", help="clip and round to 8 bits")
    parser.add_argument("--out", default=None, help="default runs/bench/sigma_estimation.json")
    args = parser.parse_args()
    out = args.out or f"runs/bench/sigma_estimation{'-clip' if args.clip else ''}.json"
    protocol = BenchmarkProtocol()
    methods = (*ESTIMATORS, "skimage")
    results = {}
    print("| set | true σ | " + " | ".join(f"{m}: mean / bias / MAE" for m in methods) + " |")
    print("|---|---|" + "---|" * len(methods))
    for set_name in args.sets.split(","):
        images = load_dataset(set_name, split="test")
        for sigma in parse_sigmas(args.sigmas):
            readings = {m: [] for m in methods}
            ms_per_mp = {m: [] for m in ESTIMATORS}
            for i, clean in enumerate(images.images):
                noisy = protocol.make_noisy(clean, sigma, i).unsqueeze(0)
                if args.clip:
                    noisy = (noisy.clamp(0, 1) * 255).round() / 255
                for method in ESTIMATORS:
                    t0 = time.perf_counter()
                    readings[method].append(float(estimate_sigma(noisy, method)[0]) * 255)
                    seconds = time.perf_counter() - t0
                    ms_per_mp[method].append(seconds * 1000 / (clean[0].numel() / 1e6))
                readings["skimage"].append(skimage_sigma(noisy) * 255)
            true = sigma * 255
            row = {}
            for method, values in readings.items():
                errors = np.array(values) - true
                row[method] = {
                    "mean": float(np.mean(values)),
                    "bias": float(errors.mean()),
                    "mae": float(np.abs(errors).mean()),
                    "max_abs": float(np.abs(errors).max()),
                }
                if method in ms_per_mp:
                    row[method]["ms_per_mp"] = statistics.median(ms_per_mp[method])
            results.setdefault(set_name, {})[f"{true:.4g}"] = row
            cells = [f"{r['mean']:.2f} / {r['bias']:+.2f} / {r['mae']:.2f}" for r in row.values()]
            print(f"| {set_name} | {true:.4g} | " + " | ".join(cells) + " |", flush=True)
    atomic_write_json(Path(out), results)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
