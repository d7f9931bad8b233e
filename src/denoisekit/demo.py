"""`denoisekit demo`: the main job on data that ships with the install (scikit-image's photos).

Trains the seed autoencoder and a residual U-Net briefly on random patches of the bundled photos
with Gaussian noise sigma=0.1, tests both on held-out photos, and writes the HTML report.
"""

from __future__ import annotations

from pathlib import Path

from .config import ExperimentConfig, ReportConfig, from_dict

DEMO = {
    "seed": 0,
    "data": {
        "train": "embedded",
        "channels": 3,
        "patch_size": 64,
        "patches_per_image": 48,
        "augment": True,
    },
    "noise": {"train": "gaussian:0.1", "clip": False},
    "train": {"epochs": 6, "batch_size": 16, "lr": 2e-3, "eval_batch_size": 1},
}
DEMO_RUNS = {
    "autoencoder-seed": {"model": {"name": "autoencoder-seed"}, "train": {"loss": "bce"}},
    "unet": {
        "model": {"name": "unet", "kwargs": {"base_channels": 24, "depth": 3, "residual": True}},
        "train": {"loss": "l1"},
    },
}


def demo_config(epochs: int | None = None) -> ExperimentConfig:
    from .config import RunConfig, deep_merge

    base = dict(DEMO)
    if epochs is not None:
        base = deep_merge(base, {"train": {"epochs": epochs}})
    return ExperimentConfig(
        name="demo",
        base=from_dict(RunConfig, base),
        runs=DEMO_RUNS,
        report=ReportConfig(samples=4, title="Demo: scikit-image photos, Gaussian sigma=0.1"),
    )


def run_demo(out_dir: str | Path = "runs/demo", *, epochs: int | None = None) -> Path:
    from .experiment import run_experiment

    return run_experiment(demo_config(epochs), out_dir)
