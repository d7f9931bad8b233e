"""Which number format a network runs in at inference (fp32, or bf16 autocast) and in which
memory layout.

On a CPU with native bf16 (AVX512-BF16 / AMX) bf16 autocast runs the shipped DRUNet 2.3x faster
than fp32 at a cost of 0.001 dB on CBSD68 at sigma 25 (docs/results/speed.md, "bf16 against fp32
on a CPU with native bf16"), so every command that runs a network (`denoise`, `evaluate`,
`benchmark`, `demo`) uses it by default (`--precision auto`). Where bf16 is emulated it is 7-17x
slower than fp32 (measured on an AVX2-only CPU), so `auto` keeps fp32 there. `evaluate` and
`benchmark` write the precision they resolved into summary.json (the published tables were
measured in fp32: `--precision fp32` repeats them). `load` stays in fp32 unless told
(`load(name, precision="auto")`).

On a CPU, networks run channels_last in either precision: oneDNN's convolutions take that layout
as it is, where an NCHW tensor is reordered around every convolution; on the AVX2 CPU it made
the fp32 DRUNet about twice as fast at 256-512 pixel tiles. On a GPU only bf16 uses it.
"""

from __future__ import annotations

import contextlib

import torch

from ..errors import ConfigError

PRECISIONS = ("auto", "fp32", "bf16")


def native_bf16(device: torch.device) -> bool:
    """True when `device` computes bf16 natively (CUDA with bf16 support; a CPU with oneDNN's
    bf16 kernels, i.e. AVX512-BF16 or AMX)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ConfigError(f"precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    return precision


def resolve_precision(precision: str, device: torch.device) -> str:
    """ "fp32" or "bf16" for `precision` ("auto": bf16 where `device` has it natively)."""
    if check_precision(precision) == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return precision


def use_channels_last(precision: str, device: torch.device) -> bool:
    """Whether networks run with channels_last tensors for `precision` ("fp32"/"bf16")."""
    return device.type == "cpu" or precision == "bf16"


def autocast(precision: str, device: torch.device):
    """A context that runs the enclosed network calls in `precision` ("fp32" or "bf16")."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
