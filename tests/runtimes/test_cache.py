"""The disk cache of converted networks: built once, rebuilt when the weights or the versions
change, never left half-written."""

import json

import numpy as np
import pytest
import torch

from denoisekit.registry import create_model
from denoisekit.runtimes import accelerate, installed
from denoisekit.runtimes.cache import KEY_FILE, cached_folder, model_key, weights_hash


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("DENOISEKIT_CACHE", str(folder))
    return folder


def _tiny():
    torch.manual_seed(0)
    return create_model("drunet", in_channels=1, channels=(4, 8), blocks=1).eval()


def _writer(calls):
    def build(folder):
        calls.append(folder)
        (folder / "model.txt").write_text("converted")

    return build


def test_built_once_and_reused(cache):
    calls = []
    key = {"runtime": "fake", "weights_sha256": "a", "denoisekit": "0"}
    first = cached_folder(key, _writer(calls))
    assert cached_folder(dict(key), _writer(calls)) == first
    assert len(calls) == 1 and (first / "model.txt").is_file()
    assert json.loads((first / KEY_FILE).read_text()) == key
    # another version (or weights) is another folder: never trusted across versions
    assert cached_folder({**key, "denoisekit": "1"}, _writer(calls)) != first
    assert len(calls) == 2


def test_a_broken_or_foreign_folder_is_rebuilt(cache):
    calls = []
    key = {"runtime": "fake", "weights_sha256": "a"}
    folder = cached_folder(key, _writer(calls))
    (folder / KEY_FILE).write_text("{}")  # e.g. an interrupted older writer
    assert cached_folder(key, _writer(calls)) == folder and len(calls) == 2
    assert json.loads((folder / KEY_FILE).read_text()) == key


def test_a_failed_build_leaves_nothing(cache):
    def fail(folder):
        (folder / "half").write_text("x")
        raise RuntimeError("converter crashed")

    with pytest.raises(RuntimeError, match="crashed"):
        cached_folder({"runtime": "fake"}, fail)
    assert list((cache / "fake").iterdir()) == []


def test_the_key_follows_the_weights():
    model = _tiny()
    before = weights_hash(model)
    assert weights_hash(model.to(memory_format=torch.channels_last)) == before
    with torch.no_grad():
        next(model.parameters())[0].add_(1e-3)
    assert weights_hash(model) != before
    assert model_key(model, runtime="x")["weights_sha256"] == weights_hash(model)


@pytest.mark.parametrize("runtime", [r for r in ("openvino", "onnxruntime") if installed(r)])
def test_changed_weights_are_converted_again(cache, runtime):
    model = _tiny()
    noisy, level = torch.rand(1, 1, 24, 20), torch.tensor([0.1])
    accelerate(model, runtime, "fp32", torch.device("cpu"))
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.01)
        expected = model(noisy, level)
        got = accelerate(model, runtime, "fp32", torch.device("cpu"))(noisy, level)
    assert len(list((cache / runtime).iterdir())) == 2
    assert np.abs((got - expected).numpy()).max() <= 1e-4
