"""Noise spec strings, parsed in one place, into a callable `NoiseModel`.

Grammar (spaces around separators are ignored, kind names are case-insensitive)::

    spec   := part ("+" part)*             parts apply left to right
    part   := kind [":" arg ("," arg)*]    or a path ending in .json
    arg    := value | name "=" value       positional args first, in the kind's order
    value  := number | number "-" number   a range: drawn uniformly per image
    number := 0.1 | 1e-3 | 25/255 | -30

Examples: `gaussian:0.1`, `gaussian:25/255`, `gaussian:0-50/255`, `poisson:30`,
`poisson-gaussian:a=0.01,b=0.0004`, `speckle:0.1`, `salt-pepper:0.05,0.5`, `motion-blur:9,30`,
`jpeg:60`, `quantize:8`, `motion-blur:9,30+poisson-gaussian:a=0.01,b=0.0004+jpeg:60`.
A `.json` part is a file whose "noise" entry holds a spec (what `denoisekit calibrate`
writes): `--noise camera.json`, `camera.json+jpeg:90`. The kinds are listed in `kinds.py`.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch import Tensor

from ..errors import ConfigError, DataError, DenoiseKitError, unknown
from . import functional as nf
from .estimate import estimate_sigma_haar, local_intensity
from .kinds import KINDS, Kind, Param, Params
from .storage import Storage, parse_storage, store

_NUMBER = r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"
_SIGNED = rf"-?{_NUMBER}(?:/{_NUMBER})?"
_VALUE = re.compile(rf"\s*({_SIGNED})\s*(?:-\s*({_SIGNED})\s*)?")


def parse_level(text: str, *, what: str = "sigma") -> float:
    """A level written `0.1`, `25/255` or `25` is read as [0,1] units (`25` alone is refused)."""
    text = text.strip()
    m = re.fullmatch(rf"({_NUMBER})(?:/({_NUMBER}))?", text)
    if text.startswith("-"):
        raise ConfigError(f"{what} must be >= 0, got {text}")
    if not m:
        raise ConfigError(f"{what} {text!r} is not a number; write e.g. 0.1 or 25/255")
    value = float(m.group(1)) / (float(m.group(2)) if m.group(2) else 1.0)
    if value > 1.0:
        raise ConfigError(
            f"{what} {text} is above 1: sigma is in [0,1] image units; write {text}/255 for 0-255"
        )
    return value


def _fmt(value: float) -> str:
    """Shortest text that reads back as exactly `value` (30.0 -> '30', 0.1 -> '0.1')."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class Stage:
    """One part of a spec: a kind and a (low, high) range per parameter, in the kind's order."""

    kind: str
    ranges: tuple[tuple[float, float], ...]

    @property
    def spec(self) -> str:
        """Canonical text: `gaussian:0.1`, `poisson-gaussian:a=0.01,b=0.0004`."""
        params = KINDS[self.kind].params
        values = [_fmt(lo) if lo == hi else f"{_fmt(lo)}-{_fmt(hi)}" for lo, hi in self.ranges]
        if len(params) == 1:
            return f"{self.kind}:{values[0]}"
        return f"{self.kind}:" + ",".join(
            f"{p.name}={v}" for p, v in zip(params, values, strict=True)
        )

    @property
    def is_range(self) -> bool:
        return any(lo != hi for lo, hi in self.ranges)

    def values(self, where: float) -> dict[str, float]:
        """Every parameter at fraction `where` of its range (0: low end, 0.5: midpoint, 1: high)."""
        out = {}
        for param, (lo, hi) in zip(KINDS[self.kind].params, self.ranges, strict=True):
            value = (lo + hi) / 2 if where == 0.5 else lo + (hi - lo) * where
            out[param.name] = float(round(value)) if param.integer else value
        return out

    def at_midpoint(self) -> Stage:
        mid = self.values(0.5)
        return Stage(self.kind, tuple((v, v) for v in mid.values()))

    def draw(self, n: int, generator: torch.Generator | None) -> dict[str, Tensor]:
        """(n,) values per parameter, on the generator's device: fixed ones repeated, ranges
        drawn uniformly per image (integer parameters rounded). Only ranges consume random
        numbers."""
        out = {}
        for param, (lo, hi) in zip(KINDS[self.kind].params, self.ranges, strict=True):
            if lo == hi:
                value = torch.full((n,), lo, device=nf.generator_device(generator))
            else:
                value = nf.uniform_sigma(n, lo, hi, generator=generator)
            out[param.name] = value.round() if param.integer else value
        return out


LEVELS = ("image", "pixel", "auto")


@dataclass(frozen=True)
class NoiseModel:
    """A parsed noise spec; `__call__(clean, generator) -> (noisy, noise level)`.

    `spec` is the text it was parsed from (a `.json` part replaced by the spec it holds), so
    `parse_noise(model.spec) == model`. Two models are equal when their stages, `clip` and
    `level` are. `level` is the noise level handed to noise-aware models: "image", the level
    the noise added, one number per image; "pixel", a (B, 1, H, W) map (see `level_map`); or
    "auto", what `estimate.estimate_sigma_haar` reads from each noisy image, which is all a
    model trained on it gets in blind use (for noise the estimator misreads, e.g. after JPEG,
    training on it teaches the model the estimator's scale).
    """

    spec: str = field(compare=False)
    stages: tuple[Stage, ...]
    clip: bool = False
    level: str = "image"
    storage: Storage = ()  # per-sample float / clipped / 8-bit / 16-bit forms (`storage.py`)

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ConfigError(f"noise.level {self.level!r}: use image, pixel or auto")

    @property
    def kind(self) -> str:
        """The kinds applied, in order: `gaussian`, `motion-blur+poisson-gaussian+jpeg`."""
        return "+".join(stage.kind for stage in self.stages)

    @property
    def is_range(self) -> bool:
        return any(stage.is_range for stage in self.stages)

    def _stage_terms(self, where: float) -> list[float]:
        return [KINDS[s.kind].nominal(s.values(where)) for s in self.stages]

    @staticmethod
    def _combined(terms: Sequence[float]) -> float:
        return terms[0] if len(terms) == 1 else math.sqrt(sum(t * t for t in terms))

    @property
    def low(self) -> float:
        """The lowest noise std the spec can draw (for gaussian: the lowest sigma).

        For other kinds: the std the noise has on a flat mid-gray (0.5) image, the variances
        of the stages summed (blur and JPEG count 0 here), each stage at whichever end of its
        range is quieter (for poisson the high peak)."""
        ends = zip(self._stage_terms(0.0), self._stage_terms(1.0), strict=True)
        return self._combined([min(pair) for pair in ends])

    @property
    def high(self) -> float:
        """As `low`, each stage at its noisier end."""
        ends = zip(self._stage_terms(0.0), self._stage_terms(1.0), strict=True)
        return self._combined([max(pair) for pair in ends])

    @property
    def sigma(self) -> float:
        """A representative level: as `low`, at the midpoint of every range."""
        return self._combined(self._stage_terms(0.5))

    def at_midpoint(self) -> NoiseModel:
        """The same noise with every range fixed at its midpoint: how a range spec is evaluated."""
        if not self.is_range:
            return self
        stages = tuple(stage.at_midpoint() for stage in self.stages)
        return replace(self, spec="+".join(s.spec for s in stages), stages=stages)

    def per_pixel(self) -> NoiseModel:
        """The same noise, its level given as a per-pixel map."""
        return replace(self, level="pixel")

    def level_map(self, noisy: Tensor, params: Sequence[Params] | None = None) -> Tensor:
        """The noise standard deviation at each pixel of `noisy` (B, C, H, W) -> (B, 1, H, W).

        Kinds whose noise follows the signal (poisson, poisson-gaussian, speckle) read the
        local intensity of `noisy` itself (`estimate.local_intensity`), never the clean image,
        so the same map can be made for a real photo whose noise spec is known (e.g. from
        `denoisekit calibrate`) and training sees exactly what inference will. Other kinds add
        their nominal level (`NoiseModel.sigma`'s per-stage term; 0 for blur and JPEG)
        everywhere. `params`: the values each stage drew, (B,) each; by default every range at
        its midpoint.
        """
        n = noisy.shape[0]
        if params is None:
            params = [s.draw(n, None) for s in self.at_midpoint().stages]
        intensity = local_intensity(noisy)
        variance = torch.zeros_like(intensity)
        for stage, p in zip(self.stages, params, strict=True):
            kind = KINDS[stage.kind]
            if kind.pixel is not None:
                std = kind.pixel(intensity, p)
            else:
                per_image = [kind.nominal({k: float(v[i]) for k, v in p.items()}) for i in range(n)]
                std = torch.tensor(per_image).to(intensity).view(-1, 1, 1, 1)
            variance = variance + std.square()
        return variance.sqrt().clamp(0.0, 1.0)

    def __call__(
        self, clean: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """Apply every stage in order to `clean` (B, C, H, W) in [0, 1].

        Returns the noisy batch and a (B,) float32 tensor on the generator's device (the CPU
        without one; a copy back to the host would make the caller wait for a GPU): the
        effective noise std of each image in [0, 1] units, the square root of the summed
        variances the stages added (a gaussian stage: its sigma; poisson: sqrt(mean(x) /
        peak); poisson-gaussian: sqrt(a * mean(x) + b); speckle: sigma * rms(x); salt-pepper:
        its expected root mean square change; jpeg, quantize: the measured root mean square
        change; motion blur: 0), each measured on that stage's input. Noise-level-aware
        models take it as their map. With `level="pixel"` the second result is instead the
        (B, 1, H, W) `level_map` of the noisy batch; with `level="auto"` the (B,)
        `estimate_sigma_haar` of each noisy image.
        """
        try:
            nf.check_batch(clean)
        except ValueError as e:
            raise DataError(str(e)) from None
        n = clean.shape[0]
        device = nf.generator_device(generator)
        x, levels, drawn = clean, [], []
        for stage in self.stages:
            kind = KINDS[stage.kind]
            params = stage.draw(n, generator)
            y = kind.apply(x, params, generator)
            if self.level == "image":  # the other forms read the level from the noisy result
                levels.append(kind.level(x, y, params).detach().float().to(device))
            drawn.append(params)
            x = y
        if self.clip:
            x = nf.clip(x)
        x = store(x, self.storage, generator)
        if self.level == "pixel":
            return x, self.level_map(x, drawn).to(device)
        if self.level == "auto":
            return x, estimate_sigma_haar(x).float().to(device).clamp(0.0, 1.0)
        if len(levels) == 1:
            sigma = levels[0]
        else:
            sigma = torch.stack(levels).double().square().sum(0).sqrt().float()
        return x, sigma.clamp(0.0, 1.0)


def _fail(text: str, problem: str, kind: Kind | None = None) -> ConfigError:
    example = f"; e.g. {kind.example}" if kind is not None else ""
    return ConfigError(f"noise {text!r}: {problem}{example}")


def _number(text: str) -> float | None:
    top, _, bottom = text.partition("/")
    value = float(top) / float(bottom) if bottom else float(top)
    return value if math.isfinite(value) else None


def _parse_value(text: str, part: str, kind: Kind, param: Param) -> tuple[float, float]:
    what = f"{kind.name} {param.name}"
    m = _VALUE.fullmatch(text)
    try:
        ends = [_number(g) for g in m.groups() if g is not None] if m else [None]
    except ZeroDivisionError:
        ends = [None]
    if any(v is None for v in ends):
        raise _fail(part, f"{what} {text.strip()!r} is not a number", kind)
    for end in ends:
        if param.unit and end > 1:
            raise _fail(
                part,
                f"{what} {_fmt(end)} is above 1: it is in [0,1] image units; "
                f"write {_fmt(end)}/255 for the 0-255 scale",
                kind,
            )
        problem = param.problem(end)
        if problem:
            raise _fail(part, f"{what} {problem}, got {_fmt(end)}", kind)
        if param.integer and not float(end).is_integer():
            raise _fail(part, f"{what} must be a whole number, got {_fmt(end)}", kind)
    low, high = ends[0], ends[-1]
    if low > high:
        raise _fail(part, f"{what} range {text.strip()!r} has low > high", kind)
    return low, high


def _parse_part(part: str) -> Stage:
    name, _, args = part.partition(":")
    name = name.strip().lower()
    if name not in KINDS:
        raise unknown("noise", name, KINDS)
    kind = KINDS[name]
    names = [p.name for p in kind.params]
    given: dict[str, tuple[float, float]] = {}
    items = [item.strip() for item in args.split(",")] if args.strip() else []
    keyword = False
    for position, item in enumerate(items):
        key, eq, value = item.partition("=")
        if not item or (eq and not value.strip()):
            raise _fail(part, f"{name} has an empty value", kind)
        if eq:
            key = key.strip().lower()
            if key not in names:
                raise _fail(part, f"{name} has no parameter {key!r} (it takes {_and(names)})", kind)
            param, keyword = kind.params[names.index(key)], True
        elif keyword:
            raise _fail(part, f"{name}: a plain value {item!r} follows a name=value one", kind)
        elif position >= len(names):
            count = "one value" if len(names) == 1 else f"{len(names)} values"
            raise _fail(part, f"{name} takes {count} ({_and(names)}), got {len(items)}", kind)
        else:
            param, value = kind.params[position], item
        if param.name in given:
            raise _fail(part, f"{name} {param.name} is given twice", kind)
        given[param.name] = _parse_value(value, part, kind, param)
    required = [p.name for p in kind.params if p.default is None]
    missing = [n for n in required if n not in given]
    if missing:
        which = f" ({_and(missing)} missing)" if len(required) > 1 else ""
        raise _fail(part, f"{name} needs {_and(required)}{which}", kind)
    ranges = tuple(given.get(p.name, (p.default, p.default)) for p in kind.params)
    return Stage(name, ranges)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def read_spec_file(path: str | os.PathLike) -> str:
    """The spec string in a JSON file's "noise" entry (e.g. from `denoisekit calibrate`)."""
    path = Path(path)
    hint = 'a JSON file with a "noise" entry such as "poisson-gaussian:a=0.01,b=0.0004"'
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"noise spec file {path} not found; give a spec or {hint}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read noise spec file {path}: {e}") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"noise spec file {path} is not valid JSON ({e}); need {hint}") from None
    spec = data.get("noise") if isinstance(data, dict) else None
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f'noise spec file {path} has no "noise" spec string; need {hint}')
    if _is_file_part(spec) or any(_is_file_part(p) for p in spec.split("+")):
        raise ConfigError(f"noise spec file {path} names another file ({spec}); give the spec")
    return spec.strip()


def _is_file_part(part: str) -> bool:
    return part.strip().lower().endswith(".json")


def parse_noise(
    spec: str | os.PathLike,
    *,
    clip: bool = False,
    level: str = "image",
    storage: str | None = None,
) -> NoiseModel:
    """Parse a spec (see the module docstring) into a `NoiseModel`; `clip` clips the result to
    [0, 1]; `level` is "image", "pixel" or "auto" (see `NoiseModel`); `storage` a mix of stored
    forms, e.g. "float=0.3,8bit=0.7" (see `storage.py`). A bad spec is a ConfigError
    naming the bad part with a valid example of its kind (an unknown kind: an UnknownNameError
    listing close names)."""
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(
            f"noise spec {spec!r} must look like 'gaussian:0.1' or 'gaussian:0-0.2' "
            f"(kinds: {', '.join(noise_kinds())})"
        )
    whole = _is_file_part(spec) and "+" in spec and Path(spec.strip()).is_file()
    parts = [spec.strip()] if whole else _split(spec)
    texts, stages = [], []
    for part in parts:
        if _is_file_part(part):
            inner = read_spec_file(part)
            texts.append(inner)
            try:
                stages += [_parse_part(p) for p in _split(inner)]
            except DenoiseKitError as e:  # name the file the bad spec came from
                raise type(e)(f"in {part}: {e}") from None
        else:
            texts.append(part)
            stages.append(_parse_part(part))
    from_file = any(_is_file_part(p) for p in parts)
    text = "+".join(texts) if from_file else spec
    return NoiseModel(text, tuple(stages), clip, level, parse_storage(storage))


def _split(spec: str) -> list[str]:
    # '+' joins stages, except as the sign of an exponent (1e+2)
    parts = [part.strip() for part in re.split(r"(?<![0-9.][eE])\+", spec)]
    if not all(parts):
        raise ConfigError(f"noise spec {spec!r} has an empty part; join parts with '+'")
    return parts


def noise_kinds() -> list[str]:
    """The kind names a spec may use."""
    return sorted(KINDS)


def noise_examples() -> list[str]:
    """One valid spec per kind (for help texts)."""
    return [KINDS[name].example.split(" ")[0] for name in KINDS]
