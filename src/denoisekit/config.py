"""Typed run configuration: defaults < YAML file < `--set key=value` overrides.

Unknown keys and wrong types are `ConfigError`s naming the key, so a typo never silently falls
back to a default. The resolved config is saved beside every checkpoint.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from .errors import ConfigError, close_names


@dataclass
class ModelConfig:
    name: str = "unet"
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataConfig:
    train: str = "embedded"  # data spec: a named set or a folder
    val: str | None = None  # None: the validation split of `train`
    test: str | None = None  # None: the test split of `train`
    root: str | None = None  # data root; None: --data-root / DENOISEKIT_DATA / ../shared/data
    size: int | None = None  # resize every image to size x size
    # reduce every clean image by this factor with box averaging before cropping (2 turns a
    # 4:2:0 JPEG such as CBSD432 into full-resolution chroma without block artifacts)
    downscale: int = 1
    channels: int | None = None  # 1 or 3; None keeps what the files hold
    patch_size: int | None = None  # train on random crops of this size when set
    patches_per_image: int = 8
    augment: bool = False  # random flips / 90-degree rotations of training images
    # brightness / contrast jitter of whole training images: shift up to +-jitter, contrast
    # factor in [1 - jitter, 1 + jitter] (0: off; data/jitter_crops.py)
    jitter: float = 0.0
    # random resized crops of whole training images: a window of [crop_scale, 1] of the area,
    # resized back (1: off)
    crop_scale: float = 1.0
    limit: int | None = None  # cap on training images (quick runs)
    eval_limit: int | None = None  # cap on validation / test images
    skip_bad: bool = False  # skip unreadable files (counted) instead of stopping
    # self-supervised objectives with a noise.train spec: draw the noise once per training
    # image (seeded) and reuse it every epoch, instead of fresh noise each epoch
    fixed_noise: bool = False
    # DataLoader worker processes cutting training patches; 0 cuts them in the training process,
    # which keeps up with a CPU but not with a GPU
    workers: int = 0


@dataclass
class NoiseConfig:
    train: str = "gaussian:0.1"  # none: data.train images are already noisy (self-supervised)
    eval: str | None = None  # None: same as train (a range is evaluated at its midpoint)
    clip: bool = False  # clip the noisy input to [0,1] (the seed projects did)
    # The noise level noise-aware models get: image (one number per image), pixel (a map, from
    # the noisy image's local intensity: for signal-dependent noise such as poisson-gaussian) or
    # auto (estimated from each noisy image, as a blind model gets it in use)
    level: str = "image"
    # how each noisy training image is stored, drawn per sample: a mix of float (unclipped),
    # clip, 8bit and 16bit, e.g. "float=0.3,clip=0.1,8bit=0.5,16bit=0.1" (noise/storage.py);
    # None: as the noise made it (clipped only with `clip`)
    storage: str | None = None


# The learning rate a run gets when `train.lr` is not set (`resolve_lr`): DEFAULT_LR from
# scratch; INIT_LR from weights (`train.init`), which DEFAULT_LR wrecks in a few steps.
DEFAULT_LR = 1e-3
INIT_LR = 1e-4  # measured safe: `train --init color-blind` on embedded, AMD EPYC, 2026-12-05


@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 32
    lr: float | None = None  # None: DEFAULT_LR, or INIT_LR for a run that starts from `init`
    loss: str = "l1"  # l1 | mse | bce | charbonnier | ssim-l1
    optimizer: str = "adam"  # adam | adamw
    weight_decay: float = 0.0
    scheduler: str = "cosine"  # cosine | none
    warmup_steps: int = 0  # linear ramp from lr/100 over this many optimizer steps
    # end the run after this epoch, the schedule still spanning `epochs` (as a time limit would;
    # --resume with it raised or unset goes on)
    stop_after: int | None = None
    precision: str = "auto"  # auto | 32-true | bf16-mixed | 16-mixed
    channels_last: bool | None = None  # None: on whenever bf16 is used
    accelerator: str = "auto"
    devices: Union[int, str] = 1  # noqa: UP007 (runtime type check needs the Union)
    num_nodes: int = 1
    strategy: str = "auto"
    compile: bool = False  # torch.compile the model for training (see docs: Scaling out)
    grad_clip: float | None = None
    steps_per_epoch: int | None = None  # cap optimizer steps per epoch (quick runs)
    eval_batch_size: int = 16
    num_threads: int | None = None  # torch intra-op threads; None leaves torch's default
    init: str | None = None  # start from these weights (pretrained name or checkpoint path)
    grow: bool = False  # init may be the same drunet with fewer blocks per level (identity)
    # supervised | noise2void | neighbor2neighbor | noise2noise (see train/objectives.py)
    objective: str = "supervised"
    # noise2void only: window of the noisy-pixel fusion applied at inference
    # (models/fusion.py); None = its default (25), 0 = off
    fusion_window: int | None = None

    @property
    def last_epoch(self) -> int:
        """The epoch a run ends after: `stop_after`, else `epochs`."""
        return self.stop_after or self.epochs


@dataclass
class RunConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0
    name: str | None = None


def resolve_lr(config: RunConfig) -> RunConfig:
    """`config` with `train.lr` filled in when it was left unset (None): `INIT_LR` when the run
    starts from weights (`train.init`), else `DEFAULT_LR`. A given rate is kept. Training
    calls this first, so the rate a run used is the one in its saved config.yaml."""
    if config.train.lr is not None:
        return config
    lr = INIT_LR if config.train.init else DEFAULT_LR
    return dataclasses.replace(config, train=dataclasses.replace(config.train, lr=lr))


@dataclass
class ReportConfig:
    samples: int = 6  # images shown in the original / noisy / denoised grid
    title: str | None = None
    seed_reported: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExperimentConfig:
    """Shared settings (`base`) plus named runs, each a dict of overrides on `base`."""

    name: str
    base: RunConfig
    runs: dict[str, dict[str, Any]]
    report: ReportConfig = field(default_factory=ReportConfig)

    def run_config(self, run: str) -> RunConfig:
        merged = deep_merge(to_dict(self.base), self.runs[run])
        merged["name"] = run
        return from_dict(RunConfig, merged, "")


# ---------------------------------------------------------------------------- conversion


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in typing.get_args(tp):
            return None
        errors = []
        for option in typing.get_args(tp):
            if option is type(None):
                continue
            try:
                return _coerce(option, value, key)
            except ConfigError as e:
                errors.append(e)
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key or 'config'}: expected a mapping, got {value!r}")
        return from_dict(tp, value, key)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    return value


def from_dict(cls: type, data: dict[str, Any], prefix: str = "") -> Any:
    """Build dataclass `cls` from a nested dict, strictly: unknown keys and bad types raise."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if key not in hints:
            raise ConfigError(f"unknown config key {full!r}; {close_names(str(key), names)}")
        kwargs[key] = _coerce(hints[key], value, full)
    return cls(**kwargs)


def to_dict(obj: Any) -> dict[str, Any]:
    return dataclasses.asdict(obj)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """A copy of `base` with `override` merged in; nested dicts merge, other values replace."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "kwargs":
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `key.sub=value` strings (values parsed as YAML: 3e-4, true, [1,2], null)."""
    data = dict(data)
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. train.lr=3e-4")
        key, _, raw = item.partition("=")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        if isinstance(value, str) and _looks_like_float(value):
            value = float(value)  # YAML 1.1 reads '3e-4' as a string
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.get(part)
            node[part] = dict(child) if isinstance(child, dict) else {}
            node = node[part]
        node[parts[-1]] = value
    return data


def _looks_like_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return any(c in text.lower() for c in "e.") and not text.lower().startswith(("nan", "inf"))


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*.yaml"))
        hint = f" (it holds {', '.join(found[:4])}{', ...' if len(found) > 4 else ''})"
        raise ConfigError(f"{path} is a folder; give one YAML config file{hint if found else ''}")
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file; give a YAML config") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return _fix_floats(data)


def _fix_floats(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _fix_floats(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_fix_floats(v) for v in node]
    if isinstance(node, str) and _looks_like_float(node):
        return float(node)
    return node


def load_run_config(
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    *,
    init: str | None = None,
) -> RunConfig:
    """A `RunConfig` from defaults, an optional YAML file, `--set` overrides and `init`
    (`--init`, the same as the override `train.init=...`).

    Without a file the run trains on the embedded photos as `demo --train` does: they mix gray
    and colour and differ in size, so they are read as RGB and cut into 64x64 patches. When
    `train.init` names weights and neither the file nor an override says `model`, the run
    trains the architecture of those weights (see `_adopt_init_model`).
    """
    data = read_yaml(path) if path else {}
    if "runs" in data:
        raise ConfigError(f"{path} is an experiment config; use `denoisekit experiment`")
    data = apply_overrides(data, overrides or [])
    if init:
        data["train"] = {**(data.get("train") or {}), "init": init}
    _adopt_init_model(data)
    if not path:
        data["data"] = {"channels": 3, "patch_size": 64, **(data.get("data") or {})}
    return from_dict(RunConfig, data)


def _adopt_init_model(data: dict[str, Any]) -> None:
    """Fill `model` (and `data.channels` when unset) from the weights `train.init` names, when
    the config leaves the model out: `--init color-blind` alone fine-tunes that network,
    rather than asking for its exact kwargs (which change when the shipped weights grow). A
    `model` that is given is kept, and checked against the weights when training starts;
    `train.grow` needs one (the larger network)."""
    train = data.get("train") or {}
    if not train.get("init") or "model" in data or train.get("grow"):
        return
    from .checkpoints.checkpoint import read_meta
    from .checkpoints.pretrained import resolve_weights

    meta = read_meta(resolve_weights(str(train["init"]), "train.init"))
    kwargs = dict(meta.get("kwargs") or {})
    data["model"] = {"name": meta.get("model"), "kwargs": kwargs}
    if "in_channels" in kwargs:
        section = dict(data.get("data") or {})
        section.setdefault("channels", kwargs["in_channels"])
        data["data"] = section


def load_experiment_config(
    path: str | Path, overrides: list[str] | None = None
) -> ExperimentConfig:
    """An experiment YAML: top-level name/report/runs, everything else shared by every run."""
    data = apply_overrides(read_yaml(path), overrides or [])
    runs = data.pop("runs", None)
    if not isinstance(runs, dict) or not runs:
        raise ConfigError(f"{path}: an experiment needs a non-empty 'runs' mapping")
    name = data.pop("name", Path(path).stem)
    report = from_dict(ReportConfig, data.pop("report", {}) or {}, "report")
    base = from_dict(RunConfig, data)
    exp = ExperimentConfig(name=str(name), base=base, runs={}, report=report)
    for run_name, override in runs.items():
        if not isinstance(override, dict):
            raise ConfigError(f"runs.{run_name}: expected a mapping of overrides")
        exp.runs[str(run_name)] = override
        exp.run_config(str(run_name))  # validate every run now, not hours later
    return exp


def save_yaml(data: dict[str, Any], path: str | Path) -> None:
    from .files import atomic_write_text

    atomic_write_text(Path(path), yaml.safe_dump(data, sort_keys=False))
