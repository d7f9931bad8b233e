"""The classifier registry: `@register_classifier("resnet-small")`, `create_classifier(name)`."""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import ConfigError, close_names, unknown

_CLASSIFIERS: dict[str, type] = {}


def register_classifier(name: str):
    """Class decorator: `create_classifier(name, ...)` builds the class."""

    def decorate(cls: type) -> type:
        if name in _CLASSIFIERS and _CLASSIFIERS[name] is not cls:
            raise ValueError(f"classifier name {name!r} is registered twice")
        _CLASSIFIERS[name] = cls
        cls.registry_name = name
        return cls

    return decorate


def classifier_names() -> list[str]:
    importlib.import_module(f"{__package__}.models")
    return sorted(_CLASSIFIERS)


def create_classifier(name: str, **kwargs: Any):
    """Build a registered classifier; unknown names and keyword arguments are one-line errors."""
    from ..registry import constructor_args

    if name not in classifier_names():
        raise unknown("classifier", name, _CLASSIFIERS)
    cls = _CLASSIFIERS[name]
    allowed = constructor_args(cls)
    for key in kwargs:
        if key not in allowed:
            raise ConfigError(
                f"classifier {name!r} has no argument {key!r}; {close_names(key, allowed)}"
            )
    return cls(**kwargs)
