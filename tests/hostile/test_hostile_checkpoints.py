"""Hostile checkpoints: a .json asking for a huge network, a set torn between files, a disk
that fills while saving."""

import json

import pytest
import safetensors.torch
import torch

import denoisekit
from denoisekit import create_model
from denoisekit.checkpoints.checkpoint import (
    load_checkpoint,
    load_training_state,
    save_checkpoint,
)
from denoisekit.cli import main
from denoisekit.errors import DataError

KWARGS = {"in_channels": 1, "features": 8, "depth": 3}


def _save(folder, name="last", *, optimizer=True, epoch=1):
    torch.manual_seed(epoch)
    model = create_model("dncnn", **KWARGS)
    opt = torch.optim.Adam(model.parameters()) if optimizer else None
    if opt is not None:
        model(torch.rand(1, 1, 8, 8)).mean().backward()
        opt.step()
    meta = {"model": "dncnn", "kwargs": KWARGS, "epoch": epoch}
    return save_checkpoint(folder / name, model, meta, optimizer=opt), model, opt


@pytest.mark.parametrize(
    ("features", "said"),
    [
        (300_000, r"features=300000, far more than the \d+ tensors"),  # 8e11 parameters
        (20_000, r"features.*20000.*whose .* is \(20000, 1, 3, 3\)"),  # 3.6e9: built on meta
    ],
)
def test_a_json_asking_for_300000_features_is_refused_before_allocating(
    tmp_path, capsys, features, said
):
    weights, _, _ = _save(tmp_path, "best", optimizer=False)
    meta_path = tmp_path / "best.json"
    meta = json.loads(meta_path.read_text())
    meta["kwargs"]["features"] = features  # the allocator would fail
    meta.pop("sha256")
    meta_path.write_text(json.dumps(meta))
    # the header says what it holds; a header-less file (older checkpoints) is the case here
    state = safetensors.torch.load_file(str(weights))
    safetensors.torch.save_file(state, str(weights))
    with pytest.raises(DataError, match=said):
        load_checkpoint(weights)
    with pytest.raises(DataError, match=said):
        denoisekit.load(weights)
    image = tmp_path / "in.png"
    from PIL import Image

    Image.new("L", (16, 16)).save(image)
    code = main(
        ["denoise", str(image), "-o", str(tmp_path / "out.png"), "--checkpoint", str(weights)]
    )
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_new_weights_beside_the_json_of_the_save_before_are_refused(tmp_path):
    _save(tmp_path, epoch=1)
    old_json = (tmp_path / "last.json").read_text()
    _save(tmp_path, epoch=2)
    (tmp_path / "last.json").write_text(old_json)  # a save torn between its files
    with pytest.raises(DataError, match="not the file .*last.json was saved with"):
        load_checkpoint(tmp_path / "last.safetensors")
    model = create_model("dncnn", **KWARGS)
    with pytest.raises(DataError, match="torn"):
        load_training_state(tmp_path / "last", torch.optim.Adam(model.parameters()))


def test_optimizer_state_from_another_save_is_refused_on_resume(tmp_path):
    _save(tmp_path, epoch=1)
    old_optim = (tmp_path / "last.optim.safetensors").read_bytes()
    _save(tmp_path, epoch=2)
    (tmp_path / "last.optim.safetensors").write_bytes(old_optim)
    load_checkpoint(tmp_path / "last.safetensors")  # the weights alone are whole
    model = create_model("dncnn", **KWARGS)
    with pytest.raises(DataError, match="last.optim.safetensors is not the file"):
        load_training_state(tmp_path / "last", torch.optim.Adam(model.parameters()))


def test_a_disk_filling_during_a_save_names_the_file_and_keeps_the_last_set(tmp_path, monkeypatch):
    _save(tmp_path, epoch=1)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real = safetensors.torch.save_file
    calls = []

    def fill_up(tensors, filename, metadata=None):
        calls.append(filename)
        if len(calls) == 2:  # the weights were written, the optimizer state does not fit
            raise safetensors.SafetensorError("Error while serializing: No space left on device")
        real(tensors, filename, metadata=metadata)

    monkeypatch.setattr(safetensors.torch, "save_file", fill_up)
    with pytest.raises(
        DataError,
        match=r"cannot write checkpoint .*last.optim.safetensors: .*No "
        r"space left.*previous last.\* files are left as they were",
    ):
        _save(tmp_path, epoch=2)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # no temp left, nothing replaced
    _, meta = load_checkpoint(tmp_path / "last.safetensors")
    assert meta["epoch"] == 1


@pytest.mark.parametrize("change", [{"depth": 10**9}, {"features": 10**12}])
def test_a_json_asking_for_a_billion_layers_is_refused_before_building_them(tmp_path, change):
    weights, _, _ = _save(tmp_path, "best", optimizer=False)
    meta_path = tmp_path / "best.json"
    meta = json.loads(meta_path.read_text())
    meta["kwargs"].update(change)
    meta.pop("sha256")
    meta_path.write_text(json.dumps(meta))
    state = safetensors.torch.load_file(str(weights))
    safetensors.torch.save_file(state, str(weights))  # no header to compare the .json with
    ((key, value),) = change.items()
    with pytest.raises(DataError, match=rf"{key}={value}, far more than the \d+ tensors"):
        load_checkpoint(weights)


def test_weights_cut_short_are_one_line(tmp_path, capsys):
    weights, _, _ = _save(tmp_path, "best", optimizer=False)
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) - 100])
    meta_path = tmp_path / "best.json"
    meta = json.loads(meta_path.read_text())
    meta.pop("sha256")  # as a checkpoint written before hashes were recorded
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(DataError, match="cannot read checkpoint weights"):
        load_checkpoint(weights)
