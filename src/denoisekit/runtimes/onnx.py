"""ONNX: export a network (dynamic batch, height and width) and run it with onnxruntime.

The export uses torch.onnx's TorchScript-based exporter (`dynamo=False`): it records the pad
arithmetic of `graph.ExportGraph` as graph operations, so one file gives PyTorch's output at any
size (checked at 37x53, 41x50 and 64x64: max |diff| 4e-7), in 2.6 s for the shipped DRUNet on
the 2-core AMD EPYC. The `torch.export`-based exporter (`dynamo=True`) took 13.6 s for the same
file when its dims were written as the probe wrote them, failed on the pad's modulo as written
here, and needs `onnxscript` besides `onnx`; so the older exporter, for now.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .graph import OUTPUT, ExportGraph, example_inputs, input_names


def export_onnx(model: nn.Module, path: str | Path, metadata: Mapping[str, str]) -> None:
    """Write `model` (a `Denoiser`, see `graph.py`) to `path` as ONNX, fp32, with `metadata`
    in the file's metadata_props."""
    import onnx

    from ..files import atomic_path

    inputs = example_inputs(model)
    names = input_names(model)
    axes = {name: {0: "batch", 2: "height", 3: "width"} for name in [*names, OUTPUT]}
    # The exporter warns about its own deprecation and about traced shape arithmetic (which is
    # what we want here: the pad follows the input's size).
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        buffer = io.BytesIO()
        torch.onnx.export(
            ExportGraph(model),
            inputs,
            buffer,
            dynamo=False,
            input_names=names,
            output_names=[OUTPUT],
            dynamic_axes=axes,
            opset_version=17,
        )
    proto = onnx.load_from_string(buffer.getvalue())
    onnx.helper.set_model_props(proto, dict(metadata))
    with atomic_path(path) as tmp:
        onnx.save(proto, str(tmp))


def onnx_metadata(path: str | Path) -> dict[str, str]:
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    return {prop.key: prop.value for prop in proto.metadata_props}


class OnnxRuntimeSession:
    """An ONNX file run by onnxruntime: `session(*arrays) -> array` (float32, NCHW), on the CPU
    with `threads` threads, or on CUDA through onnxruntime-gpu's provider (not tested on a GPU)."""

    def __init__(self, path: str | Path, device: torch.device, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        providers = ["CPUExecutionProvider"]
        if device.type == "cuda":
            index = device.index or 0
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": index}))
        self.session = ort.InferenceSession(str(path), options, providers=providers)
        self.names = [arg.name for arg in self.session.get_inputs()]

    def __call__(self, *arrays: np.ndarray) -> np.ndarray:
        return self.session.run(None, dict(zip(self.names, arrays, strict=True)))[0]
