"""Pretrained weights shipped with the package: `weights/<name>.safetensors` + `<name>.json`.

The JSON is an ordinary denoisekit checkpoint metadata file (`model`, `kwargs`, ...; see
`checkpoints.checkpoint`) plus what a user needs to pick a model: `description`, `training_data`,
`sigma_range` ([low, high] noise std in [0, 1] units), `steps`, `hardware`, `train_minutes`,
`measured` (PSNR results: {"bsd68": {"25": {"psnr": 29.13, "ssim": ...}}} as
`benchmarks/export_pretrained.py` writes them, or flat {"set12 sigma=25": 30.1}) and `channels`
(1 gray, 3 RGB).
`src/denoisekit/weights/README.md` describes the format for whoever adds weights.

The folder is the package's own `weights/` unless the environment variable
`DENOISEKIT_WEIGHTS` names another one (tests use it, and so can a user with private weights).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataError, UnknownNameError, close_names

if TYPE_CHECKING:  # torch loads with the model, not with this module
    from torch import nn

WEIGHTS_ENV = "DENOISEKIT_WEIGHTS"
DEFAULT_GRAY = "gray-blind"
DEFAULT_COLOR = "color-blind"
# Fields a shipped JSON carries on top of the checkpoint metadata (checked by the tests).
INFO_FIELDS = (
    "description",
    "training_data",
    "sigma_range",
    "steps",
    "hardware",
    "train_minutes",
    "measured",
    "channels",
)


def weights_dir() -> Path:
    """The folder holding pretrained weights: `$DENOISEKIT_WEIGHTS` if set, else the package's."""
    override = os.environ.get(WEIGHTS_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(__file__).resolve().parent.parent / "weights"


def pretrained_names() -> list[str]:
    """Names of the pretrained models installed (a `.safetensors` with its `.json`), sorted."""
    folder = weights_dir()
    if not folder.is_dir():
        return []
    return sorted(
        p.stem
        for p in folder.glob("*.safetensors")
        if not p.name.startswith(".") and p.with_suffix(".json").is_file()
    )


def pretrained_path(name: str) -> Path:
    """The `.safetensors` file of pretrained model `name`; UnknownNameError listing close names."""
    names = pretrained_names()
    if name not in names:
        raise unknown_pretrained(name, names)
    return weights_dir() / f"{name}.safetensors"


CHECKPOINT_SUFFIXES = (".safetensors", ".json")


def looks_like_path(spec: str | Path) -> bool:
    """Written as a path (a Path, a checkpoint suffix or a folder separator): never a name."""
    if isinstance(spec, Path):
        return True
    return Path(spec).suffix in CHECKPOINT_SUFFIXES or "/" in spec or "\\" in spec


def find_weights(spec: str | Path) -> Path | None:
    """The `.safetensors` file `spec` names, or None when it names nothing that exists.

    `spec` is a pretrained name (names win over files in the working folder unless written as a
    path), a checkpoint with or without its suffix (`run/best`), or a run folder holding
    `best.safetensors`.
    """
    if not looks_like_path(spec) and str(spec).strip() in pretrained_names():
        return pretrained_path(str(spec).strip())
    path = Path(str(spec).strip()).expanduser()
    if path.is_dir():
        path = path / "best"
    if path.suffix in CHECKPOINT_SUFFIXES:
        path = path.with_suffix("")
    weights = path.with_name(path.name + ".safetensors")
    return weights if weights.is_file() else None


def resolve_weights(spec: str | Path, option: str = "checkpoint") -> Path:
    """`find_weights`, or one line saying what `option` (the flag or key) accepts."""
    found = find_weights(spec)
    if found is not None:
        return found
    if looks_like_path(spec) or Path(str(spec)).expanduser().exists():
        raise DataError(
            f"{option}: no checkpoint at {spec} (give a .safetensors file, a run folder holding "
            "best.safetensors, or a pretrained name)"
        )
    raise UnknownNameError(f"{option}: {unknown_pretrained(str(spec), pretrained_names())}")


def unknown_pretrained(name: str, names: list[str]) -> UnknownNameError:
    if not names:
        return UnknownNameError(
            f"unknown pretrained model {name!r}: no pretrained weights are installed "
            f"(looked in {weights_dir()}); pass a checkpoint path instead"
        )
    return UnknownNameError(f"unknown pretrained model {name!r}; {close_names(name, names)}")


def measured_summary(measured: dict[str, Any] | None) -> str:
    """One short line of a shipped model's measured PSNR for `denoisekit models`, e.g.
    "bsd68 sigma 15/25/50: 31.57/29.13/26.22 dB"; a flat {"label": psnr} entry reads
    "label 30.10 dB"."""
    parts = []
    for key, value in (measured or {}).items():
        if isinstance(value, dict):  # {sigma: {"psnr": ...}} per test set
            sigmas = sorted((s for s in value if isinstance(value[s], dict)), key=float)
            psnrs = "/".join(f"{value[s].get('psnr', float('nan')):.2f}" for s in sigmas)
            parts.append(f"{key} sigma {'/'.join(sigmas)}: {psnrs} dB")
        elif isinstance(value, (int, float)):
            parts.append(f"{key} {value:.2f} dB")
        else:
            parts.append(f"{key} {value}")
    return "; ".join(parts)


def pretrained_info(name: str) -> dict[str, Any]:
    """The metadata of pretrained model `name`, with `name` and `path` (the weights) added."""
    from .checkpoint import read_meta

    path = pretrained_path(name)
    meta = read_meta(path)
    low_high = meta.get("sigma_range")
    if low_high is not None and (
        not isinstance(low_high, (list, tuple))
        or len(low_high) != 2
        or not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in low_high)
    ):
        raise DataError(
            f"{path.with_suffix('.json')}: sigma_range must be [low, high] in [0, 1] units, "
            f"got {low_high!r}"
        )
    return {**meta, "name": name, "path": str(path)}


def load_pretrained(name: str) -> nn.Module:
    """Build pretrained model `name` and load its weights (never unpickles); eval mode, CPU."""
    from .checkpoint import load_checkpoint

    return load_checkpoint(pretrained_path(name))[0]


def default_pretrained(channels: int) -> str:
    """The pretrained model used when none is named: gray-blind for 1 channel, color-blind for 3.

    Falls back to the other one when only that is installed (a gray model denoises each colour
    channel on its own; a colour model sees a gray image replicated to RGB). Raises DataError
    saying what to do when neither is installed.
    """
    names = pretrained_names()
    preferred, other = (
        (DEFAULT_GRAY, DEFAULT_COLOR) if channels == 1 else (DEFAULT_COLOR, DEFAULT_GRAY)
    )
    for name in (preferred, other):
        if name in names:
            return name
    raise DataError(
        f"no pretrained {DEFAULT_GRAY}/{DEFAULT_COLOR} weights are installed yet (looked in "
        f"{weights_dir()}); pass a checkpoint (CLI: --checkpoint PATH) or a model name "
        "(CLI: --model NAME, e.g. the classical filter nlm)"
    )
