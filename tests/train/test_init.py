"""`train.init` / `--init`: start a training from saved weights with a fresh optimizer."""

import pytest
import torch

from denoisekit import create_model
from denoisekit.checkpoints.checkpoint import load_checkpoint, save_checkpoint
from denoisekit.config import load_run_config
from denoisekit.errors import ConfigError, DataError, UnknownNameError
from denoisekit.train import train
from denoisekit.train.init import initial_weights

KWARGS = {"base_channels": 4, "depth": 2, "in_channels": 1, "out_channels": 1}


def _saved(tmp_path):
    torch.manual_seed(3)
    model = create_model("unet", **KWARGS)
    save_checkpoint(tmp_path / "start", model, {"model": "unet", "kwargs": KWARGS})
    return model, tmp_path / "start.safetensors"


def test_initial_weights_loads_a_checkpoint_and_refuses_mismatches(tmp_path):
    model, path = _saved(tmp_path)
    state = initial_weights(str(path), "unet", KWARGS)
    for key, value in model.state_dict().items():
        assert torch.equal(state[key], value), key
    with pytest.raises(ConfigError, match="set model.name"):
        initial_weights(str(path), "unet", {**KWARGS, "base_channels": 8})
    with pytest.raises(ConfigError, match="dncnn"):
        initial_weights(str(path), "dncnn", {})
    with pytest.raises(DataError, match="no checkpoint"):
        initial_weights(str(tmp_path / "missing.safetensors"), "unet", KWARGS)
    with pytest.raises(UnknownNameError, match="unknown pretrained"):
        initial_weights("gray-blindd", "drunet", {})


def test_training_starts_from_the_init_weights(tmp_path, gray_folder):
    model, path = _saved(tmp_path)
    config = load_run_config(
        None,
        [
            f"data.train={gray_folder}",
            "data.channels=1",
            "model.name=unet",
            "model.kwargs={base_channels: 4, depth: 2, in_channels: 1, out_channels: 1}",
            "train.epochs=1",
            "train.batch_size=4",
            "train.precision=32-true",
            "train.lr=1e-12",  # so the trained weights stay at the start point
            f"train.init={path}",
        ],
    )
    result = train(config, tmp_path / "run", progress=False)
    trained, _ = load_checkpoint(result.best_path)
    for key, value in model.state_dict().items():
        assert torch.allclose(trained.state_dict()[key], value, atol=1e-6), key


SMALL_DRUNET = {"in_channels": 1, "channels": [4, 8], "blocks": 1}


def test_grow_starts_a_deeper_drunet_at_the_smaller_ones_function(tmp_path):
    torch.manual_seed(0)
    smaller = create_model("drunet", **SMALL_DRUNET)
    for parameter in smaller.parameters():  # the zero-initialised tail would hide everything
        parameter.data.normal_(0, 0.2)
    save_checkpoint(tmp_path / "small", smaller, {"model": "drunet", "kwargs": SMALL_DRUNET})
    deeper_kwargs = {**SMALL_DRUNET, "blocks": 3}
    deeper = create_model("drunet", **deeper_kwargs)
    path = str(tmp_path / "small.safetensors")
    with pytest.raises(ConfigError, match="set model.name"):  # growing is asked for, not guessed
        initial_weights(path, "drunet", deeper_kwargs)
    deeper.load_state_dict(initial_weights(path, "drunet", deeper_kwargs, grow_into=deeper))
    noisy = torch.rand(2, 1, 12, 10)
    with torch.no_grad():
        assert torch.allclose(deeper(noisy, 0.1), smaller(noisy, 0.1), atol=1e-5)
    new_block = deeper.middle[2].body
    assert torch.count_nonzero(new_block[2].weight) == 0  # identity at the start...
    assert torch.count_nonzero(new_block[0].weight) > 0  # ...but able to learn
    assert torch.equal(deeper.middle[0].body[0].weight, smaller.middle[0].body[0].weight)


def test_grow_refuses_what_it_cannot_grow(tmp_path):
    smaller = create_model("drunet", **SMALL_DRUNET)
    save_checkpoint(tmp_path / "small", smaller, {"model": "drunet", "kwargs": SMALL_DRUNET})
    path = str(tmp_path / "small.safetensors")
    wider = create_model("drunet", **{**SMALL_DRUNET, "channels": [8, 16], "blocks": 2})
    with pytest.raises(ConfigError, match="only blocks may differ"):
        initial_weights(path, "drunet", {}, grow_into=wider)
    same = create_model("drunet", **SMALL_DRUNET)
    with pytest.raises(ConfigError, match="not fewer than 1"):
        initial_weights(path, "drunet", SMALL_DRUNET, grow_into=same)
    unet = create_model("unet", **KWARGS)
    with pytest.raises(ConfigError, match="unet cannot grow .drunet can"):
        initial_weights(path, "unet", KWARGS, grow_into=unet)


def test_grow_without_init_is_refused(tmp_path):
    config = load_run_config(None, ["train.grow=true", "train.epochs=1"])
    with pytest.raises(ConfigError, match="train.grow needs train.init"):
        train(config, tmp_path / "run", progress=False)
