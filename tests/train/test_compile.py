"""train.compile: the model is compiled for training and Fabric keeps the compilation around
its wrapper; checkpoints hold the plain model's weights. Dynamo's `eager` backend stands in for
Inductor here (it traces without generating code: seconds, no C++ compiler), so the compiled run
must train the very weights the plain run trains."""

import pytest
import torch

from denoisekit.checkpoints.checkpoint import load_checkpoint
from denoisekit.config import load_run_config
from denoisekit.train import train

pytestmark = pytest.mark.usefixtures("one_thread")


def _config(folder, *extra):
    settings = [
        f"data.train={folder}",
        "data.channels=1",
        "data.patch_size=8",
        "data.patches_per_image=4",
        "model.name=unet",
        "model.kwargs={base_channels: 4, depth: 1, in_channels: 1, out_channels: 1}",
        "train.epochs=1",
        "train.batch_size=4",
        "train.precision=32-true",
        "train.accelerator=cpu",
    ]
    return load_run_config(None, [*settings, *extra])


def test_compiled_training_trains_the_plain_runs_weights(tmp_path, gray_folder, monkeypatch):
    compiled = []
    plain_compile = torch.compile

    def eager_compile(model, **kwargs):
        compiled.append(type(model).__name__)
        return plain_compile(model, **{**kwargs, "backend": "eager"})

    monkeypatch.setattr(torch, "compile", eager_compile)
    states = []
    for flag in ("false", "true"):
        result = train(
            _config(gray_folder, f"train.compile={flag}"), tmp_path / flag, progress=False
        )
        states.append(load_checkpoint(result.out_dir / "last.safetensors")[0].state_dict())
    assert compiled and compiled[0] == "UNet"  # the compiled run only (Fabric re-wraps it)
    assert states[0].keys() == states[1].keys()  # no "_orig_mod." in the saved names
    for key, value in states[0].items():
        assert torch.equal(states[1][key], value), key
