import pytest
import torch
import torch.nn.functional as F

from denoisekit import create_model
from denoisekit.checkpoints.checkpoint import load_checkpoint, save_checkpoint
from denoisekit.errors import ConfigError
from denoisekit.models.fusion import (
    DEFAULT_WINDOW,
    NoisyPixelFusion,
    fuse_noisy,
    fusion_window,
    with_fusion,
)
from denoisekit.train.init import initial_weights

KWARGS = {"in_channels": 1, "base_channels": 4, "depth": 2}


class FourNeighbourMean(torch.nn.Module):
    """A perfect blind-spot estimator of a flat image: the mean of the 4 neighbours."""

    in_channels = 1

    def forward(self, noisy, sigma=None):
        kernel = torch.tensor([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=noisy.dtype) / 4
        return F.conv2d(F.pad(noisy, (1, 1, 1, 1), mode="reflect"), kernel.view(1, 1, 3, 3))


def test_fusion_reaches_the_posterior_variance_of_two_independent_estimates():
    g = torch.Generator().manual_seed(0)
    clean = torch.linspace(0.2, 0.8, 256).view(1, 1, 1, -1).expand(1, 1, 256, 256)
    noise_std, prior_std = 0.1, 0.05
    noisy = clean + noise_std * torch.randn(clean.shape, generator=g)
    estimate = clean + prior_std * torch.randn(clean.shape, generator=g)
    fused = fuse_noisy(noisy, estimate, torch.tensor(noise_std**2), window=25)
    mse = float((fused - clean).square().mean())
    best = noise_std**2 * prior_std**2 / (noise_std**2 + prior_std**2)  # 0.002
    assert best <= mse < 1.1 * best  # far below either input alone (0.01, 0.0025)


def test_fusion_module_improves_a_blind_spot_estimate_and_estimates_sigma_itself():
    g = torch.Generator().manual_seed(1)
    clean = torch.full((2, 1, 64, 64), 0.5)
    noisy = clean + 0.1 * torch.randn(clean.shape, generator=g)
    bare = FourNeighbourMean()
    fused = NoisyPixelFusion(bare, window=9)
    assert fused.in_channels == 1 and fused.noise_aware
    assert fused.sigma_estimator == "haar"  # the reading its self-supervised weights learned
    given = fused(noisy, torch.tensor([0.1, 0.1]))
    blind = fused(noisy)  # level estimated from each image
    for out in (given, blind):
        assert out.shape == noisy.shape
        assert (out - clean).square().mean() < (bare(noisy) - clean).square().mean()
    assert (given - blind).abs().mean() < 0.01  # the estimate reads 0.095-0.096 here


def test_fusion_window_defaults_by_objective_and_refuses_bad_values():
    assert fusion_window({"objective": "noise2void"}) == DEFAULT_WINDOW
    assert fusion_window({"objective": "noise2void", "fusion_window": 0}) == 0
    assert fusion_window({"objective": "supervised"}) == 0
    assert fusion_window({}) == 0
    for bad in (4, -1, 2.5, True):
        with pytest.raises(ConfigError, match="fusion_window"):
            fusion_window({"objective": "noise2void", "fusion_window": bad})
    with pytest.raises(ConfigError, match="only for train.objective noise2void"):
        fusion_window({"objective": "neighbor2neighbor", "fusion_window": 9})
    model = torch.nn.Identity()
    assert with_fusion(model, {"objective": "supervised"}) is model


def _save(tmp_path, objective, **train):
    model = create_model("unet", **KWARGS)
    config = {"train": {"objective": objective, **train}}
    meta = {"model": "unet", "kwargs": KWARGS, "config": config}
    return model, save_checkpoint(tmp_path / objective, model, meta)


def test_noise2void_checkpoints_load_with_fusion_and_train_from_the_bare_weights(tmp_path):
    model, path = _save(tmp_path, "noise2void")
    loaded, _ = load_checkpoint(path)
    assert isinstance(loaded, NoisyPixelFusion) and loaded.window == DEFAULT_WINDOW
    assert isinstance(load_checkpoint(path, fusion=9)[0], NoisyPixelFusion)
    assert load_checkpoint(path, fusion=9)[0].window == 9
    for off in (False, 0):
        bare, _ = load_checkpoint(path, fusion=off)
        assert not isinstance(bare, NoisyPixelFusion)
    x = torch.rand(1, 1, 20, 20)
    assert not torch.equal(loaded(x, 0.1), model.eval()(x))
    # --init and --resume read the network's own weights, not the wrapper's
    assert initial_weights(str(path), "unet", KWARGS).keys() == model.state_dict().keys()

    _, supervised = _save(tmp_path, "supervised")
    assert not isinstance(load_checkpoint(supervised)[0], NoisyPixelFusion)
    with pytest.raises(ConfigError, match="only for train.objective noise2void"):
        load_checkpoint(supervised, fusion=9)


def test_load_and_denoise_run_a_noise2void_checkpoint_with_its_fusion(tmp_path):
    import numpy as np

    import denoisekit

    _, path = _save(tmp_path, "noise2void")
    denoiser = denoisekit.load(str(path))
    assert isinstance(denoiser.model, NoisyPixelFusion) and denoiser.noise_aware
    noisy = np.random.default_rng(0).random((20, 24), dtype=np.float32)
    for sigma in (None, 0.1):
        out = denoiser.denoise(noisy, sigma=sigma, tile=16, overlap=4)
        assert out.shape == noisy.shape and out.dtype == noisy.dtype
