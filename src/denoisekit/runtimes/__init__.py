"""Runtimes: the same network run by PyTorch, onnxruntime or OpenVINO, chosen per machine.

- `choose.py`: `--runtime auto|torch|onnxruntime|openvino` and the `auto` rule (by CPU kind,
  from measurements), what is installed, native bf16.
- `graph.py`: the network as an exportable graph (inputs `noisy`, `level`; output `denoised`).
- `onnx.py`, `openvino.py`: export / convert and run with each runtime.
- `network.py`: `accelerate(model, ...)`, a network run by a runtime, called like PyTorch's.
- `cache.py`: converted models on disk, keyed by weights hash, runtime, precision and versions.
- `export.py`: `export_model`, behind `denoisekit export` (ONNX or OpenVINO IR + parity check).

Nothing here imports onnxruntime or openvino until a network is converted or run.
"""

from __future__ import annotations

from .choose import RUNTIMES, check_runtime, installed, native_bf16_cpu, resolve_runtime
from .network import RuntimeNetwork, accelerate, run_by

__all__ = [
    "RUNTIMES",
    "RuntimeNetwork",
    "accelerate",
    "check_runtime",
    "installed",
    "native_bf16_cpu",
    "resolve_runtime",
    "run_by",
]
