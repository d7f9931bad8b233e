"""Inference cost of candidate network configurations: parameters, conv FLOPs, CPU latency.

Writes OUT/model_speed.json and prints a markdown table. For each configuration, on one gray
1x1xSIZExSIZE input (random values; speed does not depend on content): parameters, conv and
linear FLOPs per megapixel (2 per multiply-add; elementwise work left out), and the median of
REPEATS timed forward passes after one warm-up, in fp32 NCHW, in fp32 channels_last (how
`denoise` runs fp32 on a CPU) and in bf16 autocast with channels_last, all under
torch.inference_mode with torch's default thread count. Noise-aware
models get sigma = 25/255, so the blind estimator is timed once on its own instead.

Timings are wall-clock on a shared machine: the load average before the run is recorded next
to them, and a concurrent job inflates every number (not the ratios between rows as much).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from denoisekit.benchmark.speed import conv_flops, cpu_name
from denoisekit.files import atomic_write_json
from denoisekit.noise.estimate import ESTIMATORS, estimate_sigma
from denoisekit.registry import count_parameters, create_model

CANDIDATES: list[tuple[str, dict]] = [
    ("dncnn", {"depth": 17, "features": 64}),
    ("dncnn", {"depth": 10, "features": 32}),
    ("drunet", {"channels": [16, 32, 64, 128]}),
    ("drunet", {"channels": [16, 32, 64, 128], "blocks": 3}),
    ("drunet", {"channels": [24, 48, 96, 192]}),
    ("drunet", {"channels": [32, 64, 128, 256]}),
    ("attention-unet", {"base_channels": 32, "depth": 3, "attention": "cbam"}),
    ("attention-unet", {"base_channels": 32, "depth": 3, "attention": "se"}),
    ("unet", {"base_channels": 32, "depth": 3, "residual": True}),
    ("nafnet-lite", {"width": 16}),
    ("nafnet-lite", {"width": 24}),
    ("nafnet-lite", {"width": 32}),
]
SIGMA = 25 / 255


def median_ms(fn, repeats: int) -> float:
    """Median wall time of `fn()` in milliseconds over `repeats` runs, after one warm-up."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def measure(name: str, kwargs: dict, size: int, repeats: int) -> dict:
    torch.manual_seed(0)
    model = create_model(name, in_channels=1, **kwargs).eval()
    noisy = torch.rand(1, 1, size, size, generator=torch.Generator().manual_seed(0))
    sigma = torch.full((1,), SIGMA) if getattr(model, "noise_aware", False) else None
    megapixels = size * size / 1e6
    flops = conv_flops(model, noisy, sigma)

    with torch.inference_mode():
        fp32 = median_ms(lambda: model(noisy, sigma), repeats)
        model = model.to(memory_format=torch.channels_last)
        noisy_cl = noisy.contiguous(memory_format=torch.channels_last)
        fp32_cl = median_ms(lambda: model(noisy_cl, sigma), repeats)

        def fast() -> torch.Tensor:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return model(noisy_cl, sigma)

        bf16 = median_ms(fast, repeats)
    return {
        "model": name,
        "kwargs": kwargs,
        "params": count_parameters(model),
        "gflop_per_mp": round(flops / megapixels / 1e9, 1),
        "fp32_ms_per_mp": round(fp32 / megapixels, 1),
        "fp32_cl_ms_per_mp": round(fp32_cl / megapixels, 1),
        "bf16_cl_ms_per_mp": round(bf16 / megapixels, 1),
        "bf16_speedup": round(fp32 / bf16, 2),
        "fp32_gflop_per_s": round(flops / (fp32 / 1000) / 1e9, 1),
        "bf16_gflop_per_s": round(flops / (bf16 / 1000) / 1e9, 1),
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| model | kwargs | params | GFLOP/MP | fp32 ms/MP | fp32+CL ms/MP | bf16+CL ms/MP "
        "| bf16 speedup |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        kwargs = ", ".join(f"{k}={v}" for k, v in r["kwargs"].items()).replace(" ", "")
        lines.append(
            f"| {r['model']} | {kwargs} | {r['params']:,} | {r['gflop_per_mp']:.1f} | "
            f"{r['fp32_ms_per_mp']:.0f} | {r['fp32_cl_ms_per_mp']:.0f} | "
            f"{r['bf16_cl_ms_per_mp']:.0f} | {r['bf16_speedup']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/bench")
    parser.add_argument("--size", type=int, default=256, help="side of the square test input")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement")
    args = parser.parse_args()

    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    rows = []
    for name, kwargs in CANDIDATES:
        rows.append(measure(name, kwargs, args.size, args.repeats))
        print(rows[-1], flush=True)
    noisy = torch.rand(1, 1, args.size, args.size, generator=torch.Generator().manual_seed(0))
    estimator_ms = {
        method: median_ms(lambda method=method: estimate_sigma(noisy, method), args.repeats)
        for method in ESTIMATORS
    }

    report = {
        "machine": cpu_name(),
        "platform": platform.platform(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "load_average_before": load_before,
        "input": [1, 1, args.size, args.size],
        "repeats": args.repeats,
        "sigma_for_noise_aware": SIGMA,
        "estimate_sigma_ms_per_mp": {
            method: round(ms / (args.size**2 / 1e6), 2) for method, ms in estimator_ms.items()
        },
        "rows": rows,
    }
    out = Path(args.out) / "model_speed.json"
    atomic_write_json(out, report)
    print()
    print(table(rows))
    print(
        f"\n{report['machine']}, {report['threads']} threads, torch {report['torch']}; input "
        f"1x1x{args.size}x{args.size}, median of {args.repeats} after a warm-up; load average "
        f"before: {load_before}; estimate_sigma: {report['estimate_sigma_ms_per_mp']} ms/MP"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
