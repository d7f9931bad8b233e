"""Picking a run back up where its last.* checkpoint left it (`denoisekit train --resume`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import torch

from ..checkpoints.checkpoint import load_checkpoint, load_training_state, read_meta
from ..config import RunConfig
from ..errors import ConfigError, DataError


class ResumePoint(NamedTuple):
    """The state of the loop after the last saved epoch, read from last.json."""

    history: list[dict[str, float]]
    start_epoch: int  # the first epoch still to train
    best_psnr: float
    best_loss: float
    best_epoch: int
    elapsed: float  # training seconds so far, so metrics.csv keeps counting from there


def check_resumable(out_dir: Path) -> None:
    """Refuse `--resume` before anything is built when there is no last.* to resume from."""
    if not (out_dir / "last.safetensors").is_file():
        raise DataError(f"--resume: no {out_dir / 'last.safetensors'} to resume from")


def resume_from_last(
    out_dir: Path,
    config: RunConfig,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler,
) -> ResumePoint:
    """Load last.* of `out_dir` into `model`, `optimizer` and `scheduler` and say where to go on.

    Refuses a checkpoint of another model than `config.model`, and a torn or damaged set.
    """
    last = out_dir / "last.safetensors"
    meta = read_meta(last)
    if meta.get("model") != config.model.name or meta.get("kwargs") != config.model.kwargs:
        raise ConfigError(f"--resume: {last} holds a different model than the config")
    try:  # both check the files are the ones last.json was saved with: no torn set
        resumed, _ = load_checkpoint(last, fusion=False)
        load_training_state(last, optimizer, scheduler)
    except DataError as e:
        raise DataError(
            f"--resume: {e}; start the run over (without --resume), or from its best "
            "weights with train.init"
        ) from None
    model.load_state_dict(resumed.state_dict())
    return ResumePoint(
        history=meta.get("history", []),
        start_epoch=int(meta["epoch"]) + 1,
        best_psnr=float(meta.get("best_val_psnr") or -math.inf),
        best_loss=float(meta.get("best_val_loss") or math.inf),
        best_epoch=int(meta.get("best_epoch", 0)),
        elapsed=float(meta.get("train_seconds", 0.0)),
    )
