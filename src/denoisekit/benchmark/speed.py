"""Speed and memory measurement: resident memory sampling, convolution FLOPs, matmul peak.

Peak memory per method cannot come from the process's `ru_maxrss` (it only ever grows), so a
background thread samples the resident set size while each method runs and keeps the maximum.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time

import torch
from torch import nn

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def current_rss_bytes() -> int:
    """Resident set size now (Linux /proc), else the process peak as the best available bound."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class RssSampler:
    """Context manager: `with RssSampler() as s: ...` then `s.peak` is the max RSS in bytes."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, current_rss_bytes())
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.peak = current_rss_bytes()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, current_rss_bytes())


def conv_flops(model: nn.Module, example: torch.Tensor, sigma: torch.Tensor | None) -> int:
    """FLOPs (2 per multiply-add) of the convolutions and linear layers in one forward pass.

    Elementwise work (activations, norms, additions) is left out: it is small next to the
    convolutions and is not what a matrix-multiply peak measures.
    """
    total = 0

    def count(module: nn.Module, inputs, output) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            per_output = (module.in_channels // module.groups) * kh * kw
            total += 2 * output.numel() * per_output
        elif isinstance(module, nn.ConvTranspose2d):
            kh, kw = module.kernel_size
            per_input = (module.out_channels // module.groups) * kh * kw
            total += 2 * inputs[0].numel() * per_input
        elif isinstance(module, nn.Linear):
            total += 2 * output.numel() * module.in_features

    kinds = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, kinds)]
    try:
        with torch.no_grad():
            model(example, sigma)
    finally:
        for hook in hooks:
            hook.remove()
    return total


def matmul_peak_flops(dtype: torch.dtype, *, size: int = 2048, seconds: float = 1.0) -> float:
    """Best FLOP/s of a square matrix multiply in `dtype` on this CPU, with torch's threads."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    torch.mm(a, b)  # warm-up: first call picks kernels and allocates
    best = float("inf")
    start = time.perf_counter()
    runs = 0
    while runs < 3 or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
        runs += 1
        if runs >= 50:
            break
    return 2.0 * size**3 / best


def cpu_name() -> str:
    """The CPU model string (Linux /proc/cpuinfo), else the platform's processor field."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def sync(device: torch.device) -> None:
    """Wait for `device` to finish its queued work (a no-op on the CPU), before reading a clock."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def training_step(model: nn.Module, clean: torch.Tensor, bf16: bool = False):
    """One training step on `clean` (B, C, p, p) as a function of nothing: noise drawn on the
    device, forward (bf16 autocast when asked), MSE, backward, Adam; returns when the device is
    done. The benchmark scripts' one step, so their figures measure the same thing."""
    device = clean.device
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step() -> None:
        sigma = torch.rand(clean.shape[0], device=device) * 0.2
        noisy = clean + sigma[:, None, None, None] * torch.randn_like(clean)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = (model(noisy, sigma).float() - clean).square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sync(device)

    return step


def time_training_steps(
    model: nn.Module, clean: torch.Tensor, bf16: bool, steps: int, warmup: int = 5
) -> float:
    """Median seconds per `training_step` on `clean`, after `warmup` untimed steps (a compiled
    model compiles in the first)."""
    import statistics

    step = training_step(model, clean, bf16)
    sync(clean.device)
    times = []
    for i in range(steps + warmup):
        start = time.perf_counter()
        step()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)
