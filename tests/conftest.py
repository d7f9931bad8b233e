"""Fixtures shared by several test files."""

import numpy as np
import pytest
import torch
from PIL import Image


@pytest.fixture(autouse=True, scope="session")
def runtime_cache(request, tmp_path_factory):
    """Converted networks (`denoisekit.runtimes`, which `--runtime auto` uses where OpenVINO or
    onnxruntime is installed) go to .pytest_cache, never to the user's ~/.cache; they are keyed
    by weights and versions, so reusing them across runs is safe and keeps reruns fast."""
    import os

    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir("denoisekit-runtimes") if cache else tmp_path_factory.mktemp("runtimes")
    before = os.environ.get("DENOISEKIT_CACHE")
    os.environ["DENOISEKIT_CACHE"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("DENOISEKIT_CACHE", None)
    else:
        os.environ["DENOISEKIT_CACHE"] = before


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
