"""Which runtime runs a network: `auto`, `torch`, `onnxruntime` or `openvino`, checked up front.

`auto` picks by what was measured (docs/results/runtimes.md; `benchmarks/runtime_speed.py`
measures it again on another CPU):

- a CUDA device: torch (it has the GPU kernels; onnxruntime's CUDA provider is opt-in).
- a CPU that computes bf16 natively (AVX512-BF16 or AMX): OpenVINO in bf16. Measured on a
  2-core Intel Xeon with AMX (issue 35, 2026-12-05): 166 ms/MP against 2,509 for torch fp32 and
  707 for torch bf16 autocast, at -0.02 dB on a 1024x1024 photo at sigma 25.
- any other CPU: OpenVINO in fp32, else onnxruntime, else torch. Measured on a 2-core AMD EPYC
  with AVX2 only (2026-12-06, one thread, CPU time): OpenVINO 2,176 ms/MP, onnxruntime 2,520,
  torch channels_last 2,523 at tile 512 (docs/results/runtimes.md).

A runtime that is not installed is skipped by `auto` (torch always is); naming it is a
ConfigError saying what to install. bf16 is used only where the CPU has it natively (as
`inference/precision.py` decides for torch): emulated bf16 is many times slower than fp32.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import torch

from ..errors import ConfigError

RUNTIMES = ("auto", "torch", "onnxruntime", "openvino")
# What each runtime needs importable: onnxruntime runs an ONNX export (written with onnx).
_MODULES = {
    "torch": ("torch",),
    "onnxruntime": ("onnxruntime", "onnx"),
    "openvino": ("openvino",),
}
_INSTALL = {
    "onnxruntime": 'pip install "denoisekit[export]"',
    "openvino": 'pip install "denoisekit[fast]"',
}
# The order `auto` tries on a CPU, by precision (see the module docstring for the measurements).
AUTO_ORDER = {"bf16": ("openvino", "torch"), "fp32": ("openvino", "onnxruntime", "torch")}


def check_runtime(runtime: str) -> str:
    if runtime not in RUNTIMES:
        raise ConfigError(f"runtime {runtime!r}: use one of {', '.join(RUNTIMES)}")
    return runtime


@functools.cache
def installed(runtime: str) -> bool:
    """Whether `runtime` can run here (its packages import); torch always can."""
    return all(importlib.util.find_spec(name) is not None for name in _MODULES[runtime])


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def native_bf16_cpu() -> bool:
    """True when this CPU computes bf16 natively (AVX512-BF16 or AMX-BF16): oneDNN says so,
    or the CPU flags do."""
    if torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return True
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def resolve_runtime(runtime: str, device: torch.device, precision: str) -> tuple[str, str]:
    """(runtime, precision) that run a network on `device`: `runtime` one of RUNTIMES,
    `precision` "fp32" or "bf16" as `inference/precision.py` resolved it ("auto" is resolved
    here by `native_bf16_cpu`); the result names a concrete runtime and the precision it runs
    in (onnxruntime: always fp32, it has no bf16 convolutions on a CPU). A runtime that cannot
    run here (not installed, wrong device) is a ConfigError when named, skipped by `auto`."""
    check_runtime(runtime)
    if device.type == "cuda":
        bf16 = precision == "bf16" or (precision == "auto" and torch.cuda.is_bf16_supported())
        resolved = "bf16" if bf16 else "fp32"
        if runtime in ("auto", "torch"):
            return "torch", resolved
        if runtime == "openvino":
            raise ConfigError(
                "runtime openvino runs on the CPU; use --device cpu (or --runtime torch)"
            )
        _need(runtime)
        if "CUDAExecutionProvider" not in _ort_providers():
            raise ConfigError(
                "runtime onnxruntime on cuda needs onnxruntime-gpu (this onnxruntime has no "
                "CUDAExecutionProvider); use --runtime torch"
            )
        return runtime, "fp32"
    bf16 = precision == "bf16" or (precision == "auto" and native_bf16_cpu())
    resolved = "bf16" if bf16 else "fp32"
    if runtime == "auto":
        order = AUTO_ORDER[resolved]
        return next(name for name in order if installed(name)), resolved
    _need(runtime)
    return runtime, "fp32" if runtime == "onnxruntime" else resolved


def _need(runtime: str) -> None:
    if not installed(runtime):
        missing = [name for name in _MODULES[runtime] if importlib.util.find_spec(name) is None]
        lacking = f" (no {', '.join(missing)})" if missing else ""
        raise ConfigError(
            f"runtime {runtime} is not installed{lacking}: {_INSTALL[runtime]}, or use "
            "--runtime torch"
        )


def _ort_providers() -> list[str]:
    import onnxruntime

    return onnxruntime.get_available_providers()
