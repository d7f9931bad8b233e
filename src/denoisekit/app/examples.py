"""Noisy example photos to try the app at once: scikit-image's bundled photos (installed with
it, nothing downloads) with Gaussian noise of a known level added, a fixed seed each."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# (scikit-image photo, noise sigma on the 0-255 scale): colour and gray, light to heavy noise
EXAMPLES = (("astronaut", 25), ("camera", 25), ("coffee", 15), ("chelsea", 40))


def clean_photo(name: str) -> np.ndarray:
    """One of scikit-image's bundled photos, uint8 HW (gray) or HWC (RGB)."""
    import skimage.data

    return getattr(skimage.data, name)()


def add_noise(clean: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """`clean` (uint8) plus Gaussian noise of `sigma` (0-255 scale), clipped and rounded to
    8 bits as a saved photo would be."""
    import torch

    from ..io import from_tensor, to_tensor
    from ..noise import gaussian

    generator = torch.Generator().manual_seed(seed)
    noisy = gaussian(to_tensor(clean).unsqueeze(0), sigma / 255, generator=generator)
    return from_tensor(noisy[0], np.uint8)


def write_examples(folder: str | Path) -> list[Path]:
    """Write the noisy example photos as PNGs into `folder`; returns their paths."""
    from ..batch.jobs import write_image

    folder = Path(folder)
    paths = []
    for seed, (name, sigma) in enumerate(EXAMPLES):
        path = folder / f"{name}-noisy-sigma{sigma}.png"
        paths.append(write_image(add_noise(clean_photo(name), sigma, seed), path))
    return paths
