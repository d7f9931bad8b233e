"""What the browser app does with one uploaded file, without Gradio: check it, denoise it as
`denoisekit denoise` would, write the result beside a preview, and clean up old results.

The model choice is `AutoDenoiser`'s (the one `denoise` makes) or a named pretrained model;
images run in tiles (`inference/tiles.py`), so memory grows with the tile, not the photo. The
result keeps the input's format, bit depth and metadata (`batch.jobs.write_image`, as
`denoise` writes it). Every problem a person can fix is an `UploadError`, one line for the page.
"""

from __future__ import annotations

import math
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..batch.jobs import FORMATS, write_image
from ..decoders import READ_ERRORS, pixel_limit_lifted
from ..errors import DataError, DenoiseKitError
from ..imagemeta import read_metadata
from ..inference import AutoDenoiser, LoadedDenoiser, load
from ..inference.levels import check_strength
from ..io import IMAGE_EXTENSIONS, read_image, to_tensor

AUTO = "auto"
SIGMA_MAX = 100.0  # the top of the page's noise-level slider (0-255 scale); 0 there is "auto"
PREVIEW_PIXELS = 4_000_000  # previews above this are shrunk by a whole factor for the page
KEEP_SECONDS = 15 * 60  # results older than this are deleted on the next request

Progress = Callable[[int, int], None]


class UploadError(DenoiseKitError):
    """An upload the app refuses or cannot denoise; its message is shown in the page."""


@dataclass(frozen=True)
class Limits:
    """What one upload may be: its file size in MB and its pixel count in megapixels."""

    max_megapixels: float = 50.0
    max_upload_mb: float = 50.0

    def __post_init__(self) -> None:
        for name in ("max_megapixels", "max_upload_mb"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise DenoiseKitError(f"--{name.replace('_', '-')} must be above 0, got {value}")


@dataclass(frozen=True)
class Outcome:
    """One denoised upload: the file to download and what the page says about it."""

    source: Path  # the upload
    path: Path  # the denoised file, in the upload's format and bit depth
    model: str
    sigma: float | None  # noise level of the upload, 0-255 scale (None: the model takes none)
    estimated: bool  # sigma was estimated, not given
    strength: float
    seconds: float
    width: int
    height: int

    def summary(self) -> str:
        """One line of Markdown for the page: model, noise level, size and time."""
        if self.sigma is None:
            level = "no noise level (the model takes none)"
        else:
            how = "estimated" if self.estimated else "given"
            level = f"σ {self.sigma:.1f} ({how}, 0–255 scale)"
            if self.strength != 1:
                level += f" × strength {self.strength:g}"
        size = f"{self.width}×{self.height}"
        return f"**{self.model}** · {level} · {size} · {self.seconds:.1f} s"


class DenoiseService:
    """Denoises uploads into `workdir` with models loaded once and kept (see the module
    docstring); safe to call from several threads (Gradio's workers)."""

    def __init__(
        self,
        workdir: str | Path,
        limits: Limits | None = None,
        *,
        precision: str = "auto",
        device: str = "auto",
        tile: int = 512,
        overlap: int = 32,
        keep_seconds: float = KEEP_SECONDS,
    ) -> None:
        from ..checkpoints.pretrained import default_pretrained, pretrained_names

        default_pretrained(3)  # no shipped weights: fail at start, not on the first upload
        self.results = Path(workdir) / "results"
        self.results.mkdir(parents=True, exist_ok=True)
        self.limits = limits or Limits()
        self.tile, self.overlap = tile, overlap
        self.keep_seconds = keep_seconds
        self.model_names = [AUTO, *pretrained_names()]
        self._auto = load(AUTO, precision=precision, device=device)
        self._named: dict[str, LoadedDenoiser] = {}
        self._precision, self._device = precision, device
        self._lock = threading.Lock()  # guards the model caches

    def denoise_file(
        self,
        path: str | Path,
        *,
        model: str = AUTO,
        sigma: float = 0.0,
        strength: float = 1.0,
        progress: Progress | None = None,
    ) -> Outcome:
        """Denoise the image file at `path`; `sigma` on the 0-255 scale, 0 to estimate it.
        Raises UploadError with a line for the page when the file cannot be denoised."""
        self.sweep()
        source = Path(path)
        level, strength = _check_settings(model, sigma, strength, self.model_names)
        self._check_file(source)
        start = time.perf_counter()
        image = self._read(source)
        denoiser = self._denoiser(model, image, level)
        shown = self._shown_level(denoiser, image, level)
        try:
            result = denoiser.denoise(
                image, level, self.tile, self.overlap, strength=strength, progress=progress
            )
        except (ValueError, DataError) as e:  # e.g. a colour model given 2 colour channels
            raise UploadError(f"cannot denoise {source.name}: {e}") from None
        target = self._target(source)
        write_image(result, target, metadata=read_metadata(source))
        return Outcome(
            source=source,
            path=target,
            model=denoiser.name,
            sigma=shown,
            estimated=level is None,
            strength=strength,
            seconds=time.perf_counter() - start,
            width=image.shape[1],
            height=image.shape[0],
        )

    def sweep(self, now: float | None = None) -> int:
        """Delete result folders older than `keep_seconds`; returns how many went."""
        now = time.time() if now is None else now
        removed = 0
        for folder in self.results.iterdir():
            try:
                old = now - folder.stat().st_mtime > self.keep_seconds
            except FileNotFoundError:  # another request removed it just now
                continue
            if old:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed

    def _check_file(self, source: Path) -> None:
        if not source.is_file():
            raise UploadError("the uploaded file is gone (removed after a while); upload it again")
        if source.suffix.lower() not in IMAGE_EXTENSIONS:
            raise UploadError(f"{source.name} is not an image; upload {_KINDS}")
        megabytes = source.stat().st_size / 1e6
        if megabytes > self.limits.max_upload_mb:
            raise UploadError(
                f"{source.name} is {megabytes:.3g} MB, above this server's upload limit of "
                f"{self.limits.max_upload_mb:g} MB"
            )
        self._check_pixels(source, _header_size(source))

    def _check_pixels(self, source: Path, size: tuple[int, int] | None) -> None:
        if size is None:
            return
        width, height = size
        megapixels = width * height / 1e6
        if megapixels > self.limits.max_megapixels:
            raise UploadError(
                f"{source.name} is {width}×{height} ({megapixels:.3g} MP), above this server's "
                f"limit of {self.limits.max_megapixels:g} MP"
            )

    def _read(self, source: Path) -> np.ndarray:
        try:
            image = read_image(source)
        except DataError:
            raise UploadError(f"cannot read {source.name} as an image; upload {_KINDS}") from None
        self._check_pixels(source, (image.shape[1], image.shape[0]))  # headers PIL cannot read
        return image

    def _denoiser(self, model: str, image: np.ndarray, level: float | None) -> LoadedDenoiser:
        with self._lock:
            if model == AUTO:
                assert isinstance(self._auto, AutoDenoiser)
                try:
                    return self._auto.choose(image, level)
                except ValueError as e:  # e.g. a 5-channel TIFF
                    raise UploadError(f"cannot denoise this image: {e}") from None
            if model not in self._named:
                named = load(model, precision=self._precision, device=self._device)
                self._named[model] = named
            return self._named[model]

    def _shown_level(
        self, denoiser: LoadedDenoiser, image: np.ndarray, level: float | None
    ) -> float | None:
        """The noise level the page shows, 0-255 scale: the given one, or the estimate the model
        itself makes (its own estimator, on the colour channels; gray models on colour images
        read each channel, this is their mean)."""
        if not denoiser.noise_aware:
            return None
        if level is not None:
            return level * 255
        from ..models.base import sigma_estimator_of
        from ..noise.estimate import estimate_sigma

        batch = to_tensor(image).unsqueeze(0)
        if min(batch.shape[-2:]) < 2:
            return 0.0
        return float(estimate_sigma(batch, sigma_estimator_of(denoiser.model))[0]) * 255

    def _target(self, source: Path) -> Path:
        """A fresh folder per result, so names never clash between requests: `NAME-denoised`
        in the upload's format (`.png` for kinds no writer takes, e.g. PPM)."""
        ext = FORMATS.get(source.suffix.lower().lstrip("."), ".png")
        folder = self.results / uuid.uuid4().hex
        folder.mkdir()
        return folder / f"{source.stem}-denoised{ext}"


_KINDS = "a PNG, JPEG, TIFF, WebP, BMP or PPM/PGM file"


def _check_settings(
    model: str, sigma: float, strength: float, models: list[str]
) -> tuple[float | None, float]:
    """(level in [0, 1] units or None for auto, strength), or an UploadError."""
    if model not in models:
        raise UploadError(f"unknown model {model!r}; choose one of {', '.join(models)}")
    try:
        sigma = float(sigma)
        strength = check_strength(float(strength))
    except (TypeError, ValueError, DenoiseKitError):
        raise UploadError("noise level and strength must be numbers") from None
    if not (math.isfinite(sigma) and 0 <= sigma <= 255):
        raise UploadError(f"noise level {sigma:g} is outside 0–255 (0 = estimate it)")
    return (sigma / 255 if sigma > 0 else None), strength


def _header_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the file's header, None when Pillow cannot read it (the decoder
    then says what is wrong, or the decoded size is checked)."""
    from PIL import Image

    with pixel_limit_lifted():
        try:
            with Image.open(path) as img:
                return img.size
        except READ_ERRORS:
            return None


def preview(path: str | Path, pixels: int = PREVIEW_PIXELS) -> np.ndarray:
    """An image file as 8-bit HW / HWC RGB for the page (alpha dropped), shrunk by a whole
    factor (area average) when it has more than `pixels` pixels."""
    from PIL import Image

    image = read_image(path, allow_large=True)
    if image.ndim == 3 and image.shape[-1] in (2, 4):
        image = image[..., :-1]
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.dtype != np.uint8:
        scale = 257.0 if image.dtype == np.uint16 else 1 / 255
        image = np.round(np.clip(image / scale, 0, 255)).astype(np.uint8)
    factor = math.ceil(math.sqrt(image.shape[0] * image.shape[1] / pixels))
    if factor > 1:
        image = np.asarray(Image.fromarray(image).reduce(factor))
    return image
