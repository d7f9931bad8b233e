"""Image files and folders in, output paths out: what the file-writing verbs share.

Inputs are files or folders (searched recursively). One file with `-o FILE` writes that file;
otherwise OUTPUT is a folder mirroring the inputs (one folder: its tree under OUTPUT; several
inputs: files by name, folders by name then their tree). Each output keeps its input's format
and bit depth unless a format is given. `plan` checks every path before the first image is
read: inputs must exist, no output may be an input or be written twice. `write_image` writes
atomically. Used by `denoisekit denoise` (`batch.denoise`) and `denoisekit noise`
(`batch.noise`).
"""

from __future__ import annotations

import errno
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, DataError, InputWarning
from ..files import atomic_path, remove_stale_temps
from ..imagemeta import NONE, ImageMetadata, read_metadata
from ..io import IMAGE_EXTENSIONS, read_image, save_image
from ..shards import Shard

# --format value -> file extension; the extension an output path may have -> writer.
FORMATS = {
    "png": ".png",
    "jpg": ".jpg",
    "jpeg": ".jpg",
    "tif": ".tif",
    "tiff": ".tif",
    "bmp": ".bmp",
    "webp": ".webp",
}
_IO_WRITES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}  # io.save_image
_PIL_WRITES = {".bmp": "BMP", ".webp": "WEBP", ".ppm": "PPM", ".pgm": "PPM"}
_JPEG_QUALITY = 95
_NOT_IMAGE = f"not an image file ({', '.join(IMAGE_EXTENSIONS)})"


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path


def output_format(fmt: str | None) -> str | None:
    """The extension for a `--format` value (png, jpg, tif, bmp, webp, ...), None for "keep"."""
    if fmt is None:
        return None
    ext = FORMATS.get(fmt.lower().lstrip("."))
    if ext is None:
        raise ConfigError(f"unknown --format {fmt!r}; use one of {', '.join(sorted(FORMATS))}")
    return ext


def _writable(ext: str) -> bool:
    return ext in _IO_WRITES or ext in _PIL_WRITES


def find_images(folder: Path, *, skip: Path | None = None) -> list[Path]:
    """Image files under `folder` (recursive, sorted; hidden files and folders left out, and
    anything inside `skip`, the output folder, when it lies inside the input)."""
    return [path for path in _walk(folder, skip) if _is_image_name(path)]


def _is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _walk(folder: Path, skip: Path | None) -> list[Path]:
    skip = skip.resolve() if skip is not None else None
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and (skip is None or (Path(root) / d).resolve() != skip)
        )
        found += [Path(root) / name for name in sorted(files) if not name.startswith(".")]
    return found


@dataclass(frozen=True)
class Failure:
    """An input file a verb could not process, and why (one line)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class JobsDone:
    """What `run_jobs` did: files written, pixels read, inputs that failed, outputs that
    replaced an existing file, and notes (one line each: frames left out, damaged metadata,
    temp files of an interrupted run removed)."""

    written: int
    pixels: int
    failures: list[Failure]
    overwritten: int = 0
    notes: tuple[str, ...] = ()


# A write failing for these stops the run: every later file would fail the same way.
_RUN_STOPPERS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


def run_jobs(
    jobs: Sequence[Job],
    process: Callable[[Job, np.ndarray], np.ndarray],
    *,
    allow_large: bool = False,
    progress: bool = False,
    keep_metadata: bool = True,
) -> JobsDone:
    """Read each job's image, `process` it and write the result to the job's target, with the
    input's ICC profile, EXIF and DPI unless `keep_metadata` is False (see `imagemeta`).

    A file that cannot be read (corrupt, truncated, not an image, too large without
    `allow_large`), processed (`process` raised DataError) or written (a name the file system
    refuses, a folder it may not write) is recorded and the rest still run; only a full disk
    or a read-only file system stops the run. Each output folder is first cleared of the temp
    files a killed run of this tool left there (`files.remove_stale_temps`). `progress` shows
    a bar over files on stderr when it is a terminal.
    """
    import sys

    from tqdm import tqdm

    written, pixels, overwritten, failures, notes = 0, 0, 0, [], {}
    cleared: set[Path] = set()
    for job in tqdm(jobs, unit="file", file=sys.stderr, disable=None if progress else True):
        folder = job.target.parent
        if folder not in cleared:
            cleared.add(folder)
            if removed := remove_stale_temps(folder):
                notes[
                    f"removed {removed} temp file{'s' if removed != 1 else ''} an interrupted "
                    f"run left in {folder}"
                ] = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InputWarning)
            try:
                image = read_image(job.source, allow_large=allow_large)
                result = process(job, image)
                metadata = read_metadata(job.source) if keep_metadata else NONE
            except DataError as e:
                failures.append(Failure(job.source, str(e)))
                continue
            finally:
                _keep_notes(caught, notes, job.source)
        existed = os.path.lexists(job.target)
        try:
            write_image(result, job.target, metadata=metadata)
        except DataError as e:
            failures.append(Failure(job.source, str(e)))
            continue
        except OSError as e:
            if e.errno in _RUN_STOPPERS:
                raise
            failures.append(Failure(job.source, f"cannot write {job.target}: {e.strerror or e}"))
            continue
        written += 1
        overwritten += existed
        pixels += image.shape[0] * image.shape[1]
    return JobsDone(written, pixels, failures, overwritten, tuple(notes))


def _keep_notes(caught: list, notes: dict[str, None], source: Path) -> None:
    """InputWarnings become notes, one about damaged metadata per file (pixels and metadata
    are read apart, each may warn); any other warning is shown as it was."""
    damaged = f"{source}: "
    for w in caught:
        if not issubclass(w.category, InputWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            continue
        message = str(w.message)
        if message.startswith(damaged) and any(n.startswith(damaged) for n in notes):
            continue
        notes[message] = None


def plan(inputs: Sequence[str | Path], output: str | Path, *, fmt: str | None = None) -> list[Job]:
    """Pair every input image with its output path; raises before anything is read or written."""
    return plan_with_skipped(inputs, output, fmt=fmt)[0]


def plan_with_skipped(
    inputs: Sequence[str | Path],
    output: str | Path,
    *,
    fmt: str | None = None,
    shard: Shard | None = None,
) -> tuple[list[Job], list[Failure]]:
    """`plan`, plus the files in the input folders that are not images by their extension, as
    failures (the verbs that process folders list them); each folder is walked once.

    `shard` keeps only its part of both (`shards.py`), keyed by `job_key`; every path is still
    checked, so all shards of a run refuse the same conflicts."""
    if not inputs:
        raise ConfigError("no input given; name image files or folders")
    sources = [Path(p) for p in inputs]
    for path in sources:
        if not path.exists():
            raise DataError(f"input not found: {path}")
    ext = output_format(fmt)
    output = Path(output)
    if len(sources) == 1 and sources[0].is_file() and _names_a_file(output):
        target_ext = output.suffix.lower()
        if not _writable(target_ext):
            raise DataError(
                f"cannot write {output}: unknown extension; use one of "
                ".png .jpg .tif .bmp .webp (or an existing folder)"
            )
        if ext is not None and FORMATS.get(target_ext.lstrip(".")) != ext:
            raise ConfigError(f"--format {fmt} does not match the output file {output}")
        jobs, others = [Job(sources[0], output)], []
    else:
        if output.is_file():
            raise DataError(
                f"output {output} is a file; for folders or several inputs it is a folder"
            )
        jobs, others = [], []
        for path in sources:
            if path.is_dir():
                base = output if len(sources) == 1 else output / path.resolve().name
                found = _walk(path, output)
                images = [p for p in found if _is_image_name(p)]
                others += [
                    (Failure(p, _NOT_IMAGE), Job(p, base / p.relative_to(path)))
                    for p in found
                    if not _is_image_name(p)
                ]
                if not images:
                    raise DataError(
                        f"no images in folder {path} (looked for {', '.join(IMAGE_EXTENSIONS)})"
                    )
                jobs += [Job(image, base / image.relative_to(path)) for image in images]
            else:
                jobs.append(Job(path, output / path.name))
        jobs = [Job(job.source, _with_ext(job.target, ext)) for job in jobs]
    _check_targets(jobs)
    if shard is not None:
        jobs = shard.select(jobs, lambda job: job_key(job, output))
        others = [o for o in others if shard.holds(job_key(o[1], output))]
    return jobs, [failure for failure, _ in others]


def job_key(job: Job, output: Path) -> str:
    """The file's path relative to the output with the input's extension, the same for every
    `--format`; a single file written to a named file: its input name. What `noise` seeds
    each file's noise with and `--shard` splits by (the input's path relative to its root)."""
    try:
        relative = job.target.relative_to(output)
    except ValueError:
        return job.source.name
    if relative == Path("."):
        return job.source.name
    return relative.with_suffix(job.source.suffix).as_posix()


def _names_a_file(output: Path) -> bool:
    """`-o` names a file (not a folder): it has an extension and is not an existing folder."""
    return bool(output.suffix) and not output.is_dir() and not str(output).endswith(("/", os.sep))


def _with_ext(target: Path, ext: str | None) -> Path:
    if ext is not None:
        return target.with_suffix(ext)
    return target if _writable(target.suffix.lower()) else target.with_suffix(".png")


def _check_targets(jobs: list[Job]) -> None:
    inputs = {job.source.resolve() for job in jobs}
    seen: dict[Path, Path] = {}
    for job in jobs:
        target = job.target.resolve()
        if target in inputs:
            raise DataError(f"output {job.target} is an input; choose another output path")
        if target in seen:
            raise DataError(
                f"{seen[target]} and {job.source} would both be written to {job.target}; "
                "give them separate output folders"
            )
        seen[target] = job.source


def write_image(image: np.ndarray, path: Path, *, metadata: ImageMetadata = NONE) -> Path:
    """Write an HW/HWC array (uint8, uint16 or float in [0, 1]) atomically, in the format of the
    extension, keeping its bit depth where the format can: 16-bit PNG/TIFF/PGM, float TIFF;
    JPEG, BMP, WebP and colour PPM are 8-bit. Only PNG, TIFF and WebP keep an alpha channel.
    `metadata` is written where the format holds it (not in BMP or PPM; no EXIF in TIFF); an
    ICC profile for another colour space than the image's is left out."""
    ext = path.suffix.lower()
    channels = 1 if image.ndim == 2 else image.shape[-1]
    metadata = metadata.for_channels(channels)
    if ext in (".tif", ".tiff") and image.dtype.kind == "f":
        import tifffile

        options = {"photometric": _photometric(channels)} | metadata.tifffile_options()
        with atomic_path(path) as tmp:
            tifffile.imwrite(tmp, image.astype(np.float32), **options)
        return path
    if ext in _IO_WRITES:
        if ext in (".jpg", ".jpeg"):
            image = image[..., :-1] if channels in (2, 4) else image
            return save_image(image, path, bit_depth=8, quality=_JPEG_QUALITY, metadata=metadata)
        depth = 8 if image.dtype == np.uint8 else 16
        return save_image(image, path, bit_depth=depth, metadata=metadata)
    fmt = _PIL_WRITES.get(ext)
    if fmt is None:
        raise DataError(f"cannot write {path}: unknown extension")
    from PIL import Image

    if channels in (2, 4) and fmt != "WEBP":
        image = image[..., :-1]
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    # Pillow writes 16-bit gray PGM (mode I;16); everything else here is 8-bit
    img = Image.fromarray(
        image if fmt == "PPM" and image.dtype == np.uint16 and image.ndim == 2 else _to_uint8(image)
    )
    if img.mode == "LA":  # WebP has no gray+alpha mode
        img = img.convert("RGBA")
        metadata = metadata.for_channels(4)
    options = {"quality": _JPEG_QUALITY} if fmt == "WEBP" else {}
    options |= metadata.pillow_options(fmt)
    with atomic_path(path) as tmp:
        img.save(tmp, format=fmt, **options)
    return path


def _photometric(channels: int) -> str:
    return "rgb" if channels >= 3 else "minisblack"


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    scale = 65535.0 if image.dtype == np.uint16 else 1.0
    return np.round(np.clip(image.astype(np.float32) / scale, 0, 1) * 255).astype(np.uint8)
