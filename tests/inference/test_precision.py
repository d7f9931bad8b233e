"""Inference precision (fp32, bf16 autocast, "auto" by the device) and memory layout."""

import numpy as np
import pytest
import torch
from torch import nn

import denoisekit
from denoisekit.cli import main
from denoisekit.errors import ConfigError
from denoisekit.inference import LoadedDenoiser, precision
from denoisekit.metrics import psnr

pytestmark = pytest.mark.usefixtures("one_thread")


class Recorder(nn.Module):
    """Identity with one weight; records the autocast state and memory layout it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.in_channels = 3
        self.weight = nn.Parameter(torch.ones(1))
        self.seen = []

    def forward(self, noisy):
        self.seen.append(
            (
                torch.is_autocast_enabled("cpu"),
                noisy.is_contiguous(memory_format=torch.channels_last),
            )
        )
        return (noisy * self.weight).to(torch.bfloat16 if self.seen[-1][0] else noisy.dtype)


def test_resolve_precision(monkeypatch):
    cpu = torch.device("cpu")
    assert precision.resolve_precision("fp32", cpu) == "fp32"
    assert precision.resolve_precision("bf16", cpu) == "bf16"
    monkeypatch.setattr(precision, "native_bf16", lambda device: True)
    assert precision.resolve_precision("auto", cpu) == "bf16"
    monkeypatch.setattr(precision, "native_bf16", lambda device: False)
    assert precision.resolve_precision("auto", cpu) == "fp32"
    with pytest.raises(ConfigError, match="fp8.*auto, fp32, bf16"):
        precision.resolve_precision("fp8", cpu)
    with pytest.raises(ConfigError, match="fp16"):
        LoadedDenoiser(Recorder(), precision="fp16")


@pytest.mark.parametrize("mode", ["fp32", "bf16"])
def test_cpu_runs_channels_last_autocast_only_in_bf16_and_returns_float32(mode):
    recorder = Recorder()
    image = torch.rand(1, 3, 20, 24)
    out = LoadedDenoiser(recorder, precision=mode).denoise(image, tile=16, overlap=4)
    assert out.dtype == torch.float32 and out.shape == image.shape
    assert all(seen == (mode == "bf16", True) for seen in recorder.seen) and len(recorder.seen) > 1


def test_channels_last_on_cpu_always_and_on_a_gpu_with_bf16_only():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert precision.use_channels_last("fp32", cpu) and precision.use_channels_last("bf16", cpu)
    assert precision.use_channels_last("bf16", cuda) and not precision.use_channels_last(
        "fp32", cuda
    )


def test_channels_last_fp32_gives_the_nchw_result():
    model = denoisekit.load("color-blind").model
    noisy = torch.rand(1, 3, 48, 40, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        nchw = model(noisy, torch.tensor([0.1]))
        out = denoisekit.denoise(noisy, "color-blind", sigma=0.1, precision="fp32")
    torch.testing.assert_close(out, nchw.clamp(0, 1), atol=1e-5, rtol=0)


def test_load_sets_precision_without_reloading():
    loaded = LoadedDenoiser(Recorder())
    assert loaded.precision == "fp32" and denoisekit.load(loaded) is loaded
    fast = denoisekit.load(loaded, precision="auto")
    assert fast.precision == "auto" and fast.model is loaded.model and loaded.precision == "fp32"
    assert denoisekit.load("nlm", precision="bf16").denoise(np.zeros((8, 8), np.uint8)).shape


def test_shipped_model_in_bf16_scores_as_in_fp32():
    from skimage import data

    clean = torch.from_numpy(data.astronaut()[:128, 192:320].astype(np.float32) / 255)
    clean = clean.permute(2, 0, 1)[None]
    noisy = clean + torch.randn(clean.shape, generator=torch.Generator().manual_seed(0)) * 0.1
    scores = {
        mode: denoisekit.denoise(noisy, "color-blind", sigma=0.1, precision=mode)
        for mode in ("fp32", "bf16")
    }
    assert not torch.equal(scores["fp32"], scores["bf16"])  # bf16 really ran
    gap = float(psnr(scores["fp32"], clean) - psnr(scores["bf16"], clean))
    assert abs(gap) < 0.02  # README: 0.001 dB on CBSD68 at sigma 25


def test_cli_precision_option(tmp_path, capsys):
    image = np.random.default_rng(0).integers(0, 256, (24, 20, 3), dtype=np.uint8)
    from PIL import Image

    Image.fromarray(image).save(tmp_path / "in.png")
    for mode in ("fp32", "bf16"):
        out = tmp_path / f"{mode}.png"
        args = ["denoise", str(tmp_path / "in.png"), "-o", str(out), "--precision", mode]
        assert main([*args, "--model", "color-blind"]) == 0 and out.is_file()
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "denoise",
                str(tmp_path / "in.png"),
                "-o",
                str(tmp_path / "x.png"),
                "--precision",
                "fp8",
            ]
        )
    assert exc.value.code == 2
    assert "invalid choice: 'fp8'" in capsys.readouterr().err
