"""The optimizer a run steps with and its per-step learning-rate schedule, from `train.*`."""

from __future__ import annotations

import math

import torch

from ..config import TrainConfig
from ..errors import ConfigError


def make_optimizer(model: torch.nn.Module, t: TrainConfig) -> torch.optim.Optimizer:
    """`t.optimizer` (adam or adamw) over the parameters of `model`, at `t.lr`."""
    opt_cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}.get(t.optimizer)
    if opt_cls is None:
        raise ConfigError(f"train.optimizer {t.optimizer!r}: use adam or adamw")
    return opt_cls(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)


def check_schedule(t: TrainConfig) -> None:
    """Refuse a `train.scheduler` or `train.warmup_steps` that `make_scheduler` cannot follow."""
    if t.scheduler not in ("cosine", "none"):
        raise ConfigError(f"train.scheduler {t.scheduler!r}: use cosine or none")
    if t.warmup_steps < 0:
        raise ConfigError(f"train.warmup_steps must be >= 0, got {t.warmup_steps}")


def make_scheduler(optimizer: torch.optim.Optimizer, t: TrainConfig, total_steps: int):
    """The per-step learning-rate schedule: cosine from `t.lr` to `t.lr / 100` over
    `total_steps` (or constant), times a linear ramp from 1/100 over `t.warmup_steps`.
    None when the rate is constant."""
    if t.warmup_steps == 0:
        if t.scheduler != "cosine":
            return None
        # kept as this class without warm-up, so runs saved before warm-up existed resume
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=total_steps, eta_min=t.lr * 0.01
        )
    cosine = t.scheduler == "cosine"

    def factor(step: int) -> float:
        ramp = min(1.0, 0.01 + 0.99 * step / t.warmup_steps)
        if not cosine:
            return ramp
        return ramp * (
            0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps))
        )

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
