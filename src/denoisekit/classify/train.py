"""Train a classifier on labelled images, keep the epoch with the best validation accuracy.

Images are one (N, C, H, W) float tensor in [0, 1] (a resized data set fits in memory); labels a
(N,) int64 tensor. Randomness (shuffling, augmentation, training noise) comes from a generator
seeded by (seed, epoch), so a run repeats. The run folder holds best.safetensors + best.json
(model name, kwargs, classes, config, history) and metrics.csv; `load_classifier` rebuilds it.
"""

from __future__ import annotations

import csv
import io
import math
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import to_dict
from ..data.jitter_crops import augment_more, check_augment
from ..data.patches import dihedral
from ..errors import ConfigError, DataError
from ..files import atomic_write_text, output_folder
from .config import ClassifierConfig
from .registry import create_classifier

RESULT_FILE = "classifier.json"


def class_labels(names: list[str], classes: list[str] | None = None) -> tuple[Tensor, list[str]]:
    """Labels from each image name's folder (`Kirmizi_Pistachio/kirmizi 1.jpg` ->
    `Kirmizi_Pistachio`) as indices into `classes` (sorted folder names when None)."""
    folders = [n.replace("\\", "/").rsplit("/", 1)[0] if "/" in n else "" for n in names]
    if classes is None:
        classes = sorted(set(folders))
    if len(classes) < 2 or "" in classes:
        raise DataError(
            "a classifier needs images in two or more class folders (e.g. Kirmizi_Pistachio/, "
            f"Siirt_Pistachio/); found {classes}"
        )
    unknown = sorted(set(folders) - set(classes))
    if unknown:
        raise DataError(f"images in class folder {unknown[0]!r}, not one of {classes}")
    return torch.tensor([classes.index(f) for f in folders], dtype=torch.int64), list(classes)


@torch.no_grad()
def predict(model: nn.Module, images: Tensor, batch_size: int = 64) -> Tensor:
    """Predicted class index per image of (N, C, H, W)."""
    model.eval()
    out = [model(images[i : i + batch_size]).argmax(1) for i in range(0, len(images), batch_size)]
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.int64)


def noise_models(config: ClassifierConfig) -> list:
    """The parsed `noise.noises` of a noise-augmented classifier (storage applied)."""
    from ..noise import parse_noise

    n = config.noise
    if not 0.0 <= n.clean_fraction <= 1.0:
        raise ConfigError(f"noise.clean_fraction must be in [0, 1], got {n.clean_fraction}")
    return [parse_noise(spec, storage=n.storage) for spec in n.noises]


def _noisy_training_batch(clean: Tensor, noises: list, clean_fraction: float, generator) -> Tensor:
    """Each image noised by one of `noises`, or left clean with probability `clean_fraction`."""
    draw = torch.rand(len(clean), generator=generator)
    which = torch.randint(len(noises), (len(clean),), generator=generator)
    out = clean.clone()
    for i in range(len(clean)):
        if float(draw[i]) >= clean_fraction:
            out[i] = noises[int(which[i])](clean[i : i + 1], generator)[0][0].clamp(0, 1)
    return out


def validation_images(config: ClassifierConfig, images: Tensor, seed: int) -> tuple[Tensor, int]:
    """The images a run is selected on: `images`, plus one noisy copy per training noise
    (fixed per image: seed + index), midpoints of ranges; returns (images, copies)."""
    from ..evaluate import make_noisy_pairs

    sets = [images]
    for noise in noise_models(config):
        pairs = make_noisy_pairs(list(images), noise.at_midpoint(), seed + 20_000_000)
        sets.append(torch.stack(pairs.noisy).clamp(0, 1))
    return torch.cat(sets), len(sets)


def _history_csv(history: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["epoch", "train_loss", "val_accuracy", "seconds"])
    writer.writeheader()
    writer.writerows(history)
    return buf.getvalue()


def finished_run(out_dir: Path, config: ClassifierConfig, classes: list[str], seed: int):
    """The saved result of a finished run of exactly this config (and these `classes`, unless
    None) in `out_dir`, else None."""
    import json

    path = out_dir / RESULT_FILE
    if not (path.is_file() and (out_dir / "best.safetensors").is_file()):
        return None
    from ..config import from_dict

    saved = json.loads(path.read_text())
    try:  # through from_dict, so settings added since (at their defaults) still match
        previous = from_dict(ClassifierConfig, saved.get("config") or {})
    except ConfigError:  # a setting that no longer exists: not this config
        return None
    same = previous == config and (classes is None or saved.get("classes") == classes)
    return saved if same and saved.get("seed") == seed else None


def train_classifier(
    config: ClassifierConfig,
    train: tuple[Tensor, Tensor],
    val: tuple[Tensor, Tensor],
    out_dir: str | Path,
    *,
    classes: list[str],
    seed: int = 0,
    progress: bool = True,
    name: str = "classifier",
    init: str | Path | None = None,
) -> dict[str, Any]:
    """Train on `train` (images, labels), select on `val`; writes best.* and classifier.json
    into `out_dir` and returns that summary. A finished run of the same config is reused.
    `init`: a `best.safetensors` of the same classifier to start from."""
    from ..checkpoints.checkpoint import save_checkpoint
    from ..files import atomic_write_json

    out_dir = output_folder(out_dir)
    saved = finished_run(out_dir, config, classes, seed)
    if saved is not None:
        if progress:
            print(f"{name}: reusing finished training in {out_dir}", flush=True)
        return saved
    t, a = config.train, config.augment
    if t.epochs < 1 or t.batch_size < 1 or t.lr <= 0:
        raise ConfigError("classifier train.epochs and batch_size must be >= 1 and lr > 0")
    if t.stop_after is not None and not 1 <= t.stop_after <= t.epochs:
        raise ConfigError(f"classifier train.stop_after must be from 1 to {t.epochs}")
    if t.ema is not None and not 0.0 < t.ema < 1.0:
        raise ConfigError(f"classifier train.ema must be in (0, 1) (e.g. 0.995), got {t.ema}")
    check_augment(a.jitter, a.crop_scale, "classifier.augment")
    noises = noise_models(config)
    images, labels = train
    if len(images) < 2:
        raise DataError(f"{len(images)} training images; a classifier needs at least 2")
    torch.manual_seed(seed)
    kwargs = {"in_channels": images.shape[1], "num_classes": len(classes), **config.model.kwargs}
    model = create_classifier(config.model.name, **kwargs)
    if init is not None:
        model.load_state_dict(load_classifier(init)[0].state_dict())
    params = sum(p.numel() for p in model.parameters())
    average = _moving_average(model, t.ema)
    judged = average.module if average is not None else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)
    batch = min(t.batch_size, len(images))
    steps = len(images) // batch
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=t.epochs * steps, eta_min=t.lr / 100
    )
    val_images, copies = validation_images(config, val[0], seed)
    val_labels = val[1].repeat(copies)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"model": config.model.name, "kwargs": kwargs, "classes": classes, "params": params}
    history: list[dict[str, Any]] = []
    best_accuracy, best_epoch, elapsed = -math.inf, 0, 0.0
    for epoch in range(1, (t.stop_after or t.epochs) + 1):
        start = time.perf_counter()
        generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch * 7_919)
        order = torch.randperm(len(images), generator=generator)
        model.train()
        running = 0.0
        for step in range(steps):
            index = order[step * batch : (step + 1) * batch]
            x = images[index]
            if a.dihedral:
                ks = torch.randint(8, (len(x),), generator=generator).tolist()
                x = torch.stack([dihedral(im, k) for im, k in zip(x, ks, strict=True)])
            x = augment_more(
                x, jitter_amount=a.jitter, crop_scale=a.crop_scale, generator=generator
            )
            if noises:
                x = _noisy_training_batch(x, noises, config.noise.clean_fraction, generator)
            loss = F.cross_entropy(model(x), labels[index], label_smoothing=t.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if average is not None:
                average.update_parameters(model)
            running += float(loss.detach())
        if not math.isfinite(running):
            raise DataError(f"{name} diverged at epoch {epoch}; lower classifier.train.lr")
        predicted = predict(judged, val_images, t.eval_batch_size)
        accuracy = float((predicted == val_labels).float().mean())
        elapsed += time.perf_counter() - start
        history.append(
            {
                "epoch": epoch,
                "train_loss": running / max(steps, 1),
                "val_accuracy": accuracy,
                "seconds": round(elapsed, 2),
            }
        )
        if accuracy > best_accuracy:
            best_accuracy, best_epoch = accuracy, epoch
            save_checkpoint(out_dir / "best", judged, {**meta, "epoch": epoch})
        atomic_write_text(out_dir / "metrics.csv", _history_csv(history))
        if progress:
            print(
                f"{name} epoch {epoch}/{t.epochs}: train loss {running / max(steps, 1):.4f} "
                f"val accuracy {accuracy:.4f} ({elapsed:.0f}s)",
                flush=True,
            )
    result = {
        **meta,
        "init": str(init) if init is not None else None,
        "config": to_dict(config),
        "seed": seed,
        "best_epoch": best_epoch,
        "best_val_accuracy": best_accuracy,
        "history": history,
        "train_seconds": elapsed,
        "checkpoint": str(out_dir / "best.safetensors"),
    }
    atomic_write_json(out_dir / RESULT_FILE, result)
    return result


def _moving_average(model: nn.Module, decay: float | None):
    """An exponential moving average of `model`'s weights and buffers (None without a decay):
    with batch norm and a high learning rate the validation accuracy of the raw weights swings
    by tens of points from one epoch to the next; the average is steadier."""
    if decay is None:
        return None
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def load_classifier(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """(model in eval mode, metadata) from a `best.safetensors` written by `train_classifier`."""
    from safetensors.torch import load_file

    from ..checkpoints.checkpoint import read_meta

    meta = read_meta(path)
    model = create_classifier(meta["model"], **meta["kwargs"])
    model.load_state_dict(load_file(str(Path(path).with_suffix(".safetensors"))))
    return model.eval(), meta
