"""Quick checks against the real data in ../shared/data; each skips when its folder is absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from denoisekit.data import load_dataset, resolve_data_root
from denoisekit.errors import DataError
from denoisekit.io import read_image

pytestmark = pytest.mark.data


def _real(folder: str) -> Path:
    """The real data set folder, or skip the test saying why."""
    try:
        root = resolve_data_root()
    except DataError as exc:
        pytest.skip(f"real data not found ({exc})")
    if not (root / folder).is_dir():
        pytest.skip(f"real data folder {root / folder} not found")
    return root / folder


def test_mnist_split_sizes_and_shape():
    _real("MNIST")
    sizes = [len(load_dataset("mnist", split=s)) for s in ("train", "val", "test")]
    assert sizes == [8000, 1000, 1000]
    assert load_dataset("mnist", split="test", limit=2)[0].shape == (1, 28, 28)


def test_set12_has_12_images():
    _real("Set12")
    assert len(load_dataset("set12")) == 12


def test_pistachio_small_load():
    _real("Pistachio")
    data = load_dataset("pistachio", split="train", limit=5, size=100)
    assert data.stack().shape == (5, 3, 100, 100)


def test_pistachio_exif_rotation_is_applied():
    path = _real("Pistachio") / "Kirmizi_Pistachio" / "kirmizi (1).jpg"
    with Image.open(path) as img:
        orientation = img.getexif().get(0x0112, 1)
        stored = np.asarray(img.convert("RGB"))
    assert orientation in (3, 6, 8)
    assert not np.array_equal(read_image(path), stored)
