"""`load("auto")`: the model choice of `denoisekit.denoise` and the CLI, as a loaded denoiser.

A fixed name (`load("color-blind")`) runs that model on every image. `AutoDenoiser` instead
picks, for each image it is given, the pretrained model `choose.choose_pretrained` picks
(gray-blind or color-blind, or gray-camera / color-camera for camera grain or JPEG when no
sigma is given), loading each the first time it is needed, so `load("auto").denoise(image)`
returns what `denoisekit.denoise(image)` and `denoisekit denoise` return.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from ..runtimes.choose import check_runtime
from .choose import choose_pretrained
from .device import resolve_device
from .levels import parse_sigma
from .precision import check_precision

if TYPE_CHECKING:
    from ..noise import NoiseModel
    from .loaded import LoadedDenoiser
    from .tiles import Progress

AUTO = "auto"  # the name `load` takes for this


class AutoDenoiser:
    """Denoises each image with the pretrained model chosen for it (see the module docstring).

    `precision` ("fp32", "bf16" or "auto"), `device` (a `torch.device`) and `runtime` ("torch",
    "onnxruntime", "openvino" or "auto") are what the chosen models run in, on and by;
    `choose(image)` says which model an image gets. Calling the object is the same as calling
    `denoise`.
    """

    name = AUTO

    def __init__(
        self,
        *,
        precision: str = "fp32",
        device: torch.device | None = None,
        runtime: str = "torch",
    ) -> None:
        self.precision = check_precision(precision)
        self.runtime = check_runtime(runtime)
        self.device = torch.device("cpu") if device is None else torch.device(device)
        self.loaded: dict[str, LoadedDenoiser] = {}  # chosen so far, by name

    def __repr__(self) -> str:
        return (
            f"AutoDenoiser(precision={self.precision!r}, runtime={self.runtime!r}, "
            f"device={str(self.device)!r}, "
            f"loaded={sorted(self.loaded)})"
        )

    def to(self, device: str | torch.device) -> AutoDenoiser:
        """Run the chosen models on `device` from now on (those loaded already move there):
        "cpu", "cuda", "cuda:N", "auto" or a `torch.device` (see `device.py`)."""
        self.device = resolve_device(device)
        for loaded in self.loaded.values():
            loaded.to(self.device)
        return self

    def choose(self, image: Any, sigma: Any = None) -> LoadedDenoiser:
        """The loaded model `image` gets (an array or tensor, as `denoise` takes): a camera
        model only for a blind call (`sigma` None or "auto"), as `denoisekit.denoise` does."""
        return self._loaded(choose_pretrained(image, blind=parse_sigma(sigma) is None))

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
        """Denoise `image` with the model chosen for it; the arguments and the result are those
        of `LoadedDenoiser.denoise`."""
        chosen = self.choose(image, sigma)
        return chosen.denoise(image, sigma, tile, overlap, strength=strength, progress=progress)

    __call__ = denoise

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
        """(B, C, H, W) float in [0, 1] -> denoised, as `LoadedDenoiser.denoise_batch`; the
        whole batch goes to the one model its images' mean cues choose."""
        chosen = self.choose(noisy, sigma)
        settings = {"strength": strength, "progress": progress}
        return chosen.denoise_batch(noisy, sigma, tile, overlap, **settings)

    def _loaded(self, name: str) -> LoadedDenoiser:
        if name not in self.loaded:
            from .loading import load

            where, runtime = self.device, self.runtime
            self.loaded[name] = load(name, precision=self.precision, device=where, runtime=runtime)
        return self.loaded[name]
