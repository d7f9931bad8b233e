"""Turn `--models` entries (registered names or checkpoint paths) into runnable methods."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from ..errors import ConfigError, UnknownNameError, close_names


@dataclass
class Method:
    """One column of the benchmark: a denoiser and what the table says about it."""

    label: str  # the name in tables: a registered name, or the checkpoint's run folder
    model: nn.Module
    kind: str  # "network" or "classical"
    channels: int | None  # None: any channel count
    params: int
    source: str  # registered name or checkpoint path
    colour: str = "a colour network (all channels jointly)"  # how colour images are handled
    # the torch network whose convolutions are counted, when `model` is run by another runtime
    torch_model: nn.Module | None = None


def _label_for(path: Path) -> str:
    # run folders hold best/last: the folder names the model better than "best"
    return path.parent.name if path.stem in ("best", "last") else path.stem


def resolve_method(spec: str) -> Method:
    """A shipped pretrained model, a registered classical filter, or a checkpoint; a `+x8`
    suffix runs a network as its 8-view self-ensemble (`inference/ensemble.py`)."""
    from ..inference.ensemble import ENSEMBLE_SUFFIX, SelfEnsemble, split_ensemble

    base, ensemble = split_ensemble(spec)
    if ensemble:
        method = resolve_method(base)
        method.model = SelfEnsemble(method.model)  # a filter is refused here, by name
        method.label += ENSEMBLE_SUFFIX
        method.source += ENSEMBLE_SUFFIX
        return method
    from ..checkpoints.pretrained import find_weights, looks_like_path, pretrained_names
    from ..registry import count_parameters, create_model, model_names

    spec = spec.strip()
    shipped = pretrained_names()
    path = find_weights(spec)
    if path is not None:
        from ..checkpoints.checkpoint import load_checkpoint

        model, meta = load_checkpoint(path)
        channels = getattr(model, "in_channels", None)
        return Method(
            label=spec if spec in shipped else _label_for(path),
            model=model,
            kind="network",
            channels=channels,
            params=count_parameters(model),
            source=str(path),
            colour="a gray network" if channels == 1 else Method.colour,
        )
    names = model_names()
    if spec in names:
        model = create_model(spec)
        if count_parameters(model) > 0:
            raise ConfigError(
                f"{spec!r} is a network architecture with no trained weights; benchmark a "
                f"trained one by its checkpoint, e.g. --models runs/my-{spec}/best.safetensors"
            )
        return Method(spec, model, "classical", None, 0, spec, colour=model.colour)
    if looks_like_path(spec):
        raise ConfigError(f"checkpoint not found: {spec} (give a .safetensors file or run folder)")
    raise UnknownNameError(
        f"unknown method {spec!r} (not a pretrained or registered name, not a checkpoint); "
        + close_names(spec, [*shipped, *names])
    )


def resolve_methods(text: str) -> list[Method]:
    """`bm3d,nlm,runs/x/best.safetensors` -> methods, in the order given, labels unique."""
    specs = [s.strip() for s in str(text).split(",") if s.strip()]
    if not specs:
        raise ConfigError("--models is empty; name at least one method, e.g. --models bm3d,nlm")
    methods = [resolve_method(s) for s in specs]
    seen: dict[str, int] = {}
    for method in methods:
        count = seen.get(method.label, 0)
        seen[method.label] = count + 1
        if count:
            method.label = f"{method.label}-{count + 1}"
    return methods


def check_channels(method: Method, dataset: str, channels: int) -> None:
    """A gray network on a colour set (or the reverse) is refused; filters take any channels."""
    if method.channels is None or method.channels == channels:
        return
    kind = {1: "gray", 3: "colour"}
    raise ConfigError(
        f"{method.label} is a {kind.get(method.channels, f'{method.channels}-channel')} model "
        f"but {dataset} is {kind.get(channels, f'{channels}-channel')}: benchmark gray models "
        "on set12/bsd68 and colour models on cbsd68, in separate runs"
    )
