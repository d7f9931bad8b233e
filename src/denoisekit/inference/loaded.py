"""A loaded model that denoises images of any kind: `load(name_or_path).denoise(image)`.

Arrays (HW / HWC, uint8, uint16, float32, float64) and tensors ((C, H, W) / (B, C, H, W), float
in [0, 1] or uint8) come back as the same kind, dtype, layout and device. Inside, everything is a
(B, C, H, W) float32 batch in [0, 1], run in tiles (see `tiles.py`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import ConfigError, DataError
from ..io import FLOAT_RANGE
from ..runtimes import accelerate, check_runtime, resolve_runtime
from ..runtimes.graph import exportable
from .device import resolve_device
from .ensemble import SelfEnsemble
from .levels import check_strength, parse_sigma
from .precision import autocast, check_precision, resolve_precision, use_channels_last
from .sources import ImageSource, denoise_array
from .tiles import Progress, check_tiling, gathered, tiled_bands

if TYPE_CHECKING:
    from ..noise import NoiseModel


def _check_values(batch: Tensor) -> None:
    """Refuse what would come back silently wrong: empty, non-finite or 0-255 float images."""
    if batch.numel() == 0:
        raise DataError(f"the image is empty (shape {tuple(batch.shape)})")
    if not torch.isfinite(batch).all():
        raise DataError(
            "the image holds NaN or infinite values; replace them first (e.g. np.nan_to_num)"
        )
    low, high = float(batch.min()), float(batch.max())
    # Unclipped noisy [0, 1] images overshoot, but not past FLOAT_RANGE (io.py), the same rule
    # the file readers apply; 0-255 images go far above it.
    if low < FLOAT_RANGE[0] or high > FLOAT_RANGE[1]:
        raise DataError(
            f"float image values run from {low:g} to {high:g}; float images must be on the "
            "[0, 1] scale (divide 0-255 values by 255, or pass uint8)"
        )


def _inner(model: nn.Module) -> nn.Module:
    """The network a runtime converts: the one inside a self-ensemble, else `model`."""
    return model.model if isinstance(model, SelfEnsemble) else model


def model_channels(model: nn.Module) -> int | None:
    """The channel count `model` takes, or None when it takes any (classical filters)."""
    if hasattr(model, "in_channels"):
        value = model.in_channels
        return value if isinstance(value, int) else None
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module.in_channels
    return None


class LoadedDenoiser:
    """A denoising model plus its metadata, ready for images of any kind.

    `model` is the `nn.Module` (eval mode); `info` its metadata (the checkpoint JSON, with
    description, sigma_range, measured PSNR, ... for pretrained weights); `name` a label;
    `precision` what networks run in: "fp32", "bf16" (autocast + channels_last) or "auto" (bf16
    where the device has it natively, see `precision.py`); `runtime` what runs them: "torch",
    "onnxruntime", "openvino" or "auto" (the fastest installed one measured for this kind of
    CPU, see `runtimes/choose.py`). Calling the object is the same as calling `denoise`.
    """

    def __init__(
        self,
        model: nn.Module,
        info: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        precision: str = "fp32",
        runtime: str = "torch",
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"expected an nn.Module, got {type(model).__name__}")
        self.model = model.eval()
        self.precision = check_precision(precision)
        self.runtime = check_runtime(runtime)
        self._converted: dict[tuple[str, str, str], nn.Module] = {}  # by runtime, precision, device
        self.info: dict[str, Any] = dict(info or {})
        self.name = name or self.info.get("name") or getattr(model, "registry_name", None)
        self.name = self.name or type(model).__name__

    def __repr__(self) -> str:
        aware = self.noise_aware
        return f"LoadedDenoiser({self.name!r}, channels={self.channels}, noise_aware={aware})"

    @property
    def channels(self) -> int | None:
        """Channels the model takes (1 gray, 3 RGB), None when any count works."""
        return model_channels(self.model)

    @property
    def noise_aware(self) -> bool:
        """True when the model takes a noise level (`sigma`); the others never see it."""
        return bool(getattr(self.model, "noise_aware", False))

    @property
    def device(self) -> torch.device:
        param = next(self.model.parameters(), None)
        return param.device if param is not None else torch.device("cpu")

    def to(self, device: str | torch.device) -> LoadedDenoiser:
        """Move the model to `device` ("cpu", "cuda", "cuda:N", "auto" or a `torch.device`;
        see `device.py`); images are moved there tile by tile."""
        self.model.to(resolve_device(device))
        return self

    def denoise(
        self,
        image: Any,
        sigma: Any = None,
        tile: int | None = 512,
        overlap: int = 32,
        *,
        strength: float = 1.0,
        progress: Progress | None = None,
    ) -> Any:
        """Denoise `image`; returns the same kind, dtype, layout (and device) it was given.

        image: numpy HW or HWC (C = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), uint8 / uint16 (full
            range) or float32 / float64 in [0, 1]; or a torch tensor (C, H, W) / (B, C, H, W),
            float in [0, 1] or uint8. Alpha (the 2nd / 4th channel) passes through untouched,
            (as in `io.split_alpha`).
        sigma: noise std in [0, 1] units, or None / "auto" to estimate it per image
            (`noise.estimate`, by the model's `sigma_estimator`, on the whole image, so every
            tile gets the same level), or the noise spec the image carries (see `parse_sigma`)
            for a per-pixel level map. Only noise-aware models use it; the others ignore it.
        tile, overlap: tile size and overlap in pixels (tile None or 0: whole image at once);
            memory grows with the tile, not the image.
        strength: factor on the noise level the model is given, estimated or not: below 1
            keeps more detail and grain, above 1 smooths more (noise-aware models only).
        progress: called as `progress(done, total)` after each tile (`tiles.tiled_apply`), e.g.
            to draw a bar for a large image; `total` is `tiles.tile_count(H, W, tile, overlap)`.

        Channels: a gray model on a colour image denoises each channel on its own, as a gray
        image; a colour model on a gray image sees it replicated to RGB, with the noise level
        times sqrt(3) (the same noise in every channel), and the three outputs averaged back to
        gray. Output values are clamped to [0, 1] (integers: full range). Empty images, NaN or
        infinite values and float values far outside [0, 1] are a DataError.
        """
        level = parse_sigma(sigma)
        check_tiling(tile, overlap)
        settings = (level, tile, overlap, check_strength(strength), progress)
        if isinstance(image, Tensor):
            return self._denoise_tensor(image, *settings)
        return denoise_array(self, np.asarray(image), *settings)

    __call__ = denoise

    @torch.no_grad()
    def denoise_batch(
        self,
        noisy: Tensor,
        sigma: float | NoiseModel | None = None,
        tile: int | None = 512,
        overlap: int = 32,
        *,
        strength: float = 1.0,
        progress: Progress | None = None,
    ) -> Tensor:
        """(B, C, H, W) float in [0, 1] -> denoised (B, C, H, W) float32 in [0, 1].

        No alpha here: C is the colour channel count (see `denoise` for the channel rules).
        `sigma` in [0, 1] units, None to estimate it per image, or a `NoiseModel` for a
        per-pixel map (noise-aware models only); `strength` multiplies that level;
        `progress(done, total)` is called after each tile.
        """
        if noisy.dim() != 4:
            raise ValueError(f"expected a (B, C, H, W) batch, got shape {tuple(noisy.shape)}")
        noisy = noisy.float()
        _check_values(noisy)
        b, c, h, w = noisy.shape

        def crop(y: int, x: int, height: int, width: int) -> Tensor:
            return noisy[..., y : y + height, x : x + width]

        source = ImageSource(crop, b, c, h, w, whole=lambda: noisy)
        bands = self.denoised_bands(source, sigma, tile, overlap, strength, progress, noisy.device)
        return gathered(bands, h)

    def denoised_bands(
        self,
        source: ImageSource,
        sigma: float | NoiseModel | None,
        tile: int | None,
        overlap: int,
        strength: float,
        progress: Progress | None,
        device: torch.device | str = "cpu",
    ) -> Iterator[tuple[int, Tensor]]:
        """The denoised image `source` reads, as (y, band) of float32 (B, C, rows, W) in
        [0, 1], top to bottom (`tiles.tiled_bands`): a caller that writes bands away holds no
        full-size float copy of the input or the output. A `NoiseModel` sigma reads its level
        map from the whole image (`source.whole`)."""
        from ..noise import NoiseModel

        b, c, h, w = source.shape
        want = self.channels
        gain = check_strength(strength)  # factor on the noise level the model is given
        if want is None or want == c:
            adapt, back = (lambda t: t), (lambda t: t)
        elif want == 1:  # gray model: each channel is a gray image of its own
            adapt = lambda t: t.reshape(t.shape[0] * c, 1, *t.shape[-2:])  # noqa: E731
            back = lambda t: t.reshape(b, c, *t.shape[-2:])  # noqa: E731
        elif want == 3 and c == 1:  # colour model: gray replicated to RGB, averaged back
            adapt = lambda t: t.expand(t.shape[0], 3, *t.shape[-2:])  # noqa: E731
            back = lambda t: t.mean(1, keepdim=True)  # noqa: E731
            # The same noise in all three channels is, for a model trained on independent
            # channel noise, the luminance noise of sqrt(3) times the level: tell it so.
            gain *= math.sqrt(3.0)
        else:
            raise ConfigError(
                f"model {self.name!r} takes {want}-channel images and cannot denoise a "
                f"{c}-channel one"
            )

        def crop(y: int, x: int, height: int, width: int) -> Tensor:
            return adapt(source.crop(y, x, height, width))

        network = self._network()
        if self.noise_aware and isinstance(sigma, NoiseModel):
            # The map is read from the whole image, then cropped with it tile by tile.
            level_map = sigma.level_map(adapt(source.whole())) * gain

            def read(y: int, x: int, height: int, width: int) -> Tensor:
                piece = level_map[..., y : y + height, x : x + width]
                return torch.cat([crop(y, x, height, width), piece], dim=1)

            def run(both: Tensor) -> Tensor:
                return network(both[:, :-1], both[:, -1:])
        elif self.noise_aware:
            levels = self._levels(source, sigma, want) * gain
            read = crop

            def run(image: Tensor) -> Tensor:
                return network(image, levels)
        else:
            read, run = crop, network
        bands = tiled_bands(run, read, h, w, tile, overlap, progress=progress, device=device)
        for y, band in bands:
            yield y, back(band).clamp_(0.0, 1.0)

    def runs_on(self) -> tuple[str, str]:
        """(runtime, precision) the network runs in on its device, e.g. ("openvino", "fp32");
        ("torch", "fp32") for classical filters."""
        device = self.device
        if next(self.model.parameters(), None) is None:
            return "torch", "fp32"
        if self.runtime == "torch":
            return "torch", resolve_precision(self.precision, device)
        precision = resolve_precision(self.precision, device)
        runtime, precision = resolve_runtime(self.runtime, device, precision)
        if runtime != "torch" and not exportable(_inner(self.model)):
            return "torch", resolve_precision(self.precision, device)
        return runtime, precision

    def _converted_network(self, runtime: str, precision: str) -> nn.Module | None:
        """The model converted for `runtime` (cached per runtime, precision and device; a
        self-ensemble converts the network inside it), or None when `auto` could not convert
        it (then PyTorch runs it, with a warning)."""
        device = self.device
        key = (runtime, precision, str(device))
        if key not in self._converted:
            inner = _inner(self.model)
            try:
                converted = accelerate(inner, runtime, precision, device, self.info)
            except Exception as error:  # noqa: BLE001 - any converter failure
                if self.runtime != "auto":
                    raise
                warnings.warn(
                    f"{self.name}: {runtime} could not convert the network ({error}); running "
                    "it in PyTorch",
                    stacklevel=3,
                )
                return None
            if inner is not self.model:
                converted = SelfEnsemble(converted)
            self._converted[key] = converted
        return self._converted[key]

    def _network(self):
        """The model as a function of image tensors: run on the model's device by its runtime,
        in its precision and memory layout (`precision.use_channels_last`), returning float32."""
        device = self.device
        has_weights = next(self.model.parameters(), None) is not None
        runtime, precision = self.runs_on()
        converted = self._converted_network(runtime, precision) if runtime != "torch" else None
        if converted is not None:

            def run(image: Tensor, *extra: Tensor) -> Tensor:
                return converted(image, *extra).float()

            return run
        precision = resolve_precision(self.precision, device) if has_weights else "fp32"
        channels_last = use_channels_last(precision, device)
        if channels_last:
            self.model.to(memory_format=torch.channels_last)

        def call(image: Tensor, *extra: Tensor) -> Tensor:
            image = image.to(device)
            if channels_last and image.dim() == 4:
                image = image.contiguous(memory_format=torch.channels_last)
            with autocast(precision, device):
                out = self.model(image, *(t.to(device) for t in extra))
            return out.float()

        return call

    def _levels(self, source: ImageSource, sigma: float | None, want: int | None) -> Tensor:
        """Per-image noise level (N,) of the images the network sees (each channel its own
        image for a gray model on colour): the given one, or an estimate on the whole image,
        read one channel at a time (`noise.estimate.channel_sigmas`)."""
        b, c, h, w = source.shape
        count = b * c if want == 1 and c > 1 else b
        if sigma is not None:
            return torch.full((count,), float(sigma))
        if min(h, w) < 2:  # the estimator needs 2x2 pixels; nothing to see anyway
            return torch.zeros(count)
        from ..models.base import sigma_estimator_of
        from ..noise.estimate import channel_sigmas

        method = sigma_estimator_of(self.model)
        readings = torch.cat([channel_sigmas(source.channel(j), method) for j in range(c)], 1)
        if want == 1 and c > 1:
            readings = readings.reshape(count, 1)
        elif want == 3 and c == 1:  # what the RGB-replicated image reads
            readings = readings.repeat(1, 3)
        return readings.mean(dim=1).float()

    def _denoise_tensor(self, image: Tensor, sigma, tile, overlap, strength, progress) -> Tensor:
        if image.dim() not in (3, 4):
            raise ValueError(
                f"expected a (C, H, W) or (B, C, H, W) tensor, got {tuple(image.shape)}"
            )
        batch = image if image.dim() == 4 else image.unsqueeze(0)
        if batch.shape[1] > 4:
            raise DataError(
                f"tensor of shape {tuple(image.shape)}: tensors are (C, H, W) or (B, C, H, W) "
                "with 1-4 channels; for an (H, W, C) tensor pass image.permute(2, 0, 1)"
            )
        if batch.dtype == torch.uint8:
            scale = 255.0
        elif batch.is_floating_point():
            scale = 1.0
        else:
            raise ValueError(
                f"unsupported tensor dtype {image.dtype}; use float in [0, 1] or uint8"
            )
        split = batch.shape[1] in (2, 4)  # gray+alpha, RGBA
        colour = batch[:, :-1] if split else batch
        colour = colour.float() / scale
        out = self.denoise_batch(colour, sigma, tile, overlap, strength=strength, progress=progress)
        out = out.to(image.device)
        out = (out * 255).round_().to(torch.uint8) if scale != 1.0 else out.to(image.dtype)
        if split:
            out = torch.cat([out, batch[:, -1:]], dim=1)
        return out if image.dim() == 4 else out[0]
