"""Files that carry code: a pickle as a checkpoint (.pt, or renamed .safetensors), a YAML
config with a Python tag. Each is refused in one line and its code never runs."""

import json
import os
import pickle

import pytest

import denoisekit
from denoisekit.cli import main
from denoisekit.config import load_run_config
from denoisekit.errors import DenoiseKitError


class _Payload:
    """Unpickling this creates `marker`: the proof that code from the file ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.mark.parametrize("name", ["model.pt", "model.ckpt", "best.safetensors"])
def test_a_pickle_as_a_checkpoint_is_refused_without_running(tmp_path, capsys, name):
    marker = tmp_path / "code-ran"
    path = tmp_path / name
    path.write_bytes(pickle.dumps({"state_dict": _Payload(marker)}))
    if path.suffix == ".safetensors":
        (tmp_path / "best.json").write_text(json.dumps({"model": "dncnn", "kwargs": {}}))
    with pytest.raises(DenoiseKitError):
        denoisekit.load(path)
    code = main(
        [
            "evaluate",
            "--checkpoint",
            str(path),
            "--data",
            str(tmp_path),
            "--noise",
            "gaussian:0.1",
            "-o",
            str(tmp_path / "ev"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not marker.exists()


def test_a_yaml_python_tag_is_refused_without_running(tmp_path):
    marker = tmp_path / "code-ran"
    config = tmp_path / "run.yaml"
    config.write_text(f"name: !!python/object/apply:os.mkdir ['{marker}']\n")
    with pytest.raises(DenoiseKitError):
        load_run_config(config, [])
    assert not marker.exists()
