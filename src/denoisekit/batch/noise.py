"""Make noisy copies of image files and folders: what `denoisekit noise INPUT... -o OUT` runs.

Paths follow `batch.jobs.plan`, as for `denoisekit denoise`: OUT mirrors the inputs' tree, each
output keeps its input's format and bit depth (unless a format is given), inputs are never
overwritten, and every output is written atomically. Noise is applied in float to the colour
channels (alpha passes through), then clipped to [0, 1], as a camera's file would be. Each
file's noise comes from its own generator seeded by (seed, the file's path relative to the
output), so a run repeats exactly and adding a file does not change the others.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from ..io import from_tensor, split_alpha, to_tensor
from ..noise.pipeline import NoiseModel, parse_noise
from ..shards import Shard, parse_shard
from .jobs import Failure, Job, job_key, plan_with_skipped, run_jobs


@dataclass(frozen=True)
class NoiseSummary:
    files: int
    megapixels: float
    seconds: float
    output: Path
    spec: str  # the spec applied (a .json spec file resolved to the spec it holds)
    failed: tuple[Failure, ...] = ()  # inputs that could not be read or made noisy
    overwritten: int = 0  # outputs that replaced an existing file
    file_notes: tuple[str, ...] = ()  # per input: frames left out, damaged metadata, ...


def file_seed(seed: int, key: str) -> int:
    """A 63-bit generator seed from (seed, key), stable across runs, machines and Python
    versions (unlike `hash`)."""
    digest = hashlib.sha256(f"{seed}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def add_noise(image: np.ndarray, noise: NoiseModel, generator: torch.Generator) -> np.ndarray:
    """A noisy copy of an HW/HWC image array (uint8, uint16 or float in [0, 1]), same dtype and
    shape; alpha (2nd / 4th channel) untouched. `noise` is applied, then clipped to [0, 1]."""
    colour, alpha = split_alpha(image)
    clean = to_tensor(colour).unsqueeze(0)
    noisy, _ = noise(clean, generator)
    result = from_tensor(noisy.clamp(0.0, 1.0)[0], image.dtype)
    if image.ndim == 3:
        result = result.reshape(*image.shape[:2], -1)
    if alpha is not None:
        result = np.concatenate([result, alpha], axis=-1)
    return result


def noise_paths(
    inputs: Sequence[str | Path],
    output: str | Path,
    noise: str | NoiseModel,
    *,
    seed: int = 0,
    fmt: str | None = None,
    allow_large: bool = False,
    progress: bool = False,
    keep_metadata: bool = True,
    shard: str | Shard | None = None,
) -> NoiseSummary:
    """Write a noisy copy of every image in `inputs` (files or folders) under `output`.

    `noise`: a spec string (`poisson-gaussian:a=0.01,b=0.0004+jpeg:60`, `camera.json`) or a
    parsed model; ranges draw their value per file. `seed`: see the module docstring. `fmt`:
    output format (png, jpg, tif, bmp, webp) instead of each input's own. The output may not
    be one of the inputs (file or folder). Raises before anything is written when the spec or
    a path is wrong; files that cannot be read, and non-images in the input folders, are
    skipped and listed in `failed`. `allow_large` lifts the decompression-bomb limit.
    `keep_metadata`: copy each input's ICC profile, EXIF and DPI to its output. `progress`
    shows a bar over files on stderr when it is a terminal. `shard` ("i/N"): only the files of
    that shard (`shards.py`); each file's noise is the same as in a run over all of them.
    """
    model = noise if isinstance(noise, NoiseModel) else parse_noise(noise)
    output = Path(output)
    for path in inputs:
        if Path(path).exists() and Path(path).resolve() == output.resolve():
            raise DataError(f"output {output} is an input; choose another output folder")
    jobs, skipped = plan_with_skipped(inputs, output, fmt=fmt, shard=parse_shard(shard))

    def noise_one(job: Job, image: np.ndarray) -> np.ndarray:
        generator = torch.Generator().manual_seed(file_seed(seed, job_key(job, output)))
        try:
            return add_noise(image, model, generator)
        except ValueError as e:  # e.g. a 5-channel TIFF
            raise DataError(f"cannot add noise to {job.source}: {e}") from None

    start = time.perf_counter()
    done = run_jobs(
        jobs, noise_one, allow_large=allow_large, progress=progress, keep_metadata=keep_metadata
    )
    seconds = time.perf_counter() - start
    failed = (*skipped, *done.failures)
    return NoiseSummary(
        done.written,
        done.pixels / 1e6,
        seconds,
        output,
        model.spec,
        failed,
        done.overwritten,
        done.notes,
    )
