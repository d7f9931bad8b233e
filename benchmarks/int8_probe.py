"""Would int8 make `color-blind` fast enough on a CPU without native bf16? A probe, not a feature.

OpenVINO int8 by NNCF post-training quantization (calibrated on 60 noisy 128x128 crops of
CBSD432, sigma 5-50/255, never the test set), against OpenVINO f32 of the same network: CPU
time per megapixel on one 512x512 tile (one thread, best of 3, twice interleaved) and PSNR on
the first 12 CBSD68 images at sigma 25 (true level). Needs `pip install nncf` (not a denoisekit
dependency). Results: docs/results/runtimes.md, "int8".

    OMP_NUM_THREADS=1 python benchmarks/int8_probe.py [mixed] [slow] [ends]

mixed: NNCF's MIXED preset (PERFORMANCE otherwise); slow: full bias correction (the fast one
otherwise); ends: the first and last convolutions (head, tail) left in f32.
"""

import glob
import resource
import sys

import numpy as np
import torch
from PIL import Image

import denoisekit
from denoisekit.runtimes.openvino import OpenVinoModel, convert_openvino

DATA = "../shared/data"


def _calibration(rng, count=60, size=128):
    """[noisy, level] inputs: one random crop of each of the first `count` CBSD432 images."""
    items = []
    for path in sorted(glob.glob(f"{DATA}/CBSD432/*"))[:count]:
        image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255
        y = rng.integers(0, image.shape[0] - size)
        x = rng.integers(0, image.shape[1] - size)
        clean = image[y : y + size, x : x + size].transpose(2, 0, 1)[None]
        sigma = rng.uniform(5, 50) / 255
        noisy = np.clip(clean + sigma * rng.standard_normal(clean.shape), 0, 1)
        items.append([noisy.astype(np.float32), np.full((1, 1, size, size), sigma, np.float32)])
    return items


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    import nncf

    torch.set_num_threads(1)
    network = denoisekit.load("color-blind", runtime="torch", precision="fp32").model
    converted = convert_openvino(network)
    convs = [
        op.get_friendly_name()
        for op in converted.get_ordered_ops()
        if op.get_type_name() == "Convolution"
    ]
    kept = [c for c in convs if "ends" in sys.argv and ("head" in c or "tail" in c)]
    preset = nncf.QuantizationPreset.MIXED if "mixed" in sys.argv else None
    quantized = nncf.quantize(
        converted,
        nncf.Dataset(_calibration(np.random.default_rng(0))),
        preset=preset or nncf.QuantizationPreset.PERFORMANCE,
        subset_size=60,
        fast_bias_correction="slow" not in sys.argv,
        ignored_scope=nncf.IgnoredScope(names=kept),
    )
    models = {
        "f32": OpenVinoModel(converted, "fp32", 1),
        "int8": OpenVinoModel(quantized, "fp32", 1),
    }
    tile = [
        np.random.default_rng(1).random((1, 3, 512, 512), dtype=np.float32),
        np.full((1, 1, 512, 512), 25 / 255, np.float32),
    ]
    speed = {}
    for name in ("f32", "int8", "f32", "int8"):
        models[name](*tile)
        best = min(_timed(models[name], tile) for _ in range(3))
        speed[name] = min(speed.get(name, best), best) / (512 * 512 / 1e6) * 1000
    psnr = {name: [] for name in models}
    for i, path in enumerate(sorted(glob.glob(f"{DATA}/CBSD68/*"))[:12]):
        clean = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255
        clean = clean.transpose(2, 0, 1)[None]
        noise = np.random.default_rng(i).standard_normal(clean.shape)
        noisy = (clean + 25 / 255 * noise).astype(np.float32)
        level = np.full((1, 1, *clean.shape[-2:]), 25 / 255, np.float32)
        for name, model in models.items():
            out = np.clip(model(noisy, level), 0, 1)
            psnr[name].append(10 * np.log10(1 / np.mean((out - clean) ** 2)))
    print("| format | CPU ms/MP | PSNR dB |\n|---|--:|--:|")
    for name in models:
        print(f"| {name} | {speed[name]:,.0f} | {np.mean(psnr[name]):.3f} |")


def _timed(model, inputs) -> float:
    start = _cpu()
    model(*inputs)
    return _cpu() - start


if __name__ == "__main__":
    main()
