"""Burst folders (a subfolder of noisy shots per scene) and aligned crops of shots."""

import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from denoisekit.data.bursts import ShotCrops, load_bursts
from denoisekit.errors import DataError


def _save(path, h=12, w=10, mode="L"):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(path.as_posix().encode()))
    pixels = rng.integers(0, 255, (h, w) if mode == "L" else (h, w, 3))
    Image.fromarray(pixels.astype(np.uint8)).save(path)


def _bursts(root, scenes=10, shots=2):
    for s in range(scenes):
        for k in range(shots):
            _save(root / f"scene{s}" / f"{k}.png")
    return root


def test_load_bursts_stacks_shots_and_splits_by_scene(tmp_path):
    root = _bursts(tmp_path / "b", scenes=10, shots=3)
    every = load_bursts(root)
    assert len(every) == 10 and every.scenes[0].shape == (3, 1, 12, 10)
    assert every.names[:3] == ["scene0", "scene1", "scene2"]  # natural order
    parts = [set(load_bursts(root, split=s).names) for s in ("train", "val", "test")]
    assert sum(map(len, parts)) == 10 and not (parts[0] & parts[1]) and not (parts[0] & parts[2])
    assert load_bursts(root, channels=3, size=8).scenes[0].shape == (3, 3, 8, 8)
    assert len(load_bursts(root, split="train", limit=2)) == 2


def test_burst_errors_name_the_problem(tmp_path):
    root = _bursts(tmp_path / "b", scenes=3)
    (root / "scene1" / "1.png").unlink()
    with pytest.raises(DataError, match=r"scene1 has 1 shot\(s\).*>= 2"):
        load_bursts(root)
    _save(root / "scene1" / "1.png", h=14)
    with pytest.raises(DataError, match="scene1 differ in shape"):
        load_bursts(root)
    _save(root / "loose.png")
    with pytest.raises(DataError, match="outside the scene subfolders"):
        load_bursts(root)
    flat = tmp_path / "flat"
    _save(flat / "a.png")
    with pytest.raises(DataError, match="no subfolders"):
        load_bursts(flat)
    with pytest.raises(DataError, match="not found"):
        load_bursts(tmp_path / "missing")


def test_mixed_modes_in_a_scene_convert_with_channels(tmp_path):
    root = tmp_path / "b"
    for s in range(3):
        _save(root / f"s{s}" / "0.png")
        _save(root / f"s{s}" / "1.png", mode="RGB")
    with pytest.raises(DataError, match="differ in shape"):
        load_bursts(root)
    assert load_bursts(root, channels=1).scenes[0].shape == (2, 1, 12, 10)


def test_shot_crops_are_aligned_crops_of_different_shots():
    ramp = torch.arange(20 * 16, dtype=torch.float32).view(1, 1, 20, 16)
    scenes = [torch.cat([ramp + 1000 * k for k in range(4)]) for _ in range(3)]  # 4 shots
    data = ShotCrops(scenes, 8, per_scene=2, shots=2, augment=True)
    data.set_epoch(1, seed=0)
    assert len(data) == 6
    for i in range(len(data)):
        item = data[i]
        assert item.shape == (2, 1, 8, 8)
        offset = item[1] - item[0]
        assert offset.unique().numel() == 1 and offset.abs()[0, 0, 0] >= 1000  # aligned, distinct
    again = ShotCrops(scenes, 8, per_scene=2, shots=2, augment=True)
    again.set_epoch(1, seed=0)
    assert torch.equal(again[3], data[3])
    data.set_epoch(2, seed=0)
    assert not all(torch.equal(again[i], data[i]) for i in range(6))


def test_shot_crops_synthesise_independent_noisy_shots_from_clean_images():
    clean = [torch.full((1, 1, 16, 12), 0.5) for _ in range(4)]

    def noise(x, generator):
        return x + 0.1 * torch.randn(x.shape, generator=generator), None

    data = ShotCrops(clean, None, shots=2, augment=True, noise=noise)  # non-square: no turns
    item = data[0]
    assert item.shape == (2, 1, 16, 12)
    assert 0.05 < item.std() < 0.2 and not torch.equal(item[0], item[1])
    with pytest.raises(DataError, match=">= 2 noisy shots"):
        ShotCrops(clean, None, shots=2)
