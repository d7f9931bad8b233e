"""The training loop: DataLoader workers change nothing but speed; bad loader settings refused."""

import pytest
import torch

from denoisekit.config import load_run_config
from denoisekit.errors import ConfigError
from denoisekit.train import train
from denoisekit.train.checkpoint import load_checkpoint


def _config(folder, *extra):
    return load_run_config(
        None,
        [
            f"data.train={folder}",
            "data.channels=1",
            "data.patch_size=8",
            "data.patches_per_image=4",
            "data.augment=true",
            "model.name=unet",
            "model.kwargs={base_channels: 4, depth: 2, in_channels: 1, out_channels: 1}",
            "train.epochs=1",
            "train.batch_size=4",
            "train.precision=32-true",
            *extra,
        ],
    )


def test_workers_cut_the_same_patches_as_the_training_process(tmp_path, gray_folder):
    # each patch is seeded by (seed, epoch, index), so worker processes train the same weights
    states = []
    for workers in (0, 2):
        config = _config(gray_folder, f"data.workers={workers}")
        result = train(config, tmp_path / f"w{workers}", progress=False)
        states.append(load_checkpoint(result.out_dir / "last.safetensors")[0].state_dict())
    for key, value in states[0].items():
        assert torch.equal(states[1][key], value), key


def test_negative_workers_are_refused(tmp_path, gray_folder):
    with pytest.raises(ConfigError, match="data.workers"):
        train(_config(gray_folder, "data.workers=-1"), tmp_path / "run", progress=False)
