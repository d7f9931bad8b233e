"""Denoise image files and folders: what `denoisekit denoise INPUT... -o OUTPUT` runs.

Paths follow `batch.jobs.plan`: OUTPUT mirrors the inputs' tree, each output keeps its input's
format and bit depth unless a format is given, inputs are never overwritten, every output is
written atomically, and all paths are checked before the first image is read.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..errors import ConfigError, DataError
from ..inference.auto import AutoDenoiser
from ..inference.choose import CAMERA_MODELS
from ..inference.device import resolve_device
from ..inference.levels import check_strength
from ..inference.loaded import LoadedDenoiser, parse_sigma
from ..inference.loading import load
from ..inference.precision import check_precision
from ..runtimes.choose import check_runtime
from ..shards import Shard, parse_shard
from .jobs import (  # noqa: F401  (re-exported: the public home used to be here)
    FORMATS,
    Failure,
    Job,
    find_images,
    output_format,
    plan,
    plan_with_skipped,
    run_jobs,
    write_image,
)

if TYPE_CHECKING:
    from ..noise import NoiseModel


@dataclass(frozen=True)
class Summary:
    files: int  # files written
    megapixels: float
    seconds: float
    output: Path
    models: tuple[str, ...]  # names of the models used
    sigma_ignored: bool  # a sigma or strength was given but the model takes no noise level
    failed: tuple[Failure, ...] = ()  # inputs that could not be read or denoised
    # one line per model that met images of another channel count: how they were handled
    channel_notes: tuple[str, ...] = ()
    choice_note: str | None = None  # why some files went to a camera model, when any did
    overwritten: int = 0  # outputs that replaced an existing file
    file_notes: tuple[str, ...] = ()  # per input: frames left out, damaged metadata, ...


class _ModelChoice:
    """The model for each image: the one named, else the pretrained one `choose.py` picks for
    it (`AutoDenoiser`: each loaded once, on first use), counting the files each choice got."""

    def __init__(
        self,
        model: str | None,
        checkpoint: str | Path | None,
        level: float | NoiseModel | None,
        precision: str,
        device: torch.device,
        runtime: str = "auto",
    ) -> None:
        if model is not None and checkpoint is not None:
            raise ConfigError("give --model or --checkpoint, not both")
        model = None if model == "auto" else model  # the choice per image, as when none is named
        source = Path(checkpoint) if checkpoint is not None else model
        self.fixed = None
        self.auto = None
        if source is not None:
            self.fixed = load(source, precision=precision, device=device, runtime=runtime)
        else:
            from ..checkpoints.pretrained import default_pretrained

            default_pretrained(3)  # fails before any file is read when none is shipped
            self.auto = AutoDenoiser(precision=precision, device=device, runtime=runtime)
        self.level = level  # a given level means a non-blind call: no camera model
        self.chosen: dict[str, int] = {}  # files per model picked by `choose_pretrained`

    def for_image(self, image: np.ndarray) -> LoadedDenoiser:
        if self.fixed is not None:
            return self.fixed
        denoiser = self.auto.choose(image, self.level)
        self.chosen[denoiser.name] = self.chosen.get(denoiser.name, 0) + 1
        return denoiser


def denoise_paths(
    inputs: Sequence[str | Path],
    output: str | Path,
    *,
    model: str | None = None,
    checkpoint: str | Path | None = None,
    sigma: str | float | None = None,
    tile: int | None = 512,
    overlap: int = 32,
    strength: float = 1.0,
    fmt: str | None = None,
    allow_large: bool = False,
    progress: bool = False,
    keep_metadata: bool = True,
    precision: str = "auto",
    device: str | torch.device = "auto",
    shard: str | Shard | None = None,
    runtime: str = "auto",
) -> Summary:
    """Denoise image files / folders `inputs` into `output` (see the module docstring).

    `model`: a pretrained or classical name; `checkpoint`: a checkpoint path; neither: the
    pretrained model `choose.py` picks for each image (gray-blind or color-blind, or
    gray-camera / color-camera for camera grain or JPEG when sigma is not given). `sigma`:
    "auto"/None (estimate per image), a [0, 1] level, or text like "25" (0-255) or "25/255";
    `strength` multiplies whichever level the model gets (`LoadedDenoiser.denoise`). Files that
    cannot be read or denoised, and files in the input folders that are not images, are
    skipped and listed in `Summary.failed`; the rest are still written. `allow_large` lifts the
    decompression-bomb limit. `keep_metadata`: copy each input's ICC profile, EXIF and DPI to
    its output. `progress` shows a bar over files on stderr when it is a terminal, and one over
    the tiles of each image of several tiles; a large image (`progress.LOG_TILES` tiles or more)
    gets its tile bar on a non-terminal stderr too, so a log is not silent. `precision`:
    what networks run in, "auto" (bf16 where the CPU or GPU has it natively, else fp32), "fp32"
    or "bf16" (`precision.py`). `device`: where networks run, "auto" (a CUDA GPU when torch
    sees one, else the CPU), "cpu", "cuda" or "cuda:N" (`device.py`). `runtime`: what runs
    networks, "auto" (the fastest installed for this CPU), "torch", "onnxruntime" or
    "openvino" (`runtimes/`). `shard` ("i/N"): only
    the files of that shard (`shards.py`), each written as a run over all of them writes it.
    """
    from ..inference.tiles import check_tiling, tile_count
    from ..progress import tile_bar

    level = parse_sigma(sigma, what="--sigma")
    strength = check_strength(strength)
    check_tiling(tile, overlap)
    jobs, skipped = plan_with_skipped(inputs, output, fmt=fmt, shard=parse_shard(shard))
    where = resolve_device(device)
    choice = _ModelChoice(
        model, checkpoint, level, check_precision(precision), where, check_runtime(runtime)
    )
    ignored, used, mismatched = False, {}, {}

    def denoise_one(job: Job, image: np.ndarray) -> np.ndarray:
        nonlocal ignored
        try:
            denoiser = choice.for_image(image)
        except ValueError as e:  # e.g. a 5-channel TIFF
            raise DataError(f"cannot denoise {job.source}: {e}") from None
        given = level is not None or strength != 1.0
        ignored = ignored or (given and not denoiser.noise_aware)
        used[denoiser.name] = None
        colour = _colour_channels(image)
        if denoiser.channels not in (None, colour):
            key = (denoiser.name, denoiser.channels, colour)
            mismatched[key] = mismatched.get(key, 0) + 1
        total = tile_count(*image.shape[:2], tile, overlap)
        try:
            with tile_bar(total, job.source.name, enabled=progress) as shown:
                return denoiser.denoise(
                    image, level, tile, overlap, strength=strength, progress=shown
                )
        except ValueError as e:  # e.g. a 5-channel TIFF, or a 3-channel image for a 2-channel model
            raise DataError(f"cannot denoise {job.source}: {e}") from None

    start = time.perf_counter()
    done = run_jobs(
        jobs,
        denoise_one,
        allow_large=allow_large,
        progress=progress,
        keep_metadata=keep_metadata,
    )
    seconds = time.perf_counter() - start
    notes = tuple(_channel_note(*key, count) for key, count in mismatched.items())
    choice_note = _choice_note(choice.chosen)
    return Summary(
        done.written,
        done.pixels / 1e6,
        seconds,
        Path(output),
        tuple(used),
        ignored,
        (*skipped, *done.failures),
        notes,
        choice_note,
        done.overwritten,
        done.notes,
    )


def _choice_note(chosen: dict[str, int]) -> str | None:
    """One line naming the camera models `choose.py` picked and how many files each took."""
    from ..checkpoints.pretrained import DEFAULT_COLOR, DEFAULT_GRAY

    parts, instead = [], []
    for channels, blind in ((1, DEFAULT_GRAY), (3, DEFAULT_COLOR)):
        camera = CAMERA_MODELS[channels]
        files = chosen.get(camera, 0)
        if files:
            parts.append(f"{camera} denoised {files} file{'s' if files != 1 else ''}")
            instead.append(f"--model {blind}")
    if not parts:
        return None
    return (
        f"{' and '.join(parts)} whose noise reads as camera grain or JPEG; "
        f"{' or '.join(instead)} treats noise as white instead"
    )


def _colour_channels(image: np.ndarray) -> int:
    """1 for gray (HW, HW1, gray + alpha), else the colour channels without alpha."""
    channels = 1 if image.ndim == 2 else image.shape[-1]
    return channels - 1 if channels in (2, 4) else channels


def _channel_note(name: str, model_channels: int, image_channels: int, files: int) -> str:
    what = f"{files} file{'s' if files != 1 else ''}"
    if model_channels == 1:
        return f"{name} is a gray model: each colour channel of {what} was denoised on its own"
    return (
        f"{name} is a colour model: {what} in gray {'was' if files == 1 else 'were'} denoised "
        "as RGB copies (noise level x sqrt(3)) and averaged back to gray"
    )
