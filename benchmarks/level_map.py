"""How much a better per-pixel noise-level map could give a noise-aware model.

    OMP_NUM_THREADS=1 python benchmarks/level_map.py [--model color-blind] [--data cbsd68]
        [--noise poisson-gaussian:a=0.01,b=0.0004] [--limit N] [--seed 0]

For a signal-dependent noise the map `NoiseModel.level_map` gives the model is the noise std at
the local brightness of the *noisy* image (a 5x5 channel-mean window). Same noisy images as
`denoisekit evaluate` (seed + index), the model run with:
- `noisy`: that map, what `evaluate --noise-level pixel` and `denoise --sigma SPEC` use;
- `clean`: the map at the brightness of the clean image, unavailable in practice (an upper bound
  on what a better brightness estimate could give);
- `second-pass`: the map at the brightness of the first result, then the model run again.
Prints mean PSNR per variant and writes runs/bench/level_map.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from denoisekit.data import load_dataset
from denoisekit.evaluate import make_noisy_pairs
from denoisekit.files import atomic_write_json
from denoisekit.inference.loading import load
from denoisekit.metrics import psnr
from denoisekit.noise import parse_noise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="color-blind", help="noise-aware name or checkpoint")
    parser.add_argument("--data", default="cbsd68")
    parser.add_argument("--noise", default="poisson-gaussian:a=0.01,b=0.0004")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/bench/level_map.json"))
    args = parser.parse_args()

    noise = parse_noise(args.noise).per_pixel()
    loaded = load(args.model)
    if not loaded.noise_aware:
        raise SystemExit(f"{args.model} takes no noise level; give a noise-aware model")
    model = loaded.model
    images = load_dataset(args.data, channels=loaded.channels, limit=args.limit)
    pairs = make_noisy_pairs(list(images), noise, args.seed)
    start = time.perf_counter()
    scores: dict[str, list[float]] = {"noisy": [], "clean": [], "second-pass": []}
    with torch.no_grad():
        for clean, noisy, level in zip(pairs.clean, pairs.noisy, pairs.sigma, strict=True):
            clean, noisy = clean[None], noisy[None]
            first = model(noisy, level[None]).clamp(0, 1)
            from_clean = noise.level_map(clean)  # the clean image as its own "noisy" brightness
            again = model(noisy, noise.level_map(first)).clamp(0, 1)
            scores["noisy"].append(psnr(first, clean).item())
            scores["clean"].append(psnr(model(noisy, from_clean).clamp(0, 1), clean).item())
            scores["second-pass"].append(psnr(again, clean).item())
    means = {name: sum(v) / len(v) for name, v in scores.items()}
    result = {
        "model": args.model,
        "data": args.data,
        "noise": args.noise,
        "seed": args.seed,
        "n": len(pairs.clean),
        "psnr": means,
        "seconds": round(time.perf_counter() - start, 1),
    }
    atomic_write_json(args.out, result)
    print(f"{args.model} on {args.data} ({result['n']} images), {args.noise}:")
    for name, value in means.items():
        print(f"  map from {name:<12} {value:.3f} dB ({value - means['noisy']:+.3f})")
    print(f"wrote {args.out} ({result['seconds']} s)")


if __name__ == "__main__":
    main()
