"""`accelerate(model, runtime, precision, device)`: a network run by onnxruntime or OpenVINO that
is called like the PyTorch one (`net(noisy, sigma)`), so tiled inference, `evaluate` and
`benchmark` use it unchanged.

The converted model comes from the disk cache (`cache.py`) when it is there. The noise level
becomes the (N, 1, H, W) map the exported graph takes (an estimate when none is given, as
`Denoiser.forward` does); inputs too small for the graph's reflect padding run in PyTorch, so
results match it at every size.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .. import __version__
from ..models.base import expand_sigma
from .cache import cached_folder, model_key
from .graph import exportable, min_side

SHAPE_POLICY = "dynamic-nchw"  # one converted file for every batch, height and width


def metadata(model: nn.Module, info: dict | None = None) -> dict[str, str]:
    """What an exported file records about its network: model name, kwargs, package version."""
    import json

    info = info or {}
    return {
        "denoisekit_version": __version__,
        "model": str(info.get("model") or getattr(model, "registry_name", type(model).__name__)),
        "kwargs": json.dumps(info.get("kwargs", {}), sort_keys=True),
        "name": str(info.get("name", "")),
        "noise_aware": str(bool(getattr(model, "noise_aware", False))).lower(),
        "inputs": "noisy (N, C, H, W) float32 in [0, 1]"
        + (
            ", level (N, 1, H, W) noise std in [0, 1]"
            if getattr(model, "noise_aware", False)
            else ""
        ),
        "output": "denoised (N, C, H, W) float32",
    }


class RuntimeNetwork(nn.Module):
    """`model` run by another runtime; same call, same attributes (channels, noise_aware, the
    sigma estimator). `model` stays inside (its parameters, for `.device` and hashing, and the
    fallback for tiny inputs). `run(*arrays) -> array` is the runtime's compiled model."""

    def __init__(self, model: nn.Module, runtime: str, precision: str, run) -> None:
        super().__init__()
        self.model = model
        self.runtime, self.precision, self.run = runtime, precision, run
        self.noise_aware = bool(getattr(model, "noise_aware", False))
        self.in_channels = getattr(model, "in_channels", None)
        self.out_channels = getattr(model, "out_channels", self.in_channels)
        self.multiple = int(getattr(model, "multiple", 1))
        self.registry_name = getattr(model, "registry_name", type(model).__name__)
        self.min_side = min_side(model)

    @property
    def sigma_estimator(self) -> str:
        from ..models.base import sigma_estimator_of

        return sigma_estimator_of(self.model)

    def forward(self, noisy: Tensor, sigma: Tensor | float | None = None) -> Tensor:
        if noisy.ndim != 4:
            raise ValueError(f"expected a (B, C, H, W) batch, got shape {tuple(noisy.shape)}")
        height, width = noisy.shape[-2:]
        pad_h, pad_w = (-height) % self.multiple, (-width) % self.multiple
        # Below min_side, or where torch would replicate instead of reflect: PyTorch's own path.
        if min(height, width) < self.min_side or pad_h >= height or pad_w >= width:
            return self.model(noisy, sigma) if self.noise_aware else self.model(noisy)
        image = noisy.detach().float()
        arrays = [image.cpu().contiguous().numpy()]
        if self.noise_aware:
            from ..noise.estimate import sigma_or_estimate

            level = sigma_or_estimate(image, sigma, self.sigma_estimator)
            level_map = expand_sigma(level, image[:, :1]).float().cpu().contiguous()
            arrays.append(level_map.numpy())
        return torch.from_numpy(self.run(*arrays)).to(noisy.device)


def accelerate(
    model: nn.Module,
    runtime: str,
    precision: str,
    device: torch.device,
    info: dict | None = None,
) -> nn.Module:
    """`model` for `runtime` ("torch", "onnxruntime", "openvino"; resolved by
    `choose.resolve_runtime`) in `precision` ("fp32"/"bf16"): the model itself for torch or
    for what cannot be exported (classical filters), else a `RuntimeNetwork`."""
    if runtime == "torch" or not exportable(model):
        return model
    model = model.eval()
    threads = torch.get_num_threads()
    if runtime == "onnxruntime":
        import onnxruntime

        from .onnx import OnnxRuntimeSession, export_onnx

        key = model_key(
            model,
            runtime=runtime,
            version=onnxruntime.__version__,
            precision="fp32",
            shapes=SHAPE_POLICY,
        )
        folder = cached_folder(
            key, lambda f: export_onnx(model, f / "model.onnx", metadata(model, info))
        )
        run = OnnxRuntimeSession(folder / "model.onnx", device, threads)
    elif runtime == "openvino":
        import openvino

        from .openvino import XML, OpenVinoModel, convert_openvino, save_openvino

        # The IR is the same for both precisions (fp32 weights); the hint applies at compile.
        key = model_key(
            model,
            runtime=runtime,
            version=openvino.__version__,
            precision="fp32",
            shapes=SHAPE_POLICY,
        )

        def build(folder):
            save_openvino(convert_openvino(model, metadata(model, info)), folder / XML)

        run = OpenVinoModel(cached_folder(key, build) / XML, precision, threads)
    else:
        raise ValueError(f"unknown runtime {runtime!r}")
    return RuntimeNetwork(model, runtime, precision, run).eval()


def run_by(
    model: nn.Module,
    runtime: str,
    device: torch.device,
    precision: str,
    info: dict | None = None,
) -> tuple[nn.Module, str, str]:
    """(network, runtime, precision) for `runtime` as asked ("auto" allowed) and `precision`
    ("fp32"/"bf16", see `choose.resolve_runtime`): `model` converted where the runtime is not
    torch. A model that cannot be converted runs in torch: silently when it is not a network
    built on `Denoiser` (classical filters), with a warning when `auto` fails to convert one;
    a runtime named explicitly raises instead."""
    import warnings

    from .choose import resolve_runtime

    resolved, resolved_precision = resolve_runtime(runtime, device, precision)
    if resolved == "torch" or not exportable(model):
        return model, "torch", resolved_precision
    try:
        return (
            accelerate(model, resolved, resolved_precision, device, info),
            resolved,
            resolved_precision,
        )
    except Exception as error:  # noqa: BLE001 - any converter failure
        if runtime != "auto":
            raise
        warnings.warn(
            f"{resolved} could not convert the network ({error}); using PyTorch", stacklevel=2
        )
        return model, "torch", resolved_precision
