import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from denoisekit.metrics import mae, mse, psnr, ssim


def _pair(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    clean = torch.rand(shape, generator=g)
    noisy = (clean + 0.1 * torch.randn(shape, generator=g)).clamp(0, 1)
    return noisy, clean


@pytest.mark.parametrize("shape", [(2, 3, 37, 31), (3, 1, 28, 28), (1, 3, 64, 48)])
def test_ssim_and_psnr_match_scikit_image(shape):
    noisy, clean = _pair(shape)
    ours_ssim, ours_psnr = ssim(noisy, clean), psnr(noisy, clean)
    assert ours_ssim.shape == (shape[0],)
    for i in range(shape[0]):
        a = noisy[i].permute(1, 2, 0).double().numpy()
        b = clean[i].permute(1, 2, 0).double().numpy()
        ref_ssim = structural_similarity(
            a,
            b,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1.0,
            channel_axis=2,
        )
        assert abs(float(ours_ssim[i]) - ref_ssim) < 1e-4
        assert abs(float(ours_psnr[i]) - peak_signal_noise_ratio(b, a, data_range=1.0)) < 1e-4


def test_mse_mae_per_image():
    clean = torch.zeros(2, 1, 4, 4)
    noisy = clean.clone()
    noisy[1] += 0.5
    assert mse(noisy, clean).tolist() == [0.0, 0.25]
    assert mae(noisy, clean).tolist() == [0.0, 0.5]
    assert psnr(noisy, clean)[1].item() == pytest.approx(10 * np.log10(1 / 0.25))


def test_identical_images():
    x = torch.rand(1, 3, 16, 16)
    assert torch.isinf(psnr(x, x)).all()
    assert ssim(x, x).item() == pytest.approx(1.0)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(1, 1, 16, 16\).*\(1, 1, 16, 17\)"):
        psnr(torch.rand(1, 1, 16, 16), torch.rand(1, 1, 16, 17))


def test_ssim_too_small():
    with pytest.raises(ValueError, match="11x11"):
        ssim(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8))


def test_integer_images_are_refused_and_numpy_arrays_work():
    x = torch.randint(0, 256, (1, 1, 16, 16), dtype=torch.uint8)
    with pytest.raises(ValueError, match="float images"):
        psnr(x, x)
    a = np.random.default_rng(0).random((1, 1, 16, 16))
    assert float(psnr(a, a * 0.5)) == pytest.approx(
        float(psnr(torch.from_numpy(a), torch.from_numpy(a * 0.5)))
    )
