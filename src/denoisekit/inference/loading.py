"""`load(name_or_path)`: what a model name, checkpoint path or module becomes, a
`LoadedDenoiser` (one model for every image) or an `AutoDenoiser` (a model chosen per image).

Not named `load.py`: a submodule of that name would replace the `load` function on the
`denoisekit.inference` package once imported.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..errors import UnknownNameError, close_names
from ..runtimes import check_runtime
from .auto import AUTO, AutoDenoiser
from .device import resolve_device
from .ensemble import ENSEMBLE_SUFFIX, SelfEnsemble, split_ensemble
from .loaded import LoadedDenoiser
from .precision import check_precision


def named_models() -> tuple[list[str], list[str]]:
    """(pretrained names, classical filter names): what `load` accepts besides paths."""
    from ..checkpoints.pretrained import pretrained_names
    from ..registry import list_models

    classical = [entry.name for entry in list_models() if entry.kind == "classical"]
    return pretrained_names(), classical


def load(
    source: str | Path | nn.Module | LoadedDenoiser | AutoDenoiser | None = AUTO,
    *,
    precision: str | None = None,
    device: str | torch.device | None = None,
    runtime: str | None = None,
) -> LoadedDenoiser | AutoDenoiser:
    """A model ready to denoise: `"auto"` (or None, the default: an `AutoDenoiser` that gives
    each image the pretrained model `denoise` and the CLI pick for it, see `auto.py`), a
    pretrained name (`"gray-blind"`, see `denoisekit models`: that model for every image), a
    classical filter name (`"nlm"`, `"bm3d"`), a checkpoint path (`run/best.safetensors`), or
    an `nn.Module`. Names win over files in the working folder unless written as a path
    (`./gray-blind.safetensors`). A `+x8` suffix (`"gray-blind+x8"`) wraps the network in the
    8-view self-ensemble (`ensemble.py`). Unknown names are an UnknownNameError listing close
    names. `precision`: "fp32" (None: fp32, or a loaded model's own), "bf16" or "auto" (see
    `LoadedDenoiser`). `device`: "auto", "cpu", "cuda" or "cuda:N" (`device.py`); None: "auto"
    for a model loaded here by name or path, and where it already is for an `nn.Module` or a
    loaded model (given a device, those are moved there, as `nn.Module.to` does). `runtime`:
    "torch" (None: torch, or a loaded model's own), "onnxruntime", "openvino" or "auto" (the
    fastest one installed for this CPU, what the CLI uses; `runtimes/choose.py`)."""
    if runtime is not None:
        check_runtime(runtime)
    if source is None or (isinstance(source, str) and source == AUTO):
        where = resolve_device(device)
        return AutoDenoiser(precision=precision or "fp32", device=where, runtime=runtime or "torch")
    if isinstance(source, (AutoDenoiser, LoadedDenoiser)):
        return _reconfigured(source, precision, device, runtime)
    if device is None and not isinstance(source, nn.Module):
        device = "auto"
    target = resolve_device(device) if device is not None else None  # before any loading
    loaded = _load(source)
    if precision is not None:
        loaded.precision = check_precision(precision)
    if runtime is not None:
        loaded.runtime = runtime
    return loaded.to(target) if target is not None else loaded


def _reconfigured(source, precision, device, runtime):
    """An already loaded `source`, moved to `device`; a new one sharing its network when the
    precision or runtime asked differ from its own."""
    if device is not None:
        source.to(resolve_device(device))
    precision, runtime = precision or source.precision, runtime or source.runtime
    if (precision, runtime) == (source.precision, source.runtime):
        return source
    if isinstance(source, AutoDenoiser):
        return AutoDenoiser(precision=precision, device=source.device, runtime=runtime)
    loaded = LoadedDenoiser(
        source.model, source.info, name=source.name, precision=precision, runtime=runtime
    )
    loaded._converted = source._converted  # same network: its conversions still hold
    return loaded


def _load(source: str | Path | nn.Module) -> LoadedDenoiser:
    if isinstance(source, nn.Module):
        return LoadedDenoiser(source)
    if not isinstance(source, (str, Path)):
        raise TypeError(f"expected a model name, a checkpoint path or an nn.Module, got {source!r}")
    base, ensemble = split_ensemble(str(source))
    if ensemble:  # `gray-blind+x8`: see `ensemble.py`
        inner = _load(Path(base) if isinstance(source, Path) else base)
        name = f"{inner.name}{ENSEMBLE_SUFFIX}"
        return LoadedDenoiser(SelfEnsemble(inner.model), inner.info, name=name)
    from ..checkpoints.pretrained import find_weights, looks_like_path

    weights = find_weights(source)
    if not looks_like_path(source):
        pretrained, classical = named_models()
        if source in pretrained:
            from ..checkpoints.pretrained import load_pretrained, pretrained_info

            return LoadedDenoiser(load_pretrained(source), pretrained_info(source), name=source)
        if source in classical:
            from ..registry import create_model

            return LoadedDenoiser(create_model(source), {"model": source, "kind": "classical"})
        if weights is None:
            raise _unknown(source, pretrained, classical)
    from ..checkpoints.checkpoint import load_checkpoint

    # a path that names nothing goes through too: load_checkpoint says what is missing
    model, meta = load_checkpoint(weights or source)
    return LoadedDenoiser(model, meta, name=Path(source).name.split(".")[0])


def _unknown(source: str, pretrained: list[str], classical: list[str]) -> UnknownNameError:
    from ..registry import model_names

    if source in model_names():
        return UnknownNameError(
            f"{source!r} is an untrained architecture; pass a checkpoint path, a pretrained "
            f"name ({', '.join(pretrained) or 'none installed yet'}) or a classical filter"
        )
    return UnknownNameError(
        f"unknown model {source!r} (not a pretrained name, a classical filter or a checkpoint "
        f"file); {close_names(source, [*pretrained, *classical])}"
    )
