"""The `tune:` section of a run config: what to search, how to judge and prune trials.

    tune:
      metric: val_psnr          # a metrics.csv column: val_psnr, val_ssim or val_loss
      direction: maximize       # maximize | minimize
      pruner: median            # median | hyperband | none
      sampler: tpe              # tpe | random
      params:                   # dotted run-config keys
        train.lr: {low: 3.0e-4, high: 3.0e-3, log: true}
        model.kwargs.base_channels: {choices: [16, 24, 32]}

Everything else in the file is the run config each trial starts from.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import RunConfig, apply_overrides, from_dict, read_yaml
from ..errors import ConfigError

METRICS = ("val_psnr", "val_ssim", "val_loss")
PRUNERS = ("median", "hyperband", "none")
SAMPLERS = ("tpe", "random")


@dataclass
class TuneConfig:
    metric: str = "val_psnr"
    direction: str = "maximize"
    pruner: str = "median"
    sampler: str = "tpe"
    # trials finished before the median pruner starts pruning (it needs others to compare with)
    startup_trials: int = 2
    params: dict[str, dict[str, Any]] = field(default_factory=dict)


def set_key(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A copy of nested `data` with dotted `key` set to `value` (model.kwargs.depth=3)."""
    data = copy.deepcopy(data)
    node = data
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        node[part] = dict(child) if isinstance(child, dict) else {}
        node = node[part]
    node[parts[-1]] = value
    return data


def _check_param(key: str, spec: Any) -> None:
    where = f"tune.params.{key}"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected {{low: .., high: ..}} or {{choices: [..]}}")
    unknown = set(spec) - SPEC_FIELDS
    if unknown:
        raise ConfigError(
            f"{where}: unknown field {sorted(unknown)[0]!r}; use low/high/log/step or choices"
        )
    if "choices" in spec:
        if not isinstance(spec["choices"], list) or not spec["choices"]:
            raise ConfigError(f"{where}.choices: expected a non-empty list")
        return
    low, high = spec.get("low"), spec.get("high")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
        raise ConfigError(f"{where}: needs numbers low and high (or choices)")
    if not low < high or (spec.get("log") and low <= 0):
        raise ConfigError(f"{where}: needs low < high (and low > 0 with log: true)")


SPEC_FIELDS = {"low", "high", "log", "step", "choices"}


def _flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested parameter keys as dotted ones: `{train: {lr: {low: ..}}}` (what `--set
    tune.params.train.lr=...` makes) -> `{"train.lr": {low: ..}}`."""
    flat: dict[str, Any] = {}
    for key, spec in params.items():
        name = f"{prefix}{key}"
        if isinstance(spec, dict) and spec and not set(spec) & SPEC_FIELDS:
            flat.update(_flatten(spec, f"{name}."))
        else:
            flat[name] = spec
    return flat


def first_values(tune: TuneConfig) -> dict[str, Any]:
    """One value per parameter (a range's low end, a list's first choice): for a dry check."""
    return {k: s["choices"][0] if "choices" in s else s["low"] for k, s in tune.params.items()}


def load_tune_config(
    path: str | Path, overrides: list[str] | None = None
) -> tuple[dict[str, Any], TuneConfig]:
    """(the base run config as a dict, its `tune:` section), `--set` overrides applied to
    both (`--set data.limit=40`, `--set tune.pruner=none`); checked as a whole, so a bad key
    or value is an error now rather than in the first trial."""
    data = apply_overrides(read_yaml(path), overrides or [])
    section = data.pop("tune", None)
    if not isinstance(section, dict) or not section.get("params"):
        raise ConfigError(f"{path}: a tune config needs a tune: section with params to search")
    tune: TuneConfig = from_dict(TuneConfig, section, "tune")
    for name, value, allowed in (
        ("metric", tune.metric, METRICS),
        ("direction", tune.direction, ("maximize", "minimize")),
        ("pruner", tune.pruner, PRUNERS),
        ("sampler", tune.sampler, SAMPLERS),
    ):
        if value not in allowed:
            raise ConfigError(f"tune.{name} {value!r}: use one of {', '.join(allowed)}")
    tune.params = _flatten(tune.params)
    for key, spec in tune.params.items():
        _check_param(key, spec)
    trial_config(data, first_values(tune))  # unknown keys and bad types fail here
    return data, tune


def trial_config(
    base: dict[str, Any], values: dict[str, Any], name: str | None = None
) -> RunConfig:
    """The run config of one trial: `base` with each dotted key set to its value."""
    data = base
    for key, value in values.items():
        data = set_key(data, key, value)
    if name is not None:
        data = {**data, "name": name}
    config = from_dict(RunConfig, data)
    from ..registry import create_model

    create_model(config.model.name, **config.model.kwargs)  # bad kwargs: a ConfigError now
    return config
