"""The typed downstream config: data, test noises, classifiers and the denoisers to compare."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..classify.config import ClassifierConfig, NoiseAugmentConfig
from ..config import apply_overrides, from_dict, read_yaml
from ..errors import ConfigError


@dataclass
class DenoiserSpec:
    """One denoiser: `model` (a pretrained name, a classical filter or a checkpoint path), or
    `run` of the experiment config `experiment`, trained into OUT/denoisers/<label>/ with
    `set` (nested overrides, e.g. {train: {epochs: 2}}) merged on it, reused when finished."""

    model: str | None = None
    experiment: str | None = None
    run: str | None = None
    set: dict[str, Any] = field(default_factory=dict)
    note: str | None = None  # shown in the report beside the label


@dataclass
class DownstreamConfig:
    name: str = "downstream"
    title: str | None = None
    seed: int = 0
    data: str = "pistachio"  # a named set or folder with one subfolder per class
    size: int = 100  # every image resized to size x size
    channels: int = 3
    limit: int | None = None  # cap on the images of each split (quick runs)
    storage: str = "8bit"  # how noisy test images are stored (clip and round: a saved file)
    noises: dict[str, str] = field(default_factory=dict)  # column label -> noise spec
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    # the classifier trained on noisy images instead (its `noises`), tested on noisy images
    noise_augmented: NoiseAugmentConfig = field(default_factory=NoiseAugmentConfig)
    denoisers: dict[str, DenoiserSpec] = field(default_factory=dict)


def load_downstream_config(
    path: str | Path, overrides: list[str] | None = None, *, limit: int | None = None
) -> DownstreamConfig:
    """The config at `path` with `--set` overrides; `limit` (the quick path) caps every split
    at `limit` images and trains every classifier and denoiser for one epoch."""
    data = apply_overrides(read_yaml(path), overrides or [])
    data.setdefault("name", Path(path).stem)
    denoisers = data.pop("denoisers", None) or {}
    if not isinstance(denoisers, dict):
        raise ConfigError(f"{path}: denoisers must map a label to a model or an experiment run")
    config: DownstreamConfig = from_dict(DownstreamConfig, data)
    for label, spec in denoisers.items():
        if spec is None:  # `--set denoisers.bm3d=null` leaves a method out
            continue
        if not isinstance(spec, dict):
            spec = {"model": spec}
        parsed = from_dict(DenoiserSpec, spec, f"denoisers.{label}")
        if (parsed.model is None) == (parsed.experiment is None or parsed.run is None):
            raise ConfigError(
                f"denoisers.{label}: give either model (a pretrained name, classical filter or "
                "checkpoint) or experiment and run"
            )
        config.denoisers[str(label)] = parsed
    if not config.noises:
        raise ConfigError(f"{path}: noises is empty; name the test noises, e.g. s20: gaussian:0.2")
    if limit is not None:
        if limit < 3:
            raise ConfigError(f"--limit must be >= 3 (images per split), got {limit}")
        config.limit = limit
        config.classifier.train.epochs = 1
        if config.noise_augmented.epochs:
            config.noise_augmented.epochs = 1
        for spec in config.denoisers.values():
            train = {**(spec.set.get("train") or {}), "epochs": 1}
            data = {**(spec.set.get("data") or {}), "limit": limit, "eval_limit": limit}
            spec.set = {**spec.set, "train": train, "data": data}
    return config
