"""benchmarks/gpu_figures.py, the script a session with a GPU runs for docs/scaling.md, on its
CPU path with tiny sizes: every figure it promises comes out, finite and plausible."""

import importlib.util
import json
import math
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_figures.py"


@pytest.fixture
def figures():
    spec = importlib.util.spec_from_file_location("gpu_figures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cpu_path_writes_every_figure(figures, tmp_path, one_thread):
    argv = ["--device", "cpu", "--precision", "fp32", "--batch", "1,2", "--patch", "16"]
    argv += ["--steps", "1", "--warmup", "0", "--no-compile", "--peak-tflops", "1", "--image", "48"]
    argv += ["--repeats", "1", "--models", "gray-blind", "--ddp", "0", "--out", str(tmp_path)]
    report = figures.main(argv)
    assert json.loads((tmp_path / "gpu_figures.json").read_text()) == report
    assert report["peak_from"] == "--peak-tflops" and report["peak_tflops"] == 1.0
    name, kwargs = figures.shipped_architecture()
    assert [(r["model"], r["batch"], r["compiled"]) for r in report["training"]] == [
        (name, 1, False),
        (name, 2, False),
    ]
    for row in report["training"]:
        assert row["kwargs"] == kwargs and row["patches_per_s"] > 0
        # against a 1 TFLOP/s peak, MFU is the TFLOP/s achieved
        assert 0 < row["mfu"] < 1 and math.isclose(row["mfu"], row["tflops"], rel_tol=1e-3)
    (inference,) = report["inference"]
    assert inference["model"] == "gray-blind" and inference["ms_per_mp"] > 0


def test_a_gpu_without_a_known_peak_asks_for_one(figures, monkeypatch):
    monkeypatch.setattr(figures.torch.cuda, "get_device_name", lambda device: "Mystery GPU")
    with pytest.raises(SystemExit, match="--peak-tflops"):
        figures.peak_flops(figures.torch.device("cuda"), True, None)
    assert figures.peak_flops(figures.torch.device("cuda"), True, 2.0)[0] == 2e12
