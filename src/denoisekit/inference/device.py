"""Which device a model runs on: `auto`, `cpu`, `cuda` or `cuda:N`, checked once, up front.

`auto` is the first CUDA GPU when torch sees one, else the CPU. Asking for `cuda` where torch
has no GPU (a CPU-only build, no driver) is a ConfigError in one line, before any file is read.
Training picks its devices through Lightning instead (`train.accelerator`, `train.devices`).
"""

from __future__ import annotations

import re

import torch

from ..errors import ConfigError

DEVICES = "auto, cpu, cuda or cuda:N"
_SPELLING = re.compile(r"auto|cpu|cuda(:\d+)?")


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The torch device for `device`: "auto" (or None): cuda when available, else cpu; "cpu";
    "cuda" / "cuda:N" (a ConfigError when torch sees no such GPU); or a `torch.device`."""
    if device is None:
        device = "auto"
    if isinstance(device, torch.device):
        text = str(device)
    elif isinstance(device, str):
        text = device.strip().lower()
    else:
        raise ConfigError(f"device {device!r}: use {DEVICES}")
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not _SPELLING.fullmatch(text):
        raise ConfigError(f"device {device!r}: use {DEVICES}")
    resolved = torch.device(text)
    if resolved.type == "cuda":
        _check_cuda(text, resolved)
    return resolved


def _check_cuda(text: str, device: torch.device) -> None:
    if not torch.cuda.is_available():
        build = " (a CPU-only build)" if torch.version.cuda is None else ""
        raise ConfigError(
            f"device {text!r}: torch {torch.__version__}{build} finds no CUDA GPU; "
            "use --device cpu or auto"
        )
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        raise ConfigError(
            f"device {text!r}: torch sees {count} CUDA GPU{'s' if count != 1 else ''} "
            f"(cuda:0 to cuda:{count - 1})"
        )
