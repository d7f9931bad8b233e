"""How PSNR responds to `strength` (the factor on the noise level a model gets), run blind.

For each noise, every image of the set is noised as `evaluate` does (seed + index) and
denoised with `denoisekit.load(model).denoise(noisy, strength=s)` at each strength, the level
estimated from the image (`--sigma auto`). Writes runs/bench/strength-<model>-<data>.json and
prints a table; docs/results/noise-level.md quotes it ("Strength").

    OMP_NUM_THREADS=2 python benchmarks/strength.py --model color-blind --data cbsd68
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import denoisekit
from denoisekit.data import load_dataset
from denoisekit.evaluate import make_noisy_pairs, score, summarize
from denoisekit.files import atomic_write_json
from denoisekit.noise import parse_noise

NOISES = ("gaussian:15/255", "gaussian:25/255", "camera-pipeline:a=0.01,b=0.0002+jpeg:90")
STRENGTHS = (0.7, 0.85, 1.0, 1.15, 1.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="color-blind")
    parser.add_argument("--data", default="cbsd68")
    parser.add_argument("--noises", default=";".join(NOISES), help="specs separated by ;")
    parser.add_argument("--strengths", default=",".join(map(str, STRENGTHS)))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    clean = list(load_dataset(args.data, split="test", limit=args.limit))
    model = denoisekit.load(args.model)
    strengths = [float(s) for s in args.strengths.split(",")]
    results: dict = {"model": args.model, "data": args.data, "n": len(clean), "noises": {}}
    start = time.perf_counter()
    for spec in args.noises.split(";"):
        pairs = make_noisy_pairs(clean, parse_noise(spec), args.seed)
        row = {}
        for strength in strengths:
            denoised = [model.denoise(noisy, strength=strength) for noisy in pairs.noisy]
            summary = summarize(score(denoised, pairs.clean))
            row[str(strength)] = {metric: summary[metric]["mean"] for metric in ("psnr", "ssim")}
            print(
                f"{spec:45s} strength {strength:4.2f}: {row[str(strength)]['psnr']:.2f} dB, "
                f"SSIM {row[str(strength)]['ssim']:.4f}",
                flush=True,
            )
        results["noises"][spec] = row
    results["seconds"] = time.perf_counter() - start
    results["threads"] = torch.get_num_threads()
    out = Path("runs/bench") / f"strength-{args.model}-{args.data}.json"
    atomic_write_json(out, results)
    print(f"wrote {out} ({results['seconds'] / 60:.1f} min)")


if __name__ == "__main__":
    main()
