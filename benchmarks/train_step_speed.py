"""Time one training step (forward, MSE loss, backward, Adam) of a network on CPU or GPU.

    python benchmarks/train_step_speed.py --model drunet --kwargs '{"blocks": 3}' \\
        --channels 1,3 --batch 32,64,128 [--patch 128] [--device cuda] [--out runs/bench]

The step alone, on patches already on the device, with noise drawn there: the ceiling that
`denoisekit train` reaches only when its data side keeps up. bf16 autocast + channels_last where
the device computes bf16 natively (`train.precision: auto`), fp32 otherwise. Median of `--steps`
timed steps after 5 warm-up steps; writes OUT/train_step_speed.json and prints one line per case.

`--loop DATA` also times `denoisekit train` itself on the same cases: patches of the named set
(e.g. cbsd432; gray sets for 1 channel), `gaussian:0-50/255`, MSE, `--workers` DataLoader
workers. It trains two epochs of n = `--loop-steps` steps, then two of 2n; the difference of
the second epochs' wall times over n is the loop's ms/step (fixed costs per epoch, validation
and worker start-up, cancel), printed beside the bare step's.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from denoisekit.benchmark.speed import time_training_steps
from denoisekit.files import atomic_write_json
from denoisekit.registry import count_parameters, create_model
from denoisekit.train.loop import resolve_precision


def time_loop(args, channels: int, batch: int, kwargs: dict, device: torch.device) -> float:
    """Seconds per step of `denoisekit train` (see the module docstring)."""
    n = args.loop_steps
    return (
        _second_epoch(args, channels, batch, kwargs, device, 2 * n)
        - _second_epoch(args, channels, batch, kwargs, device, n)
    ) / n


def _second_epoch(args, channels, batch, kwargs, device, steps: int) -> float:
    import tempfile

    from denoisekit.config import load_run_config
    from denoisekit.train import train

    overrides = [
        f"data.train={args.loop}",
        f"data.channels={channels}",
        f"data.patch_size={args.patch}",
        "data.patches_per_image=64",
        f"data.workers={args.workers}",
        "data.eval_limit=4",
        "noise.train=gaussian:0-50/255",
        f"model.name={args.model}",
        f"model.kwargs={json.dumps(kwargs)}",
        "train.loss=mse",
        "train.epochs=2",
        f"train.batch_size={batch}",
        f"train.steps_per_epoch={steps}",
        f"train.accelerator={'cuda' if device.type == 'cuda' else 'cpu'}",
    ]
    with tempfile.TemporaryDirectory() as out:
        result = train(load_run_config(None, overrides), out, progress=False)
    first, second = (row["seconds"] for row in result.history)
    return second - first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="drunet")
    parser.add_argument("--kwargs", default="{}", help="JSON constructor arguments")
    parser.add_argument("--channels", default="1,3", help="comma-separated: 1 gray, 3 colour")
    parser.add_argument("--batch", default="32,64", help="comma-separated batch sizes")
    parser.add_argument("--patch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=Path("runs/bench"))
    parser.add_argument("--loop", metavar="DATA", help="also time `denoisekit train` on DATA")
    parser.add_argument("--loop-steps", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4, help="DataLoader workers (--loop)")
    args = parser.parse_args()

    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its kernels
    bf16 = resolve_precision("auto", device.type) == "bf16-mixed"
    rows = []
    for channels in (int(c) for c in args.channels.split(",")):
        kwargs = {**json.loads(args.kwargs), "in_channels": channels}
        model = create_model(args.model, **kwargs).to(device)
        if bf16:
            model = model.to(memory_format=torch.channels_last)
        for batch in (int(b) for b in args.batch.split(",")):
            clean = torch.rand(batch, channels, args.patch, args.patch, device=device)
            if bf16:
                clean = clean.contiguous(memory_format=torch.channels_last)
            seconds = time_training_steps(model, clean, bf16, args.steps)
            row = {
                "model": args.model,
                "kwargs": kwargs,
                "params": count_parameters(model),
                "batch": batch,
                "patch": args.patch,
                "ms_per_step": round(seconds * 1000, 2),
                "patches_per_s": round(batch / seconds),
            }
            line = f"{seconds * 1000:.1f} ms/step, {batch / seconds:.0f} patches/s"
            if args.loop:
                loop_seconds = time_loop(args, channels, batch, kwargs, device)
                row["loop_ms_per_step"] = round(loop_seconds * 1000, 2)
                line += f"; denoisekit train {loop_seconds * 1000:.1f} ms/step"
            rows.append(row)
            print(f"{args.model} {kwargs} batch {batch}: {line}", flush=True)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    report = {"device": name, "bf16": bf16, "torch": torch.__version__, "rows": rows}
    if args.loop:
        report["loop"] = {"data": args.loop, "workers": args.workers, "steps": args.loop_steps}
    out = args.out / "train_step_speed.json"
    atomic_write_json(out, report)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
