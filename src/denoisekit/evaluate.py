"""Evaluate a denoiser on an image set with noise fixed per image (seed + index), per image.

Protocol: clean images in [0,1]; noise drawn once per image from `torch.Generator` seeded with
`seed + index`; the noisy input is clipped only when the noise spec says so; the model output is
clamped to [0,1]; metrics over all pixels and channels, data range 1, no border crop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .errors import ConfigError
from .metrics import METRICS, SSIM_PROTOCOL, check_ssim_size, compute_all
from .noise import NoiseModel
from .shards import Shard, parse_shard


@dataclass
class NoisyPairs:
    """Clean / noisy pairs with the noise level each noisy image was made with."""

    clean: list[Tensor]  # (C, H, W) each
    noisy: list[Tensor]
    sigma: list[Tensor]  # a 0-d level, or a (1, H, W) map for a per-pixel noise level
    names: list[str] = field(default_factory=list)


def make_noisy_pairs(
    images: Sequence[Tensor],
    noise: NoiseModel,
    seed: int,
    names: Sequence[str] | None = None,
    indices: Sequence[int] | None = None,
) -> NoisyPairs:
    """Noise each image from its own generator (seed + index) so numbers repeat exactly.
    `indices`: each image's index in the whole set, when `images` is a part of it (a shard),
    so every image gets the noise it gets in a run over the whole set."""
    pairs = NoisyPairs([], [], [], list(names) if names is not None else [])
    for index, clean in zip(indices or range(len(images)), images, strict=True):
        generator = torch.Generator().manual_seed(seed + index)
        noisy, sigma = noise(clean.unsqueeze(0), generator)
        pairs.clean.append(clean)
        pairs.noisy.append(noisy[0])
        pairs.sigma.append(sigma[0])
    return pairs


def blind_levels(noisy: Sequence[Tensor], method: str) -> list[Tensor]:
    """The 0-d level `method` (`noise.estimate`) reads from each (C, H, W) noisy image."""
    from .noise.estimate import estimate_sigma

    return [estimate_sigma(x.unsqueeze(0), method)[0].float().clamp(0.0, 1.0) for x in noisy]


def _batches(shapes: list[torch.Size], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of equal-shaped images, in order."""
    groups: list[list[int]] = []
    for i, shape in enumerate(shapes):
        if groups and len(groups[-1]) < batch_size and shapes[groups[-1][0]] == shape:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


@torch.no_grad()
def denoise_pairs(
    model: nn.Module,
    pairs: NoisyPairs,
    *,
    batch_size: int = 16,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    progress: bool = False,
) -> tuple[list[Tensor], list[float]]:
    """Run `model` on every noisy image in `precision` ("fp32" or "bf16" autocast); returns
    clamped outputs (on the CPU) and seconds per image.

    A model whose weights are channels_last gets channels_last inputs (see `evaluate`).
    `progress`: a bar over the images on stderr when it is a terminal (`progress.bar`)."""
    from .inference.precision import autocast
    from .progress import bar

    outputs: list[Tensor] = [torch.empty(0)] * len(pairs.noisy)
    seconds: list[float] = [0.0] * len(pairs.noisy)
    layout = torch.channels_last if _is_channels_last(model) else torch.contiguous_format
    was_training = model.training
    model.eval()
    shown = bar(total=len(pairs.noisy), desc="evaluate", enabled=progress)
    for group in _batches([n.shape for n in pairs.noisy], batch_size):
        noisy = torch.stack([pairs.noisy[i] for i in group]).to(device)
        noisy = noisy.contiguous(memory_format=layout)
        sigma = torch.stack([pairs.sigma[i] for i in group]).to(device)
        start = time.perf_counter()
        with autocast(precision, torch.device(device)):
            denoised = model(noisy, sigma).float().clamp(0, 1).cpu()
        elapsed = (time.perf_counter() - start) / len(group)
        for j, i in enumerate(group):
            outputs[i], seconds[i] = denoised[j], elapsed
        shown.update(len(group))
    shown.close()
    model.train(was_training)
    return outputs, seconds


def _is_channels_last(model: nn.Module) -> bool:
    """Whether the model's first convolution weight is laid out channels_last."""
    weight = next((p for p in model.parameters() if p.dim() == 4 and p.shape[-1] > 1), None)
    return weight is not None and weight.is_contiguous(memory_format=torch.channels_last)


def score(outputs: Sequence[Tensor], clean: Sequence[Tensor]) -> dict[str, list[float]]:
    """Per-image metrics of each output against its clean image."""
    per_image: dict[str, list[float]] = {m: [] for m in METRICS}
    for out, ref in zip(outputs, clean, strict=True):
        for name, value in compute_all(out.unsqueeze(0), ref.unsqueeze(0)).items():
            per_image[name].append(float(value[0]))
    return per_image


def summarize(per_image: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Mean and population std of each metric (infinite PSNRs of exact copies are kept out)."""
    out = {}
    for name, values in per_image.items():
        finite = [v for v in values if math.isfinite(v)]
        t = torch.tensor(finite, dtype=torch.float64) if finite else torch.zeros(1)
        out[name] = {"mean": float(t.mean()), "std": float(t.std(unbiased=False))}
    return out


def protocol(noise: NoiseModel, seed: int, **extra: Any) -> dict[str, Any]:
    return {
        "noise": noise.spec,
        "sigma": noise.sigma,
        "seed": seed,
        "noise_seeding": "torch.Generator seeded with seed + image index",
        "clip_noisy": noise.clip,
        "noise_level": noise.level,
        "clamp_output": True,
        "psnr": "all pixels and channels, data range 1, no border crop",
        "ssim": SSIM_PROTOCOL,
        **extra,
    }


def evaluate_pairs(
    model: nn.Module,
    pairs: NoisyPairs,
    *,
    batch_size: int = 16,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    progress: bool = False,
) -> dict[str, Any]:
    """Metrics of the model's outputs and of the noisy input, per image and summarized.

    `device` is where the model's weights are (training validates on the training device);
    `precision` what the model runs in ("fp32" or "bf16", see `denoise_pairs`); `progress`: a
    bar over the images on a terminal's stderr."""
    outputs, seconds = denoise_pairs(
        model, pairs, batch_size=batch_size, device=device, precision=precision, progress=progress
    )
    model_scores = score(outputs, pairs.clean)
    noisy_scores = score(pairs.noisy, pairs.clean)
    return {
        "outputs": outputs,
        "seconds": seconds,
        "per_image": model_scores,
        "summary": summarize(model_scores),
        "noisy_per_image": noisy_scores,
        "noisy_summary": summarize(noisy_scores),
    }


def write_evaluation(
    result: dict[str, Any],
    pairs: NoisyPairs,
    proto: dict,
    out_dir: Path,
    shard: dict[str, Any] | None = None,
) -> None:
    """`per_image.csv` and `summary.json` (keys psnr, ssim, mse, mae, noisy, n, protocol).

    `shard` ({"index", "count", "images": each image's index in the whole set}) adds a
    "shard" entry holding every per-image figure at full precision, from which
    `merge.merge_evaluations` writes what one run over the whole set writes."""
    names = [pairs.names[i] if i < len(pairs.names) else str(i) for i in range(len(pairs.clean))]
    rows = {
        "image": names,
        "sigma": [float(s.mean()) for s in pairs.sigma],
        "per_image": result["per_image"],
        "noisy_per_image": result["noisy_per_image"],
        "seconds": result["seconds"],
    }
    write_rows(rows, proto, out_dir, shard)


def write_rows(
    rows: dict[str, Any], proto: dict, out_dir: Path, shard: dict[str, Any] | None = None
) -> None:
    """`write_evaluation` from per-image lists: image, sigma, per_image and noisy_per_image
    ({metric: values}), seconds."""
    import csv
    import io

    from .files import atomic_write_json, atomic_write_text

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["image", "sigma", *METRICS, *(f"noisy_{m}" for m in METRICS), "seconds"])
    for i, name in enumerate(rows["image"]):
        writer.writerow(
            [name, f"{rows['sigma'][i]:.6g}"]
            + [f"{rows['per_image'][m][i]:.6g}" for m in METRICS]
            + [f"{rows['noisy_per_image'][m][i]:.6g}" for m in METRICS]
            + [f"{rows['seconds'][i]:.6g}"]
        )
    scores, noisy = summarize(rows["per_image"]), summarize(rows["noisy_per_image"])
    summary: dict[str, Any] = {m: scores[m]["mean"] for m in METRICS}
    summary["std"] = {m: scores[m]["std"] for m in METRICS}
    summary["noisy"] = {m: noisy[m]["mean"] for m in METRICS}
    summary["n"] = len(rows["image"])
    summary["protocol"] = proto
    if shard is not None:
        summary["shard"] = {**shard, **rows}
    atomic_write_text(out_dir / "per_image.csv", buf.getvalue())
    atomic_write_json(out_dir / "summary.json", summary)


def evaluate_checkpoint(
    checkpoint: str,
    data: str,
    noise: str,
    out_dir: str | Path,
    *,
    split: str = "test",
    data_root: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    clip: bool = False,
    noise_level: str | None = None,
    fusion_window: int | None = None,
    size: int | None = None,
    resize: bool = False,
    batch_size: int = 8,
    skip_bad: bool = False,
    precision: str = "auto",
    device: str | torch.device = "auto",
    progress: bool = False,
    shard: str | Shard | None = None,
    runtime: str = "auto",
) -> dict[str, Any]:
    """Score a checkpoint (a file, run folder or pretrained name; `+x8` for the self-ensemble)
    or a classical filter (`nlm`, `bm3d`, ...) on a data set with fixed noise; write
    `per_image.csv` and `summary.json` into `out_dir`.

    `noise_level` is what a noise-aware model gets ("image", "pixel" or "auto"; default: what
    the checkpoint trained with); `size` resizes the images, `resize` to the training size.
    The channel count follows the checkpoint's training data. `precision`: what a network runs
    in, "auto" (bf16 where `device` computes it natively, else fp32; `inference/precision.py`),
    "fp32" or "bf16"; `device`: "auto" (a CUDA GPU when torch sees one), "cpu", "cuda" or
    "cuda:N". Both are written into the protocol as resolved. `progress`: a bar over the
    images on stderr when it is a terminal. `runtime`: what runs a network, "auto", "torch",
    "onnxruntime" or "openvino" (`runtimes/`; recorded in the protocol). `shard` ("i/N"):
    only the images of that shard (`shards.py`, keyed by each image's name), each noised and
    scored as in a run over the whole split; `merge.merge_evaluations` joins the shards.
    Returns the result of `evaluate_pairs` plus "noise" (the parsed NoiseModel), "n" (images
    scored) and "skipped" (unreadable images left out with `skip_bad`).
    """
    from .checkpoints.checkpoint import load_checkpoint
    from .checkpoints.pretrained import resolve_weights
    from .data import load_dataset
    from .files import output_folder
    from .inference.device import resolve_device
    from .inference.ensemble import SelfEnsemble, split_ensemble
    from .inference.loading import named_models
    from .inference.precision import check_precision, resolve_precision, use_channels_last
    from .models.fusion import NoisyPixelFusion
    from .noise import parse_noise
    from .registry import create_model

    output_folder(out_dir)
    shard = parse_shard(shard)
    for name, value in (("--limit", limit), ("--size", size), ("--batch-size", batch_size)):
        if value is not None and value < 1:
            raise ConfigError(f"{name} must be at least 1, got {value}")
    check_precision(precision)
    device = resolve_device(device)
    fusion = True if fusion_window is None else fusion_window
    plain, ensemble = split_ensemble(checkpoint)
    if plain in named_models()[1]:  # a classical filter: nothing to load, any channel count
        if ensemble:
            raise ConfigError(f"{checkpoint}: +x8 is for networks; {plain} is a classical filter")
        model, meta = create_model(plain), {}
    else:
        model, meta = load_checkpoint(resolve_weights(plain, "--checkpoint"), fusion=fusion)
    network = next(model.parameters(), None) is not None
    device = device if network else torch.device("cpu")  # filters run on the CPU
    precision = resolve_precision(precision, device) if network else "fp32"
    model.to(device)
    if use_channels_last(precision, device):  # as `denoise` runs it: same results
        model.to(memory_format=torch.channels_last)
    fused = model  # a Noise2Void model's fusion sits inside the ensemble
    runtime_used = "torch"
    if network:  # as `denoise` runs it: the same runtime
        from .runtimes import run_by

        model, runtime_used, precision = run_by(model, runtime, device, precision, meta)
    model = SelfEnsemble(model) if ensemble else model
    trained = meta.get("config", {})
    level = noise_level or trained.get("noise", {}).get("level", "image")
    noise_model = parse_noise(noise, clip=clip, level=level)
    trained_data = trained.get("data", {})
    images = load_dataset(
        data,
        split=split,
        root=data_root,
        limit=limit,
        channels=trained_data.get("channels"),
        size=size or (trained_data.get("size") if resize else None),
        skip_bad=skip_bad,
    )
    check_ssim_size(images.images, f"data {data!r}")
    keep = list(range(len(images)))
    if shard is not None:
        keep = shard.select(keep, lambda i: images.names[i])
    pairs = make_noisy_pairs(
        [images.images[i] for i in keep],
        noise_model,
        seed,
        [images.names[i] for i in keep],
        indices=keep,
    )
    if level == "auto":  # as `denoise --sigma auto` runs it: the model's own estimator
        from .models.base import sigma_estimator_of

        pairs.sigma = blind_levels(pairs.noisy, sigma_estimator_of(model))
    result = evaluate_pairs(
        model, pairs, batch_size=batch_size, device=device, precision=precision, progress=progress
    )
    proto = protocol(
        noise_model,
        seed,
        data=data,
        split=split,
        n_images=len(images),
        checkpoint=str(checkpoint),
        fusion_window=fused.window if isinstance(fused, NoisyPixelFusion) else 0,
        skipped=len(getattr(images, "skipped", [])),
        precision=precision if network else "n/a (classical filter)",
        runtime=runtime_used if network else "n/a (classical filter)",
        device=str(device),
    )
    part = None if shard is None else {"index": shard.index, "count": shard.count, "images": keep}
    write_evaluation(result, pairs, proto, Path(out_dir), part)
    return {**result, "noise": noise_model, "n": len(keep), "skipped": proto["skipped"]}
