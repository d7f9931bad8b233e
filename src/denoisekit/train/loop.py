"""The training loop, run by Lightning Fabric (devices, DDP, precision).

Noise is drawn fresh every epoch from a generator seeded by (seed, epoch, rank); validation noise
is fixed per image (seed + index) so validation PSNR is comparable across epochs and runs.
Validation runs in fp32 on the unwrapped module even when training uses bf16 autocast.
"""

from __future__ import annotations

import csv
import io
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from ..config import RunConfig, save_yaml, to_dict
from ..errors import ConfigError, DataError
from ..evaluate import evaluate_pairs, make_noisy_pairs
from ..files import atomic_write_text
from ..noise import parse_noise
from ..registry import count_parameters, create_model
from .checkpoint import load_checkpoint, load_training_state, read_meta, save_checkpoint
from .losses import get_loss

HISTORY_FIELDS = ["epoch", "train_loss", "val_loss", "val_psnr", "val_ssim", "lr", "seconds"]


@dataclass
class TrainResult:
    out_dir: Path
    best_path: Path
    best_epoch: int
    best_val_psnr: float
    history: list[dict[str, float]]
    train_seconds: float
    params: int
    global_rank: int = 0  # under DDP every process returns; only rank 0 should report


def resolve_precision(precision: str, accelerator: str) -> str:
    """'auto' -> bf16-mixed where the device computes bf16 natively, else 32-true."""
    if precision != "auto":
        return precision
    use_cuda = accelerator in ("cuda", "gpu") or (
        accelerator == "auto" and torch.cuda.is_available()
    )
    if use_cuda:
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return "bf16-mixed" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "32-true"


def load_splits(config: RunConfig, data_root: str | None = None):
    """(train, val) ImageSets as the config describes them."""
    from ..data import load_dataset

    d = config.data
    common = dict(root=data_root or d.root, size=d.size, channels=d.channels, skip_bad=d.skip_bad)
    train = load_dataset(d.train, split="train", limit=d.limit, **common)
    val = load_dataset(d.val or d.train, split="val", limit=d.eval_limit, **common)
    if len(train) == 0 or len(val) == 0:
        raise DataError(f"data {d.train!r} gave {len(train)} training / {len(val)} val images")
    return train, val


def _train_loader(config: RunConfig, train_set) -> tuple[Any, Any]:
    """DataLoader over clean training images or patches; returns (loader, dataset)."""
    from ..data.patches import PatchDataset

    d = config.data
    if d.patch_size:
        dataset = PatchDataset(train_set, d.patch_size, d.patches_per_image, augment=d.augment)
    else:
        shapes = {tuple(img.shape) for img in train_set.images}
        if len(shapes) > 1:
            raise ConfigError(
                f"training images of {d.train!r} differ in size; set data.patch_size or data.size"
            )
        dataset = train_set  # an ImageSet yields (C, H, W) tensors, like PatchDataset
    batch = min(config.train.batch_size, len(dataset))
    return DataLoader(
        dataset, batch_size=batch, shuffle=True, drop_last=len(dataset) > batch
    ), dataset


def _write_history(path: Path, history: list[dict[str, float]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(history)
    atomic_write_text(path, buf.getvalue())


def train(
    config: RunConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    data_root: str | None = None,
    progress: bool = True,
    datasets: tuple[Any, Any] | None = None,
) -> TrainResult:
    """Train `config.model` and write config.yaml, metrics.csv, best.* and last.* into `out_dir`.

    `datasets` may pass already loaded (train, val) ImageSets, so an experiment with several
    models reads its images once.
    """
    from lightning_fabric import Fabric
    from tqdm import tqdm

    from ..data.patches import augment

    out_dir = Path(out_dir)
    t = config.train
    if t.epochs < 1 or t.batch_size < 1 or t.lr <= 0:
        raise ConfigError("train.epochs and train.batch_size must be >= 1 and train.lr > 0")
    if t.num_threads:
        torch.set_num_threads(t.num_threads)
    precision = resolve_precision(t.precision, t.accelerator)
    channels_last = t.channels_last if t.channels_last is not None else precision.startswith("bf16")
    loss_fn = get_loss(t.loss)
    noise = parse_noise(config.noise.train, clip=config.noise.clip)
    eval_noise = parse_noise(config.noise.eval or config.noise.train, clip=config.noise.clip)
    eval_noise = eval_noise.at_midpoint()

    # Everything a config can get wrong is checked before any data is read or file written.
    torch.manual_seed(config.seed)  # model initialisation repeats with the seed
    model = create_model(config.model.name, **config.model.kwargs)
    params = count_parameters(model)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt_cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}.get(t.optimizer)
    if opt_cls is None:
        raise ConfigError(f"train.optimizer {t.optimizer!r}: use adam or adamw")
    optimizer = opt_cls(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)
    if t.scheduler not in ("cosine", "none"):
        raise ConfigError(f"train.scheduler {t.scheduler!r}: use cosine or none")

    fabric = Fabric(
        accelerator=t.accelerator,
        devices=t.devices,
        num_nodes=t.num_nodes,
        strategy=t.strategy,
        precision=precision,
    )
    fabric.launch()
    fabric.seed_everything(config.seed)

    train_set, val_set = datasets or load_splits(config, data_root)
    loader, dataset = _train_loader(config, train_set)
    val_pairs = make_noisy_pairs(val_set.images, eval_noise, config.seed + 10_000_000)
    steps_per_epoch = min(len(loader), t.steps_per_epoch or len(loader))
    scheduler = None
    if t.scheduler == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=t.epochs * steps_per_epoch, eta_min=t.lr * 0.01
        )

    history: list[dict[str, float]] = []
    start_epoch, best_psnr, best_epoch, elapsed = 1, -math.inf, 0, 0.0
    if resume:
        last = out_dir / "last.safetensors"
        if not last.is_file():
            raise DataError(f"--resume: no {last} to resume from")
        meta = read_meta(last)
        if meta.get("model") != config.model.name or meta.get("kwargs") != config.model.kwargs:
            raise ConfigError(f"--resume: {last} holds a different model than the config")
        resumed, _ = load_checkpoint(last)
        model.load_state_dict(resumed.state_dict())
        load_training_state(last, optimizer, scheduler)
        history = meta.get("history", [])
        start_epoch = int(meta["epoch"]) + 1
        best_psnr = float(meta.get("best_val_psnr", -math.inf))
        best_epoch = int(meta.get("best_epoch", 0))
        elapsed = float(meta.get("train_seconds", 0.0))

    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(loader)
    raw_model = model.module
    if fabric.is_global_zero:
        out_dir.mkdir(parents=True, exist_ok=True)
        save_yaml(to_dict(config), out_dir / "config.yaml")

    base_meta = {
        "model": config.model.name,
        "kwargs": config.model.kwargs,
        "config": to_dict(config),
        "params": params,
        "precision": precision,
        "channels_last": channels_last,
    }
    for epoch in range(start_epoch, t.epochs + 1):
        epoch_start = time.perf_counter()
        model.train()
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(epoch, config.seed)
        generator = torch.Generator().manual_seed(
            config.seed * 1_000_003 + epoch * 7_919 + fabric.global_rank
        )
        running, count = 0.0, 0
        bar = tqdm(
            loader,
            total=steps_per_epoch,
            desc=f"{config.name or config.model.name} {epoch}/{t.epochs}",
            # None: tqdm shows the bar only on a terminal, so logs stay readable
            disable=None if (progress and fabric.is_global_zero) else True,
            leave=False,
            dynamic_ncols=True,
        )
        for step, clean in enumerate(bar):
            if step >= steps_per_epoch:
                break
            if config.data.augment and not config.data.patch_size:
                clean = augment(clean, generator)
            noisy, sigma = noise(clean, generator)
            if channels_last:
                noisy = noisy.contiguous(memory_format=torch.channels_last)
            denoised = model(noisy, sigma.to(noisy.device))
            loss = loss_fn(denoised, clean)
            if not torch.isfinite(loss):
                raise DataError(
                    f"training diverged at epoch {epoch} (loss {loss.item()}); lower train.lr"
                )
            optimizer.zero_grad(set_to_none=True)
            fabric.backward(loss)
            if t.grad_clip:
                fabric.clip_gradients(model, optimizer, max_norm=t.grad_clip)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            running += loss.item() * clean.shape[0]
            count += clean.shape[0]
            bar.set_postfix(loss=f"{running / count:.4g}")
        bar.close()
        train_loss = running / max(count, 1)

        val = evaluate_pairs(raw_model, val_pairs, batch_size=t.eval_batch_size)
        val_loss = float(
            torch.stack(
                [
                    loss_fn(o[None], c[None])
                    for o, c in zip(val["outputs"], val_pairs.clean, strict=True)
                ]
            ).mean()
        )
        elapsed += time.perf_counter() - epoch_start
        row = {
            "epoch": epoch,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "val_psnr": val["summary"]["psnr"]["mean"],
            "val_ssim": val["summary"]["ssim"]["mean"],
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": round(elapsed, 2),
        }
        history.append(row)
        improved = row["val_psnr"] > best_psnr
        if improved:
            best_psnr, best_epoch = row["val_psnr"], epoch
        if fabric.is_global_zero:
            meta = {
                **base_meta,
                "epoch": epoch,
                "metrics": {k: row[k] for k in ("val_loss", "val_psnr", "val_ssim")},
                "history": history,
                "best_epoch": best_epoch,
                "best_val_psnr": best_psnr,
                "train_seconds": elapsed,
            }
            if improved:
                save_checkpoint(out_dir / "best", raw_model, meta)
            save_checkpoint(
                out_dir / "last", raw_model, meta, optimizer=optimizer, scheduler=scheduler
            )
            _write_history(out_dir / "metrics.csv", history)
            if progress:
                print(
                    f"{config.name or config.model.name} epoch {epoch}/{t.epochs}: "
                    f"train {train_loss:.4g} val {val_loss:.4g} "
                    f"PSNR {row['val_psnr']:.2f} SSIM {row['val_ssim']:.4f} ({elapsed:.0f}s)",
                    flush=True,
                )
        fabric.barrier()

    return TrainResult(
        out_dir=out_dir,
        best_path=out_dir / "best.safetensors",
        best_epoch=best_epoch,
        best_val_psnr=best_psnr,
        history=history,
        train_seconds=elapsed,
        params=params,
        global_rank=fabric.global_rank,
    )
