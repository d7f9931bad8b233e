"""`ImageSet` (the in-memory image list every data set loads into), splits, and folder loading."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..errors import DataError
from ..io import IMAGE_EXTENSIONS, Size, convert_channels, load_image, resize

SPLITS = ("train", "val", "test", "all")
# Fraction of each group held out for val and for test; the rest is train.
HOLD_OUT = 0.1
_SPLIT_SALT = "denoisekit-split-v1"


class ImageSet(Dataset):
    """An eagerly loaded list of images; `set[i]` is a (C, H, W) float32 tensor in [0, 1].

    Attributes: `name` (data set name or folder), `images`, `names` (relative file path or id
    per image, same order), `split`, `skipped` (names of unreadable files left out with
    skip_bad=True). Images may differ in size; `stack()` needs them equal.
    """

    def __init__(
        self,
        name: str,
        images: list[Tensor],
        names: list[str],
        *,
        split: str = "all",
        skipped: list[str] | None = None,
    ) -> None:
        if len(images) != len(names):
            raise ValueError(f"{len(images)} images but {len(names)} names")
        self.name = name
        self.images = images
        self.names = names
        self.split = split
        self.skipped = list(skipped or [])

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> Tensor:
        return self.images[index]

    def __repr__(self) -> str:
        shapes = sorted({tuple(im.shape) for im in self.images})
        shown = ", ".join(str(s) for s in shapes[:3]) + (", ..." if len(shapes) > 3 else "")
        return f"ImageSet({self.name!r}, split={self.split!r}, n={len(self)}, shapes=[{shown}])"

    def stack(self) -> Tensor:
        """All images as one (N, C, H, W) tensor; DataError when their shapes differ."""
        if not self.images:
            raise DataError(f"{self.name} ({self.split}) has no images to stack")
        shapes = {tuple(im.shape) for im in self.images}
        if len(shapes) > 1:
            listed = ", ".join(str(s) for s in sorted(shapes)[:4])
            raise DataError(
                f"images in {self.name} differ in shape ({listed}); load with size=... "
                "(and channels=...) to make them equal"
            )
        return torch.stack(self.images)

    def subset(self, indices: Iterable[int]) -> ImageSet:
        """A new ImageSet with the chosen images (shared tensors, no copy)."""
        indices = list(indices)
        return ImageSet(
            self.name,
            [self.images[i] for i in indices],
            [self.names[i] for i in indices],
            split=self.split,
            skipped=self.skipped,
        )

    def downscaled(self, factor: int) -> ImageSet:
        """Every image reduced by `factor` in each direction by box averaging (edges that do not
        fill a whole box are cropped). Halving a 4:2:0 JPEG gives full-resolution chroma and
        averages its block artifacts away; 1 returns this set."""
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
            raise DataError(f"downscale factor must be an int >= 1, got {factor!r}")
        if factor == 1:
            return self
        small = [im for im in self.images if min(im.shape[-2:]) < factor]
        if small:
            raise DataError(
                f"{self.name}: an image of {tuple(small[0].shape[-2:])} is smaller than the "
                f"downscale factor {factor}"
            )
        images = [
            torch.nn.functional.avg_pool2d(im.unsqueeze(0), factor).squeeze(0) for im in self.images
        ]
        return ImageSet(self.name, images, self.names, split=self.split, skipped=self.skipped)


def joined(sets: Sequence[ImageSet]) -> ImageSet:
    """One ImageSet holding every image of `sets`, names prefixed with their set's name."""
    if len(sets) == 1:
        return sets[0]
    images, names, skipped = [], [], []
    for s in sets:
        images += s.images
        names += [f"{s.name}/{n}" for n in s.names]
        skipped += [f"{s.name}/{n}" for n in s.skipped]
    name = "+".join(s.name for s in sets)
    return ImageSet(name, images, names, split=sets[0].split, skipped=skipped)


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    return split


def _rank_key(key: str) -> bytes:
    return hashlib.sha256(f"{_SPLIT_SALT}:{key}".encode()).digest()


def split_indices(
    keys: Sequence[str],
    split: str,
    *,
    groups: Sequence[str] | None = None,
    val: float = HOLD_OUT,
    test: float = HOLD_OUT,
) -> list[int]:
    """Indices of the items in `split`: by default 80 / 10 / 10 % train / val / test, fixed.

    Items are ranked by a SHA-256 hash of their key (a relative path or id), so membership does
    not depend on any run seed, on library versions, or on the order files are listed in. With
    `groups` (e.g. a class per item) each group is split on its own, so every split keeps the
    class balance. Each non-zero hold-out gets at least one item from a group of 3 or more;
    smaller groups go wholly to train. "all" returns every index in listed order; the other
    splits come in hash order, a stable shuffle, so the first N of a split are a mixed sample.
    """
    check_split(split)
    if split == "all":
        return list(range(len(keys)))
    by_group: dict[str, list[int]] = {}
    for i in range(len(keys)):
        by_group.setdefault(groups[i] if groups is not None else "", []).append(i)
    chosen: list[int] = []
    for members in by_group.values():
        ranked = sorted(members, key=lambda i: _rank_key(keys[i]))
        n_val, n_test = (
            max(1, round(f * len(ranked))) if f > 0 and len(ranked) >= 3 else 0 for f in (val, test)
        )
        parts = {
            "val": ranked[:n_val],
            "test": ranked[n_val : n_val + n_test],
            "train": ranked[n_val + n_test :],
        }
        chosen.extend(parts[split])
    return sorted(chosen, key=lambda i: _rank_key(keys[i]))


def natural_key(text: str) -> list:
    """Sort key that orders 'img2' before 'img10' (digit runs compare as numbers)."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower())
        for part in re.split(r"(\d+)", text)
    ]


def list_images(folder: Path, *, recursive: bool = True) -> list[Path]:
    """Image files under `folder` in natural order of their relative path; hidden files skipped."""
    pattern = "**/*" if recursive else "*"
    files = [
        p
        for p in folder.glob(pattern)
        if p.suffix.lower() in IMAGE_EXTENSIONS
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and p.is_file()
    ]
    return sorted(files, key=lambda p: natural_key(p.relative_to(folder).as_posix()))


def load_files(
    paths: Sequence[Path],
    names: Sequence[str],
    *,
    size: Size | None = None,
    channels: int | None = None,
    limit: int | None = None,
    skip_bad: bool = False,
) -> tuple[list[Tensor], list[str], list[str]]:
    """Decode files in order until `limit` images are loaded: (images, names kept, skipped)."""
    images: list[Tensor] = []
    kept: list[str] = []
    skipped: list[str] = []
    for path, name in zip(paths, names, strict=True):
        if limit is not None and len(images) >= limit:
            break
        try:
            images.append(load_image(path, channels=channels, size=size))
        except DataError as exc:
            if not skip_bad:
                hint = "remove the file, or skip unreadable files: --skip-bad, data.skip_bad: true"
                raise DataError(f"{exc} ({hint})") from None
            skipped.append(name)
            continue
        kept.append(name)
    return images, kept, skipped


def load_listed(
    name: str,
    root: Path,
    files: Sequence[Path],
    *,
    split: str,
    groups: Sequence[str] | None = None,
    size: Size | None = None,
    channels: int | None = None,
    limit: int | None = None,
    skip_bad: bool = False,
) -> ImageSet:
    """Split `files` (named by their path relative to `root`), then decode the chosen ones."""
    if not files:
        raise DataError(f"no images in {root}")
    keys = [p.relative_to(root).as_posix() for p in files]
    chosen = split_indices(keys, split, groups=groups)
    images, kept, skipped = load_files(
        [files[i] for i in chosen],
        [keys[i] for i in chosen],
        size=size,
        channels=channels,
        limit=limit,
        skip_bad=skip_bad,
    )
    return ImageSet(name, images, kept, split=split, skipped=skipped)


def load_folder(
    folder: str | Path,
    *,
    name: str | None = None,
    split: str = "all",
    size: Size | None = None,
    channels: int | None = None,
    limit: int | None = None,
    skip_bad: bool = False,
) -> ImageSet:
    """Every image under `folder` (recursive, natural order), split 80/10/10 by `split_indices`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"image folder not found: {folder}")
    return load_listed(
        name or folder.name,
        folder,
        list_images(folder),
        split=split,
        size=size,
        channels=channels,
        limit=limit,
        skip_bad=skip_bad,
    )


def from_batch(
    name: str,
    batch: Tensor,
    names: Sequence[str],
    *,
    split: str,
    size: Size | None = None,
    channels: int | None = None,
) -> ImageSet:
    """ImageSet from an in-memory (N, C, H, W) float batch in [0, 1], resized / converted."""
    if size is not None:
        batch = resize(batch, size)
    batch = convert_channels(batch, channels)
    return ImageSet(name, list(batch.unbind(0)), list(names), split=split)
