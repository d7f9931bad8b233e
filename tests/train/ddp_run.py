"""One tiny training run for tests/train/test_ddp.py, as one process or as one of the processes
torchrun starts: `python ddp_run.py OUT RECORD SETTINGS_JSON [--resume]`.

Every process writes RECORD/rank<R>.json: its validation history, which process called each of
the loop's writers (checkpoints, metrics.csv, config.yaml), and a digest of the noise and of the
clean patches of its first batch of every epoch, so the test can check what each rank did.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import torch

from denoisekit.config import load_run_config
from denoisekit.data.folder import ImageSet
from denoisekit.train import loop

RANK = int(os.environ.get("RANK", "0"))
calls: dict[str, int] = {}
first_batches: list[dict[str, str]] = []


def _digest(tensor: torch.Tensor) -> str:
    return hashlib.sha1(tensor.detach().contiguous().numpy().tobytes()).hexdigest()[:16]


def _counted(name, function):
    def wrapper(*args, **kwargs):
        calls[name] = calls.get(name, 0) + 1
        return function(*args, **kwargs)

    return wrapper


class _Recorded:
    """The run's objective, noting the first batch it sees in each epoch."""

    def __init__(self, objective):
        self.objective, self.last_progress = objective, None

    def __getattr__(self, name):
        return getattr(self.objective, name)

    def __call__(self, model, batch, generator, progress=1.0):
        if progress != self.last_progress:  # progress is epoch / epochs: a new epoch
            self.last_progress = progress
            first_batches.append(
                {"noise": _digest(batch.noisy - batch.target), "clean": _digest(batch.target)}
            )
        return self.objective(model, batch, generator, progress)


def images(count: int, seed: int) -> ImageSet:
    """Smooth gray images (ramps and blobs), which a tiny network learns to denoise quickly."""
    g = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    out = []
    for _ in range(count):
        a, b, c, d = torch.rand(4, generator=g)
        blob = torch.exp(-((x - a) ** 2 + (y - b) ** 2) / (0.02 + 0.1 * c))
        out.append((0.2 + 0.3 * d * x + 0.4 * blob).clamp(0, 1)[None])
    return ImageSet("synthetic", out, [f"{i}.png" for i in range(count)])


def main() -> None:
    out, record, settings = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
    loop.save_checkpoint = _counted("save_checkpoint", loop.save_checkpoint)
    loop._write_history = _counted("write_history", loop._write_history)
    loop.save_yaml = _counted("save_yaml", loop.save_yaml)
    get_objective = loop.get_objective
    loop.get_objective = lambda *a, **k: _Recorded(get_objective(*a, **k))
    config = load_run_config(None, settings)
    result = loop.train(
        config,
        out,
        resume="--resume" in sys.argv,
        progress=False,
        datasets=(images(16, 0), images(4, 1)),
    )
    record.mkdir(parents=True, exist_ok=True)
    summary = {
        "rank": RANK,
        "global_rank": result.global_rank,
        "history": result.history,
        "calls": calls,
        "first_batches": first_batches,
    }
    (record / f"rank{RANK}.json").write_text(json.dumps(summary))


if __name__ == "__main__":
    main()
