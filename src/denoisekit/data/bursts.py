"""Noisy shots of scenes: burst folders (noise2noise) and crops of aligned shots for training.

A burst folder holds one subfolder per scene, each with two or more noisy shots of that scene
(same size, taken without moving the camera):

    bursts/
      scene-a/ 0001.png 0002.png ...
      scene-b/ shot1.jpg shot2.jpg
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..errors import DataError
from ..io import Size, load_image
from .folder import check_split, list_images, natural_key, split_indices
from .patches import dihedral, item_generator, random_crop


@dataclass
class BurstSet:
    """Scenes as (S, C, H, W) float tensors in [0, 1], S >= 2 shots each; `names` are the
    subfolder names, in the same order."""

    name: str
    scenes: list[Tensor]
    names: list[str]
    split: str = "all"
    files: list[list[str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.scenes)


def load_bursts(
    folder: str | Path,
    *,
    split: str = "all",
    size: Size | None = None,
    channels: int | None = None,
    limit: int | None = None,
    min_shots: int = 2,
) -> BurstSet:
    """Every subfolder of `folder` is one scene; scenes are split 80/10/10 by subfolder name.

    DataError, naming the subfolder, when one holds fewer than `min_shots` images or shots of
    different sizes or channel counts (set `channels` to convert modes; `size` resizes).
    """
    check_split(split)
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataError(f"burst folder not found: {folder}")
    subs = sorted(
        (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: natural_key(p.name),
    )
    loose = list_images(folder, recursive=False)
    if not subs:
        raise DataError(
            f"{folder} has no subfolders: a burst folder holds one subfolder per scene, each "
            f"with >= {min_shots} noisy shots of it"
        )
    if loose:
        raise DataError(
            f"{folder} holds images outside the scene subfolders (e.g. {loose[0].name}); "
            "move each into its scene's subfolder"
        )
    shots = {sub.name: list_images(sub, recursive=False) for sub in subs}
    for sub in subs:
        if len(shots[sub.name]) < min_shots:
            raise DataError(
                f"burst subfolder {sub} has {len(shots[sub.name])} shot(s); noise2noise needs "
                f">= {min_shots} noisy shots of each scene"
            )
    names = [sub.name for sub in subs]
    chosen = split_indices(names, split)
    if limit is not None:
        chosen = chosen[:limit]
    scenes, kept, files = [], [], []
    for i in chosen:
        paths = shots[names[i]]
        images = [load_image(p, channels=channels, size=size) for p in paths]
        shapes = {tuple(im.shape) for im in images}
        if len(shapes) > 1:
            listed = ", ".join(str(s) for s in sorted(shapes))
            raise DataError(
                f"shots in burst subfolder {folder / names[i]} differ in shape ({listed}); "
                "shots of one scene must be aligned (set data.channels to convert modes)"
            )
        scenes.append(torch.stack(images))
        kept.append(names[i])
        files.append([p.name for p in paths])
    return BurstSet(folder.name, scenes, kept, split=split, files=files)


NoiseFn = Callable[[Tensor, torch.Generator], tuple[Tensor, Tensor]]


class ShotCrops(Dataset):
    """Training items (shots, C, p, p): aligned random crops of `shots` different shots of
    one scene, never a clean image.

    `scenes`: (S, C, H, W) noisy shots per scene. Or clean (1, C, H, W) images with `noise`
    given: then each item is cropped from the clean image and `shots` independent noise draws
    are made from it here, so only noisy views leave the data set. `patch_size` None uses
    whole images (equal sizes needed for batching). Randomness comes only from
    `set_epoch(epoch, seed)`, item by item, as in `PatchDataset`. `augment` applies one random
    dihedral transform to every shot of an item (quarter turns only on square crops).
    """

    def __init__(
        self,
        scenes: Sequence[Tensor],
        patch_size: int | None,
        per_scene: int = 1,
        *,
        shots: int = 1,
        augment: bool = True,
        noise: NoiseFn | None = None,
    ) -> None:
        self.scenes = list(scenes)
        if not self.scenes:
            raise DataError("no images to train on")
        if per_scene < 1 or shots < 1 or (patch_size is not None and patch_size < 1):
            raise ValueError("patch_size, per_scene and shots must be >= 1")
        if noise is None and min(len(s) for s in self.scenes) < shots:
            raise DataError(f"every scene needs >= {shots} noisy shots")
        self.patch_size, self.per_scene, self.shots = patch_size, per_scene, shots
        self.augment, self.noise = augment, noise
        self.epoch = self.seed = 0

    def set_epoch(self, epoch: int, seed: int = 0) -> None:
        self.epoch, self.seed = int(epoch), int(seed)

    def __len__(self) -> int:
        return len(self.scenes) * self.per_scene

    def __getitem__(self, index: int) -> Tensor:
        if not 0 <= index < len(self):
            raise IndexError(f"item {index} out of range for {len(self)} items")
        generator = item_generator("shots", self.seed, self.epoch, index)
        scene = self.scenes[index // self.per_scene]
        if self.noise is None:
            x = scene[torch.randperm(len(scene), generator=generator)[: self.shots]]
        else:
            x = scene[:1].expand(self.shots, *scene.shape[1:])
        s, c, h, w = x.shape
        if self.patch_size:
            x = random_crop(x.reshape(s * c, h, w), self.patch_size, generator)
            x = x.reshape(s, c, self.patch_size, self.patch_size)
        if self.augment:
            k = int(torch.randint(8, (1,), generator=generator))
            if x.shape[-1] != x.shape[-2]:
                k -= k % 2  # half turns and flips only: a quarter turn would change H x W
            x = dihedral(x, k)
        if self.noise is not None:
            x, _ = self.noise(x.contiguous(), generator)  # `shots` independent draws
        return x.contiguous()
