"""`denoisekit export MODEL --format onnx|openvino -o PATH`: a network for other runtimes."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    from .options import add_out

    p = sub.add_parser(
        "export",
        help="write a network as ONNX or OpenVINO IR (dynamic size), checked against PyTorch",
        description="Write a pretrained model or a checkpoint as an ONNX file or an OpenVINO IR "
        "with dynamic batch, height and width. Inputs: noisy (N, C, H, W) float32 in [0, 1], "
        "then for noise-aware models level (N, 1, H, W), the noise std in [0, 1] units; output: "
        "denoised. The file's metadata hold the model name, its kwargs and the package version. "
        "Before writing, the file is run on a random 37x53 input and compared with PyTorch "
        "(max |diff| <= 1e-4). Needs the export extra: pip install 'denoisekit[export]'.",
    )
    p.add_argument(
        "model", metavar="MODEL_OR_CHECKPOINT", help="pretrained name or .safetensors checkpoint"
    )
    p.add_argument("--format", choices=["onnx", "openvino"], default="onnx", help="default onnx")
    add_out(
        p,
        "file to write (.onnx; NAME.xml for openvino, with NAME.bin)",
        metavar="PATH",
        required=True,
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")
    return p


def run(args: argparse.Namespace) -> int | None:
    from pathlib import Path

    from ..inference import load
    from ..runtimes.export import TOLERANCE, export_network
    from .common import UsageError

    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise UsageError(f"{out} exists; add --overwrite to replace it")
    if args.model in ("auto", ""):
        raise UsageError("name the model to export (e.g. color-blind) or a checkpoint path")
    loaded = load(args.model, device="cpu")
    info = {**loaded.info, "name": loaded.name}
    done = export_network(loaded.model, info, args.format, out)
    shape = "x".join(map(str, done.shape))
    print(
        f"wrote {done.path} ({done.format}, {loaded.name}; inputs {', '.join(done.inputs)}); "
        f"{done.checked_by} against PyTorch on a {shape} input: max |diff| {done.max_diff:.2g} "
        f"(<= {TOLERANCE:g})"
    )
    return None
