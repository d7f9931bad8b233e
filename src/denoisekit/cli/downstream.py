"""`denoisekit downstream`: does denoising help a classifier? (see `downstream/run.py`)."""

from __future__ import annotations

import argparse

from .options import add_out


def add_parser(sub) -> None:
    p = sub.add_parser(
        "downstream",
        help="classify clean, noisy and denoised images: does denoising help the task?",
        description="Train a classifier on clean images (and one on noisy images), then measure "
        "its test accuracy, F1 and confusion matrix on clean images, on noisy ones stored as "
        "8-bit files, and on those denoised first by each denoiser of the config. Writes "
        "downstream.json, table.md, figures/ and report.html; finished trainings and denoised "
        "images in the folder are reused.",
    )
    p.add_argument("config", help="downstream YAML (e.g. configs/downstream/pistachio.yaml)")
    add_out(p, "folder for the results, trainings and report", metavar="FOLDER", required=True)
    p.add_argument(
        "--limit",
        type=int,
        help="quick check of the pipeline: N images per split and one training epoch for "
        "every classifier and denoiser (numbers not meaningful)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. classifier.train.epochs=5 or denoisers.bm3d=null "
        "(leaves a method out); repeatable",
    )


def run(args: argparse.Namespace) -> None:
    from ..downstream.config import load_downstream_config
    from ..downstream.run import run_downstream

    config = load_downstream_config(args.config, args.set, limit=args.limit)
    report = run_downstream(config, args.out, data_root=args.data_root)
    print(f"wrote {report.parent / 'downstream.json'}, table.md and {report}")
