"""`denoisekit merge SHARD... -o OUT`: join `evaluate --shard i/N` runs into one evaluation
(`denoisekit.merge`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_out


def add_parser(sub) -> None:
    p = sub.add_parser(
        "merge",
        help="join the outputs of `evaluate --shard i/N` runs into one evaluation",
        description="Join the -o folders of `evaluate --shard 0/N` ... `--shard N-1/N` into "
        "per_image.csv and summary.json equal to one run over the whole split (but for the "
        "per-image seconds). Refuses shards of different runs, a shard given twice or one "
        "missing. `denoise` and `noise` shards need no merge: their files are the output.",
    )
    p.add_argument(
        "shards", nargs="+", metavar="SHARD", help="-o folders (or summary.json files) of shards"
    )
    add_out(
        p, "folder for the joined per_image.csv and summary.json", metavar="FOLDER", required=True
    )


def run(args: argparse.Namespace) -> None:
    from ..merge import merge_evaluations

    summary = merge_evaluations(args.shards, args.out)
    print(
        f"{summary['n']} images from {len(args.shards)} shards: PSNR {summary['psnr']:.2f} dB "
        f"(noisy {summary['noisy']['psnr']:.2f}), SSIM {summary['ssim']:.4f}; "
        f"wrote {Path(args.out) / 'summary.json'}"
    )
