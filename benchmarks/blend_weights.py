"""Blend two checkpoints of one model, weight by weight, and score blends on validation splits.

    python benchmarks/blend_weights.py OLD NEW --alpha 0.5 --out runs/pretrained/gray-blend
    python benchmarks/blend_weights.py OLD NEW --score 0,0.5,1 --sets cbsd432,city100 --channels 1

Blending `(1 - alpha) * OLD + alpha * NEW` of a model and its own fine-tune (Wortsman et al.,
"Robust fine-tuning of zero-shot models", 2022) trades what the fine-tune gained against what
it lost, here 8-bit noise against the published float protocol. `--score` prints the mean PSNR
of each blend on the validation splits of `--sets` (downscaled as the training saw them), with
float noise and with noise clipped and rounded to 8 bits, so alpha is chosen on validation and
the test sets are scored once. `--out` writes the blend as a checkpoint (NEW's metadata plus a
`blend` entry) that `export_pretrained.py` can ship.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from denoisekit.benchmark import BenchmarkProtocol
from denoisekit.checkpoints.checkpoint import load_checkpoint, save_checkpoint
from denoisekit.data import load_dataset
from denoisekit.inference import load
from denoisekit.metrics import psnr


def blend(old: Path, new: Path, alpha: float) -> tuple[torch.nn.Module, dict]:
    """NEW's model with every floating-point tensor (1 - alpha) * OLD + alpha * NEW."""
    old_model, _ = load_checkpoint(old, fusion=False)
    new_model, meta = load_checkpoint(new, fusion=False)
    old_state = old_model.state_dict()
    mixed = {
        key: (1 - alpha) * old_state[key] + alpha * value if value.is_floating_point() else value
        for key, value in new_model.state_dict().items()
    }
    new_model.load_state_dict(mixed)
    return new_model, meta


def score(model: torch.nn.Module, sets: str, channels: int, downscale: int) -> dict[str, float]:
    """Mean PSNR on each set's validation split, sigma 25 and 50, float and 8-bit noise."""
    denoiser = load(model, precision="fp32", device="cpu", runtime="torch")
    out = {}
    for name in sets.split(","):
        images = load_dataset(name, split="val", channels=channels).downscaled(downscale).images
        for quantize in (False, True):
            protocol = BenchmarkProtocol(quantize=quantize)
            for sigma in (25, 50):
                values = []
                for index, clean in enumerate(images):
                    noisy = protocol.make_noisy(clean, sigma / 255, index)
                    denoised = denoiser.denoise_batch(noisy[None], sigma / 255)
                    values.append(float(psnr(denoised, clean[None].float())))
                label = f"{name} {'8-bit' if quantize else 'float'} {sigma}"
                out[label] = sum(values) / len(values)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path, help="the checkpoint fine-tuned from (.safetensors)")
    parser.add_argument("new", type=Path, help="its fine-tune (.safetensors)")
    parser.add_argument("--alpha", type=float, help="weight of NEW in the blend to write")
    parser.add_argument("--out", type=Path, help="run folder to write best.* into")
    parser.add_argument("--score", help="comma-separated alphas to score on validation")
    parser.add_argument("--sets", default="cbsd432,city100", help="validation sets")
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--downscale", type=int, default=2)
    args = parser.parse_args()
    if args.score:
        for alpha in (float(a) for a in args.score.split(",")):
            model, _ = blend(args.old, args.new, alpha)
            figures = score(model, args.sets, args.channels, args.downscale)
            print(f"alpha {alpha:g}: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()))
    if args.out is not None:
        if args.alpha is None:
            parser.error("--out needs --alpha")
        model, meta = blend(args.old, args.new, args.alpha)
        meta = {k: v for k, v in meta.items() if k not in ("sha256", "format")}
        meta["blend"] = {"old": str(args.old), "new": str(args.new), "alpha": args.alpha}
        args.out.mkdir(parents=True, exist_ok=True)
        print(f"wrote {save_checkpoint(args.out / 'best.safetensors', model, meta)}")


if __name__ == "__main__":
    main()
