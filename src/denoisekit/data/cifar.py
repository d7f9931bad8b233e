"""CIFAR-10: the official python batches when present, else folders of per-class images.

Layouts tried in order, inside the CIFAR10 folder:
1. `cifar-10-batches-py/` (or the batch files directly): train = data_batch_1..5 minus the last
   5,000 images, val = those 5,000, test = test_batch.
2. `train/<class>/` and `test/<class>/`: train / val = 90 / 10 % of train (per class, by
   `split_indices`), test = the test folder.
3. `test/<class>/` only (../shared/data: 10,000 JPEG q75 re-encodes): 80 / 10 / 10 per class.
Note the JPEG files carry 8x8 block artifacts; they are not pristine clean targets.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from ..io import Size
from .folder import (
    ImageSet,
    check_split,
    from_batch,
    list_images,
    load_files,
    load_listed,
    split_indices,
)

BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
OFFICIAL_VAL = 5000


def _batch_dir(folder: Path) -> Path | None:
    for candidate in (folder / "cifar-10-batches-py", folder):
        if (candidate / "test_batch").is_file():
            return candidate
    return None


def _read_batch(path: Path) -> tuple[np.ndarray, list[str]]:
    """(N, 3, 32, 32) uint8 and file names from one official batch file."""
    # The official batches are python pickles, so they are only read from the user's own data
    # folder (trusted files they downloaded); never point this at files of unknown origin.
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        data = np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32)
        names = [n.decode() for n in batch[b"filenames"]]
    except (OSError, EOFError, KeyError, ValueError, pickle.UnpicklingError) as exc:
        raise DataError(f"cannot read CIFAR-10 batch {path}: {exc}") from None
    return data, names


def _load_batches(
    batch_dir: Path, name: str, split: str, size: Size | None, channels, limit
) -> ImageSet:
    missing = [b for b in BATCHES if not (batch_dir / b).is_file()]
    parts = [] if missing else [_read_batch(batch_dir / b) for b in BATCHES]
    if missing and split != "test":
        raise DataError(f"{batch_dir} lacks {', '.join(missing)}; only split='test' is available")
    test = _read_batch(batch_dir / "test_batch")
    n_train = sum(len(p[0]) for p in parts)
    pool = np.concatenate([p[0] for p in parts] + [test[0]])
    names = [n for p in parts for n in p[1]] + test[1]
    ranges = {
        "train": range(n_train - OFFICIAL_VAL),
        "val": range(n_train - OFFICIAL_VAL, n_train),
        "test": range(n_train, len(pool)),
        "all": range(len(pool)),
    }
    chosen = list(ranges[split])[:limit] if limit is not None else list(ranges[split])
    batch = torch.from_numpy(pool[chosen]).float().div_(255.0)
    return from_batch(
        name, batch, [names[i] for i in chosen], split=split, size=size, channels=channels
    )


def load_cifar10(
    folder: Path,
    *,
    name: str = "cifar10",
    split: str = "all",
    size: Size | None = None,
    channels: int | None = None,
    limit: int | None = None,
    skip_bad: bool = False,
) -> ImageSet:
    """CIFAR-10 as (3, 32, 32) images; the module doc lists the layouts and their splits."""
    check_split(split)
    batch_dir = _batch_dir(folder)
    if batch_dir is not None:
        return _load_batches(batch_dir, name, split, size, channels, limit)
    test_dir, train_dir = folder / "test", folder / "train"
    if not test_dir.is_dir():
        raise DataError(f"no cifar-10-batches-py/ or test/<class>/ images in {folder}")
    options = dict(size=size, channels=channels, limit=limit, skip_bad=skip_bad)
    if not train_dir.is_dir():
        files = list_images(test_dir)
        classes = [p.parent.name for p in files]
        return load_listed(name, folder, files, split=split, groups=classes, **options)

    train_files, test_files = list_images(train_dir), list_images(test_dir)
    keys = [p.relative_to(folder).as_posix() for p in train_files]
    classes = [p.parent.name for p in train_files]
    if split in ("train", "val"):  # 90 / 10 of the train folder, no test hold-out
        chosen = split_indices(keys, split, groups=classes, test=0.0)
        files = [train_files[i] for i in chosen]
    else:
        files = test_files if split == "test" else train_files + test_files
    names = [p.relative_to(folder).as_posix() for p in files]
    images, kept, skipped = load_files(files, names, **options)
    return ImageSet(name, images, kept, split=split, skipped=skipped)
