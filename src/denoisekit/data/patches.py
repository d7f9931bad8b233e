"""Training crops and the 8 dihedral augmentations (rotations by 90 degrees and flips)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from ..errors import DataError
from .folder import ImageSet


def dihedral(x: Tensor, k: int, *, inverse: bool = False) -> Tensor:
    """Transform k in 0..7 of (..., H, W): k % 4 quarter turns (counter-clockwise), then a
    left-right flip when k >= 4. `inverse=True` undoes it (test-time self-ensembles).
    H and W swap for odd quarter turns.
    """
    if not 0 <= k < 8:
        raise ValueError(f"dihedral transform index must be in 0..7, got {k}")
    if inverse:
        x = x.flip(-1) if k >= 4 else x
        return torch.rot90(x, -(k % 4), dims=(-2, -1))
    x = torch.rot90(x, k % 4, dims=(-2, -1))
    return x.flip(-1) if k >= 4 else x


def augment(x: Tensor, generator: torch.Generator) -> Tensor:
    """One of the 8 dihedral transforms, drawn from `generator`, applied to all of x (..., H, W).

    The same transform hits every leading index, so stack a clean/noisy pair to keep it aligned.
    """
    k = int(torch.randint(8, (1,), generator=generator, device=generator.device))
    return dihedral(x, k)


def item_generator(*key: object) -> torch.Generator:
    """A generator seeded from a hash of `key` (e.g. seed, epoch, item index): the same item
    draws the same numbers whatever the DataLoader workers or the order items are fetched in."""
    digest = hashlib.sha256(":".join(str(part) for part in key).encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)


def pad_to(image: Tensor, size: int) -> Tensor:
    """Pad (C, H, W) so H, W >= size: mirror (reflect) padding, split evenly on both sides."""
    x = image.unsqueeze(0)
    while x.shape[-2] < size or x.shape[-1] < size:
        h, w = x.shape[-2:]
        # reflect can add at most (dim - 1) pixels per pass; tiny images need several passes.
        ph, pw = (min(max(size - d, 0), d - 1) for d in (h, w))
        if (ph == 0 and h < size) or (pw == 0 and w < size):  # a 1-pixel-wide side
            x = F.pad(x, (0, max(size - w, 0), 0, max(size - h, 0)), mode="replicate")
            break
        x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), mode="reflect")
    return x[0]


def random_crop(image: Tensor, size: int, generator: torch.Generator) -> Tensor:
    """A size x size crop of (C, H, W) at a uniformly random position (padded first if small)."""
    image = pad_to(image, size)
    h, w = image.shape[-2:]
    top = int(torch.randint(h - size + 1, (1,), generator=generator))
    left = int(torch.randint(w - size + 1, (1,), generator=generator))
    return image[..., top : top + size, left : left + size]


def random_patch_batch(
    images: ImageSet | Sequence[Tensor],
    batch_size: int,
    patch_size: int,
    *,
    generator: torch.Generator,
    augment: bool = True,
) -> Tensor:
    """(batch_size, C, p, p) crops from images drawn with replacement; all need the same C."""
    pool = images.images if isinstance(images, ImageSet) else list(images)
    if not pool:
        raise DataError("no images to cut patches from")
    picks = torch.randint(len(pool), (batch_size,), generator=generator).tolist()
    patches = [random_crop(pool[i], patch_size, generator) for i in picks]
    if augment:
        patches = [_augment(p, generator) for p in patches]
    return torch.stack(patches)


_augment = augment  # the keyword argument `augment` shadows the function inside callers


class PatchDataset(Dataset):
    """`patches_per_image` random crops (C, p, p) per image, drawn fresh each epoch.

    Randomness comes only from `set_epoch(epoch, seed)`: item i of an epoch uses a generator
    seeded from (seed, epoch, i), so crops are reproducible and identical whatever the number
    of DataLoader workers or the order items are fetched in. Call `set_epoch` before each
    epoch's iterator is created (workers copy the dataset; avoid persistent_workers).
    Images smaller than the patch are mirror-padded; `augment` adds a random dihedral transform.
    """

    def __init__(
        self,
        images: ImageSet | Sequence[Tensor],
        patch_size: int,
        patches_per_image: int = 1,
        *,
        augment: bool = True,
    ) -> None:
        self.images = list(images.images if isinstance(images, ImageSet) else images)
        if not self.images:
            raise DataError("no images to cut patches from")
        if patch_size < 1 or patches_per_image < 1:
            raise ValueError("patch_size and patches_per_image must be >= 1")
        self.patch_size = patch_size
        self.patches_per_image = patches_per_image
        self.augment = augment
        self.epoch = 0
        self.seed = 0

    def set_epoch(self, epoch: int, seed: int = 0) -> None:
        """Choose the crops for `epoch` of the run seeded `seed`."""
        self.epoch, self.seed = int(epoch), int(seed)

    def __len__(self) -> int:
        return len(self.images) * self.patches_per_image

    def __getitem__(self, index: int) -> Tensor:
        if not 0 <= index < len(self):
            raise IndexError(f"patch index {index} out of range for {len(self)} patches")
        generator = item_generator(self.seed, self.epoch, index)
        image = self.images[index // self.patches_per_image]
        patch = random_crop(image, self.patch_size, generator)
        return _augment(patch, generator) if self.augment else patch.clone()
