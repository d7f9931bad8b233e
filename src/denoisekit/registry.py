"""One registry for every denoiser, networks and classical filters alike."""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, close_names, unknown

if TYPE_CHECKING:  # torch loads with the models, not with `import denoisekit`
    from torch import nn


@dataclass(frozen=True)
class ModelEntry:
    name: str
    cls: type
    kind: str  # "network" or "classical"
    description: str


_REGISTRY: dict[str, ModelEntry] = {}
# Modules whose import registers models; imported lazily so `import denoisekit` stays light.
_PROVIDERS = ("denoisekit.models", "denoisekit.classical")


def register_model(name: str, *, kind: str = "network"):
    """Class decorator: `@register_model("unet")` makes `create_model("unet", ...)` build it."""

    def decorate(cls: type) -> type:
        if name in _REGISTRY and _REGISTRY[name].cls is not cls:
            raise ValueError(f"model name {name!r} is registered twice")
        doc = (inspect.getdoc(cls) or "").strip().splitlines()
        _REGISTRY[name] = ModelEntry(name, cls, kind, doc[0] if doc else "")
        cls.registry_name = name
        return cls

    return decorate


def _load_providers() -> None:
    for module in _PROVIDERS:
        importlib.import_module(module)


def model_names() -> list[str]:
    _load_providers()
    return sorted(_REGISTRY)


def get_entry(name: str) -> ModelEntry:
    _load_providers()
    if name not in _REGISTRY:
        raise unknown("model", name, _REGISTRY)
    return _REGISTRY[name]


def constructor_args(cls: type) -> dict[str, inspect.Parameter]:
    params = inspect.signature(cls.__init__).parameters
    return {k: p for k, p in params.items() if k != "self" and p.kind is not p.VAR_KEYWORD}


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered model; unknown names and keyword arguments are one-line errors."""
    entry = get_entry(name)
    allowed = constructor_args(entry.cls)
    for key in kwargs:
        if key not in allowed:
            raise ConfigError(
                f"model {name!r} has no argument {key!r}; {close_names(key, allowed)}"
            )
    return entry.cls(**kwargs)


def list_models() -> list[ModelEntry]:
    """Every registered model, sorted by name."""
    return [get_entry(n) for n in model_names()]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
