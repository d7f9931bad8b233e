"""`denoisekit demo`: the main job on data that ships with the install (scikit-image's photos).

By default it uses the shipped colour blind model (no training): every bundled photo, converted
to RGB, gets Gaussian noise at several sigma, is denoised with sigma estimated from the image
itself, is compared with a classical filter run the same way, and the HTML report is written.
`--train` keeps the original demo instead: a short training of the seed autoencoder and a
residual U-Net on patches of the photos (a few minutes).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .config import ExperimentConfig, ReportConfig, from_dict
from .errors import ConfigError

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
# The pretrained demo: noise levels on the 0-255 scale; the report's grid and table use MAIN.
SIGMAS = (15, 25, 50)
MAIN_SIGMA = 25
# Centre crops of at most this side keep the demo under a minute on 2 cores; the report shows
# the photos whose crop is this square at full resolution (the samples must share one size).
CROP = 256


# `--precision` -> the training precision Lightning takes (`auto` keeps the config's own rule)
TRAIN_PRECISION = {"fp32": "32-true", "bf16": "bf16-mixed"}


def demo_config(
    epochs: int | None = None, *, precision: str = "auto", device: str = "auto"
) -> ExperimentConfig:
    """The `--train` demo's experiment; `device` ("cpu", "cuda", "cuda:N") and `precision`
    ("fp32", "bf16") become `train.accelerator` / `train.devices` / `train.precision`."""
    from .config import RunConfig, deep_merge

    base = dict(DEMO)
    if epochs is not None:
        base = deep_merge(base, {"train": {"epochs": epochs}})
    if precision in TRAIN_PRECISION:
        base = deep_merge(base, {"train": {"precision": TRAIN_PRECISION[precision]}})
    if device != "auto":
        kind, _, index = device.partition(":")
        devices = f"{index}," if index else 1  # Lightning: "1," is the GPU with index 1
        base = deep_merge(base, {"train": {"accelerator": kind, "devices": devices}})
    return ExperimentConfig(
        name="demo",
        base=from_dict(RunConfig, base),
        runs=DEMO_RUNS,
        report=ReportConfig(samples=4, title="Demo: scikit-image photos, Gaussian sigma=0.1"),
    )


def run_demo(
    out_dir: str | Path = "runs/demo",
    *,
    train: bool = False,
    epochs: int | None = None,
    model: str | None = None,
    classical: str = "nlm",
    limit: int | None = None,
    precision: str = "auto",
    device: str = "auto",
    progress: bool = False,
    runtime: str = "auto",
) -> Path:
    """Write the demo report into `out_dir` and return the path of report.html.

    `precision` ("auto", "fp32", "bf16") and `device` ("auto", "cpu", "cuda", "cuda:N"): where
    and how the networks run (`inference/precision.py`, `inference/device.py`). `progress`:
    a bar over the denoised images on stderr when it is a terminal (the pretrained demo).
    `runtime`: what runs the pretrained network ("auto", "torch", "onnxruntime", "openvino")."""
    from .files import output_folder
    from .inference.device import resolve_device
    from .inference.precision import check_precision

    output_folder(out_dir)
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit must be at least 1, got {limit}")
    if train and epochs is not None and epochs < 1:
        raise ConfigError(f"--epochs must be at least 1, got {epochs}")
    if epochs is not None and not train:
        raise ConfigError("--epochs is for --train (the short training); add --train or drop it")
    check_precision(precision)
    resolve_device(device)  # a GPU asked for but missing: say so before any work
    if train:
        from .experiment import run_experiment

        config = demo_config(epochs, precision=precision, device=device)
        return run_experiment(config, out_dir)
    return run_pretrained_demo(
        out_dir,
        model=model,
        classical=classical,
        limit=limit,
        precision=precision,
        device=device,
        progress=progress,
        runtime=runtime,
    )


def _centre_crop(image, side: int):
    h, w = image.shape[-2:]
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return image[..., top : top + side, left : left + side]


def run_pretrained_demo(
    out_dir: str | Path,
    *,
    model: str | None = None,
    classical: str = "nlm",
    limit: int | None = None,
    precision: str = "auto",
    device: str = "auto",
    progress: bool = False,
    runtime: str = "auto",
) -> Path:
    """Denoise the bundled photos with shipped weights and a classical filter, blind.

    model: a pretrained name; None picks color-blind (gray-blind if only that is installed,
    which then denoises each colour channel on its own through `load`). `precision`,
    `device`, `runtime`: how, where and by what the network runs (see `load`); the protocol
    records them.
    `progress`: a bar over the denoised images on stderr when it is a terminal.
    """
    import sys

    import numpy as np
    import torch

    from .checkpoints.pretrained import default_pretrained, pretrained_info
    from .data import load_dataset
    from .evaluate import make_noisy_pairs, protocol, score, summarize
    from .experiment import _hwc
    from .files import atomic_path, atomic_write_json
    from .inference import load
    from .noise import parse_noise
    from .progress import bar
    from .registry import count_parameters, create_model
    from .report import write_report

    out_dir = Path(out_dir)
    model = model or default_pretrained(3)
    info = pretrained_info(model)
    loaded = load(model, precision=precision, device=device, runtime=runtime)
    network = lambda noisy, sigma: loaded.denoise_batch(noisy, sigma)  # noqa: E731
    filt = create_model(classical)
    photos = load_dataset("embedded", channels=3, limit=limit)
    photos.images = [_centre_crop(img, CROP) for img in photos.images]
    shown = [i for i, img in enumerate(photos.images) if min(img.shape[-2:]) >= CROP]
    shown = shown or list(range(len(photos)))  # none that large: crops of the smallest side
    side = min(CROP, *(min(photos.images[i].shape[-2:]) for i in shown))
    steps = bar(total=len(SIGMAS) * 2 * len(photos), unit="image", enabled=progress)
    levels: dict[str, dict[str, dict[str, float]]] = {}
    results: dict[str, Any] = {}
    samples: dict[str, np.ndarray] = {}
    for s255 in SIGMAS:
        noise = parse_noise(f"gaussian:{s255}/255")
        pairs = make_noisy_pairs(photos.images, noise, 0, photos.names)
        runs, outputs = {}, {}
        for label, method, params in (
            (f"{model} (σ auto)", network, count_parameters(loaded.model)),
            (f"{classical} (σ auto)", filt, 0),
        ):
            start = time.perf_counter()
            steps.set_description(f"{s255}/255 {label.split(' ')[0]}")
            denoised = []
            for n in pairs.noisy:
                with torch.no_grad():
                    denoised.append(method(n.unsqueeze(0), None).float().clamp(0, 1)[0])
                steps.update()
            per_image = score(denoised, pairs.clean)
            runs[label] = {
                "model": label.split(" ")[0],
                "params": params,
                "per_image": per_image,
                "summary": summarize(per_image),
                "seconds": time.perf_counter() - start,
            }
            outputs[label] = denoised
        noisy_scores = score([n.clamp(0, 1) for n in pairs.noisy], pairs.clean)
        levels[str(s255)] = {
            "noisy": {m: v["mean"] for m, v in summarize(noisy_scores).items()},
            **{label: {m: v["mean"] for m, v in r["summary"].items()} for label, r in runs.items()},
        }
        steps.write(  # above the bar, which stays at the bottom
            f"sigma={s255}: noisy {levels[str(s255)]['noisy']['psnr']:.2f} dB, "
            + ", ".join(f"{k} {v['summary']['psnr']['mean']:.2f} dB" for k, v in runs.items()),
            file=sys.stdout,
        )
        sys.stdout.flush()
        if s255 == MAIN_SIGMA:
            results = {
                "name": "demo",
                "title": f"Demo: scikit-image photos, Gaussian sigma={s255}/255, sigma estimated",
                "protocol": protocol(
                    noise,
                    0,
                    data="embedded (scikit-image photos, RGB)",
                    n_images=len(photos),
                    sigma_given="none: estimated from each noisy image",
                    weights=model,
                    precision=loaded.runs_on()[1],
                    runtime=loaded.runs_on()[0],
                    device=str(loaded.device),
                ),
                "noisy": {"per_image": noisy_scores, "summary": summarize(noisy_scores)},
                "runs": runs,
            }
            samples = {
                "clean": _hwc([_centre_crop(pairs.clean[i], side) for i in shown]),
                "noisy": _hwc([_centre_crop(pairs.noisy[i].clamp(0, 1), side) for i in shown]),
                "names": np.array([photos.names[i] for i in shown]),
                **{
                    f"denoised__{label}": _hwc([_centre_crop(outs[i], side) for i in shown])
                    for label, outs in outputs.items()
                },
            }
    steps.close()
    results["levels"] = levels
    results["weights"] = {k: info.get(k) for k in ("training_data", "sigma_range", "hardware")}
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out_dir / "results.json", results)
    with atomic_path(out_dir / "samples.npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **samples)
    return write_report(out_dir)
