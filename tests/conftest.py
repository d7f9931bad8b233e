"""Fixtures shared by several test files."""

import numpy as np
import pytest
import torch
from PIL import Image


@pytest.fixture
def one_thread():
    """Run the test with one torch thread, restoring the previous count afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def gray_folder(tmp_path):
    """A folder of six 16x16 gray PNGs of uniform random noise: tiny training data."""
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8)).save(folder / f"{i}.png")
    return folder
