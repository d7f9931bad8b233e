"""`--runtime auto` picks by CPU kind and what is installed, and falls back to torch."""

import numpy as np
import pytest
import torch

import denoisekit
from denoisekit.cli import main
from denoisekit.errors import ConfigError
from denoisekit.runtimes import choose

CPU = torch.device("cpu")


@pytest.fixture
def only(monkeypatch):
    """only(*names): pretend just these runtimes (and torch) are installed."""

    def pretend(*names):
        present = {"torch", *names}
        monkeypatch.setattr(choose, "installed", lambda runtime: runtime in present)

    return pretend


def test_auto_takes_the_fastest_installed_runtime_for_the_cpu(only):
    only("openvino", "onnxruntime")
    assert choose.resolve_runtime("auto", CPU, "fp32") == ("openvino", "fp32")
    assert choose.resolve_runtime("auto", CPU, "bf16") == ("openvino", "bf16")
    only("onnxruntime")
    assert choose.resolve_runtime("auto", CPU, "fp32") == ("onnxruntime", "fp32")
    # no bf16 in onnxruntime: where the CPU has bf16, torch's bf16 beats its fp32
    assert choose.resolve_runtime("auto", CPU, "bf16") == ("torch", "bf16")
    only()
    assert choose.resolve_runtime("auto", CPU, "fp32") == ("torch", "fp32")


def test_a_missing_runtime_named_is_one_clear_error(only):
    only()
    with pytest.raises(ConfigError, match="not installed.*pip install"):
        choose.resolve_runtime("openvino", CPU, "fp32")
    with pytest.raises(ConfigError, match="use one of"):
        choose.check_runtime("tensorrt")


def test_a_gpu_keeps_torch(only, monkeypatch):
    only("openvino", "onnxruntime")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    cuda = torch.device("cuda", 0)
    assert choose.resolve_runtime("auto", cuda, "bf16") == ("torch", "bf16")
    with pytest.raises(ConfigError, match="runs on the CPU"):
        choose.resolve_runtime("openvino", cuda, "fp32")


def test_load_auto_falls_back_to_torch_when_nothing_else_is_installed(only):
    only()
    image = np.random.default_rng(0).random((20, 24), dtype=np.float32)
    loaded = denoisekit.load("gray-blind", device="cpu", runtime="auto")
    assert loaded.runs_on() == ("torch", "fp32")
    expected = denoisekit.load("gray-blind", device="cpu").denoise(image, sigma=0.1)
    assert np.array_equal(loaded.denoise(image, sigma=0.1), expected)
    with pytest.raises(ConfigError, match="not installed"):
        denoisekit.load("gray-blind", device="cpu", runtime="onnxruntime").denoise(image)


def test_classical_filters_run_their_own_code_whatever_the_runtime():
    assert denoisekit.load("median", runtime="openvino").runs_on() == ("torch", "fp32")


def test_an_unknown_runtime_is_a_usage_error(tmp_path):
    argv = ["denoise", str(tmp_path / "a.png"), "-o", str(tmp_path / "b.png")]
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--runtime", "tensorrt"])
    assert stop.value.code == 2


def test_cpu_flags_name_native_bf16(monkeypatch):
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    monkeypatch.setattr(choose, "cpu_flags", lambda: frozenset({"avx2", "amx_bf16"}))
    assert choose.native_bf16_cpu()
    monkeypatch.setattr(choose, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert not choose.native_bf16_cpu()
