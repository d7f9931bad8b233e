"""What a training run reads: several sets joined with '+', box-downscaled clean images."""

import numpy as np
import pytest
from PIL import Image

from denoisekit.config import RunConfig
from denoisekit.errors import ConfigError
from denoisekit.train.data import load_splits


def _folder(path, count, size):
    path.mkdir()
    rng = np.random.default_rng(count)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(
            path / f"{i}.png"
        )
    return path


def test_joined_sets_are_split_each_on_their_own_and_downscaled(tmp_path):
    a, b = _folder(tmp_path / "a", 20, 16), _folder(tmp_path / "b", 10, 12)
    config = RunConfig()
    config.data.train = f"{a}+{b}"
    config.data.downscale = 2
    train, val = load_splits(config)
    assert len(train) == 16 + 8 and len(val) == 2 + 1
    assert {tuple(im.shape) for im in train.images} == {(3, 8, 8), (3, 6, 6)}
    assert any(n.startswith("a/") for n in val.names) and any(n.startswith("b/") for n in val.names)


def test_an_empty_part_is_refused(tmp_path):
    config = RunConfig()
    config.data.train = f"{_folder(tmp_path / 'a', 10, 8)}+"
    with pytest.raises(ConfigError, match="empty part"):
        load_splits(config)


def test_a_part_names_its_own_downscale_factor(tmp_path):
    a = _folder(tmp_path / "a", 20, 16)
    config = RunConfig()
    config.data.train = f"{a}+{a}@2"
    train, _ = load_splits(config)
    assert len(train) == 2 * 16
    assert {tuple(im.shape) for im in train.images} == {(3, 16, 16), (3, 8, 8)}
    assert len(set(train.names)) == len(train.names)  # the two scales stay apart by name


def test_a_bad_part_factor_is_refused(tmp_path):
    config = RunConfig()
    config.data.train = f"{_folder(tmp_path / 'a', 10, 8)}@0"
    with pytest.raises(ConfigError, match="factor >= 1"):
        load_splits(config)
