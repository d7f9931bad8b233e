"""`auto` runs OpenVINO in bf16 only where that costs at most 0.05 dB: a small version of the
CBSD68 / BSD68 check of docs/results/runtimes.md, on crops of the bundled photos. It needs a CPU
that computes bf16 natively (AVX512-BF16 or AMX); elsewhere `auto` never picks bf16."""

import pytest
import torch

import denoisekit
from denoisekit.data import load_dataset
from denoisekit.metrics import psnr
from denoisekit.runtimes import installed, native_bf16_cpu

pytestmark = pytest.mark.skipif(
    not (native_bf16_cpu() and installed("openvino")),
    reason="needs a CPU with native bf16 (AVX512-BF16 / AMX) and openvino",
)
COST_DB = 0.05


@pytest.mark.parametrize("name,channels", [("color-blind", 3), ("gray-blind", 1)])
def test_openvino_bf16_costs_at_most_005_db(name, channels):
    photos = load_dataset("embedded", channels=channels, limit=3)
    generator = torch.Generator().manual_seed(0)
    clean = torch.stack([image[:, :128, :128] for image in photos.images])
    noisy = clean + 25 / 255 * torch.randn(clean.shape, generator=generator)
    scores = {}
    for precision in ("fp32", "bf16"):
        loaded = denoisekit.load(name, device="cpu", runtime="openvino", precision=precision)
        assert loaded.runs_on() == ("openvino", precision)
        scores[precision] = float(psnr(loaded.denoise_batch(noisy, 25 / 255), clean).mean())
    assert scores["fp32"] - scores["bf16"] <= COST_DB
