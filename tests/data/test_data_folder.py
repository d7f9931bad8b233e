"""ImageSet, folder loading, splits and bad files, on tiny images made in tmp_path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from denoisekit.data import ImageSet, load_dataset, load_folder, split_indices
from denoisekit.data.folder import joined
from denoisekit.errors import DataError


def _write(folder, names, size=(6, 5), mode="L"):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(names))
    for name in names:
        shape = size[::-1] + ((3,) if mode == "RGB" else ())
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(folder / name)


def test_folder_spec_recursive_natural_order(tmp_path):
    _write(tmp_path / "imgs", ["img10.png", "img2.png"])
    _write(tmp_path / "imgs" / "sub", ["a.jpg"], mode="RGB")
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    data = load_dataset(tmp_path / "imgs")
    assert data.names == ["img2.png", "img10.png", "sub/a.jpg"]
    assert [tuple(im.shape) for im in data] == [(1, 5, 6), (1, 5, 6), (3, 5, 6)]
    with pytest.raises(DataError, match="differ in shape"):
        data.stack()
    same = load_dataset(str(tmp_path / "imgs"), channels=3, size=4)
    assert same.stack().shape == (3, 3, 4, 4)
    assert same.subset([2, 0]).names == ["sub/a.jpg", "img2.png"]


def test_splits_are_disjoint_fixed_and_limit_independent(tmp_path):
    _write(tmp_path / "many", [f"{i:03d}.png" for i in range(40)])
    splits = {s: load_folder(tmp_path / "many", split=s).names for s in ("train", "val", "test")}
    assert [len(splits[s]) for s in ("train", "val", "test")] == [32, 4, 4]
    assert len(set().union(*splits.values())) == 40
    assert load_folder(tmp_path / "many", split="val").names == splits["val"]
    assert load_folder(tmp_path / "many", split="train", limit=3).names == splits["train"][:3]
    assert load_folder(tmp_path / "many", split="all").names[0] == "000.png"
    with pytest.raises(DataError, match="split"):
        load_folder(tmp_path / "many", split="training")


def test_split_indices_groups_and_listing_order():
    keys = [f"k{i}" for i in range(50)]
    groups = ["a"] * 30 + ["b"] * 20
    test = split_indices(keys, "test", groups=groups)
    assert sum(groups[i] == "a" for i in test) == 3 and sum(groups[i] == "b" for i in test) == 2
    # membership follows the key, not its position in the list
    reversed_test = split_indices(keys[::-1], "test", groups=groups[::-1])
    assert {keys[::-1][i] for i in reversed_test} == {keys[i] for i in test}
    assert split_indices(["x", "y"], "val") == []  # too few to hold any out


def test_bad_file_raises_or_is_skipped(tmp_path):
    _write(tmp_path / "set", ["a.png", "c.png"])
    (tmp_path / "set" / "b.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(DataError, match="b.png"):
        load_dataset(tmp_path / "set")
    data = load_dataset(tmp_path / "set", skip_bad=True)
    assert data.names == ["a.png", "c.png"] and data.skipped == ["b.png"]
    assert len(load_dataset(tmp_path / "set", skip_bad=True, limit=2)) == 2


def test_empty_folder_or_split_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images in"):
        load_dataset(tmp_path / "empty")
    _write(tmp_path / "two", ["a.png", "b.png"])
    with pytest.raises(DataError, match="'val' split is empty"):
        load_dataset(tmp_path / "two", split="val")


def test_imageset_basics():
    data = ImageSet("t", [torch.zeros(1, 2, 2), torch.ones(1, 2, 2)], ["a", "b"])
    assert len(data) == 2 and data[1].sum() == 4
    assert data.stack().shape == (2, 1, 2, 2)
    assert "n=2" in repr(data)


def test_downscaled_box_averages_and_crops_partial_boxes():

    image = torch.arange(2 * 5 * 4, dtype=torch.float32).view(2, 5, 4) / 40
    small = ImageSet("s", [image], ["a.png"]).downscaled(2)
    assert small.images[0].shape == (2, 2, 2)
    assert torch.allclose(small.images[0][0, 0, 0], image[0, :2, :2].mean())
    assert torch.allclose(small.images[0][1, 1, 1], image[1, 2:4, 2:4].mean())
    same = ImageSet("s", [image], ["a.png"])
    assert same.downscaled(1) is same


def test_downscaled_refuses_bad_factors_and_tiny_images():
    images = ImageSet("s", [torch.zeros(1, 3, 3)], ["a.png"])
    for bad in (0, 1.5, True):
        with pytest.raises(DataError, match="int >= 1"):
            images.downscaled(bad)
    with pytest.raises(DataError, match="smaller than the downscale factor 4"):
        images.downscaled(4)


def test_joined_sets_keep_every_image_under_its_set_name():

    a = ImageSet("a", [torch.zeros(1, 2, 2)], ["x.png"], split="val")
    b = ImageSet("b", [torch.ones(1, 2, 2)] * 2, ["y.png", "z.png"], split="val")
    both = joined([a, b])
    assert both.name == "a+b" and both.split == "val"
    assert both.names == ["a/x.png", "b/y.png", "b/z.png"] and len(both) == 3
    assert joined([a]) is a
