"""The noise level a noise-aware model is given: `--sigma` values and the strength factor."""

from __future__ import annotations

import math
import numbers
import re
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..noise import NoiseModel

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"


def parse_sigma(value: Any, *, what: str = "sigma") -> float | NoiseModel | None:
    """A noise level in [0, 1] units, None for "estimate it" (`None`, `"auto"`), or the
    `NoiseModel` of a noise spec.

    Numbers (Python, numpy, 0-d tensors) are [0, 1] units. Text may also be `25/255`, or a plain
    number of 1 or more, which is read on the 0-255 scale (`"25"` -> 25/255, `"1"` -> 1/255; the
    CLI's `--sigma 25`). A number above 1 is refused: in Python, write 25 / 255. A noise spec
    (`poisson-gaussian:a=0.01,b=0.0004`, a `camera.json` from `denoisekit calibrate`, or a
    `NoiseModel`) says what noise the image carries: the model then gets its per-pixel level map
    (`NoiseModel.level_map`). Anything else is a ConfigError naming the value.
    """
    from ..noise import NoiseModel, parse_noise

    if value is None:
        return None
    if isinstance(value, NoiseModel):
        return value.per_pixel()
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "auto":
            return None
        if ":" in text or text.endswith(".json"):
            return parse_noise(value.strip(), level="pixel")
        m = re.fullmatch(rf"({_NUMBER})(?:/({_NUMBER}))?", text)
        if not m or (m.group(2) is not None and float(m.group(2)) == 0):
            raise ConfigError(
                f"{what} {value!r} is not a noise level; write auto, 25 (0-255 scale), "
                "25/255, 0.1 ([0,1] units) or a noise spec such as camera.json"
            )
        level = float(m.group(1)) / (float(m.group(2)) if m.group(2) else 1.0)
        if m.group(2) is None and level >= 1:  # sigma = 1 in [0,1] units is no real noise
            level /= 255.0
        if level > 1:
            raise ConfigError(f"{what} {value!r} is above 255 (or 1 in [0,1] units)")
        return level
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):  # 0-d tensor or array
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{what} must be a number in [0, 1], 'auto' or None, got {value!r}")
    level = float(value)
    if not math.isfinite(level) or level < 0:
        raise ConfigError(f"{what} must be a finite number >= 0, got {value!r}")
    if level > 1:
        raise ConfigError(
            f"{what} {value!r} is above 1: sigma is in [0,1] image units; for {value:g} on the "
            f"0-255 scale pass {value:g}/255"
        )
    return level


def check_strength(strength: Any) -> float:
    """A strength factor (> 0, finite): the noise level the model is given is multiplied by it,
    so below 1 keeps more detail and grain, above 1 smooths more."""
    if isinstance(strength, bool) or not isinstance(strength, numbers.Real):
        raise ConfigError(f"strength must be a number > 0 (1 = as estimated), got {strength!r}")
    value = float(strength)
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"strength must be a finite number > 0 (1 = as estimated), got {value!r}")
    return value
