"""Real photographs bundled with scikit-image: a data set that works offline with no data root.

Colour photos load as RGB, gray ones as 1 channel (3 only when channels=3 is asked). Synthetic
or binary pictures (horse silhouette, logo, colour wheel) are left out: they are poor clean
targets for denoising. Split 80 / 10 / 10 by name like any folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from ..io import Size, convert_channels, resize, to_tensor
from .folder import ImageSet, check_split, split_indices

EMBEDDED = (
    "astronaut",
    "camera",
    "chelsea",
    "coffee",
    "coins",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "page",
    "rocket",
    "text",
)


def embedded_array(name: str) -> np.ndarray:
    """One bundled photo as an HW / HWC uint8 array, read from the scikit-image package."""
    import skimage.data

    if name not in EMBEDDED:
        from ..errors import unknown

        raise unknown("embedded image", name, EMBEDDED)
    try:
        return np.asarray(getattr(skimage.data, name)())
    except (ModuleNotFoundError, OSError, AttributeError) as exc:  # pooch-only in some versions
        msg = f"scikit-image cannot load its bundled image {name!r} offline: {exc}"
        raise DataError(msg) from None


def load_embedded(
    folder: Path | None = None,  # unused: the images ship inside scikit-image
    *,
    name: str = "embedded",
    split: str = "all",
    size: Size | None = None,
    channels: int | None = None,
    limit: int | None = None,
    skip_bad: bool = False,
) -> ImageSet:
    """The bundled photos (sizes differ: pass `size` to stack them)."""
    check_split(split)
    chosen = [EMBEDDED[i] for i in split_indices(EMBEDDED, split)]
    chosen = chosen[:limit] if limit is not None else chosen
    images = []
    for key in chosen:
        image = to_tensor(embedded_array(key))
        image = resize(image, size) if size is not None else image
        images.append(convert_channels(image, channels))
    return ImageSet(name, images, chosen, split=split)
