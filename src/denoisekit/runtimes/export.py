"""`denoisekit export`: a network as an ONNX file or an OpenVINO IR, checked against PyTorch.

The file takes `noisy` (N, C, H, W) float32 in [0, 1] and, for noise-aware models, `level`
(N, 1, H, W), the noise std in [0, 1] units per pixel; it returns `denoised` (N, C, H, W).
Batch, height and width are dynamic (height and width at least `graph.min_side`, 8 for the
shipped DRUNets). The model's name, kwargs and the package version go into the file's
metadata (ONNX metadata_props; the IR's rt_info under "denoisekit"). Before the file is
written, its output on a random odd-sized input is compared with PyTorch's.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError, DenoiseKitError
from .choose import installed
from .graph import example_inputs, exportable, input_names
from .network import metadata

FORMATS = ("onnx", "openvino")
TOLERANCE = 1e-4  # max |diff| against PyTorch in fp32
PARITY_SIZE = (37, 53)  # odd on both sides: the graph's padding is exercised


@dataclass
class Exported:
    path: Path  # the file written (.onnx, or the IR's .xml with its .bin beside it)
    format: str
    max_diff: float  # against PyTorch on `shape`
    shape: tuple[int, ...]
    checked_by: str  # the runtime that ran the file for the check
    inputs: list[str]


def export_network(
    model: nn.Module, info: dict | None, fmt: str, out: str | Path, tolerance: float = TOLERANCE
) -> Exported:
    """Write `model` as `fmt` ("onnx" or "openvino") to `out` after checking it runs within
    `tolerance` of PyTorch; a ConfigError for what cannot be exported or is not installed."""
    if fmt not in FORMATS:
        raise ConfigError(f"format {fmt!r}: use {' or '.join(FORMATS)}")
    if not exportable(model):
        raise ConfigError(
            "only networks can be exported (a classical filter has no graph to write)"
        )
    out = Path(out)
    if fmt == "openvino" and out.suffix != ".xml":
        raise ConfigError(f"an OpenVINO IR is written as NAME.xml (+ NAME.bin); got {out}")
    model = model.float().eval()
    inputs = example_inputs(model, *PARITY_SIZE)
    with torch.no_grad():
        expected = model(*inputs).numpy()
    folder = Path(tempfile.mkdtemp(prefix=".export.", dir=_parent(out)))
    try:
        staged = folder / out.name
        if fmt == "onnx":
            checked_by = _export_onnx(model, info, staged)
        else:
            checked_by = _export_openvino(model, info, staged)
        got = _run(staged, fmt, checked_by, [t.numpy() for t in inputs])
        diff = float(np.abs(got - expected).max())
        if not diff <= tolerance:
            raise DenoiseKitError(
                f"the exported {fmt} model differs from PyTorch by {diff:.3g} (more than "
                f"{tolerance:g}) on a {'x'.join(map(str, inputs[0].shape))} input; not written"
            )
        for file in sorted(folder.iterdir()):  # .bin before .xml: the IR is whole once .xml is
            file.replace(out.parent / file.name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    shape = tuple(inputs[0].shape)
    return Exported(out, fmt, diff, shape, checked_by, input_names(model))


def _parent(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    return out.parent


def _export_onnx(model: nn.Module, info: dict | None, path: Path) -> str:
    if not _has("onnx"):
        raise ConfigError("ONNX export needs onnx: pip install 'denoisekit[export]'")
    checker = "onnxruntime" if _has("onnxruntime") else "openvino" if _has("openvino") else None
    if checker is None:
        raise ConfigError(
            "checking the ONNX file needs onnxruntime (or openvino): "
            "pip install 'denoisekit[export]'"
        )
    from .onnx import export_onnx

    export_onnx(model, path, metadata(model, info))
    return checker


def _export_openvino(model: nn.Module, info: dict | None, path: Path) -> str:
    if not installed("openvino"):
        raise ConfigError("OpenVINO export needs openvino: pip install 'denoisekit[fast]'")
    from .openvino import convert_openvino, save_openvino

    save_openvino(convert_openvino(model, metadata(model, info)), path)
    return "openvino"


def _run(path: Path, fmt: str, runtime: str, arrays: list[np.ndarray]) -> np.ndarray:
    threads = torch.get_num_threads()
    if runtime == "onnxruntime":
        from .onnx import OnnxRuntimeSession

        return OnnxRuntimeSession(path, torch.device("cpu"), threads)(*arrays)
    from .openvino import OpenVinoModel

    return OpenVinoModel(path, "fp32", threads)(*arrays)


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
