"""Training crops: determinism per (seed, epoch), padding, and the 8 dihedral transforms."""

from __future__ import annotations

import pytest
import torch

from denoisekit.data import ImageSet, PatchDataset, augment, dihedral, random_patch_batch
from denoisekit.data.patches import pad_to


def test_dihedral_gives_8_distinct_invertible_transforms():
    x = torch.arange(2 * 3 * 3, dtype=torch.float32).reshape(2, 3, 3)
    outs = [dihedral(x, k) for k in range(8)]
    assert len({tuple(o.flatten().tolist()) for o in outs}) == 8
    for k, out in enumerate(outs):
        assert torch.equal(dihedral(out, k, inverse=True), x)
    assert dihedral(torch.zeros(1, 2, 5), 1).shape == (1, 5, 2)
    with pytest.raises(ValueError):
        dihedral(x, 8)


def test_augment_is_driven_by_the_generator():
    x = torch.rand(4, 1, 6, 6)
    a = augment(x, torch.Generator().manual_seed(3))
    b = augment(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.shape == x.shape


def test_patch_dataset_repeatable_per_epoch_and_fresh_across_epochs():
    images = [torch.rand(3, 20, 24), torch.rand(3, 30, 18)]
    data = PatchDataset(ImageSet("t", images, ["a", "b"]), 8, patches_per_image=3)
    assert len(data) == 6
    data.set_epoch(0, seed=1)
    first = torch.stack([data[i] for i in range(len(data))])
    assert first.shape == (6, 3, 8, 8)
    assert torch.equal(first[2], data[2])  # same item, same patch, whatever the fetch order
    data.set_epoch(1, seed=1)
    assert not torch.equal(first, torch.stack([data[i] for i in range(len(data))]))
    data.set_epoch(0, seed=2)
    assert not torch.equal(first, torch.stack([data[i] for i in range(len(data))]))


def test_small_images_are_mirror_padded():
    tiny = torch.arange(1 * 3 * 2, dtype=torch.float32).reshape(1, 3, 2)
    padded = pad_to(tiny, 7)
    assert padded.shape == (1, 7, 7)
    assert set(padded.unique().tolist()) <= set(tiny.unique().tolist())
    assert pad_to(torch.rand(1, 1, 1), 3).shape == (1, 3, 3)
    data = PatchDataset([torch.rand(1, 5, 5)], 9, augment=False)
    assert data[0].shape == (1, 9, 9)


def test_random_patch_batch_shape():
    g = torch.Generator().manual_seed(0)
    batch = random_patch_batch([torch.rand(1, 12, 12), torch.rand(1, 9, 14)], 5, 6, generator=g)
    assert batch.shape == (5, 1, 6, 6)
