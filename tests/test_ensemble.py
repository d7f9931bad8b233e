"""Self-ensemble (`+x8`): the 8-view mean, equivariance, level maps, and the `+x8` names."""

import json

import numpy as np
import pytest
import torch

from denoisekit import create_model, load
from denoisekit.benchmark.methods import resolve_method
from denoisekit.checkpoints import pretrained
from denoisekit.checkpoints.checkpoint import save_checkpoint
from denoisekit.cli import main
from denoisekit.data import dihedral
from denoisekit.errors import ConfigError
from denoisekit.inference.ensemble import SelfEnsemble, split_ensemble


def drunet():
    torch.manual_seed(0)
    model = create_model("drunet", in_channels=1, channels=(4, 8), blocks=1).eval()
    torch.nn.init.normal_(model.tail.weight, std=0.1)  # not the identity it starts as
    return model


def test_output_is_the_mean_of_the_8_views_turned_back():
    model = drunet()
    g = torch.Generator().manual_seed(1)
    noisy, sigma = torch.rand(2, 1, 13, 18, generator=g), torch.tensor([0.05, 0.2])
    with torch.no_grad():
        views = [dihedral(model(dihedral(noisy, k), sigma), k, inverse=True) for k in range(8)]
        expected = torch.stack(views).mean(0)
        got = SelfEnsemble(model)(noisy, sigma)
    assert got.shape == noisy.shape
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
    assert (got - model(noisy, sigma)).abs().max() > 1e-4  # the views do differ


@pytest.mark.parametrize("k", range(8))
def test_ensemble_is_equivariant_with_a_per_pixel_level_map(k):
    # Holds only if the map turns with the image and every view is turned back exactly.
    ensemble = SelfEnsemble(drunet())
    g = torch.Generator().manual_seed(2)
    noisy = torch.rand(1, 1, 12, 17, generator=g)
    level = torch.linspace(0.0, 0.2, 17).expand(1, 1, 12, 17)  # rises left to right
    with torch.no_grad():
        turned_first = ensemble(dihedral(noisy, k), dihedral(level, k))
        turned_after = dihedral(ensemble(noisy, level), k)
    torch.testing.assert_close(turned_first, turned_after, rtol=0, atol=1e-5)


def test_models_without_a_noise_level_and_blind_calls():
    torch.manual_seed(0)
    dncnn = create_model("dncnn", in_channels=3, depth=3, features=4).eval()
    noisy = torch.rand(1, 3, 9, 11)
    ensemble = SelfEnsemble(dncnn)
    assert not ensemble.noise_aware and ensemble.in_channels == 3
    with torch.no_grad():
        expected = sum(dihedral(dncnn(dihedral(noisy, k)), k, inverse=True) for k in range(8))
        torch.testing.assert_close(ensemble(noisy), expected / 8, rtol=0, atol=1e-6)
        blind = SelfEnsemble(drunet())(noisy[:, :1])  # level estimated once, shared by views
    assert blind.shape == (1, 1, 9, 11) and torch.isfinite(blind).all()


def test_filters_and_double_ensembles_are_refused():
    with pytest.raises(ConfigError, match="not the classical filter 'median'"):
        SelfEnsemble(create_model("median"))
    with pytest.raises(ConfigError, match="already a self-ensemble"):
        SelfEnsemble(SelfEnsemble(drunet()))


def test_split_ensemble_names(tmp_path):
    assert split_ensemble("gray-blind+x8") == ("gray-blind", True)
    assert split_ensemble(" run/best.safetensors+x8 ") == ("run/best.safetensors", True)
    assert split_ensemble("gray-blind") == ("gray-blind", False)
    assert split_ensemble("+x8") == ("+x8", False)
    real = tmp_path / "odd+x8"
    real.write_text("")
    assert split_ensemble(str(real)) == (str(real), False)  # a file by that name wins


def test_load_benchmark_and_evaluate_take_the_suffix(tmp_path, monkeypatch):
    monkeypatch.setenv(pretrained.WEIGHTS_ENV, str(tmp_path / "weights"))
    meta = {"model": "drunet", "kwargs": {"in_channels": 1, "channels": [4, 8], "blocks": 1}}
    save_checkpoint(tmp_path / "weights" / "gray-blind", drunet(), meta)
    loaded = load("gray-blind+x8")
    assert loaded.name == "gray-blind+x8" and isinstance(loaded.model, SelfEnsemble)
    image = np.random.default_rng(0).integers(0, 256, (20, 23), dtype=np.uint8)
    assert loaded.denoise(image).shape == (20, 23)

    method = resolve_method("gray-blind+x8")
    assert method.label == "gray-blind+x8" and isinstance(method.model, SelfEnsemble)
    assert method.kind == "network" and method.params == resolve_method("gray-blind").params
    with pytest.raises(ConfigError, match="classical filter 'nlm'"):
        resolve_method("nlm+x8")

    from PIL import Image

    clean = tmp_path / "clean"
    clean.mkdir()
    Image.fromarray(image).save(clean / "a.png")
    out = tmp_path / "eval"
    code = main(
        ["evaluate", "--checkpoint", "gray-blind+x8", "--data", str(clean), "--split", "all",
         "--noise", "gaussian:0.1", "--out", str(out)]
    )  # fmt: skip
    assert code in (0, None)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["protocol"]["checkpoint"] == "gray-blind+x8"
