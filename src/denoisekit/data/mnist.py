"""MNIST from the original idx files (gzipped or not), parsed with numpy alone.

Splits. With only the 10k `t10k` digits present (as in ../shared/data), they are split
8000 / 1000 / 1000 by `split_indices`. When the official 60k training images are present too,
train = the first 55,000 training digits, val = the last 5,000 (the usual hold-out), test = the
official 10,000 test digits, and "all" = 70,000 (train file first).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from ..io import Size
from .folder import ImageSet, check_split, from_batch, split_indices

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
OFFICIAL_VAL = 5000


def read_idx(path: str | Path) -> np.ndarray:
    """Parse an idx file (`.gz` or raw): magic 0,0,type,ndim then big-endian int32 dims."""
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read idx file {path}: {exc}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise DataError(f"cannot read idx file {path}: bad header (empty or not an idx file)")
    ndim = data[3]
    dims = tuple(int(d) for d in np.frombuffer(data, ">i4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(data) - offset != expected:
        raise DataError(
            f"cannot read idx file {path}: {len(data) - offset} data bytes, expected {expected} "
            f"for shape {dims} (truncated download?)"
        )
    return np.frombuffer(data, dtype, offset=offset).reshape(dims)


def _find(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def _digits(path: Path) -> np.ndarray:
    images = read_idx(path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(f"{path} holds {images.dtype} {images.shape}, expected uint8 (N, H, W)")
    return images


def load_mnist(
    folder: Path,
    *,
    name: str = "mnist",
    split: str = "all",
    size: Size | None = None,
    channels: int | None = None,
    limit: int | None = None,
    skip_bad: bool = False,  # idx files are all-or-nothing: nothing to skip
) -> ImageSet:
    """MNIST digits as (1, 28, 28) images (or `size`, `channels`); see the module doc for splits."""
    check_split(split)
    test_path = _find(folder, "t10k-images-idx3-ubyte")
    if test_path is None:
        raise DataError(f"no t10k-images-idx3-ubyte(.gz) in {folder}")
    test = _digits(test_path)
    train_path = _find(folder, "train-images-idx3-ubyte")

    if train_path is None:
        names = [f"t10k-{i:05d}" for i in range(len(test))]
        chosen = split_indices(names, split)
        pool = test
    else:
        train = _digits(train_path)
        if train.shape[1:] != test.shape[1:]:
            raise DataError(f"{train_path} and {test_path} hold digits of different sizes")
        n_train = len(train) - OFFICIAL_VAL
        train_names = [f"train-{i:05d}" for i in range(len(train))]
        test_names = [f"t10k-{i:05d}" for i in range(len(test))]
        names = train_names + test_names
        pool = np.concatenate([train, test])
        ranges = {
            "train": range(n_train),
            "val": range(n_train, len(train)),
            "test": range(len(train), len(pool)),
            "all": range(len(pool)),
        }
        chosen = list(ranges[split])

    chosen = chosen[:limit] if limit is not None else chosen
    batch = torch.from_numpy(pool[chosen]).unsqueeze(1).float().div_(255.0)
    return from_batch(
        name, batch, [names[i] for i in chosen], split=split, size=size, channels=channels
    )
