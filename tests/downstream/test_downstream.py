"""The downstream comparison end to end on a tiny two-class folder (seconds)."""

import json

import numpy as np
import pytest
import yaml
from PIL import Image

from denoisekit.cli import main
from denoisekit.downstream.config import load_downstream_config
from denoisekit.errors import ConfigError


@pytest.fixture
def two_classes(tmp_path):
    """20 images in two class folders: reddish and bluish squares with texture."""
    rng = np.random.default_rng(0)
    root = tmp_path / "nuts"
    for name, channel in (("red", 0), ("blue", 2)):
        (root / name).mkdir(parents=True)
        for i in range(10):
            image = rng.integers(0, 90, (20, 20, 3), dtype=np.uint8)
            image[..., channel] += 150
            Image.fromarray(image).save(root / name / f"{i}.png")
    return root


def _config(tmp_path, root, **extra):
    seed_experiment = tmp_path / "seed.yaml"
    seed_experiment.write_text(
        yaml.safe_dump(
            {
                "data": {"train": str(root), "size": 16, "channels": 3},
                "noise": {"train": "gaussian:0.1", "clip": True},
                "train": {"epochs": 1, "batch_size": 4, "eval_batch_size": 4},
                "runs": {"ae": {"model": {"name": "autoencoder-seed"}}},
            }
        )
    )
    config = {
        "name": "tiny",
        "data": str(root),
        "size": 16,
        "noises": {"sigma 0.1": "gaussian:0.1", "camera": "camera-pipeline:a=0.01,b=0.0004"},
        "classifier": {
            "model": {"name": "resnet-small", "kwargs": {"widths": [4, 8]}},
            "train": {"epochs": 2, "batch_size": 4},
            "augment": {"jitter": 0.1, "crop_scale": 0.8},
        },
        "noise_augmented": {"noises": ["gaussian:0-0.2"], "from_clean": True, "lr": 1.0e-3},
        "denoisers": {
            "ae": {"experiment": str(seed_experiment), "run": "ae"},
            "nlm": {"model": "nlm"},
        },
        **extra,
    }
    path = tmp_path / "downstream.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_downstream_writes_table_figures_and_report(tmp_path, two_classes):
    config = _config(tmp_path, two_classes)
    out = tmp_path / "out"
    assert main(["downstream", str(config), "--out", str(out), "--limit", "8"]) == 0
    results = json.loads((out / "downstream.json").read_text())
    table = results["table"]
    assert set(table) == {"noisy (no denoising)", "ae", "nlm", "noise-augmented classifier"}
    for row in table.values():
        assert set(row) == {"clean", "sigma 0.1", "camera"}
        for cell in row.values():
            assert 0.0 <= cell["accuracy"] <= 1.0
            assert sum(map(sum, cell["confusion"])) == results["protocol"]["n_images"]
    assert results["protocol"]["classes"] == ["blue", "red"]
    assert (out / "figures" / "accuracy.png").stat().st_size > 1000
    assert (out / "figures" / "confusion.png").stat().st_size > 1000
    assert "Downstream" in (out / "report.html").read_text()
    assert "| ae |" in (out / "table.md").read_text()
    # a second run reuses the trainings and the denoised images: same numbers
    cached = sorted(p.name for p in (out / "denoised").iterdir())
    assert len(cached) == 4
    assert main(["downstream", str(config), "--out", str(out), "--limit", "8"]) == 0
    assert json.loads((out / "downstream.json").read_text())["table"] == table


def test_denoiser_needs_a_model_or_a_run(tmp_path, two_classes):
    config = _config(tmp_path, two_classes, denoisers={"x": {"run": "ae"}})
    with pytest.raises(ConfigError, match="denoisers.x"):
        load_downstream_config(config)
    config = _config(tmp_path, two_classes)
    assert "nlm" not in load_downstream_config(config, ["denoisers.nlm=null"]).denoisers
