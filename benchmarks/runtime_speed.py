"""Which runtime runs the shipped networks fastest on this CPU, and what `denoise` gains by it.

Rerun it on another kind of CPU to fill the tables of docs/results/runtimes.md for that CPU
(and, if the ranking differs, the `auto` rule in src/denoisekit/runtimes/choose.py):

    OMP_NUM_THREADS=1 python benchmarks/runtime_speed.py --out runs/runtime-speed

Parts (`--parts`, all by default):

- tiles: ms per megapixel of one forward pass of a TILE x TILE input with a sigma map, for
  every shipped model, every installed runtime and precision (torch fp32 channels_last as
  `denoise` runs it, onnxruntime fp32, OpenVINO f32 with dynamic shapes and, for color-blind,
  with the shape fixed to the tile; bf16 variants only where the CPU has native bf16), at tiles
  256/512/768 for color-blind and 512 for the others. The variants of one model and tile run
  interleaved (A, B, C, A, B, C, ...) and the best of REPEATS counts, so a neighbour's load
  hits all of them alike.
- e2e: `denoisekit denoise` end to end (process start, model choice, sigma estimate, tiles,
  PNG in and out) of a 2048x2048 8-bit photo at sigma 25, default options against
  `--runtime torch`, interleaved, best of REPEATS; once more with an empty cache for the
  first-run cost; PSNR of each output against the clean photo.
- large: the same for a 6000x4000 photo, once each, with the peak resident memory of the
  process (its VmHWM, written by the process itself at exit).
- bm3d: one `denoisekit benchmark` run of bm3d and gray-blind on BSD68 at sigma 25 with
  --roofline (the FLOP rate against this CPU's matrix-multiply peak), default runtime.
- bf16: CBSD68 / BSD68 at sigma 25 through `denoisekit evaluate`, OpenVINO bf16 against fp32:
  the cost in dB that `auto`'s bf16 rule allows (0.05 dB); only where the CPU has native bf16.

On a shared CPU wall time says more about the neighbours than about the runtime, so every
timing is also taken as CPU time of the process (time.process_time for the tiles, user + sys
of the `denoise` process from wait4): with one thread that is the wall time an idle core would
give. Set OMP_NUM_THREADS=1 for that reading; with more threads compare wall times on an idle
machine instead.

The photos are mosaics of CBSD68 images at their own resolution (no resampling), from the data
root (`--data-root`, default ../shared/data), noised with a fixed seed, clipped and rounded to
8 bits. Everything is written to OUT/runtime_speed.json and printed as markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from denoisekit.benchmark.speed import cpu_name
from denoisekit.files import atomic_write_json

SHIPPED = ("color-blind", "gray-blind", "color-camera", "gray-camera")
SIGMA = 25 / 255


def _photo(root: Path, height: int, width: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(clean, noisy) uint8 HxWx3: a mosaic of CBSD68 photos, noised at sigma 25, 8-bit."""
    from PIL import Image

    files = sorted((root / "CBSD68").glob("*.png"))
    cells = []
    for file in files:
        image = np.asarray(Image.open(file).convert("RGB"))
        cells.append(image if image.shape[0] < image.shape[1] else image.transpose(1, 0, 2))
    ch, cw = min(c.shape[0] for c in cells), min(c.shape[1] for c in cells)
    rows, cols = -(-height // ch), -(-width // cw)
    grid = [cells[(r * cols + c) % len(cells)][:ch, :cw] for r in range(rows) for c in range(cols)]
    mosaic = np.concatenate(
        [np.concatenate(grid[r * cols : (r + 1) * cols], axis=1) for r in range(rows)], axis=0
    )
    clean = mosaic[:height, :width]
    rng = np.random.default_rng(seed)
    noisy = clean / 255.0 + SIGMA * rng.standard_normal(clean.shape)
    return clean, np.round(np.clip(noisy, 0, 1) * 255).astype(np.uint8)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2) / 255.0**2
    return float(10 * np.log10(1.0 / mse))


def _variants(model_name: str, static: bool) -> dict:
    """name -> callable(noisy, level) for each installed runtime/precision."""
    import denoisekit
    from denoisekit.runtimes import accelerate, installed, native_bf16_cpu

    loaded = denoisekit.load(model_name, device="cpu")
    model = loaded.model.eval()
    cpu = torch.device("cpu")
    out = {}
    torch_model = loaded.model.to(memory_format=torch.channels_last)

    def run_torch(x, level, dtype=None):
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.no_grad(), torch.autocast("cpu", torch.bfloat16, enabled=dtype is not None):
            return torch_model(x, level)

    out["torch fp32"] = run_torch
    bf16 = native_bf16_cpu()
    if bf16:
        out["torch bf16"] = lambda x, level: run_torch(x, level, torch.bfloat16)
    if installed("onnxruntime"):
        out["onnxruntime fp32"] = accelerate(model, "onnxruntime", "fp32", cpu)
    if installed("openvino"):
        out["openvino fp32"] = accelerate(model, "openvino", "fp32", cpu)
        if bf16:
            out["openvino bf16"] = accelerate(model, "openvino", "bf16", cpu)
        if static:
            out["openvino fp32 static"] = "static"  # built per tile in _tiles
    return out


def _static_openvino(model_name: str, tile: int, channels: int):
    """OpenVINO f32 compiled for one fixed 1 x C x tile x tile shape."""
    import openvino as ov

    import denoisekit
    from denoisekit.runtimes.openvino import convert_openvino

    model = denoisekit.load(model_name, device="cpu").model.eval()
    converted = convert_openvino(model)
    converted.reshape({"noisy": [1, channels, tile, tile], "level": [1, 1, tile, tile]})
    config = {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": torch.get_num_threads()}
    compiled = ov.Core().compile_model(converted, "CPU", config)
    return lambda x, level: compiled([x.numpy(), level.numpy()])[0]


def _tiles(repeats: int, log, models=SHIPPED) -> list[dict]:
    rows = []
    for model_name in models:
        tiles = (256, 512, 768) if model_name == "color-blind" else (512,)
        variants = _variants(model_name, static=model_name == "color-blind")
        channels = 3 if model_name.startswith("color") else 1
        for tile in tiles:
            x = torch.rand(1, channels, tile, tile, generator=torch.Generator().manual_seed(0))
            level = torch.full((1, 1, tile, tile), SIGMA)
            runs = {
                name: _static_openvino(model_name, tile, channels) if fn == "static" else fn
                for name, fn in variants.items()
            }
            best = {name: float("inf") for name in runs}
            best_cpu = dict(best)
            for fn in runs.values():  # warm-up: first-call allocations, shape compiles
                fn(x, level)
            for _ in range(repeats):
                for name, fn in runs.items():
                    start, cpu = time.perf_counter(), time.process_time()
                    fn(x, level)
                    best[name] = min(best[name], time.perf_counter() - start)
                    best_cpu[name] = min(best_cpu[name], time.process_time() - cpu)
            megapixels = tile * tile / 1e6
            for name, seconds in best.items():
                row = {"model": model_name, "tile": tile, "variant": name}
                row["ms_per_mp"] = seconds * 1000 / megapixels
                row["cpu_ms_per_mp"] = best_cpu[name] * 1000 / megapixels
                rows.append(row)
                log(
                    f"{model_name} tile {tile} {name}: {row['cpu_ms_per_mp']:.0f} CPU ms/MP "
                    f"({row['ms_per_mp']:.0f} wall)"
                )
    return rows


def _roofline(log) -> dict:
    """This CPU's fp32 matrix-multiply rate (2048x2048, torch's threads, best of 5) in CPU time,
    and the fraction of it each network variant of `tiles` reaches (conv FLOPs per megapixel
    from `benchmark.speed.conv_flops`)."""
    import denoisekit
    from denoisekit.benchmark.speed import conv_flops

    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    a @ b
    best = float("inf")
    for _ in range(5):
        cpu = time.process_time()
        a @ b
        best = min(best, time.process_time() - cpu)
    peak = 2 * 2048**3 / best
    flops = {}
    for name in SHIPPED:
        model = denoisekit.load(name, device="cpu").model
        channels = 3 if name.startswith("color") else 1
        example = torch.rand(1, channels, 512, 512)
        flops[name] = conv_flops(model, example, torch.tensor([SIGMA])) / 0.262144
    log(f"fp32 matmul peak {peak / 1e9:.1f} GFLOP/s per CPU second")
    return {
        "fp32_matmul_gflops": peak / 1e9,
        "gflop_per_mp": {k: v / 1e9 for k, v in flops.items()},
    }


# Runs `python -m denoisekit ...` and writes the process's own peak resident memory (VmHWM of
# its address space) to $PEAK_OUT at exit. wait4's ru_maxrss cannot give it: a child's maxrss
# starts at its parent's resident size when forked, and this parent holds the test photos.
_PEAK_WRAPPER = """
import atexit, os, runpy, sys
def _peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            open(os.environ["PEAK_OUT"], "w").write(line.split()[1])
atexit.register(_peak)
sys.argv[0] = "denoisekit"
runpy.run_module("denoisekit", run_name="__main__", alter_sys=True)
"""


def _denoise_cli(inputs: Path, output: Path, extra: list[str], cache: Path) -> dict:
    """One `denoisekit denoise` process: wall and CPU seconds, and its peak RSS (MB)."""
    peak_file = output.with_suffix(".peak")
    env = {**os.environ, "DENOISEKIT_CACHE": str(cache), "PEAK_OUT": str(peak_file)}
    command = [sys.executable, "-c", _PEAK_WRAPPER, "denoise", str(inputs), "-o", str(output)]
    command += ["--overwrite", *extra]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own CPU time
        seconds = time.perf_counter() - start
        if status != 0:
            errors.seek(0)
            raise RuntimeError(f"{' '.join(command)} failed: {errors.read().decode()}")
    cpu = usage.ru_utime + usage.ru_stime  # what it took of the CPU, however shared
    peak_mb = int(peak_file.read_text()) / 1024
    peak_file.unlink()
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak_mb}


def _end_to_end(
    root: Path,
    work: Path,
    size: tuple[int, int],
    repeats: int,
    log,
    cold: bool = True,
    runtimes: tuple[str, ...] = ("default", "torch"),
) -> dict:
    from PIL import Image

    clean, noisy = _photo(root, *size)
    source = work / f"noisy-{size[1]}x{size[0]}.png"
    Image.fromarray(noisy).save(source)
    cache = work / "cache"  # emptied once below, then kept: the runs after the first are warm
    options = {"default": [], "torch": ["--runtime", "torch"]}
    options = {name: options[name] for name in runtimes}
    result: dict = {"size": f"{size[1]}x{size[0]}", "runs": {k: [] for k in options}}
    if cold:
        shutil.rmtree(cache, ignore_errors=True)
        first = _denoise_cli(source, work / "first.png", [], cache)
        result["default_first_run"] = first
        log(f"{result['size']} default, empty cache: {first['cpu_seconds']:.1f} CPU s")
    for _ in range(repeats):
        for name, extra in options.items():
            run = _denoise_cli(source, work / f"{name}.png", extra, cache)
            result["runs"][name].append(run)
            log(
                f"{result['size']} {name}: {run['cpu_seconds']:.1f} CPU s "
                f"({run['seconds']:.1f} wall)"
            )
    for name in options:
        denoised = np.asarray(Image.open(work / f"{name}.png").convert("RGB"))
        result[f"psnr_{name}"] = _psnr(denoised, clean)
        result[f"best_seconds_{name}"] = min(r["seconds"] for r in result["runs"][name])
        result[f"best_cpu_seconds_{name}"] = min(r["cpu_seconds"] for r in result["runs"][name])
    result["psnr_noisy"] = _psnr(noisy, clean)
    if "torch" not in options:
        log(f"{result['size']}: default {result['best_cpu_seconds_default']:.1f} CPU s")
        return result
    result["speedup_cpu"] = result["best_cpu_seconds_torch"] / result["best_cpu_seconds_default"]
    result["speedup_wall"] = result["best_seconds_torch"] / result["best_seconds_default"]
    log(
        f"{result['size']}: default {result['best_cpu_seconds_default']:.1f} CPU s, torch "
        f"{result['best_cpu_seconds_torch']:.1f} CPU s ({result['speedup_cpu']:.2f}x); PSNR "
        f"{result['psnr_default']:.3f} / {result['psnr_torch']:.3f} dB"
    )
    return result


def _cli(args: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "denoisekit", *args], check=True)


def _bm3d(root: Path, out: Path, limit: int | None) -> dict:
    folder = out / "bm3d-bsd68"
    args = ["benchmark", "--models", "bm3d,gray-blind", "--data", "bsd68", "--sigmas", "25"]
    args += ["--data-root", str(root), "--roofline", "-o", str(folder)]
    if limit:
        args += ["--limit", str(limit)]
    _cli(args)
    return json.loads((folder / "summary.json").read_text())


def _bf16(root: Path, out: Path, limit: int | None) -> dict:
    from denoisekit.runtimes import installed, native_bf16_cpu

    if not (native_bf16_cpu() and installed("openvino")):
        return {"skipped": "this CPU has no native bf16 (or openvino is not installed)"}
    result = {}
    for model_name, data in (("color-blind", "cbsd68"), ("gray-blind", "bsd68")):
        for precision in ("fp32", "bf16"):
            folder = out / f"bf16-{data}-{precision}"
            args = ["evaluate", "--checkpoint", model_name, "--data", data, "--noise"]
            args += ["gaussian:25/255", "--runtime", "openvino", "--precision", precision]
            args += ["--data-root", str(root), "-o", str(folder)]
            if limit:
                args += ["--limit", str(limit)]
            _cli(args)
            summary = json.loads((folder / "summary.json").read_text())
            result[f"{data} {precision}"] = summary["psnr"]
        result[f"{data} bf16 cost dB"] = result[f"{data} fp32"] - result[f"{data} bf16"]
    return result


def render(report: dict) -> str:
    """The measured tables of docs/results/runtimes.md, as markdown, from runtime_speed.json."""
    lines = []
    tiles = report.get("tiles", [])
    if tiles:
        variants = list(dict.fromkeys(row["variant"] for row in tiles))
        torch_ms = {
            (r["model"], r["tile"]): r["cpu_ms_per_mp"]
            for r in tiles
            if r["variant"] == "torch fp32"
        }
        lines += ["| model | tile | " + " | ".join(variants) + " |"]
        lines += ["|---|--:|" + "--:|" * len(variants)]
        for model, tile in dict.fromkeys((r["model"], r["tile"]) for r in tiles):
            cells = []
            for variant in variants:
                row = next(
                    (
                        r
                        for r in tiles
                        if (r["model"], r["tile"], r["variant"]) == (model, tile, variant)
                    ),
                    None,
                )
                if row is None:
                    cells.append("")
                    continue
                ratio = torch_ms[(model, tile)] / row["cpu_ms_per_mp"]
                cells.append(f"{row['cpu_ms_per_mp']:,.0f} ({ratio:.2f}×)")
            lines.append(f"| {model} | {tile} | " + " | ".join(cells) + " |")
        lines.append("")
    roofline = report.get("roofline")
    if roofline and tiles:
        peak = roofline["fp32_matmul_gflops"]
        lines += [f"fp32 matrix-multiply peak: {peak:.1f} GFLOP/s per CPU second", ""]
        lines += ["| model | GFLOP/MP | runtime (tile 512) | GFLOP/s | of the fp32 peak |"]
        lines += ["|---|--:|---|--:|--:|"]
        for row in tiles:
            if row["tile"] != 512:
                continue
            gflop = roofline["gflop_per_mp"][row["model"]]
            rate = gflop / (row["cpu_ms_per_mp"] / 1000)
            lines.append(
                f"| {row['model']} | {gflop:.0f} | {row['variant']} | {rate:.1f} | "
                f"{rate / peak:.0%} |"
            )
        lines.append("")
    for key in ("e2e_2048", "e2e_6000x4000"):
        e2e = report.get(key)
        if not e2e:
            continue
        lines += [f"{e2e['size']}: noisy {e2e['psnr_noisy']:.2f} dB", ""]
        lines += [
            "| run | CPU s (best) | wall s (best) | PSNR dB | peak RSS MB |",
            "|---|--:|--:|--:|--:|",
        ]
        for name, runs in e2e["runs"].items():
            best = min(runs, key=lambda r: r["cpu_seconds"])
            lines.append(
                f"| {name} | {best['cpu_seconds']:.1f} | {min(r['seconds'] for r in runs):.1f} | "
                f"{e2e[f'psnr_{name}']:.3f} | {max(r['peak_rss_mb'] for r in runs):,.0f} |"
            )
        first = e2e.get("default_first_run")
        if first:
            lines.append(
                f"| default, empty cache | {first['cpu_seconds']:.1f} | {first['seconds']:.1f} | | "
                f"{first['peak_rss_mb']:,.0f} |"
            )
        if "speedup_cpu" in e2e:
            lines += ["", f"default against --runtime torch: {e2e['speedup_cpu']:.2f}× in CPU time"]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="runs/runtime-speed")
    parser.add_argument("--parts", default="tiles,roofline,e2e,large,bm3d,bf16")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per variant (tiles)")
    parser.add_argument("--e2e-repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, help="first N images of BSD68/CBSD68")
    parser.add_argument("--models", default=",".join(SHIPPED), help="models of the tiles part")
    parser.add_argument("--render", action="store_true", help="print OUT's tables and stop")
    parser.add_argument(
        "--large-runtimes", default="default,torch", help="the 6000x4000 runs: default,torch"
    )
    parser.add_argument(
        "--data-root", default=str(Path(__file__).parents[1].parent / "shared/data")
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    parts = args.parts.split(",")
    if args.render:
        print(render(json.loads((out / "runtime_speed.json").read_text())))
        return
    root = Path(args.data_root)
    report_path = out / "runtime_speed.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    report["machine"] = {
        "cpu": cpu_name(),
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_before": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d"),
    }

    def log(line: str) -> None:
        print(line, flush=True)

    def save() -> None:
        atomic_write_json(report_path, report)

    with tempfile.TemporaryDirectory(prefix="runtime-speed-") as tmp:
        work = Path(tmp)
        only = tuple(args.large_runtimes.split(","))
        steps = {  # run in the order --parts names them; each saved as soon as it is done
            "tiles": ("tiles", lambda: _tiles(args.repeats, log, args.models.split(","))),
            "roofline": ("roofline", lambda: _roofline(log)),
            "e2e": (
                "e2e_2048",
                lambda: _end_to_end(root, work, (2048, 2048), args.e2e_repeats, log),
            ),
            "large": (
                "e2e_6000x4000",
                lambda: _end_to_end(root, work, (4000, 6000), 1, log, cold=False, runtimes=only),
            ),
            "bm3d": ("bm3d", lambda: _bm3d(root, out, args.limit)),
            "bf16": ("bf16", lambda: _bf16(root, out, args.limit)),
        }
        for part in parts:
            key, step = steps[part]
            result = step()
            if part == "tiles":  # --models measured again: the other models' rows stay
                measured = {row["model"] for row in result}
                kept = [row for row in report.get(key, []) if row["model"] not in measured]
                result = kept + result
            report[key] = result
            save()
    log(render(report))
    log(f"wrote {report_path}")


if __name__ == "__main__":
    main()
