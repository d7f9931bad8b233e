"""`denoisekit export`: ONNX and OpenVINO files that run like PyTorch, with their metadata."""

import json

import numpy as np
import pytest
import torch

import denoisekit
from denoisekit import __version__
from denoisekit.checkpoints.checkpoint import save_checkpoint
from denoisekit.cli import main
from denoisekit.runtimes import installed


def _inputs(channels=3, height=41, width=58):
    generator = torch.Generator().manual_seed(1)
    noisy = torch.rand(2, channels, height, width, generator=generator)
    return noisy, torch.full((2, 1, height, width), 25 / 255)


@pytest.mark.skipif(not installed("onnxruntime"), reason="needs onnx + onnxruntime ([export])")
def test_onnx_round_trip_runs_in_onnxruntime_like_pytorch(tmp_path, capsys):
    import onnxruntime

    from denoisekit.runtimes.onnx import onnx_metadata

    path = tmp_path / "m.onnx"
    assert main(["export", "color-blind", "--format", "onnx", "-o", str(path)]) == 0
    assert "max |diff|" in capsys.readouterr().out
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["noisy", "level"]
    noisy, level = _inputs()  # another batch and size than the export's own check
    got = session.run(None, {"noisy": noisy.numpy(), "level": level.numpy()})[0]
    with torch.no_grad():
        expected = denoisekit.load("color-blind", device="cpu").model(noisy, level).numpy()
    assert np.abs(got - expected).max() <= 1e-4
    meta = onnx_metadata(path)
    assert meta["model"] == "drunet" and meta["denoisekit_version"] == __version__
    assert json.loads(meta["kwargs"])["in_channels"] == 3


@pytest.mark.skipif(not installed("openvino"), reason="needs openvino ([fast] or [export])")
def test_openvino_round_trip_with_metadata(tmp_path):
    import openvino

    path = tmp_path / "m.xml"
    assert main(["export", "gray-blind", "--format", "openvino", "-o", str(path)]) == 0
    assert path.with_suffix(".bin").is_file()
    read = openvino.Core().read_model(str(path))
    assert read.get_rt_info(["denoisekit", "model"]).astype(str) == "drunet"
    compiled = openvino.Core().compile_model(read, "CPU")
    noisy, level = _inputs(channels=1, height=33, width=17)
    got = compiled([noisy.numpy(), level.numpy()])[0]
    with torch.no_grad():
        expected = denoisekit.load("gray-blind", device="cpu").model(noisy, level).numpy()
    assert np.abs(got - expected).max() <= 1e-4
    # an IR is NAME.xml + NAME.bin: another suffix is refused before any work
    assert main(["export", "gray-blind", "--format", "openvino", "-o", str(tmp_path / "x")]) == 1


@pytest.mark.skipif(not installed("onnxruntime"), reason="needs onnx + onnxruntime ([export])")
def test_a_model_without_noise_level_takes_the_image_alone(tmp_path):
    import onnxruntime

    kwargs = {"in_channels": 1, "base_channels": 4, "depth": 2}
    model = denoisekit.create_model("unet", **kwargs)
    checkpoint = save_checkpoint(tmp_path / "u", model, {"model": "unet", "kwargs": kwargs})
    path = tmp_path / "u.onnx"
    assert main(["export", str(checkpoint), "-o", str(path)]) == 0
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["noisy"]
    noisy = torch.rand(1, 1, 29, 35)
    with torch.no_grad():
        expected = model.eval()(noisy).numpy()
    assert np.abs(session.run(None, {"noisy": noisy.numpy()})[0] - expected).max() <= 1e-4


def test_what_cannot_be_exported_is_refused(tmp_path, capsys):
    assert main(["export", "nlm", "-o", str(tmp_path / "n.onnx")]) == 1
    assert "only networks" in capsys.readouterr().err
    (tmp_path / "there.onnx").write_text("keep")
    assert main(["export", "gray-blind", "-o", str(tmp_path / "there.onnx")]) == 2
    assert (tmp_path / "there.onnx").read_text() == "keep"
