"""Training step, eager against torch.compile, timed interleaved so that load on a shared
machine hits both alike (docs/scaling.md, "torch.compile").

    python benchmarks/compile_speed.py --model drunet --kwargs '{"in_channels": 3, "blocks": 3}' \\
        --batch 4 --patch 64 [--device cuda]

One step: noise drawn on the device, forward, MSE, backward, Adam, in fp32. The compiled model
is compiled and run twice first (the time printed as "compiling"), then `--rounds` rounds each
time `--steps` eager steps and `--steps` compiled ones; the medians are printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from denoisekit.benchmark.speed import training_step
from denoisekit.registry import create_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="drunet")
    parser.add_argument("--kwargs", default='{"in_channels": 3, "blocks": 3}')
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--patch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    kwargs = json.loads(args.kwargs)
    device = torch.device(args.device)
    torch.manual_seed(0)
    shape = (args.batch, kwargs.get("in_channels", 3), args.patch, args.patch)
    clean = torch.rand(shape, device=device)
    eager = training_step(create_model(args.model, **kwargs).to(device), clean)
    start = time.perf_counter()
    compiled = training_step(torch.compile(create_model(args.model, **kwargs).to(device)), clean)
    compiled()
    compiled()
    compiling = time.perf_counter() - start
    eager()
    eager()
    times: dict[str, list[float]] = {"eager": [], "compiled": []}
    for _ in range(args.rounds):
        for label, step in (("eager", eager), ("compiled", compiled)):
            for _ in range(args.steps):
                begin = time.perf_counter()
                step()
                times[label].append(time.perf_counter() - begin)
    e, c = (statistics.median(times[k]) for k in ("eager", "compiled"))
    print(
        f"{args.model} {kwargs} batch {args.batch} {args.patch}^2 on {device}: eager "
        f"{e * 1000:.1f} ms/step, compiled {c * 1000:.1f} ms/step ({e / c:.2f}x), compiling "
        f"(+ 2 steps) {compiling:.0f} s, {torch.get_num_threads()} threads"
    )


if __name__ == "__main__":
    main()
