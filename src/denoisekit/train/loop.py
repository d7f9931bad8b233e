"""The training loop, run by Lightning Fabric (devices, DDP, precision).

Noise is drawn fresh every epoch from a generator seeded by (seed, epoch, rank) on the training
device (so a GPU run draws its noise on the GPU: the same seed repeats on the same kind of
device, not across kinds); validation noise is fixed per image (seed + index), drawn on the
CPU, so validation PSNR is comparable across epochs, runs and devices. The loss is read back
from the device every `SYNC_EVERY` steps, not every step, so the host can queue work ahead.
Validation runs in fp32 on the unwrapped module even when training uses bf16 autocast.
`train.objective` turns each batch into a loss (`objectives.py`); the self-supervised ones get
their noisy-only data and, without clean validation images, their validation from `selfsup.py`.
"""

from __future__ import annotations

import csv
import io
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..checkpoints.checkpoint import save_checkpoint
from ..config import RunConfig, resolve_lr, save_yaml, to_dict
from ..errors import ConfigError, DataError
from ..evaluate import evaluate_pairs, make_noisy_pairs
from ..files import atomic_write_text, output_folder, remove_stale_temps
from ..metrics import check_ssim_size
from ..models.fusion import with_fusion
from ..noise import parse_noise
from ..registry import count_parameters, create_model
from .data import check_channels, load_splits, train_loader
from .init import initial_weights
from .losses import get_loss
from .objectives import Batch, get_objective
from .optim import check_schedule, make_optimizer, make_scheduler
from .precision import resolve_precision
from .resume import check_resumable, resume_from_last
from .rng import seed_epoch
from .selfsup import (
    check_objective_config,
    is_none,
    shots_to_batch,
    validation_loss,
    validation_noise_spec,
    validation_views,
)

SYNC_EVERY = 25  # training steps between reads of the loss from the device
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
    selected_by: str = "val_psnr"  # val_loss when no clean validation images exist
    best_val_loss: float = math.nan


def _check_finite(running: torch.Tensor, epoch: int) -> None:
    """A nan or inf loss at any step so far leaves the running sum nan or inf."""
    if not bool(torch.isfinite(running)):
        raise DataError(f"training diverged at epoch {epoch} (loss nan or inf); lower train.lr")


def _validate(model, pairs, loss_fn, t, device) -> tuple[float, float, float]:
    """(loss against the clean images, mean PSNR, mean SSIM) on the fixed validation pairs."""
    val = evaluate_pairs(model, pairs, batch_size=t.eval_batch_size, device=device)
    outputs = zip(val["outputs"], pairs.clean, strict=True)
    loss = float(torch.stack([loss_fn(o[None], c[None]) for o, c in outputs]).mean())
    return loss, val["summary"]["psnr"]["mean"], val["summary"]["ssim"]["mean"]


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
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Train `config.model` and write config.yaml, metrics.csv, best.* and last.* into `out_dir`.

    `datasets` may pass already loaded (train, val) ImageSets, so an experiment with several
    models reads its images once. Without clean validation images (self-supervised objectives
    on noisy photos) the best epoch is the one with the lowest objective loss on validation.
    A run that starts from weights (`train.init`, grown ones too) validates them before the
    first step as epoch 0 (a metrics.csv row with empty train_loss and lr) and saves them as
    best, so best.* is never worse on validation than the weights the run started from.
    `on_epoch(row)` is called with each epoch's metrics.csv row once it is saved (tuning
    prunes a trial there by raising).
    """
    from lightning_fabric import Fabric
    from tqdm import tqdm

    from ..data.jitter_crops import augment_more, check_augment
    from ..data.patches import augment

    out_dir = output_folder(out_dir)
    config = resolve_lr(config)  # an unset train.lr: lower when starting from weights
    t = config.train
    if t.epochs < 1 or t.batch_size < 1 or t.lr <= 0:
        raise ConfigError("train.epochs and train.batch_size must be >= 1 and train.lr > 0")
    if t.stop_after is not None and not 1 <= t.stop_after <= t.epochs:
        raise ConfigError(
            f"train.stop_after must be from 1 to train.epochs ({t.epochs}), got {t.stop_after}"
        )
    check_augment(config.data.jitter, config.data.crop_scale)
    if config.data.workers < 0:
        raise ConfigError(f"data.workers must be >= 0, got {config.data.workers}")
    if t.num_threads:
        torch.set_num_threads(t.num_threads)
    precision = resolve_precision(t.precision, t.accelerator)
    channels_last = t.channels_last if t.channels_last is not None else precision.startswith("bf16")
    loss_fn = get_loss(t.loss)
    noise = None
    if not is_none(config.noise.train):
        noise = parse_noise(
            config.noise.train,
            clip=config.noise.clip,
            level=config.noise.level,
            storage=config.noise.storage,
        )
    eval_spec = validation_noise_spec(config)  # None: no clean validation images
    eval_noise = None
    if eval_spec is not None:
        eval_noise = parse_noise(
            eval_spec,
            clip=config.noise.clip,
            level=config.noise.level,
            storage=config.noise.storage,
        ).at_midpoint()

    # Everything a config can get wrong is checked before any data is read or file written.
    torch.manual_seed(config.seed)  # model initialisation repeats with the seed
    model = create_model(config.model.name, **config.model.kwargs)
    params = count_parameters(model)
    objective = get_objective(
        t.objective, loss_fn, noise_aware=bool(getattr(model, "noise_aware", False))
    )
    check_objective_config(config, objective)
    if resume:
        check_resumable(out_dir)
    if t.grow and not t.init:
        raise ConfigError("train.grow needs train.init: the smaller weights to grow from")
    if t.init and not resume:  # on resume, last.* already holds the continued weights
        grow_into = model if t.grow else None
        model.load_state_dict(
            initial_weights(t.init, config.model.name, config.model.kwargs, grow_into)
        )
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, t)
    check_schedule(t)

    fabric = Fabric(
        accelerator=t.accelerator,
        devices=t.devices,
        num_nodes=t.num_nodes,
        strategy=t.strategy,
        precision=precision,
    )
    try:
        fabric.launch()
    except ValueError as e:  # e.g. devices x num_nodes is not the world torchrun or srun started
        raise ConfigError(f"train.devices / train.num_nodes: {e}") from None
    fabric.seed_everything(config.seed)

    train_set, val_set = datasets or load_splits(config, data_root)
    check_channels(config, train_set, getattr(model, "in_channels", None))
    if eval_noise:  # scored by SSIM after every epoch: refused now, not after the first
        what = f"validation images of {config.data.val or config.data.train!r}"
        check_ssim_size(val_set.images, what)
    loader, dataset = train_loader(
        config, train_set, objective, noise, rank=fabric.global_rank, replicas=fabric.world_size
    )
    sampler, loader_generator = loader.sampler, loader.generator
    # before the steps are counted: under DDP each process gets its 1/world of the batches
    # (`train.batch_size` is per process; the global batch is batch_size x world size)
    # our EpochSampler already splits the items between processes (`rng.py`)
    loader = fabric.setup_dataloaders(loader, use_distributed_sampler=False)
    selected_by = "val_psnr" if eval_noise else "val_loss"
    if eval_noise:
        val_pairs = make_noisy_pairs(val_set.images, eval_noise, config.seed + 10_000_000)
    else:
        val_views = validation_views(val_set, objective.shots, noise, config.seed)
    steps_per_epoch = min(len(loader), t.steps_per_epoch or len(loader))
    scheduler = make_scheduler(optimizer, t, t.epochs * steps_per_epoch)

    history: list[dict[str, float]] = []
    start_epoch, best_psnr, best_loss, best_epoch, elapsed = 1, -math.inf, math.inf, 0, 0.0
    if resume:
        resumed = resume_from_last(out_dir, config, model, optimizer, scheduler)
        history, start_epoch, best_psnr, best_loss, best_epoch, elapsed = resumed

    if t.compile:  # Fabric keeps the compilation around its DDP wrapper
        model = torch.compile(model)
    model, optimizer = fabric.setup(model, optimizer)
    raw_model = model.module
    # validation scores the model as it will be used: a noise2void one with its noisy-pixel fusion
    val_model = with_fusion(raw_model, to_dict(t))
    if fabric.is_global_zero:
        if not resume and (out_dir / "last.safetensors").is_file():
            print(
                f"note: {out_dir} holds an earlier run; starting over replaces it "
                "(--resume continues it instead)",
                file=sys.stderr,
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(out_dir)  # those of a run killed while saving
        save_yaml(to_dict(config), out_dir / "config.yaml")

    base_meta = {
        "model": config.model.name,
        "kwargs": config.model.kwargs,
        "config": to_dict(config),
        "params": params,
        "precision": precision,
        "channels_last": channels_last,
        "objective": t.objective,
        "selected_by": selected_by,
    }
    if progress and fabric.is_global_zero:
        checked = f"{t.objective} loss on {len(val_set)} noisy images (PSNR not measured)"
        if eval_noise:
            checked = f"PSNR on {len(val_set)} clean images + {eval_spec}"
        print(
            f"objective {t.objective}; validation: {checked}; best by {selected_by}; "
            f"precision {precision}{', channels_last' if channels_last else ''}",
            flush=True,
        )

    def finish_epoch(epoch: int, epoch_start: float, train_loss: float | None) -> None:
        """Validate, add the epoch's row to the history, keep the best, save, report."""
        nonlocal best_epoch, best_loss, best_psnr, elapsed
        if eval_noise:
            val_loss, val_psnr, val_ssim = _validate(
                val_model, val_pairs, loss_fn, t, fabric.device
            )
        else:  # PSNR/SSIM need clean images: left empty in metrics.csv
            val_loss = validation_loss(raw_model, objective, val_views, config.seed)
            val_psnr = val_ssim = None
        elapsed += time.perf_counter() - epoch_start
        row = {
            "epoch": epoch,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "val_psnr": val_psnr,
            "val_ssim": val_ssim,
            "lr": optimizer.param_groups[0]["lr"] if epoch else None,  # epoch 0: no step yet
            "seconds": round(elapsed, 2),
        }
        history.append(row)
        # strictly better: the starting weights (epoch 0) stay best until an epoch beats them
        improved = val_psnr > best_psnr if eval_noise else val_loss < best_loss
        if improved:
            best_epoch, best_loss = epoch, val_loss
            best_psnr = val_psnr if eval_noise else -math.inf
        if fabric.is_global_zero:
            meta = {
                **base_meta,
                "epoch": epoch,
                "metrics": {k: row[k] for k in ("val_loss", "val_psnr", "val_ssim")},
                "history": history,
                "best_epoch": best_epoch,
                "best_val_psnr": best_psnr if eval_noise else None,
                "best_val_loss": best_loss,
                "train_seconds": elapsed,
            }
            if improved:
                save_checkpoint(out_dir / "best", raw_model, meta)
            save_checkpoint(
                out_dir / "last", raw_model, meta, optimizer=optimizer, scheduler=scheduler
            )
            _write_history(out_dir / "metrics.csv", history)
            if progress:
                scores = f" PSNR {val_psnr:.2f} SSIM {val_ssim:.4f}" if eval_noise else ""
                trained = "starting weights" if train_loss is None else f"train {train_loss:.4g}"
                print(
                    f"{config.name or config.model.name} epoch {epoch}/{t.epochs}: "
                    f"{trained} val {val_loss:.4g}{scores} ({elapsed:.0f}s)",
                    flush=True,
                )
        fabric.barrier()
        if on_epoch is not None:
            on_epoch(row)

    if t.init and not resume:
        # Epoch 0: the weights the run starts from (grown ones too), validated before any
        # step and saved as best, so training keeps them unless an epoch beats them.
        finish_epoch(0, time.perf_counter(), None)
    for epoch in range(start_epoch, t.last_epoch + 1):
        epoch_start = time.perf_counter()
        model.train()
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(epoch, config.seed)
        # every random state from (seed, epoch, rank) alone: a resumed run repeats it exactly
        seed_epoch(config.seed, epoch, fabric.global_rank, loader_generator)
        sampler.start_epoch(epoch)
        if hasattr(loader.sampler, "set_epoch"):  # DDP's sampler: else the same order each epoch
            loader.sampler.set_epoch(epoch)
        # on the training device: noise drawn on the host would leave a GPU waiting for it
        generator = torch.Generator(device=fabric.device).manual_seed(
            config.seed * 1_000_003 + epoch * 7_919 + fabric.global_rank
        )
        running, count = torch.zeros((), device=fabric.device), 0
        bar = tqdm(
            loader,
            total=steps_per_epoch,
            desc=f"{config.name or config.model.name} {epoch}/{t.epochs}",
            # None: tqdm shows the bar only on a terminal, so logs stay readable
            disable=None if (progress and fabric.is_global_zero) else True,
            leave=False,
            dynamic_ncols=True,
        )
        for step, item in enumerate(bar):
            if step >= steps_per_epoch:
                break
            if objective.supervised:
                clean = item
                if config.data.augment and not config.data.patch_size:
                    clean = augment(clean, generator)
                if config.data.jitter or config.data.crop_scale < 1:
                    clean = augment_more(
                        clean,
                        jitter_amount=config.data.jitter,
                        crop_scale=config.data.crop_scale,
                        generator=generator,
                    )
                noisy, sigma = noise(clean, generator)
                batch = Batch(noisy, target=clean, sigma=sigma.to(noisy.device))
            else:  # noisy shots (B, S, C, p, p) from selfsup.shot_dataset; no clean image here
                batch = shots_to_batch(item)
            if channels_last:
                batch.noisy = batch.noisy.contiguous(memory_format=torch.channels_last)
            loss = objective(model, batch, generator, progress=epoch / t.epochs)
            optimizer.zero_grad(set_to_none=True)
            fabric.backward(loss)
            if t.grad_clip:
                fabric.clip_gradients(model, optimizer, max_norm=t.grad_clip)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            running += loss.detach().float() * batch.noisy.shape[0]
            count += batch.noisy.shape[0]
            # Reading a value back waits for the device; every step would leave a GPU idle
            # while the host prepares the next batch, so the check runs every few steps.
            if (step + 1) % SYNC_EVERY == 0:
                _check_finite(running, epoch)
                bar.set_postfix(loss=f"{running.item() / count:.4g}")
        bar.close()
        _check_finite(running, epoch)
        # summed over the processes: under DDP metrics.csv gives the loss of the global batch
        totals = torch.stack([running, torch.tensor(float(count), device=running.device)])
        totals = fabric.all_reduce(totals, reduce_op="sum")
        train_loss = float(totals[0]) / max(float(totals[1]), 1.0)
        finish_epoch(epoch, epoch_start, train_loss)

    return TrainResult(
        out_dir=out_dir,
        best_path=out_dir / "best.safetensors",
        best_epoch=best_epoch,
        best_val_psnr=best_psnr if eval_noise else math.nan,
        history=history,
        train_seconds=elapsed,
        params=params,
        global_rank=fabric.global_rank,
        selected_by=selected_by,
        best_val_loss=best_loss,
    )
