"""Self-supervised training end to end: noisy-only data, no clean image in any loss, validation
without clean images, burst folders, fine-tuning with train.init."""

import csv
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from denoisekit import create_model
from denoisekit.checkpoints.checkpoint import load_checkpoint, save_checkpoint
from denoisekit.config import load_run_config
from denoisekit.data.folder import ImageSet
from denoisekit.errors import ConfigError, DataError
from denoisekit.noise import parse_noise
from denoisekit.train import loop, train
from denoisekit.train.objectives import get_objective
from denoisekit.train.selfsup import fixed_noisy_shots, shot_dataset, validation_views

TINY_UNET = "model.kwargs={base_channels: 4, depth: 2, in_channels: 1, out_channels: 1}"


def _folder(path, n=10, size=(20, 20), mode="L", seed=0):
    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        shape = size if mode == "L" else (*size, 3)
        Image.fromarray(rng.integers(0, 255, shape).astype(np.uint8)).save(path / f"{i}.png")
    return path


def _config(*overrides):
    base = [
        "model.name=unet",
        TINY_UNET,
        "data.channels=1",
        "data.patch_size=16",
        "data.patches_per_image=1",
        "train.epochs=1",
        "train.batch_size=4",
        "train.precision=32-true",
        "train.loss=mse",
        "noise.train=gaussian:0.1",
    ]
    return load_run_config(None, base + list(overrides))


def _rows(out):
    with open(out / "metrics.csv") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    "objective", ["noise2void", "neighbor2neighbor", "noise2noise", "supervised"]
)
def test_synthetic_noise_trains_without_the_clean_image_reaching_the_loss(
    tmp_path, monkeypatch, objective, one_thread
):
    """Clean images that are constant 0.5: any batch tensor equal to them would show."""
    clean = [torch.full((1, 20, 20), 0.5) for _ in range(8)]
    seen = []
    real = loop.get_objective

    class Spied:  # the real objective, recording every batch it is given
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def __call__(self, model, batch, generator, progress=1.0):
            seen.append(batch)
            return self.inner(model, batch, generator, progress)

    def spying(*args, **kwargs):
        return Spied(real(*args, **kwargs))

    monkeypatch.setattr(loop, "get_objective", spying)
    fixed = objective != "supervised"
    config = _config(f"train.objective={objective}", f"data.fixed_noise={str(fixed).lower()}")
    sets = (
        ImageSet("flat", clean, [str(i) for i in range(8)]),
        ImageSet("v", clean[:2], ["a", "b"]),
    )
    result = train(config, tmp_path / "run", progress=False, datasets=sets)
    assert seen and math.isfinite(result.history[0]["train_loss"])
    for batch in seen:
        if objective == "supervised":  # the control: here the flat clean image is the target
            assert batch.target.std() == 0 and batch.sigma is not None
            continue
        for t in (batch.noisy, batch.target):
            assert t is None or t.std() > 0.05  # noisy, never the flat clean image
        assert (batch.target is None) == (objective != "noise2noise")
        assert batch.sigma is None  # the level the noise was made with is not passed either
    assert result.selected_by == "val_psnr"  # clean validation images exist here


def test_fixed_noise_repeats_every_epoch_and_fresh_noise_does_not():
    images = [torch.rand(1, 16, 16) for _ in range(3)]
    noise = parse_noise("gaussian:0.1")
    once = fixed_noisy_shots(images, noise, 2, seed=0)
    assert torch.equal(once[1], fixed_noisy_shots(images, noise, 2, seed=0)[1])
    assert once[1].shape == (2, 1, 16, 16) and not torch.equal(once[1][0], once[1][1])
    objective = get_objective("noise2void", torch.nn.functional.mse_loss)
    for fixed, same in ((True, True), (False, False)):
        config = _config("data.patch_size=null", "data.augment=false", f"data.fixed_noise={fixed}")
        data = shot_dataset(config, ImageSet("x", images, ["a", "b", "c"]), noise, objective)
        data.set_epoch(1)
        first = data[0]
        data.set_epoch(2)
        assert torch.equal(first, data[0]) == same
        assert not torch.equal(first[0], images[0])


def test_validation_without_clean_images_noises_clean_ones_once(tmp_path, one_thread):
    flat = ImageSet("flat", [torch.full((1, 12, 12), 0.5)] * 3, ["a", "b", "c"])
    views = validation_views(flat, 1, parse_noise("gaussian:0.1"), seed=0)
    assert all(v.shape == (1, 1, 12, 12) and v.std() > 0.05 for v in views)
    assert torch.equal(views[2], validation_views(flat, 1, parse_noise("gaussian:0.1"), 0)[2])
    assert torch.equal(validation_views(flat, 1, None, 0)[0], flat.images[0][None])
    with pytest.raises(ConfigError, match="burst folder"):
        validation_views(flat, 2, None, 0)
    config = _config(f"data.train={_folder(tmp_path / 'clean')}", "train.objective=noise2void")
    config.noise.eval = "none"  # synthetic noise, and validation by the objective's loss
    result = train(config, tmp_path / "run", progress=False)
    assert result.selected_by == "val_loss" and math.isfinite(result.best_val_loss)


def test_noisy_folder_validates_on_the_objective_loss(tmp_path, capsys, one_thread):
    photos = _folder(tmp_path / "photos")
    config = _config(
        f"data.train={photos}", "noise.train=none", "train.objective=neighbor2neighbor"
    )
    result = train(config, tmp_path / "run")
    assert result.selected_by == "val_loss" and math.isfinite(result.best_val_loss)
    assert math.isnan(result.best_val_psnr)
    row = _rows(tmp_path / "run")[0]
    assert row["val_psnr"] == "" and float(row["val_loss"]) > 0
    meta = json.loads((tmp_path / "run" / "best.json").read_text())
    assert meta["selected_by"] == "val_loss" and meta["objective"] == "neighbor2neighbor"
    assert "best by val_loss" in capsys.readouterr().out


def test_noise2void_on_photos_with_a_clean_validation_set_and_drunet(tmp_path, one_thread):
    photos = _folder(tmp_path / "photos", size=(24, 18))
    clean = _folder(tmp_path / "clean", seed=1)
    config = _config(
        f"data.train={photos}",
        f"data.val={clean}",
        "noise.train=none",
        "noise.eval=gaussian:0.1",
        "train.objective=noise2void",
        "model.name=drunet",
        "model.kwargs={in_channels: 1, channels: [4, 8], blocks: 1}",
    )
    result = train(config, tmp_path / "run", progress=False)
    assert result.selected_by == "val_psnr" and math.isfinite(result.best_val_psnr)


def test_noise2noise_on_a_burst_folder(tmp_path, one_thread):
    bursts = tmp_path / "bursts"
    for s in range(10):
        _folder(bursts / f"scene{s}", n=2, seed=s)
    config = _config(f"data.train={bursts}", "noise.train=none", "train.objective=noise2noise")
    result = train(config, tmp_path / "run", progress=False)
    assert result.selected_by == "val_loss" and math.isfinite(result.best_val_loss)
    (bursts / "scene3" / "1.png").unlink()
    with pytest.raises(Exception, match="scene3 has 1 shot"):
        train(config, tmp_path / "run2", progress=False)


def test_fine_tune_from_init_with_a_self_supervised_objective(tmp_path, one_thread):
    photos = _folder(tmp_path / "photos")
    kwargs = {"base_channels": 4, "depth": 2, "in_channels": 1, "out_channels": 1}
    torch.manual_seed(5)
    start = create_model("unet", **kwargs)
    save_checkpoint(tmp_path / "start", start, {"model": "unet", "kwargs": kwargs})
    config = _config(
        f"data.train={photos}",
        "noise.train=none",
        "train.objective=noise2void",
        f"train.init={tmp_path / 'start.safetensors'}",
        "train.lr=1e-12",
    )
    result = train(config, tmp_path / "run", progress=False)
    # the start, validated by the objective's loss (no clean images) before the first step
    first = result.history[0]
    assert first["epoch"] == 0 and first["train_loss"] is None and first["val_psnr"] is None
    assert math.isfinite(first["val_loss"]) and result.best_val_loss <= first["val_loss"]
    model, _ = load_checkpoint(result.best_path, fusion=False)  # the network, not the wrapper
    for key, value in start.state_dict().items():
        assert torch.allclose(model.state_dict()[key], value, atol=1e-6), key


def test_channels_that_do_not_fit_the_model_are_refused_before_training(tmp_path):
    photos = _folder(tmp_path / "photos", mode="RGB")
    config = _config(f"data.train={photos}", "data.channels=null")
    with pytest.raises(ConfigError, match="takes 1-channel images but .* gives 3-channel"):
        train(config, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_a_burst_folder_too_small_to_split_says_so(tmp_path):
    bursts = tmp_path / "bursts"
    for s in range(2):
        _folder(bursts / f"scene{s}", n=2, seed=s)
    config = _config(f"data.train={bursts}", "noise.train=none", "train.objective=noise2noise")
    with pytest.raises(DataError, match="0 validation scenes; .* needs 3 or more scenes"):
        train(config, tmp_path / "run", progress=False)


def test_mixed_sizes_and_modes(tmp_path, one_thread):
    photos = _folder(tmp_path / "photos", n=5, size=(20, 26))
    rng = np.random.default_rng(3)
    for i in range(5):
        Image.fromarray(rng.integers(0, 255, (31, 17, 3)).astype(np.uint8)).save(
            photos / f"rgb{i}.png"
        )
    mixed = _config(
        f"data.train={photos}",
        "noise.train=none",
        "train.objective=noise2void",
        "data.channels=null",
    )
    with pytest.raises(ConfigError, match="set data.channels to 1 or 3"):
        train(mixed, tmp_path / "run", progress=False)
    whole = _config(
        f"data.train={photos}",
        "noise.train=none",
        "train.objective=noise2void",
        "data.patch_size=null",
    )
    with pytest.raises(ConfigError, match="differ in size"):
        train(whole, tmp_path / "run", progress=False)
    ok = _config(f"data.train={photos}", "noise.train=none", "train.objective=noise2void")
    assert train(ok, tmp_path / "run", progress=False).best_epoch == 1


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["noise.train=none"], "supervised needs clean images"),
        (["data.fixed_noise=true"], "fixed_noise"),
        (["train.objective=noise2void", "noise.train=none", "noise.eval=gaussian:0.1"], "data.val"),
        (["train.objective=noise2vid"], "did you mean noise2void"),
        (["train.fusion_window=25"], "only for train.objective noise2void"),
        (["train.objective=noise2void", "data.fixed_noise=true", "train.fusion_window=4"], "odd"),
    ],
)
def test_config_mistakes_are_refused_before_training(tmp_path, overrides, message):
    with pytest.raises(Exception, match=message):
        train(_config(*overrides), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()
