"""Training data and validation for the self-supervised objectives (no clean targets).

Where the noisy training images come from:

- `noise.train: none`: the images in `data.train` are the noisy photos themselves; for
  noise2noise `data.train` is a burst folder (one subfolder of >= 2 shots per scene).
- `noise.train` a spec: noisy images are synthesised from the clean set inside the data set
  (`ShotCrops`), which only ever yields noisy views, so the objective never sees a clean image.
  Fresh noise each epoch by default; `data.fixed_noise: true` draws it once per image (seeded by
  run seed and image index) and reuses it every epoch: the published protocol, one fixed noisy
  realisation per training image.

Validation reports PSNR/SSIM when clean images exist (`data.val`, or the val split of a clean
`data.train`, with `noise.eval` added) and picks the best epoch by PSNR; without them it tracks
the objective's own loss on the noisy validation images and picks the best epoch by that
(with `noise.train: none` and no `noise.eval`, the images of `data.val` are taken as noisy too).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..config import RunConfig, to_dict
from ..data.bursts import BurstSet, ShotCrops
from ..errors import ConfigError
from ..models.fusion import fusion_window
from ..noise import NoiseModel
from .objectives import Batch, Objective

# Offsets from the run seed: fixed training noise; validation noise (as `loop` uses for PSNR).
FIXED_NOISE_SEED = 20_000_000
VALIDATION_SEED = 10_000_000


def is_none(spec: str | None) -> bool:
    """True for a noise spec that means "add no noise" (`none`, or unset)."""
    return spec is None or spec.strip().lower() == "none"


def validation_noise_spec(config: RunConfig) -> str | None:
    """The noise added to clean validation images, or None when validation has no clean images
    (then the best epoch is chosen by the objective's validation loss)."""
    spec = config.noise.eval if config.noise.eval is not None else config.noise.train
    return None if is_none(spec) else spec


def check_objective_config(config: RunConfig, objective: Objective) -> None:
    """Refuse combinations that cannot work, before any data is read."""
    noisy_only = is_none(config.noise.train)
    if objective.supervised and noisy_only:
        raise ConfigError(
            "train.objective supervised needs clean images and a noise.train spec; for noisy "
            "photos only use noise2void, neighbor2neighbor or noise2noise (burst folders)"
        )
    if config.data.fixed_noise and (objective.supervised or noisy_only):
        raise ConfigError(
            "data.fixed_noise draws noise.train once per clean training image; it needs a "
            "self-supervised train.objective and a noise.train spec (not none)"
        )
    if noisy_only and validation_noise_spec(config) and not config.data.val:
        raise ConfigError(
            "noise.eval adds noise to clean validation images, but data.train holds noisy ones; "
            "set data.val to a clean set, or noise.eval: none to validate on the objective's loss"
        )
    fusion_window(to_dict(config.train))  # raises on a bad train.fusion_window


def _check_shapes(scenes: list[Tensor], config: RunConfig) -> None:
    channels = {s.shape[-3] for s in scenes}
    if len(channels) > 1:
        raise ConfigError(
            f"training images of {config.data.train!r} mix {sorted(channels)} channels; "
            "set data.channels to 1 or 3"
        )
    if not config.data.patch_size and len({tuple(s.shape[-2:]) for s in scenes}) > 1:
        raise ConfigError(
            f"training images of {config.data.train!r} differ in size; set data.patch_size "
            "or data.size"
        )


def fixed_noisy_shots(
    images: list[Tensor], noise: NoiseModel, shots: int, seed: int
) -> list[Tensor]:
    """(shots, C, H, W) noisy versions of each clean image, drawn once from a generator seeded
    `seed + index`: the same realisation whatever the epoch."""
    out = []
    for index, clean in enumerate(images):
        generator = torch.Generator().manual_seed(seed + index)
        noisy, _ = noise(clean[None].expand(shots, *clean.shape).contiguous(), generator)
        out.append(noisy)
    return out


def shot_dataset(
    config: RunConfig, train_set: Any, noise: NoiseModel | None, objective: Objective
) -> ShotCrops:
    """The training data set of a self-supervised objective: items (shots, C, p, p), noisy."""
    d = config.data
    synthesise = None
    if isinstance(train_set, BurstSet):
        scenes = train_set.scenes
    elif noise is None:  # the images are the noisy photos
        scenes = [image[None] for image in train_set.images]
    elif d.fixed_noise:
        seed = config.seed + FIXED_NOISE_SEED
        scenes = fixed_noisy_shots(train_set.images, noise, objective.shots, seed)
    else:
        scenes = [image[None] for image in train_set.images]
        synthesise = noise  # drawn per item, fresh each epoch
    if synthesise is None and min(len(s) for s in scenes) < objective.shots:
        raise ConfigError(
            f"{objective.name} needs {objective.shots} noisy shots of each scene; with "
            "noise.train none give data.train as a burst folder (a subfolder per scene)"
        )
    _check_shapes(scenes, config)
    return ShotCrops(
        scenes,
        d.patch_size,
        d.patches_per_image if d.patch_size else 1,
        shots=objective.shots,
        augment=d.augment,
        noise=synthesise,
    )


def shots_to_batch(shots: Tensor) -> Batch:
    """(B, S, C, H, W) noisy shots -> Batch: shot 0 the input, shot 1 (if any) the target."""
    return Batch(noisy=shots[:, 0], target=shots[:, 1] if shots.shape[1] > 1 else None)


def validation_views(val_set: Any, shots: int, noise: NoiseModel | None, seed: int) -> list[Tensor]:
    """Noisy validation images as (shots, C, H, W) each, fixed for the whole run: bursts give
    their first shots, noisy photos themselves, clean images (with `noise`) noise drawn once
    (image i from seed + VALIDATION_SEED + i, as the PSNR validation draws it)."""
    if isinstance(val_set, BurstSet):
        return [scene[:shots] for scene in val_set.scenes]
    if noise is not None:
        return fixed_noisy_shots(val_set.images, noise, shots, seed + VALIDATION_SEED)
    if shots > 1:
        raise ConfigError("validating noise2noise on its own loss needs a burst folder")
    return [image[None] for image in val_set.images]


@torch.no_grad()
def validation_loss(
    model: torch.nn.Module, objective: Objective, views: list[Tensor], seed: int
) -> float:
    """Mean objective loss over `views`, one image at a time (sizes may differ), in fp32 and
    eval mode, with masks / sub-samplings fixed per image (seed + VALIDATION_SEED + index) so
    epochs compare."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    losses = []
    for index, view in enumerate(views):
        generator = torch.Generator().manual_seed(seed + VALIDATION_SEED + index)
        batch = shots_to_batch(view[None].to(device))
        losses.append(float(objective(model, batch, generator, progress=1.0)))
    model.train(was_training)
    return sum(losses) / len(losses)
