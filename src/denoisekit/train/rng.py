"""Randomness of a training run as a function of (seed, epoch, rank) alone, so `--resume`
trains the remaining epochs exactly as an uninterrupted run does, bit for bit on CPU.

At the start of every epoch the loop re-derives each random state from the run's seed, the
epoch and the process's rank instead of carrying it over from the epoch before: the global
torch (CPU and CUDA), numpy and Python generators (`seed_epoch`), the order the DataLoader
visits the training items (`EpochSampler`, which also splits it between DDP processes) and
the seed of its worker processes; the noise generator and the patch crops were already drawn
this way (`loop.py`, `PatchDataset`). A resumed run therefore needs no saved random state:
restarting at epoch e recreates the very states the uninterrupted run had there, on every rank.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Sampler


def derived_seed(*key: object) -> int:
    """A 63-bit seed from a hash of `key`: the same on every machine and Python version."""
    digest = hashlib.sha256(":".join(str(part) for part in key).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def seed_epoch(seed: int, epoch: int, rank: int, loader_generator: torch.Generator) -> None:
    """Set every global random state, and the DataLoader's own generator (its worker seeds),
    to what (seed, epoch, rank) gives."""
    value = derived_seed(seed, "epoch", epoch, rank)
    torch.manual_seed(value)  # CPU and every CUDA device
    np.random.seed(value % 2**32)
    random.seed(value)
    loader_generator.manual_seed(derived_seed(seed, "loader", epoch, rank))


class EpochSampler(Sampler[int]):
    """The training items of one epoch in an order drawn from (seed, epoch) alone; with
    `replicas` > 1 (DDP) this rank's share of it, padded as `DistributedSampler` pads so that
    every rank gets as many items. Call `start_epoch` before each epoch's iterator (named so
    that Fabric, which calls `set_epoch` with its own count of iterations, leaves it alone)."""

    def __init__(self, length: int, seed: int, *, rank: int = 0, replicas: int = 1) -> None:
        if length < 1 or not 0 <= rank < replicas:
            raise ValueError(f"no items to sample, or rank {rank} not in 0..{replicas - 1}")
        self.length, self.seed, self.rank, self.replicas = length, seed, rank, replicas
        self.epoch = 0

    def start_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return math.ceil(self.length / self.replicas)

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(derived_seed(self.seed, "order", self.epoch))
        order = torch.randperm(self.length, generator=generator).tolist()
        total = len(self) * self.replicas
        while len(order) < total:
            order += order[: total - len(order)]
        return iter(order[self.rank : total : self.replicas])
