"""Experiments: several runs (models x losses) trained and tested under one protocol, then a report.

Each run trains into `OUT/runs/<name>/`; a run whose folder already holds a finished training
with the same config is reused, so an interrupted experiment continues where it stopped.
Every run is tested on the same test images with the same fixed noise.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .checkpoints.checkpoint import load_checkpoint, read_meta
from .config import (
    ExperimentConfig,
    RunConfig,
    from_dict,
    read_yaml,
    resolve_lr,
    save_yaml,
    to_dict,
)
from .errors import ConfigError
from .evaluate import evaluate_pairs, make_noisy_pairs, protocol
from .files import atomic_path, atomic_write_json, output_folder
from .noise import parse_noise


def _data_key(run: RunConfig) -> tuple:
    d = run.data
    return (d.train, d.val, d.root, d.size, d.channels, d.limit, d.eval_limit, d.skip_bad)


def _saved_epoch(run: RunConfig, run_dir: Path) -> int:
    """Epochs already trained in `run_dir` for exactly this config (0 when none or different)."""
    last, saved = run_dir / "last.json", run_dir / "config.yaml"
    if not (last.is_file() and saved.is_file() and (run_dir / "best.safetensors").is_file()):
        return 0
    try:
        # through from_dict, so keys added to RunConfig since (with their defaults) still match
        previous = from_dict(RunConfig, read_yaml(saved))
    except ConfigError:  # a key that no longer exists: not this config
        return 0
    # config.yaml holds the learning rate the run resolved (an unset one: its default)
    previous, run = resolve_lr(previous), resolve_lr(run)
    # the thread count changes how fast a run trains, not what it learns
    threads = replace(previous.train, num_threads=run.train.num_threads)
    if replace(previous, train=threads) != run:
        return 0
    return int(json.loads(last.read_text()).get("epoch", 0))


def _check_shared_protocol(exp: ExperimentConfig, runs: dict[str, RunConfig]) -> None:
    """Runs compared in one table must share test data, noise and evaluation seed."""
    first_name, first = next(iter(runs.items()))
    for name, run in runs.items():
        for what, a, b in (
            ("data.test", run.data.test or run.data.train, first.data.test or first.data.train),
            ("data.size", run.data.size, first.data.size),
            (
                "noise.eval",
                run.noise.eval or run.noise.train,
                first.noise.eval or first.noise.train,
            ),
            ("noise.clip", run.noise.clip, first.noise.clip),
            ("seed", run.seed, first.seed),
        ):
            if a != b:
                raise ConfigError(
                    f"runs {first_name!r} and {name!r} differ in {what} ({b!r} vs {a!r}); "
                    "runs in one experiment share the test protocol"
                )


def run_experiment(
    exp: ExperimentConfig,
    out_dir: str | Path,
    *,
    data_root: str | None = None,
    progress: bool = True,
    only: list[str] | None = None,
) -> Path:
    """Train (or reuse) every run, test each on the shared test set, write results and report."""
    from .data import load_dataset
    from .report import write_report
    from .train.data import load_splits
    from .train.loop import train

    out_dir = output_folder(out_dir)
    names = list(exp.runs)
    if only:
        missing = [n for n in only if n not in exp.runs]
        if missing:
            raise ConfigError(f"no run named {missing[0]!r}; runs: {', '.join(names)}")
        names = [n for n in names if n in only]
    runs = {name: exp.run_config(name) for name in names}
    _check_shared_protocol(exp, runs)
    first = next(iter(runs.values()))
    d = first.data
    root = data_root or d.root
    test_set = load_dataset(
        d.test or d.train,
        split="test",
        root=root,
        size=d.size,
        channels=d.channels,
        limit=d.eval_limit,
        skip_bad=d.skip_bad,
    )
    eval_noise = parse_noise(
        first.noise.eval or first.noise.train, clip=first.noise.clip, level=first.noise.level
    )
    eval_noise = eval_noise.at_midpoint()
    test_pairs = make_noisy_pairs(test_set.images, eval_noise, first.seed, test_set.names)
    # Runs trained with another noise-level form (noise.level) get the same noisy images with
    # their form of the level: the noise draws do not depend on it.
    pairs_by_level = {eval_noise.level: test_pairs}

    out_dir.mkdir(parents=True, exist_ok=True)
    save_yaml(
        {"name": exp.name, **to_dict(exp.base), "report": to_dict(exp.report), "runs": exp.runs},
        out_dir / "experiment.yaml",
    )
    k = min(exp.report.samples, len(test_set))
    sample_idx = np.linspace(0, len(test_set) - 1, k).round().astype(int).tolist() if k else []
    samples: dict[str, np.ndarray] = {
        "clean": _hwc([test_pairs.clean[i] for i in sample_idx]),
        "noisy": _hwc([test_pairs.noisy[i].clamp(0, 1) for i in sample_idx]),
        "names": np.array([test_set.names[i] for i in sample_idx]),
    }

    datasets: dict[tuple, Any] = {}
    results_runs: dict[str, Any] = {}
    noisy_block: dict[str, Any] | None = None
    for name, run in runs.items():
        run_dir = out_dir / "runs" / name
        done = _saved_epoch(run, run_dir)
        if done >= run.train.epochs:
            print(f"{name}: reusing finished training in {run_dir}", flush=True)
        else:
            key = _data_key(run)
            if key not in datasets:
                datasets = {key: load_splits(run, data_root)}  # keep one set in memory
            train(
                run,
                run_dir,
                resume=done > 0,
                data_root=data_root,
                progress=progress,
                datasets=datasets[key],
            )
        model, meta = load_checkpoint(run_dir / "best.safetensors")
        last_meta = read_meta(run_dir / "last.safetensors")
        level = run.noise.level
        if level not in pairs_by_level:
            noise = replace(eval_noise, level=level)
            pairs_by_level[level] = make_noisy_pairs(
                test_set.images, noise, first.seed, test_set.names
            )
        result = evaluate_pairs(model, pairs_by_level[level], batch_size=run.train.eval_batch_size)
        if noisy_block is None:
            noisy_block = {
                "per_image": result["noisy_per_image"],
                "summary": result["noisy_summary"],
            }
        samples[f"denoised__{name}"] = _hwc([result["outputs"][i] for i in sample_idx])
        results_runs[name] = {
            "model": run.model.name,
            "kwargs": run.model.kwargs,
            "loss": run.train.loss,
            "objective": run.train.objective,
            "noise_level": level,
            "lr": resolve_lr(run).train.lr,  # the rate it trained with
            "params": meta.get("params"),
            "epochs": run.train.epochs,
            "best_epoch": meta.get("epoch"),
            "train_seconds": last_meta.get("train_seconds"),
            "precision": meta.get("precision"),
            "history": last_meta.get("history", []),
            "per_image": result["per_image"],
            "summary": result["summary"],
            "checkpoint": str(run_dir / "best.safetensors"),
        }
        s = result["summary"]
        print(
            f"{name}: test PSNR {s['psnr']['mean']:.2f} SSIM {s['ssim']['mean']:.4f} "
            f"MSE {s['mse']['mean']:.5f} MAE {s['mae']['mean']:.4f}",
            flush=True,
        )

    results = {
        "name": exp.name,
        "title": exp.report.title or exp.name,
        "protocol": protocol(
            eval_noise,
            first.seed,
            data=d.test or d.train,
            split="test" if not d.test else "all",
            n_images=len(test_set),
            image_size=d.size if d.size else "original",
            threads=torch.get_num_threads(),
        ),
        "noisy": noisy_block,
        "runs": results_runs,
    }
    if exp.report.seed_reported:
        results["seed_reported"] = exp.report.seed_reported
    atomic_write_json(out_dir / "results.json", results)
    with atomic_path(out_dir / "samples.npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **samples)
    return write_report(out_dir)


def _hwc(images: list[torch.Tensor]) -> np.ndarray:
    """(K, H, W, C) float32 array from (C, H, W) tensors; images of different sizes (BSD68 mixes
    portrait and landscape) are cropped to their common top-left H x W."""
    if not images:
        return np.zeros((0, 1, 1, 1), dtype=np.float32)
    h = min(im.shape[-2] for im in images)
    w = min(im.shape[-1] for im in images)
    images = [im[..., :h, :w] for im in images]
    return torch.stack(images).permute(0, 2, 3, 1).contiguous().float().numpy()
