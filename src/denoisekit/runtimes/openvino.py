"""OpenVINO: convert a network straight from PyTorch (no ONNX needed), save it as IR, run it.

`openvino.convert_model` traces `graph.ExportGraph` with dynamic batch, height and width; the
IR keeps fp32 weights (`compress_to_fp16=False`: the default would round them to fp16). The
precision a network computes in is a compile-time hint: "f32", or "bf16" on a CPU with native
bf16 (AMX / AVX512-BF16), where OpenVINO keeps what it must in fp32 itself.
"""

from __future__ import annotations

import contextlib
import functools
import io
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from torch import nn

from .graph import OUTPUT, ExportGraph, example_inputs, input_names

XML = "model.xml"
_HINT = {"fp32": "f32", "bf16": "bf16"}


def convert_openvino(model: nn.Module, metadata: Mapping[str, str] | None = None):
    """`model` (a `Denoiser`) as an `openvino.Model` taking `noisy` [and `level`]."""
    import openvino as ov

    channels = int(getattr(model, "in_channels", 3) or 3)
    shapes = [ov.PartialShape([-1, channels, -1, -1]), ov.PartialShape([-1, 1, -1, -1])]
    names = input_names(model)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        converted = ov.convert_model(
            ExportGraph(model), example_input=example_inputs(model), input=shapes[: len(names)]
        )
    for port, name in zip(converted.inputs, names, strict=True):
        port.get_tensor().set_names({name})
    converted.outputs[0].get_tensor().set_names({OUTPUT})
    for key, value in (metadata or {}).items():
        converted.set_rt_info(str(value), ["denoisekit", key])
    return converted


def save_openvino(converted, path: str | Path) -> None:
    """Write the IR (`path` .xml and its .bin beside it) with fp32 weights."""
    import openvino as ov

    ov.save_model(converted, str(path), compress_to_fp16=False)


@functools.cache
def _core():
    import openvino as ov

    return ov.Core()


class OpenVinoModel:
    """An OpenVINO IR (or model) compiled for the CPU in `precision` ("fp32"/"bf16") with
    `threads` threads: `model(*arrays) -> array` (float32, NCHW)."""

    def __init__(self, source, precision: str, threads: int) -> None:
        config = {
            "INFERENCE_PRECISION_HINT": _HINT[precision],
            "INFERENCE_NUM_THREADS": int(threads),
            "PERFORMANCE_HINT": "LATENCY",
        }
        source = str(source) if isinstance(source, Path) else source
        self.compiled = _core().compile_model(source, "CPU", config)
        self.request = self.compiled.create_infer_request()

    def __call__(self, *arrays: np.ndarray) -> np.ndarray:
        result = self.request.infer(list(arrays))
        # The request reuses its output buffer on the next call: hand back a copy.
        return np.array(result[self.compiled.outputs[0]], copy=True)
