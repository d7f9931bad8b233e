"""Run a downstream comparison: train the classifiers and denoisers it needs (reusing finished
ones), noise the test images as saved 8-bit files would be, denoise them with every method,
classify everything, and write downstream.json, table.md, figures and report.html.

Protocol: the test split of the data (never seen in training or selection); each noisy test
image drawn from its own generator (seed + index), clipped and rounded as `storage` says; each
denoised image rounded to 8 bits (a saved file) before it is classified; noise-aware denoisers
are run blind (the level read from each image), as a user without a noise measurement would.
Denoised images are cached in OUT/denoised/ (keyed by method, noise and checkpoint), so a rerun
only computes what changed.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..classify.metrics import scores
from ..classify.train import (
    class_labels,
    finished_run,
    load_classifier,
    predict,
    train_classifier,
)
from ..config import RunConfig, deep_merge, from_dict, load_experiment_config, to_dict
from ..errors import ConfigError
from ..files import atomic_path, atomic_write_json, atomic_write_text, output_folder
from .config import DenoiserSpec, DownstreamConfig

CLEAN = "clean"
NOISY = "noisy (no denoising)"
AUGMENTED = "noise-augmented classifier"
RESULTS_FILE = "downstream.json"


def augmented_config(config: DownstreamConfig):
    """The noise-augmented classifier's config: the classifier's, with the training noise and
    the epochs / rate `noise_augmented` sets."""
    na = config.noise_augmented
    train = replace(
        config.classifier.train,
        epochs=na.epochs or config.classifier.train.epochs,
        lr=na.lr or config.classifier.train.lr,
    )
    return replace(config.classifier, noise=na, train=train)


def split_key(config: DownstreamConfig, split: str, data_root) -> str:
    """What a split's decoded images depend on: data, split, size, channels, limit, root."""
    parts = (config.data, split, config.size, config.channels, config.limit, data_root)
    return json.dumps([str(p) for p in parts])


def cached_labelled(config: DownstreamConfig, split: str, data_root, out_dir: Path, classes=None):
    """`load_labelled`, kept decoded in OUT/data/<split>.pt: decoding and resizing thousands of
    600x600 JPEGs costs more than everything a rerun reuses."""
    path = out_dir / "data" / f"{split}.pt"
    key = split_key(config, split, data_root)
    if path.is_file():
        saved = torch.load(path, weights_only=True)
        if saved.get("key") == key and (classes is None or saved["classes"] == classes):
            return saved["images"], saved["labels"], saved["classes"], saved["names"]
    images, labels, classes, names = load_labelled(config, split, data_root, classes)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"key": key, "images": images, "labels": labels, "classes": classes, "names": names}
    with atomic_path(path) as tmp:
        torch.save(data, tmp)
    return images, labels, classes, names


def load_labelled(config: DownstreamConfig, split: str, data_root, classes=None):
    """(images (N, C, H, W), labels (N,), class names, image names) of one split."""
    from ..data import load_dataset

    images = load_dataset(
        config.data,
        root=data_root,
        split=split,
        size=config.size,
        channels=config.channels,
        limit=config.limit,
    )
    labels, classes = class_labels(images.names, classes)
    return images.stack(), labels, classes, images.names


def denoiser_run(spec: DenoiserSpec, label: str, seed: int) -> RunConfig:
    """The run config an experiment-run denoiser trains with (`set` merged on the run)."""
    exp = load_experiment_config(spec.experiment)
    if spec.run not in exp.runs:
        raise ConfigError(f"denoisers.{label}: {spec.experiment} has no run {spec.run!r}")
    merged = deep_merge(to_dict(exp.run_config(spec.run)), spec.set or {})
    return from_dict(RunConfig, merged)


def prepare_denoiser(spec: DenoiserSpec, label: str, out_dir: Path, data_root, progress: bool):
    """The model source `inference.load` takes: the name or path given, or the best checkpoint
    of the experiment run, trained here first unless a finished training is there."""
    if spec.model is not None:
        return spec.model
    from ..experiment import _saved_epoch
    from ..train.loop import train

    run = denoiser_run(spec, label, 0)
    run_dir = out_dir / "denoisers" / label
    done = _saved_epoch(run, run_dir)
    if done >= run.train.last_epoch:
        if progress:
            print(f"{label}: reusing finished training in {run_dir}", flush=True)
    else:
        train(run, run_dir, resume=done > 0, data_root=data_root, progress=progress)
    return str(run_dir / "best.safetensors")


def _source_key(source: str) -> str:
    """What identifies a denoiser's weights: a checkpoint's size and modification time, or
    the name of a shipped model or filter."""
    path = Path(source)
    if path.is_file():
        stat = path.stat()
        return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    return source


def _slug(text: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-." else "-" for c in text.lower())
    return keep.strip("-") or "x"


def cell_cache(config: DownstreamConfig, out_dir: Path, label: str, source, noise_label: str):
    """(file, key) of the denoised images of one method and test noise: the key names the
    weights, the noise, its storage and the seed, so a change of any recomputes them."""
    key = f"{_source_key(source)}|{config.noises[noise_label]}|{config.storage}|{config.seed}"
    path = out_dir / "denoised" / f"{_slug(noise_label)}__{_slug(label)}.npz"
    return path, hashlib.sha256(key.encode()).hexdigest()


def noisy_test_images(config: DownstreamConfig, noise, clean: Tensor) -> Tensor:
    """The noisy test images of one noise: fixed per image (seed + index), stored as
    `config.storage` says (the noise model applies it)."""
    from ..evaluate import make_noisy_pairs

    return torch.stack(make_noisy_pairs(list(clean), noise, config.seed).noisy).clamp(0, 1)


def denoised_images(source, noisy: Tensor, cache: Path, key: str, progress: bool) -> Tensor:
    """`noisy` (N, C, H, W) denoised by `source`, rounded to 8 bits; read from `cache` when it
    holds the same `key`."""
    from .. import load

    if cache.is_file():
        with np.load(cache) as saved:
            if str(saved["key"]) == key and saved["images"].shape == tuple(noisy.shape):
                return torch.from_numpy(saved["images"]).float() / 255
    model = load(source, device="cpu", precision="fp32")
    start = time.perf_counter()
    outputs = [
        model.denoise_batch(noisy[i : i + 16], None, tile=None) for i in range(0, len(noisy), 16)
    ]
    rounded = (torch.cat(outputs) * 255).round().to(torch.uint8)
    if progress:
        seconds = time.perf_counter() - start
        print(f"  {cache.stem}: {seconds:.0f}s ({seconds / len(noisy) * 1000:.0f} ms/image)")
    cache.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(cache) as tmp, open(tmp, "wb") as f:
        np.savez(f, images=rounded.numpy(), key=np.array(key))
    return rounded.float() / 255


def _score(model, images: Tensor, labels: Tensor, classes: list[str]) -> dict[str, Any]:
    predicted = predict(model, images)
    return scores(labels.tolist(), predicted.tolist(), len(classes))


def train_classifiers(config: DownstreamConfig, out_dir: Path, data_root, progress: bool):
    """The clean (and noise-augmented) classifier's summaries, trained unless finished runs of
    the same configs are in OUT/classifiers/ (then no training image is read)."""
    runs = {"clean": config.classifier}
    if config.noise_augmented.noises:
        runs["noise-augmented"] = augmented_config(config)
    folders = {name: out_dir / "classifiers" / name for name in runs}
    done = {n: finished_run(folders[n], c, None, config.seed) for n, c in runs.items()}
    if all(done.values()) and len({tuple(d["classes"]) for d in done.values()}) == 1:
        if progress:
            print(f"reusing the finished classifiers in {out_dir / 'classifiers'}", flush=True)
        return done
    train_x, train_y, classes, _ = cached_labelled(config, "train", data_root, out_dir)
    val_x, val_y, _, _ = cached_labelled(config, "val", data_root, out_dir, classes)
    common = dict(classes=classes, seed=config.seed, progress=progress)
    trained = {
        "clean": train_classifier(
            config.classifier,
            (train_x, train_y),
            (val_x, val_y),
            folders["clean"],
            name="classifier",
            **common,
        )
    }
    if "noise-augmented" in runs:
        trained["noise-augmented"] = train_classifier(
            runs["noise-augmented"],
            (train_x, train_y),
            (val_x, val_y),
            folders["noise-augmented"],
            name="noise-augmented classifier",
            init=trained["clean"]["checkpoint"] if config.noise_augmented.from_clean else None,
            **common,
        )
    return trained


def run_downstream(
    config: DownstreamConfig, out_dir: str | Path, *, data_root=None, progress: bool = True
) -> Path:
    """Run the whole comparison into `out_dir`; returns the report's path."""
    from ..noise import parse_noise
    from .report import write_downstream_report

    out_dir = output_folder(out_dir)
    # everything a config can get wrong, before hours of training
    noises = {
        label: parse_noise(spec, storage=config.storage) for label, spec in config.noises.items()
    }
    for label, spec in config.denoisers.items():
        if spec.experiment is not None:
            denoiser_run(spec, label, config.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    trained = train_classifiers(config, out_dir, data_root, progress)
    classes = trained["clean"]["classes"]
    test_x, test_y, _, test_names = cached_labelled(config, "test", data_root, out_dir, classes)
    classifiers = {k: load_classifier(v["checkpoint"])[0] for k, v in trained.items()}

    sources = {
        label: prepare_denoiser(spec, label, out_dir, data_root, progress)
        for label, spec in config.denoisers.items()
    }
    clean_scores = _score(classifiers["clean"], test_x, test_y, classes)
    table: dict[str, dict[str, Any]] = {NOISY: {CLEAN: clean_scores}}
    for label in sources:
        table[label] = {CLEAN: clean_scores}
    if "noise-augmented" in classifiers:
        table[AUGMENTED] = {CLEAN: _score(classifiers["noise-augmented"], test_x, test_y, classes)}
    for noise_label, noise in noises.items():
        noisy = noisy_test_images(config, noise, test_x)
        table[NOISY][noise_label] = _score(classifiers["clean"], noisy, test_y, classes)
        if "noise-augmented" in classifiers:
            table[AUGMENTED][noise_label] = _score(
                classifiers["noise-augmented"], noisy, test_y, classes
            )
        for label, source in sources.items():
            cache, key = cell_cache(config, out_dir, label, source, noise_label)
            denoised = denoised_images(source, noisy, cache, key, progress)
            table[label][noise_label] = _score(classifiers["clean"], denoised, test_y, classes)
        if progress:
            accuracies = ", ".join(
                f"{m} {row[noise_label]['accuracy']:.3f}" for m, row in table.items()
            )
            print(f"{noise_label}: {accuracies}", flush=True)

    results = {
        "name": config.name,
        "title": config.title or config.name,
        "protocol": {
            "data": config.data,
            "split": "test",
            "n_images": len(test_x),
            "size": f"{config.size}x{config.size}",
            "classes": classes,
            "storage": config.storage,
            "seed": config.seed,
            "denoisers": "blind (noise level read from each image); outputs rounded to 8 bits",
            "threads": torch.get_num_threads(),
        },
        "noises": {CLEAN: None, **config.noises},
        "classifiers": {
            k: {
                key: v[key]
                for key in (
                    "model",
                    "kwargs",
                    "params",
                    "best_epoch",
                    "best_val_accuracy",
                    "train_seconds",
                    "config",
                    "history",
                )
            }
            for k, v in trained.items()
        },
        "denoisers": {
            label: {
                "source": sources[label],
                "note": spec.note,
                "experiment": spec.experiment,
                "run": spec.run,
                "set": spec.set,
            }
            for label, spec in config.denoisers.items()
        },
        "table": table,
        "test_names": test_names,
    }
    atomic_write_json(out_dir / RESULTS_FILE, results)
    atomic_write_text(out_dir / "table.md", markdown_table(results))
    return write_downstream_report(out_dir)


def markdown_table(results: dict[str, Any]) -> str:
    """Accuracy (%) per method and test noise, and macro F1 below it, as markdown tables."""
    columns = list(results["noises"])
    lines = []
    for metric, title in (("accuracy", "Accuracy (%)"), ("f1", "Macro F1 (%)")):
        lines += [f"| {title} | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
        for method, row in results["table"].items():
            cells = [f"{100 * row[c][metric]:.1f}" if c in row else "—" for c in columns]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def read_results(out_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(out_dir) / RESULTS_FILE).read_text())
