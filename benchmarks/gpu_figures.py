"""The figures docs/scaling.md asks of a GPU, in one run: training throughput and MFU of the
shipped architecture, inference ms/MP of every shipped model, and 2-GPU DDP when there are two.

    python benchmarks/gpu_figures.py --out runs/gpu-figures            # on the GPU machine
    python benchmarks/gpu_figures.py --device cpu --batch 2 --patch 32 --steps 2 \\
        --image 64 --out /tmp/figures                                    # the CPU path, tiny

Training: the architecture of the shipped color-blind weights (drunet, its kwargs read from the
weights' .json), `--batch` patches of `--patch`^2 (64 and 128 by default), bf16 autocast with
channels_last (`--precision fp32` for fp32), Adam, MSE; the step alone on patches already on the
device, median of `--steps` after 5 warm-up steps, eager and (`--compile`, on by default)
torch.compile'd. MFU = achieved FLOP/s / the device's peak dense bf16 (fp32 on a CPU: the
measured matmul peak) FLOP/s, where one step costs 3x the forward pass's conv FLOPs (backward:
2x), counted by `benchmark.speed.conv_flops`. A GPU missing from PEAK_TFLOPS needs --peak-tflops.

Inference: each shipped model loaded as `denoisekit denoise` loads it (`load(name)`: auto
precision, the default 512-pixel tiles with 32 overlap), on an `--image`^2 random-content image
(speed does not depend on content), median of `--repeats` after one warm-up: ms per megapixel.

DDP (`--ddp`, when torch sees two GPUs or more; on a CPU with --device cpu it runs gloo): the
training step wrapped in DistributedDataParallel on each of `--ddp` processes, batch per process
as above, so the global batch is `--ddp` x batch; patches/s of all processes together.

Writes OUT/gpu_figures.json and prints one line per figure.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from denoisekit.benchmark.speed import (
    conv_flops,
    cpu_name,
    matmul_peak_flops,
    sync,
    time_training_steps,
)
from denoisekit.files import atomic_write_json
from denoisekit.registry import count_parameters, create_model

# Dense bf16 peak, TFLOP/s, from the vendors' data sheets (without sparsity).
PEAK_TFLOPS = {
    "H100 80GB HBM3": 989.0,  # SXM
    "H100 PCIe": 756.0,
    "H100 NVL": 835.0,
    "H200": 989.0,
    "A100": 312.0,
    "L40S": 362.0,
    "RTX 4090": 165.0,
}


def shipped_architecture(name: str = "color-blind") -> tuple[str, dict]:
    from denoisekit.checkpoints.pretrained import pretrained_info

    info = pretrained_info(name)
    return info["model"], dict(info.get("kwargs") or {})


def peak_flops(device: torch.device, bf16: bool, given: float | None) -> tuple[float, str]:
    """(FLOP/s, where the figure comes from) the MFU is taken against."""
    if given:
        return given * 1e12, "--peak-tflops"
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        for key, tflops in PEAK_TFLOPS.items():
            if key in name:
                return tflops * 1e12, f"data sheet ({key}, dense bf16)"
        raise SystemExit(f"{name}: not in PEAK_TFLOPS; give --peak-tflops")
    dtype = torch.bfloat16 if bf16 else torch.float32
    return matmul_peak_flops(dtype), f"measured {dtype} matmul peak"


def training_rows(args, device: torch.device, bf16: bool, peak: float) -> list[dict]:
    name, kwargs = shipped_architecture()
    channels = kwargs.get("in_channels", 3)
    rows = []
    for compiled in (False, True) if args.compile else (False,):
        for batch in args.batch:
            torch.manual_seed(0)
            model = create_model(name, **kwargs).to(device)
            layout = torch.channels_last if bf16 else torch.contiguous_format
            model = model.to(memory_format=layout)
            clean = torch.rand(batch, channels, args.patch, args.patch, device=device)
            clean = clean.contiguous(memory_format=layout)
            sigma = torch.full((batch,), 0.1, device=device)
            flops = 3 * conv_flops(model, clean, sigma)  # forward + backward (2x forward)
            runner = torch.compile(model) if compiled else model
            start = time.perf_counter()
            seconds = time_training_steps(runner, clean, bf16, args.steps, args.warmup)
            total = time.perf_counter() - start
            row = {
                "model": name,
                "kwargs": kwargs,
                "params": count_parameters(model),
                "compiled": compiled,
                "batch": batch,
                "patch": args.patch,
                "ms_per_step": round(seconds * 1000, 3),
                "patches_per_s": round(batch / seconds, 1),
                "tflops": float(f"{flops / seconds / 1e12:.4g}"),
                "mfu": float(f"{flops / seconds / peak:.4g}"),
                # warm-up included: for a compiled model mostly the compilation
                "first_steps_s": round(total - args.steps * seconds, 1),
            }
            rows.append(row)
            print(
                f"train {name} batch {batch} {args.patch}^2 {'compiled' if compiled else 'eager'}:"
                f" {row['ms_per_step']} ms/step, {row['patches_per_s']} patches/s, "
                f"MFU {100 * row['mfu']:.1f} %",
                flush=True,
            )
    return rows


def inference_rows(args, device: torch.device) -> list[dict]:
    import numpy as np

    import denoisekit
    from denoisekit.checkpoints.pretrained import pretrained_names

    rows = []
    rng = np.random.default_rng(0)
    for name in args.models or pretrained_names():
        denoiser = denoisekit.load(name, device=str(device))
        channels = denoiser.channels or 3
        shape = (args.image, args.image) + ((channels,) if channels > 1 else ())
        image = rng.random(shape, dtype=np.float32)
        times = []
        for i in range(args.repeats + 1):
            sync(device)
            start = time.perf_counter()
            denoiser.denoise(image, 25 / 255)
            sync(device)
            if i:
                times.append(time.perf_counter() - start)
        ms_per_mp = statistics.median(times) * 1000 / (args.image**2 / 1e6)
        rows.append(
            {
                "model": name,
                "image": args.image,
                "precision": denoiser.precision,
                "ms_per_mp": round(ms_per_mp, 3),
            }
        )
        print(f"denoise {name} ({denoiser.precision}): {ms_per_mp:.2f} ms/MP", flush=True)
    return rows


def _ddp_worker(rank: int, world: int, args, port: int, queue) -> None:
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    cuda = args.device.startswith("cuda")
    dist.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=world)
    device = torch.device("cuda", rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    bf16 = args.precision == "bf16"
    name, kwargs = shipped_architecture()
    torch.manual_seed(0)
    layout = torch.channels_last if bf16 else torch.contiguous_format
    model = create_model(name, **kwargs).to(device).to(memory_format=layout)
    model = DistributedDataParallel(model, device_ids=[rank] if cuda else None)
    batch = args.batch[-1]
    channels = kwargs.get("in_channels", 3)
    clean = torch.rand(batch, channels, args.patch, args.patch, device=device)
    clean = clean.contiguous(memory_format=layout)
    seconds = time_training_steps(model, clean, bf16, args.steps, args.warmup)
    times = [None] * world
    dist.all_gather_object(times, seconds)
    if rank == 0:
        queue.put(max(times))  # the slowest process sets the pace of all
    dist.destroy_process_group()


def ddp_row(args) -> dict:
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    context = mp.get_context("spawn")
    queue = context.SimpleQueue()
    mp.start_processes(
        _ddp_worker, args=(args.ddp, args, port, queue), nprocs=args.ddp, start_method="spawn"
    )
    seconds = queue.get()
    batch = args.batch[-1]
    row = {
        "processes": args.ddp,
        "batch_per_process": batch,
        "patch": args.patch,
        "ms_per_step": round(seconds * 1000, 3),
        "patches_per_s": round(args.ddp * batch / seconds, 1),
    }
    print(f"ddp {args.ddp} x batch {batch}: {row['patches_per_s']} patches/s", flush=True)
    return row


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
    parser.add_argument("--batch", type=lambda t: [int(b) for b in t.split(",")], default=[64])
    parser.add_argument("--patch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before them")
    parser.add_argument("--no-compile", dest="compile", action="store_false")
    parser.add_argument("--peak-tflops", type=float, help="the device's peak, when not listed")
    parser.add_argument("--image", type=int, default=2048, help="inference image side (pixels)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", nargs="*", help="shipped models to time (default: all)")
    parser.add_argument(
        "--ddp",
        type=int,
        default=None,
        help="processes for the DDP figure (default: 2 when torch sees 2 GPUs or more, else none)",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/gpu-figures"))
    args = parser.parse_args(argv)
    if args.ddp is None:
        args.ddp = 2 if args.device.startswith("cuda") and torch.cuda.device_count() >= 2 else 0

    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its kernels
    bf16 = args.precision == "bf16"
    peak, peak_from = peak_flops(device, bf16, args.peak_tflops)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    report = {
        "device": name,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "precision": args.precision,
        "peak_tflops": round(peak / 1e12, 3),
        "peak_from": peak_from,
        "training": training_rows(args, device, bf16, peak),
        "inference": inference_rows(args, device),
    }
    if args.ddp > 1:
        report["ddp"] = ddp_row(args)
    out = args.out / "gpu_figures.json"
    atomic_write_json(out, report)
    print(f"wrote {out}")
    return report


if __name__ == "__main__":
    main()
