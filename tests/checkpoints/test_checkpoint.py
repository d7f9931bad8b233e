import json

import pytest
import torch

from denoisekit import create_model
from denoisekit.checkpoints.checkpoint import (
    load_checkpoint,
    load_training_state,
    save_checkpoint,
    trained_estimator,
)
from denoisekit.errors import DataError


def _model():
    return create_model("unet", in_channels=1, base_channels=4, depth=2)


def test_round_trip_rebuilds_from_files_alone(tmp_path):
    model = _model()
    path = save_checkpoint(
        tmp_path / "best",
        model,
        {"model": "unet", "kwargs": {"in_channels": 1, "base_channels": 4, "depth": 2}, "epoch": 3},
    )
    assert path.suffix == ".safetensors" and (tmp_path / "best.json").is_file()
    loaded, meta = load_checkpoint(path)
    assert meta["epoch"] == 3 and "denoisekit_version" in meta
    x = torch.rand(1, 1, 20, 20)
    assert torch.equal(model.eval()(x), loaded(x))
    # no pickle anywhere: the weights file is safetensors (an 8-byte header length, then JSON)
    raw = path.read_bytes()
    header = int.from_bytes(raw[:8], "little")
    json.loads(raw[8 : 8 + header])


def test_optimizer_state_round_trip(tmp_path):
    model = _model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.rand(2, 1, 16, 16)).mean().backward()
    opt.step()
    meta = {"model": "unet", "kwargs": {"in_channels": 1, "base_channels": 4, "depth": 2}}
    save_checkpoint(tmp_path / "last", model, meta, optimizer=opt)
    fresh = torch.optim.Adam(_model().parameters(), lr=5.0)
    load_training_state(tmp_path / "last.safetensors", fresh)
    assert fresh.param_groups[0]["lr"] == 1e-3
    a, b = opt.state_dict()["state"], fresh.state_dict()["state"]
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k]["exp_avg"], b[k]["exp_avg"]) for k in a)


def test_missing_and_corrupt_checkpoints(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_checkpoint(tmp_path / "nope.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"garbage")
    (tmp_path / "bad.json").write_text('{"model": "unet", "kwargs": {}}')
    with pytest.raises(DataError, match="bad.safetensors"):
        load_checkpoint(tmp_path / "bad.safetensors")
    save_checkpoint(tmp_path / "other", _model(), {"model": "unet", "kwargs": {}})
    (tmp_path / "other.json").write_text('{"model": "unet", "kwargs": {"depth": 3}}')
    with pytest.raises(DataError, match="does not match .*other.json"):
        load_checkpoint(tmp_path / "other.safetensors")


def test_a_folder_or_an_image_is_not_a_checkpoint(tmp_path):
    from denoisekit.checkpoints.checkpoint import load_checkpoint

    with pytest.raises(DataError, match="folder without best.safetensors"):
        load_checkpoint(tmp_path)
    (tmp_path / "photo.png").write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="is not a checkpoint"):
        load_checkpoint(tmp_path / "photo.png")


def test_blind_estimator_follows_the_level_the_weights_learned_from(tmp_path):
    assert trained_estimator({}) == "pca"
    assert trained_estimator({"config": {"noise": {"level": "image"}}}) == "pca"
    assert trained_estimator({"config": {"noise": {"level": "pixel"}}}) == "pca"
    assert trained_estimator({"config": {"noise": {"level": "auto"}}}) == "haar"
    selfsup = {"noise": {"level": "image"}, "train": {"objective": "neighbor2neighbor"}}
    assert trained_estimator({"config": selfsup}) == "haar"
    model = create_model("drunet", channels=[4, 8], blocks=1)
    for level, expected in (("image", "pca"), ("auto", "haar")):
        meta = {"model": "drunet", "kwargs": {"channels": [4, 8], "blocks": 1}}
        meta["config"] = {"noise": {"level": level}}
        save_checkpoint(tmp_path / level, model, meta)
        assert load_checkpoint(tmp_path / level)[0].sigma_estimator == expected


def test_weights_header_names_model_and_kwargs(tmp_path):
    from denoisekit import __version__
    from denoisekit.checkpoints import weights_header

    kwargs = {"in_channels": 1, "base_channels": 4, "depth": 2}
    path = save_checkpoint(tmp_path / "best", _model(), {"model": "unet", "kwargs": kwargs})
    header = weights_header(path)
    assert header["model"] == "unet" and json.loads(header["kwargs"]) == kwargs
    assert header["denoisekit_version"] == __version__
    assert all(isinstance(v, str) for v in header.values())  # safetensors metadata is str -> str


def test_a_json_that_describes_another_model_is_refused(tmp_path):
    kwargs = {"in_channels": 1, "base_channels": 4, "depth": 2}
    save_checkpoint(tmp_path / "m", _model(), {"model": "unet", "kwargs": kwargs})
    # residual=True changes no tensor shape: without the header it would load, and run wrong
    residual = {"model": "unet", "kwargs": {**kwargs, "residual": True}}
    for described in (residual, {"model": "drunet", "kwargs": {"in_channels": 1}}):
        (tmp_path / "m.json").write_text(json.dumps(described))
        with pytest.raises(DataError) as caught:
            load_checkpoint(tmp_path / "m.safetensors")
        message = str(caught.value)
        assert "\n" not in message and "m.safetensors does not match" in message
        assert f"hold unet {json.dumps(kwargs, sort_keys=True)}" in message  # the header's
        wrong = json.dumps(described["kwargs"], sort_keys=True)
        assert f"describes {described['model']} {wrong}" in message  # the .json's


def test_weights_with_an_empty_header_still_load(tmp_path):
    from safetensors.torch import save_file

    from denoisekit.checkpoints import weights_header

    model = _model()
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(tmp_path / "old.safetensors"))  # as checkpoints were written before
    kwargs = {"in_channels": 1, "base_channels": 4, "depth": 2}
    (tmp_path / "old.json").write_text(json.dumps({"model": "unet", "kwargs": kwargs}))
    assert weights_header(tmp_path / "old.safetensors") == {}
    loaded, _ = load_checkpoint(tmp_path / "old.safetensors")
    x = torch.rand(1, 1, 20, 20)
    assert torch.equal(model.eval()(x), loaded(x))


def test_weights_header_of_a_damaged_file_names_it(tmp_path):
    from denoisekit.checkpoints import weights_header

    for name, raw in (
        ("short", b"\x05"),
        ("huge", b"\xff" * 16),
        ("text", b"\x04\0\0\0\0\0\0\0abcd"),
    ):
        (tmp_path / f"{name}.safetensors").write_bytes(raw)
        with pytest.raises(DataError, match=f"{name}.safetensors: not a safetensors file"):
            weights_header(tmp_path / f"{name}.safetensors")
