"""`train --device/--devices` (issue 39): the same device spellings as the inference verbs,
turned into train.accelerator / train.devices; a GPU asked for where none is fails in one line."""

import pytest
import torch
import yaml

from denoisekit.cli import main
from denoisekit.cli.verbs import _device_overrides
from denoisekit.config import load_run_config

pytestmark = pytest.mark.usefixtures("one_thread")


def test_device_flags_become_train_settings():
    assert _device_overrides(None, None) == []
    assert _device_overrides("cpu", "2") == ["train.accelerator=cpu", "train.devices=2"]
    assert _device_overrides("cuda", "0,1") == ["train.accelerator=cuda", "train.devices='0,1'"]
    assert _device_overrides("auto", "-1") == ["train.accelerator=auto", "train.devices=-1"]
    config = load_run_config(None, _device_overrides("cuda", "0,1"))
    assert config.train.devices == "0,1" and config.train.accelerator == "cuda"


def test_train_on_the_named_device(gray_folder, tmp_path, capsys):
    run = tmp_path / "run"
    settings = [
        f"data.train={gray_folder}",
        "data.channels=1",
        "data.patch_size=8",
        "model.name=unet",
        "model.kwargs={base_channels: 2, depth: 1, in_channels: 1}",
        "train.epochs=1",
        "train.batch_size=4",
        "train.accelerator=cuda",
    ]
    args = ["train", "-o", str(run), *(a for s in settings for a in ("--set", s))]
    assert main([*args, "--device", "cpu", "--devices", "1"]) == 0  # the flags win over --set
    saved = yaml.safe_load((run / "config.yaml").read_text())["train"]
    assert (saved["accelerator"], saved["devices"]) == ("cpu", 1)
    if torch.cuda.device_count() < 2:  # no GPU 1 here: refused before any file is read
        capsys.readouterr()
        assert main([*args, "--device", "cuda:1", "-o", str(tmp_path / "gpu1")]) == 1
        err = capsys.readouterr().err.strip()
        assert "cuda:1" in err and len(err.splitlines()) == 1
        assert not (tmp_path / "gpu1").exists()


@pytest.mark.parametrize("bad", [["--devices", "0"], ["--devices", "two"], ["--device", "tpu"]])
def test_bad_device_flags_are_usage_errors(tmp_path, bad, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "-o", str(tmp_path / "run"), *bad])
    assert stop.value.code == 2
