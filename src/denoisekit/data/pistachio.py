"""Pistachio Image Dataset (Ozkan et al. 2021): 600x600 RGB JPEGs of two varieties.

Layout: `Kirmizi_Pistachio/*.jpg` (1,232) and `Siirt_Pistachio/*.jpg` (916). The 115 files
whose names hold parentheses carry an EXIF rotation, which `io.read_image` applies. Splits are
80 / 10 / 10 within each variety, so `pistachio` test = `kirmizi` test + `siirt` test and no
image is in the training split of one name and the test split of another. The seed
experiments load them at size=100.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ..io import Size
from .folder import ImageSet, list_images, load_listed

VARIETIES = {"kirmizi": "Kirmizi_Pistachio", "siirt": "Siirt_Pistachio"}


def load_pistachio(
    folder: Path,
    *,
    name: str = "pistachio",
    varieties: tuple[str, ...] = ("kirmizi", "siirt"),
    split: str = "all",
    size: Size | None = None,
    channels: int | None = None,
    limit: int | None = None,
    skip_bad: bool = False,
) -> ImageSet:
    """Pistachio images of the given varieties as (3, H, W) tensors (H = W = 600 or `size`)."""
    files: list[Path] = []
    groups: list[str] = []
    for variety in varieties:
        sub = folder / VARIETIES[variety]
        if not sub.is_dir():
            raise DataError(f"{sub} not found; pass --data-root or set DENOISEKIT_DATA")
        found = list_images(sub, recursive=False)
        files += found
        groups += [variety] * len(found)
    return load_listed(
        name,
        folder,
        files,
        split=split,
        groups=groups,
        size=size,
        channels=channels,
        limit=limit,
        skip_bad=skip_bad,
    )
