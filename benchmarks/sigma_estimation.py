"""How well `denoisekit.noise.estimate.estimate_sigma` recovers the true noise level.

    python benchmarks/sigma_estimation.py [--sets set12,bsd68] [--sigmas 5,10,15,25,35,50]

Noises every image of each test set at each sigma (benchmark protocol: float Gaussian, seeded
per image, no clipping), estimates sigma with ours and with scikit-image's `estimate_sigma`
(the reference the issue names), and reports the mean estimate, the bias and the mean absolute
error, all on the 0-255 scale. Writes runs/bench/sigma_estimation.json and prints a table.
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
from denoisekit.noise.estimate import estimate_sigma


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
    parser.add_argument("--out", default="runs/bench/sigma_estimation.json")
    args = parser.parse_args()
    protocol = BenchmarkProtocol()
    results = {}
    print("| set | true σ | ours: mean / bias / MAE | scikit-image: same | ours ms/MP |")
    print("|---|---|---|---|---|")
    for set_name in args.sets.split(","):
        images = load_dataset(set_name, split="test")
        for sigma in parse_sigmas(args.sigmas):
            ours, theirs, ms_per_mp = [], [], []
            for i, clean in enumerate(images.images):
                noisy = protocol.make_noisy(clean, sigma, i).unsqueeze(0)
                t0 = time.perf_counter()
                ours.append(float(estimate_sigma(noisy)[0]) * 255)
                ms_per_mp.append((time.perf_counter() - t0) * 1000 / (clean[0].numel() / 1e6))
                theirs.append(skimage_sigma(noisy) * 255)
            true = sigma * 255
            row = {}
            for who, values in (("ours", ours), ("skimage", theirs)):
                errors = np.array(values) - true
                row[who] = {
                    "mean": float(np.mean(values)),
                    "bias": float(errors.mean()),
                    "mae": float(np.abs(errors).mean()),
                    "max_abs": float(np.abs(errors).max()),
                }
            row["ours"]["ms_per_mp"] = statistics.median(ms_per_mp)
            results.setdefault(set_name, {})[f"{true:.4g}"] = row
            o, s = row["ours"], row["skimage"]
            print(
                f"| {set_name} | {true:.4g} | {o['mean']:.2f} / {o['bias']:+.2f} / {o['mae']:.2f} "
                f"| {s['mean']:.2f} / {s['bias']:+.2f} / {s['mae']:.2f} | {o['ms_per_mp']:.1f} |"
            )
    atomic_write_json(Path(args.out), results)


if __name__ == "__main__":
    main()
