"""Named data sets, where the data root is, and `load_dataset` (a name or any image folder)."""

from __future__ import annotations

import importlib
import numbers
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError, UnknownNameError, close_names
from ..io import Size
from .folder import ImageSet, check_split, load_folder

ENV_VAR = "DENOISEKIT_DATA"
_HINT = f"pass --data-root or set {ENV_VAR}"


@dataclass(frozen=True)
class DatasetInfo:
    """A named data set: its folder under the data root (None: needs no root) and loader."""

    name: str
    folder: str | None
    description: str
    loader: str  # "module:function" inside denoisekit.data, imported on first use
    test_only: bool = False  # every split but "train" gives all images
    options: dict[str, Any] = field(default_factory=dict)


def _info(
    name: str, folder: str | None, description: str, loader: str = "folder:load_folder", **kw: Any
) -> DatasetInfo:
    return DatasetInfo(name, folder, description, loader, **kw)


DATASETS: dict[str, DatasetInfo] = {
    d.name: d
    for d in (
        _info(
            "pistachio",
            "Pistachio",
            "2,148 RGB 600x600 JPEG pistachios, both varieties",
            "pistachio:load_pistachio",
        ),
        _info(
            "kirmizi",
            "Pistachio",
            "1,232 Kirmizi pistachios (RGB 600x600 JPEG)",
            "pistachio:load_pistachio",
            options={"varieties": ("kirmizi",)},
        ),
        _info(
            "siirt",
            "Pistachio",
            "916 Siirt pistachios (RGB 600x600 JPEG)",
            "pistachio:load_pistachio",
            options={"varieties": ("siirt",)},
        ),
        _info(
            "mnist",
            "MNIST",
            "MNIST digits, gray 28x28 (10k test digits split 8k/1k/1k)",
            "mnist:load_mnist",
        ),
        _info(
            "cifar10",
            "CIFAR10",
            "CIFAR-10, RGB 32x32 (here: 10k test images, JPEG q75)",
            "cifar:load_cifar10",
        ),
        _info("set12", "Set12", "Set12 gray test set, 12 images 256/512 px", test_only=True),
        _info("bsd68", "BSD68", "BSD68 gray test set, 68 images 481x321", test_only=True),
        _info("cbsd68", "CBSD68", "CBSD68 colour test set, 68 images 481x321", test_only=True),
        _info("train400", "Train400", "DnCNN gray training set, 400 images 180x180"),
        _info("cbsd432", "CBSD432", "colour training set, 432 Berkeley photos (JPEG q95)"),
        _info(
            "city100",
            "City100",
            "100 lossless DSLR photos of printed postcards, RGB 609x435, full-resolution chroma",
        ),
        _info(
            "embedded",
            None,
            "photos bundled with scikit-image (offline, no data root)",
            "embedded:load_embedded",
        ),
    )
}


def dataset_names() -> list[str]:
    """Every named data set, sorted."""
    return sorted(DATASETS)


def _search_starts() -> list[Path]:
    """Folders to walk up from when neither a root nor the environment variable is given."""
    return [Path.cwd(), Path(__file__).resolve().parent]


def resolve_data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: `root` if given, else $DENOISEKIT_DATA, else the first `shared/data`
    folder found walking up from the current directory, then from this package's location
    (a checkout at repo/ finds repo/../shared/data). DataError when none exists.
    """
    if root is not None or os.environ.get(ENV_VAR):
        where = "data root" if root is not None else f"${ENV_VAR}"
        path = Path(root if root is not None else os.environ[ENV_VAR]).expanduser()
        if not path.is_dir():
            raise DataError(f"{where} {path} is not a folder; {_HINT}")
        return path.resolve()
    starts = _search_starts()
    for start in starts:
        for folder in (start, *start.parents):
            if (folder / "shared" / "data").is_dir():
                return (folder / "shared" / "data").resolve()
    looked = " or ".join(str(s) for s in starts)
    raise DataError(f"no data root found (no shared/data above {looked}); {_HINT}")


def _set_folder(root: Path, folder: str) -> Path:
    """`root/folder`, matched case-insensitively so a hand-made root may say 'set12'."""
    exact = root / folder
    if exact.is_dir():
        return exact
    for child in root.iterdir():
        if child.is_dir() and child.name.lower() == folder.lower():
            return child
    raise DataError(f"data set folder {exact} not found; {_HINT}")


def _loader(spec: str) -> Callable[..., ImageSet]:
    module, function = spec.split(":")
    return getattr(importlib.import_module(f"denoisekit.data.{module}"), function)


def _non_empty(images: ImageSet, limit: int | None) -> ImageSet:
    """An empty result is almost always a mistake (tiny folder, every file bad): say so now."""
    if len(images) or limit == 0:
        return images
    if images.skipped:
        why = f"all {len(images.skipped)} files in the split were unreadable"
    else:
        why = f"its {images.split!r} split is empty (too few images); use split='all'"
    raise DataError(f"no images loaded from {images.name}: {why}")


def load_dataset(
    spec: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    split: str = "all",
    size: Size | None = None,
    channels: int | None = None,
    limit: int | None = None,
    skip_bad: bool = False,
) -> ImageSet:
    """Load a named data set (see `DATASETS`) or any folder of images, eagerly, into memory.

    split: "train" / "val" / "test" / "all", fixed 80/10/10 unless the set defines its own (MNIST,
    CIFAR-10 official files; test sets give all images for every split but "train", an error).
    size: resize every image to (H, W) or size x size, antialiased; None keeps stored sizes.
    channels: None as stored, 1 gray (BT.601), 3 RGB. limit: first N images of the split (the
    split itself never depends on it). skip_bad: leave unreadable files out (listed in
    `.skipped`) instead of raising DataError. Named sets resolve `root` by `resolve_data_root`.
    A name (case-insensitive) wins over a same-named folder: write ./mnist for the folder.
    """
    check_split(split)
    if channels not in (None, 1, 3):
        raise DataError(f"channels must be 1, 3 or None, not {channels!r}")
    sides = (size,) if isinstance(size, numbers.Integral) else size
    if size is not None and not (
        isinstance(sides, (tuple, list))
        and len(sides) in (1, 2)
        and all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in sides
        )
    ):
        raise DataError(f"size must be a positive int or an (H, W) pair of them, got {size!r}")
    if size is not None and len(sides) == 1:
        size = sides[0]
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 0
    ):
        raise DataError(f"limit must be an int >= 0, got {limit!r}")
    if not isinstance(spec, (str, os.PathLike)):
        raise DataError(f"data must be a set name or a folder path, got {spec!r}")
    if not str(spec).strip():  # Path('') is the current folder: never what was meant
        raise DataError("data name is empty; give a set name (set12, bsd68, ...) or a folder")
    options = dict(size=size, channels=channels, limit=limit, skip_bad=skip_bad)

    key = spec.lower() if isinstance(spec, str) else None
    if key in DATASETS:
        info = DATASETS[key]
        if info.test_only and split == "train":
            raise DataError(f"{info.name} is a test set: it has no 'train' split (use 'test')")
        folder = None
        if info.folder is not None:
            folder = _set_folder(resolve_data_root(root), info.folder)
        load_split = "all" if info.test_only else split
        images = _loader(info.loader)(
            folder, name=info.name, split=load_split, **info.options, **options
        )
        images.split = split
        return _non_empty(images, limit)

    path = Path(spec).expanduser()
    if path.is_dir():
        return _non_empty(load_folder(path, split=split, **options), limit)
    if path.exists():
        raise DataError(f"{path} is a file; a data set is a name or a folder of images")
    raise UnknownNameError(
        f"unknown data set {str(spec)!r} (not a name, not an existing folder); "
        + close_names(str(spec), DATASETS)
    )
