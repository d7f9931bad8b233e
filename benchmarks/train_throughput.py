"""Training throughput fp32 (NCHW) vs bf16 autocast + channels_last, and what bf16 costs in PSNR.

Writes OUT/train_throughput.json. Throughput: images/s of a full training step (forward, loss,
backward, Adam) after warm-up. PSNR cost: the same U-Net trained for the same steps on the same
noisy patches of scikit-image's photos in both precisions, both evaluated in fp32.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch

from denoisekit import create_model
from denoisekit.data import load_dataset
from denoisekit.data.patches import PatchDataset
from denoisekit.evaluate import evaluate_pairs, make_noisy_pairs
from denoisekit.files import atomic_write_json
from denoisekit.noise import parse_noise

CASES = [
    ("autoencoder-seed", {}, 3, 100, 32),
    ("unet", {"base_channels": 32, "depth": 3}, 3, 100, 32),
    ("unet", {"in_channels": 1, "base_channels": 32, "depth": 2}, 1, 28, 64),
    ("autoencoder", {"in_channels": 1}, 1, 28, 64),
]


def _step_rate(model, x, bf16: bool, steps: int = 4) -> float:
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    for i in range(steps + 2):
        if i == 2:
            start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
        loss = (out.float() - x.float()).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return steps * x.shape[0] / (time.perf_counter() - start)


def throughput() -> list[dict]:
    rows = []
    for name, kwargs, c, size, batch in CASES:
        x = torch.rand(batch, c, size, size)
        fp32 = _step_rate(create_model(name, **kwargs), x, bf16=False)
        model = create_model(name, **kwargs).to(memory_format=torch.channels_last)
        bf16 = _step_rate(model, x.contiguous(memory_format=torch.channels_last), bf16=True)
        rows.append(
            {
                "model": name,
                "kwargs": kwargs,
                "input": [batch, c, size, size],
                "fp32_img_per_s": round(fp32, 1),
                "bf16_cl_img_per_s": round(bf16, 1),
                "speedup": round(bf16 / fp32, 2),
            }
        )
        print(rows[-1], flush=True)
    return rows


def psnr_cost(steps: int) -> dict:
    images = load_dataset("embedded", channels=3)
    train, test = (
        images.subset(range(len(images) - 2)),
        images.subset(range(len(images) - 2, len(images))),
    )
    noise = parse_noise("gaussian:0.1")
    pairs = make_noisy_pairs(test.images, noise, seed=0)
    result = {}
    for label, bf16 in (("fp32", False), ("bf16_channels_last", True)):
        torch.manual_seed(0)
        patches = PatchDataset(train, 48, 64, augment=True)
        patches.set_epoch(0, 0)
        model = create_model("unet", base_channels=16, depth=3, residual=True)
        if bf16:
            model = model.to(memory_format=torch.channels_last)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        g = torch.Generator().manual_seed(0)
        loader = torch.utils.data.DataLoader(
            patches, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(0)
        )
        done, start = 0, time.perf_counter()
        while done < steps:
            for clean in loader:
                noisy, _ = noise(clean, g)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    out = model(noisy)
                loss = (out.float() - clean).abs().mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                done += 1
                if done >= steps:
                    break
        seconds = time.perf_counter() - start
        summary = evaluate_pairs(model.float(), pairs)["summary"]
        result[label] = {
            "test_psnr_fp32_eval": round(summary["psnr"]["mean"], 3),
            "train_seconds": round(seconds, 1),
        }
        print(label, result[label], flush=True)
    result["psnr_difference_db"] = round(
        result["bf16_channels_last"]["test_psnr_fp32_eval"] - result["fp32"]["test_psnr_fp32_eval"],
        3,
    )
    result["steps"] = steps
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="runs/bench")
    parser.add_argument("--steps", type=int, default=300, help="training steps for the PSNR check")
    args = parser.parse_args()
    report = {
        "machine": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "throughput": throughput(),
        "bf16_psnr_check": psnr_cost(args.steps),
    }
    out = Path(args.out) / "train_throughput.json"
    atomic_write_json(out, report)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
