"""Camera-noise calibration from image files: what `denoisekit calibrate IMAGES... --out
camera.json` runs. The fitting itself is in `calibrate.py`; this module finds and reads the
images (one at a time) and writes the JSON, refusing an output path that is an input."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..calibration.calibrate import Calibration, calibrate_burst, calibrate_images
from ..errors import DataError


def calibrate_files(
    inputs: Sequence[str | os.PathLike],
    *,
    burst: bool = False,
    allow_large: bool = False,
    out: str | os.PathLike | None = None,
) -> Calibration:
    """Read image files and folders (searched recursively) and calibrate from them.

    Without `burst` every image is treated as an independent photo from the camera and their
    flat-region samples are pooled; with `burst` all images are shots of one static scene.
    `allow_large` lifts the decompression-bomb limit. `out`: the JSON path that will be
    written, checked against the inputs before any image is read.
    """
    from ..io import load_image

    paths = _image_paths(inputs)
    names = [str(p) for p in paths]
    if out is not None:
        _check_output(Path(out), names)
    images = (load_image(p, allow_large=allow_large) for p in paths)  # one at a time
    if burst:
        return calibrate_burst(images, names=names)
    return calibrate_images(images, names=names)


_JPEG_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".jfif"}


def compression_note(names: Sequence[str]) -> str | None:
    """A warning when some inputs are JPEG files, whose compression smooths and reshapes the
    noise the fit measures (`benchmarks/calibration.py --jpeg 95`: a a median 59-68% off on
    colour photos, b 12-46% off on a gray chart; docs/results/calibration.md, "JPEG
    shots")."""
    jpegs = [name for name in names if Path(name).suffix.lower() in _JPEG_SUFFIXES]
    if not jpegs:
        return None
    which = jpegs[0] if len(jpegs) == 1 else f"{len(jpegs)} of the images"
    return (
        f"{which} {'is' if len(jpegs) == 1 else 'are'} JPEG: compression smooths the noise, "
        "so a and b can be tens of percent off; calibrate from PNG or TIFF shots if you can"
    )


def _image_paths(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Files as given, folders searched recursively; DataError for a missing path."""
    from .jobs import find_images

    if not inputs:
        raise DataError("no images given; name image files or a folder")
    paths = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = find_images(item)
            if not found:
                raise DataError(f"no images found in folder {item}")
            paths.extend(found)
        elif item.is_file():
            paths.append(item)
        else:
            raise DataError(f"input not found: {item}")
    return paths


def write_calibration(calibration: Calibration, path: str | os.PathLike) -> Path:
    """Write the calibration JSON atomically; its "noise" key is the spec string. Refuses a
    path that is a folder or one of the images calibrated from."""
    from ..files import atomic_write_json

    path = Path(path)
    _check_output(path, calibration.images)
    atomic_write_json(path, calibration.to_dict())
    return path


def _check_output(path: Path, images: Sequence[str]) -> None:
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise DataError(f"{parent} is not a folder; --out {path} cannot be written there")
    if path.is_dir():
        raise DataError(f"--out {path} is a folder; name a file, e.g. {path / 'camera.json'}")
    if any(Path(name).resolve() == path.resolve() for name in images):
        raise DataError(f"--out {path} is one of the images; choose another file, e.g. camera.json")
