"""How well `denoisekit calibrate` recovers known Poisson-Gaussian parameters (a, b).

    OMP_NUM_THREADS=1 python benchmarks/calibration.py [--pairs 0.01:0.0004,0.002:0.0001]
        [--cbsd68 68] [--pistachio 24] [--shots 8] [--chart-seeds 20] [--big-chart-seeds 5]
        [--seed 0] [--no-clip] [--8bit] [--jpeg Q]

Synthetic protocol: clean image x in [0, 1]; noisy = x + sqrt(a*x + b) * N(0, 1) from a numpy
generator seeded with (seed, image index, shot), clipped to [0, 1] as a camera does (`--no-clip`
keeps it unclipped), kept as float (`--8bit`: the clean image and each noisy shot rounded to
8 bits, as camera files are; the calibration then models the rounding; `--jpeg Q`: each
shot saved as a JPEG of quality Q with Pillow and read back, to show what compression does).
Clean images:
- photos: scikit-image's bundled camera, astronaut, coffee, chelsea and the first N CBSD68
  images from the data root (colour kept, channels pooled by the calibration);
- pistachio: `--pistachio` N photos of the Pistachio set, 600x600 colour, each a nut on an
  exactly black background (the inspection-camera case; the background is half clipped at 0
  once noise is added, and is the only area darker than the nut);
- charts: a gray step chart (8x8 flat patches, levels 0.02-0.98 spaced densely in the dark)
  at 512x512 (`--chart-seeds` noise draws) and at 2048x2048 (4 MP, a small camera photo;
  `--big-chart-seeds` draws).
Single image: one noisy copy, calibrated on its own. Burst: `--shots` noisy copies.
Reports, per set, pair and method: images refused (DataError), the median / 90th percentile /
worst relative error of a and of b over the fitted images, the share within the issue's
target (10% single, 3% burst), the worst relative error of the fitted noise std
sqrt(a*x + b) over x in [0.05, 0.95], and how honest the stated standard errors are: the RMS of
(fitted - true) / stderr for a and for b (1 when they are right, above 1 when they understate
the error). Writes runs/bench/calibration.json, prints markdown.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

from denoisekit.calibration.calibrate import calibrate_burst, calibrate_images
from denoisekit.errors import DataError
from denoisekit.files import atomic_write_json

SKIMAGE = ("camera", "astronaut", "coffee", "chelsea")
TARGET = {"single": 0.10, "burst": 0.03}


def photos(n_cbsd68: int, data_root: str | None) -> list[tuple[str, np.ndarray]]:
    """(name, (C, H, W) float64 in [0, 1]) for the scikit-image photos and CBSD68 images."""
    import skimage.data

    from denoisekit.data.registry import resolve_data_root
    from denoisekit.io import load_image

    out = []
    for name in SKIMAGE:
        image = np.asarray(getattr(skimage.data, name)(), dtype=np.float64) / 255.0
        out.append((name, image[None] if image.ndim == 2 else image.transpose(2, 0, 1)))
    if n_cbsd68:
        try:
            files = sorted((resolve_data_root(data_root) / "CBSD68").glob("*.png"))[:n_cbsd68]
        except DataError as e:
            print(f"skipping CBSD68: {e}")
            files = []
        out.extend((f"cbsd68/{p.stem}", load_image(p).double().numpy()) for p in files)
    return out


def pistachios(n: int, data_root: str | None) -> list[tuple[str, np.ndarray]]:
    """(name, (3, 600, 600)) for `n` pistachio photos spaced evenly over both varieties."""
    from denoisekit.data.registry import resolve_data_root
    from denoisekit.io import load_image

    try:
        files = sorted((resolve_data_root(data_root) / "Pistachio").rglob("*.jpg"))
    except DataError as e:
        print(f"skipping pistachio: {e}")
        return []
    picks = [files[i] for i in np.linspace(0, len(files) - 1, n).round().astype(int)] if n else []
    return [(f"pistachio/{p.stem}", load_image(p).double().numpy()) for p in picks]


def step_chart(size: int, seed: int = 0, patches: int = 8) -> np.ndarray:
    """(1, size, size) gray step chart, as in tests/noise/test_calibrate.py."""
    levels = 0.02 + 0.96 * np.linspace(0.0, 1.0, patches * patches) ** 2
    levels = np.random.default_rng(seed).permutation(levels).reshape(patches, patches)
    return np.kron(levels, np.ones((size // patches, size // patches)))[None]


def noisy(clean, a, b, rng, clip, eight_bit=False, jpeg=None):
    if eight_bit or jpeg:  # an 8-bit scene, and the shot rounded to 8 bits as a camera file is
        clean = np.round(clean * 255) / 255
    x = clean + np.sqrt(a * clean + b) * rng.standard_normal(clean.shape)
    x = np.clip(x, 0.0, 1.0) if clip or eight_bit or jpeg else x
    if jpeg:
        return jpeg_round_trip(x, jpeg)
    return np.round(x * 255) / 255 if eight_bit else x


def jpeg_round_trip(x: np.ndarray, quality: int) -> np.ndarray:
    """(C, H, W) in [0, 1] -> the same after saving as an 8-bit JPEG and reading it back."""
    import io

    from PIL import Image

    pixels = np.round(x * 255).astype(np.uint8)
    image = Image.fromarray(pixels[0] if len(pixels) == 1 else pixels.transpose(1, 2, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())), dtype=np.float64) / 255
    return decoded[None] if decoded.ndim == 2 else decoded.transpose(2, 0, 1)


def run_case(images, a, b, method, args) -> dict:
    rows = []
    for i, (name, clean) in enumerate(images):
        shots = [
            noisy(
                clean,
                a,
                b,
                np.random.default_rng([args.seed, i, k]),
                not args.no_clip,
                args.eight_bit,
                args.jpeg,
            )
            for k in range(1 if method == "single" else args.shots)
        ]
        try:
            cal = calibrate_images(shots) if method == "single" else calibrate_burst(shots)
        except DataError as e:
            rows.append({"image": name, "refused": str(e)})
            continue
        x = np.linspace(0.05, 0.95, 19)
        sigma_err = np.abs(np.sqrt((cal.a * x + cal.b) / (a * x + b)) - 1).max()
        rows.append(
            {
                "image": name,
                "a": cal.a,
                "b": cal.b,
                "err_a": abs(cal.a / a - 1),
                "err_b": abs(cal.b / b - 1),
                "err_sigma": float(sigma_err),
                "z_a": (cal.a - a) / cal.a_stderr,
                "z_b": (cal.b - b) / cal.b_stderr,
                "a_stderr": cal.a_stderr,
                "b_stderr": cal.b_stderr,
                "bins": cal.n_bins,
                "range": list(cal.intensity_range),
            }
        )
    fitted = [r for r in rows if "a" in r]
    summary = {"a": a, "b": b, "method": method, "images": len(rows)}
    summary["refused"] = len(rows) - len(fitted)

    def values(key: str) -> np.ndarray:
        return np.array([r[key] for r in fitted]) if fitted else np.array([np.nan])

    for key in ("err_a", "err_b", "err_sigma"):
        errors = values(key)
        summary[key] = {
            "median": float(np.median(errors)),
            "p90": float(np.quantile(errors, 0.9)),
            "worst": float(errors.max()),
            "within_target": float(np.mean(errors <= TARGET[method])),
        }
    for key in ("z_a", "z_b"):
        summary[key + "_rms"] = float(np.sqrt(np.mean(values(key) ** 2)))
    summary["rows"] = rows
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default="0.01:0.0004,0.002:0.0001", help="a:b,a:b")
    parser.add_argument("--cbsd68", type=int, default=68, help="first N CBSD68 images")
    parser.add_argument("--shots", type=int, default=8)
    parser.add_argument("--pistachio", type=int, default=24, help="pistachio photos")
    parser.add_argument("--chart-seeds", type=int, default=20)
    parser.add_argument("--big-chart-seeds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-clip", action="store_true")
    parser.add_argument(
        "--8bit", dest="eight_bit", action="store_true", help="clean and noisy rounded to 8 bits"
    )
    parser.add_argument("--jpeg", type=int, default=None, help="JPEG quality of each shot")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--out", default="runs/bench/calibration.json")
    args = parser.parse_args()
    sets = {
        "photos": photos(args.cbsd68, args.data_root),
        "pistachio": pistachios(args.pistachio, args.data_root),
        "chart 512²": [(f"chart{s}", step_chart(512, s)) for s in range(args.chart_seeds)],
        "chart 2048²": [(f"chart{s}", step_chart(2048, s)) for s in range(args.big_chart_seeds)],
    }
    results = {
        "protocol": vars(args) | {"machine": platform.processor() or platform.machine()},
        "cases": [],
    }
    print(
        "| images | a, b | method | refused | err a: median / p90 / worst | "
        "err b: median / p90 / worst | a, b within target | worst sigma err: median "
        "| err/stderr RMS: a, b |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    t0 = time.perf_counter()
    for set_name, images in sets.items():
        if not images:
            continue
        for pair in args.pairs.split(","):
            a, b = map(float, pair.split(":"))
            for method in ("single", "burst"):
                if method == "burst" and set_name == "chart 2048²":
                    continue  # the 512 chart already shows the burst; this one is slow
                s = run_case(images, a, b, method, args)
                s["set"] = set_name
                results["cases"].append(s)
                ea, eb, es = s["err_a"], s["err_b"], s["err_sigma"]
                print(
                    f"| {set_name} ({s['images']}) | {a:g}, {b:g} | {method} "
                    f"| {s['refused']} | {ea['median']:.1%} / {ea['p90']:.1%} / {ea['worst']:.1%} "
                    f"| {eb['median']:.1%} / {eb['p90']:.1%} / {eb['worst']:.1%} "
                    f"| {ea['within_target']:.0%}, {eb['within_target']:.0%} "
                    f"| {es['median']:.1%} | {s['z_a_rms']:.2f}, {s['z_b_rms']:.2f} |",
                    flush=True,
                )
    results["seconds"] = time.perf_counter() - t0
    atomic_write_json(Path(args.out), results)
    print(f"{results['seconds']:.0f} s; wrote {args.out}")


if __name__ == "__main__":
    main()
