"""What a training run reads: its train/validation splits and the DataLoader over them.

Supervised runs load clean images (cut into patches when `data.patch_size` is set) and add
noise in the loop; self-supervised runs get noisy shots from `selfsup.shot_dataset`, or noisy
bursts (`data.bursts`) for noise2noise on photos alone.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader

from ..config import RunConfig
from ..errors import ConfigError, DataError
from .selfsup import is_none, shot_dataset, validation_noise_spec


def load_splits(config: RunConfig, data_root: str | None = None):
    """(train, val) ImageSets as the config describes them; BurstSets (data.bursts) for
    noise2noise on noisy shots only (`noise.train: none`)."""
    from ..data import load_dataset
    from ..data.bursts import load_bursts

    d = config.data
    common = dict(root=data_root or d.root, size=d.size, channels=d.channels, skip_bad=d.skip_bad)
    if config.train.objective == "noise2noise" and is_none(config.noise.train):
        # noisy shots only: data.train is a burst folder, a subfolder of >= 2 shots per scene
        shots = dict(size=d.size, channels=d.channels)
        train = load_bursts(d.train, split="train", limit=d.limit, **shots)
        if d.val and validation_noise_spec(config):  # a clean validation set
            val = load_dataset(d.val, split="val", limit=d.eval_limit, **common)
        else:
            val = load_bursts(d.val or d.train, split="val", limit=d.eval_limit, **shots)
    else:
        train = _load_sets(d.train, "train", d.limit, d.downscale, common)
        val = _load_sets(d.val or d.train, "val", d.eval_limit, d.downscale, common)
    if len(train) == 0 or len(val) == 0:
        what = "scenes" if hasattr(train, "scenes") else "images"
        advice = (
            "a folder is split 80/10/10 into train/val/test, so it needs 3 or more "
            f"{what}; add more, or give separate validation {what} with data.val"
        )
        if d.val:
            advice = f"check data.val ({d.val!r}) and data.limit / data.eval_limit"
        raise DataError(
            f"data {d.train!r} gave {len(train)} training / {len(val)} validation {what}; " + advice
        )
    return train, val


def _load_sets(spec: str, split: str, limit: int | None, downscale: int, common: dict):
    """The `split` of one data set, or of several joined with '+' (`cbsd432+city100`: each
    set split on its own, `limit` applied per set), each image box-averaged by `downscale`, or
    by the factor a part names after '@' (`cbsd432+cbsd432@2`: the set at native resolution
    and halved, so training sees both scales)."""
    from ..data import load_dataset
    from ..data.folder import joined

    parts = [p.strip() for p in str(spec).split("+")] if "+" in str(spec) else [spec]
    if not all(parts):
        raise ConfigError(f"data {spec!r} has an empty part; join data sets with '+'")
    sets = []
    for part in parts:
        name, factor = part_factor(part, downscale)
        loaded = load_dataset(name, split=split, limit=limit, **common).downscaled(factor)
        if name != part:  # a factor of its own: `cbsd432+cbsd432@1` keeps apart by name
            loaded.name = f"{loaded.name}@{factor}"
        sets.append(loaded)
    return joined(sets)


def part_factor(part: str, downscale: int) -> tuple[str, int]:
    """(data spec, downscale factor) of one '+' part: `name@N` names its own factor."""
    name, at, factor = str(part).rpartition("@")
    if not at or not factor.strip().isdigit():
        return part, downscale
    if int(factor) < 1 or not name.strip():
        raise ConfigError(f"data part {part!r}: write a set and a factor >= 1, e.g. cbsd432@2")
    return name.strip(), int(factor)


def check_channels(config: RunConfig, train_set, in_channels: int | None) -> None:
    """ConfigError, before any step, when the training images mix gray and colour, or when
    their channel count is not the model's input (a gray folder for a colour network,
    `data.channels` against `--init`)."""
    if hasattr(train_set, "scenes"):  # a BurstSet: (S, C, H, W) per scene
        found = {scene.shape[1] for scene in train_set.scenes}
    else:
        found = {image.shape[0] for image in train_set.images}
    if len(found) > 1:
        raise ConfigError(
            f"training images of {config.data.train!r} mix gray and colour; "
            "set data.channels to 1 or 3"
        )
    other = sorted(found - {in_channels})
    if in_channels is not None and other:
        raise ConfigError(
            f"the model takes {in_channels}-channel images but {config.data.train!r} gives "
            f"{other[0]}-channel ones; set data.channels={in_channels}, or a model with "
            f"in_channels={other[0]}"
        )


def train_loader(
    config: RunConfig, train_set, objective, noise, *, rank: int = 0, replicas: int = 1
) -> tuple[Any, Any]:
    """DataLoader over clean training images or patches (supervised) or over noisy shots
    (B, S, C, p, p) (self-supervised, `selfsup.shot_dataset`); returns (loader, dataset).
    Its order comes from an `EpochSampler` (this `rank`'s share of `replicas` processes) and
    its worker seeds from its own `generator`, both set per epoch (`rng.py`). Channels are
    checked before, by `check_channels`."""
    from ..data.patches import PatchDataset
    from .rng import EpochSampler

    d = config.data
    if not objective.supervised:
        dataset = shot_dataset(config, train_set, noise, objective)
    elif d.patch_size:
        dataset = PatchDataset(train_set, d.patch_size, d.patches_per_image, augment=d.augment)
    else:
        shapes = {tuple(img.shape) for img in train_set.images}
        if len(shapes) > 1:
            raise ConfigError(
                f"training images of {d.train!r} differ in size; set data.patch_size or data.size"
            )
        dataset = train_set  # an ImageSet yields (C, H, W) tensors, like PatchDataset
    batch = min(config.train.batch_size, len(dataset))
    loader = DataLoader(
        dataset,
        batch_size=batch,
        sampler=EpochSampler(len(dataset), config.seed, rank=rank, replicas=replicas),
        generator=torch.Generator(),
        drop_last=len(dataset) > batch,
        num_workers=d.workers,
        pin_memory=d.workers > 0 and torch.cuda.is_available(),
    )
    return loader, dataset
