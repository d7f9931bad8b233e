"""Jitter and resized crops in a training run, and the per-epoch callback tuning prunes with."""

import pytest
import torch

from denoisekit.checkpoints.checkpoint import load_checkpoint
from denoisekit.config import load_run_config
from denoisekit.errors import ConfigError
from denoisekit.train import train


def _config(folder, *extra):
    return load_run_config(
        None,
        [
            f"data.train={folder}",
            "data.channels=1",
            "data.patch_size=null",
            "data.size=12",
            "model.name=unet",
            "model.kwargs={base_channels: 4, depth: 1, in_channels: 1}",
            "train.epochs=2",
            "train.batch_size=2",
            "train.precision=32-true",
            *extra,
        ],
    )


def test_jitter_and_crops_change_what_is_learned_and_epochs_are_reported(
    tmp_path, gray_folder, one_thread
):
    rows = []
    plain = train(_config(gray_folder), tmp_path / "plain", progress=False, on_epoch=rows.append)
    assert [r["epoch"] for r in rows] == [1, 2] and all(r["val_psnr"] for r in rows)
    augmented = train(
        _config(gray_folder, "data.jitter=0.2", "data.crop_scale=0.5"),
        tmp_path / "aug",
        progress=False,
    )
    a = load_checkpoint(plain.best_path)[0].state_dict()
    b = load_checkpoint(augmented.best_path)[0].state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)


def test_a_bad_jitter_is_refused_before_training(tmp_path, gray_folder):
    with pytest.raises(ConfigError, match="data.jitter"):
        train(_config(gray_folder, "data.jitter=1.5"), tmp_path / "bad", progress=False)
