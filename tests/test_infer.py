import numpy as np
import pytest
import torch

import denoisekit


@pytest.fixture
def model():
    torch.manual_seed(0)
    return denoisekit.create_model("unet", in_channels=3, base_channels=4, depth=2).eval()


def test_numpy_in_same_kind_out(model):
    rgb = np.random.default_rng(0).integers(0, 256, (21, 17, 3), dtype=np.uint8)
    out = denoisekit.denoise(rgb, model)
    assert out.dtype == np.uint8 and out.shape == rgb.shape
    as_float = denoisekit.denoise(rgb.astype(np.float64) / 255, model)
    assert as_float.dtype == np.float32 and as_float.shape == rgb.shape
    assert np.abs(as_float * 255 - out).max() <= 1


def test_tensor_batch_and_single(model):
    batch = torch.rand(2, 3, 19, 23)
    out = denoisekit.denoise(batch, model)
    assert out.shape == batch.shape and 0 <= out.min() and out.max() <= 1
    assert torch.allclose(denoisekit.denoise(batch[0], model), out[0], atol=1e-6)
