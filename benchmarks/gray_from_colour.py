"""The two gray models on gray images made from a colour camera's photos.

    python benchmarks/gray_from_colour.py [--data cbsd432] [--split val] [--threads 1]

Colour camera-pipeline noise (demosaiced, so spatially correlated) on each clean colour image
(seed + index), then the channel mean, as a user's black-and-white conversion does, and a JPEG
round trip. Prints, per noise, the mean PSNR of `gray-blind` and `gray-camera` (both run blind,
against the channel mean of the clean image), the range and median of the blind noise reading
(x255), how many images read below `inference.choose.GRAY_JPEG_MIN_SIGMA`, and how many of them
`denoise` sends to `gray-camera`. `gray-camera` trained on white gray grain only, so this checks
what the JPEG floor costs where correlated grain reads low.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from denoisekit.data import load_dataset
from denoisekit.inference.choose import GRAY_JPEG_MIN_SIGMA, looks_like_camera_noise
from denoisekit.inference.loading import load
from denoisekit.metrics import psnr
from denoisekit.noise import camera_pipeline, jpeg
from denoisekit.noise.estimate import estimate_sigma_haar

NOISES = [(0.002, 0.00005, 90), (0.004, 0.0001, 90), (0.01, 0.0002, 90), (0.01, 0.0002, None)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="cbsd432")
    parser.add_argument("--split", default="val")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images = list(load_dataset(args.data, split=args.split, channels=3))
    models = {name: load(name) for name in ("gray-blind", "gray-camera")}
    for a, b, quality in NOISES:
        scores: dict[str, list[float]] = {name: [] for name in models}
        sigmas, sent = [], 0
        for index, clean in enumerate(images):
            generator = torch.Generator().manual_seed(index)
            noisy = camera_pipeline(clean[None], a, b, generator=generator).mean(1, keepdim=True)
            noisy = jpeg(noisy, quality) if quality else noisy
            target = clean[None].mean(1, keepdim=True)
            for name, model in models.items():
                denoised = model.denoise_batch(noisy, None, tile=None)
                scores[name].append(psnr(denoised, target).item())
            sigmas.append(estimate_sigma_haar(noisy).item())
            sent += looks_like_camera_noise(noisy)
        low = sum(sigma < GRAY_JPEG_MIN_SIGMA for sigma in sigmas)
        means = "  ".join(f"{name} {statistics.fmean(v):.2f}" for name, v in scores.items())
        print(
            f"camera-pipeline:a={a},b={b}{f'+jpeg:{quality}' if quality else ''}: {means}  "
            f"sigma x255 {min(sigmas) * 255:.1f}-{max(sigmas) * 255:.1f} "
            f"(median {statistics.median(sigmas) * 255:.1f}), {low}/{len(images)} below the "
            f"floor, {sent} sent to gray-camera",
            flush=True,
        )


if __name__ == "__main__":
    main()
