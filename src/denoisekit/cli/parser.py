"""The arguments of every `denoisekit` verb (what each verb does is in `verbs.py`, or in the
verb's own module for the verbs listed in `MODULE_VERBS`).

Only argparse here, so `denoisekit --help` starts without importing torch.
"""

from __future__ import annotations

import argparse
import importlib

from .options import (
    EPILOG,
    NOISE_HELP,
    Version,
    add_allow_large,
    add_device_precision,
    add_global_options,
    add_image_inputs,
    add_out,
    add_output_options,
    add_runtime,
    add_shard,
    add_skip_bad,
    device_choice,
    devices_choice,
)

# Verbs that live in a module of their own in this package: each module has
# `add_parser(sub)` (argparse only, light to import) and `run(args) -> int | None`.
MODULE_VERBS: tuple[str, ...] = ("merge", "serve", "downstream", "tune", "export")


def verb_module(name: str):
    """The module of a verb in MODULE_VERBS."""
    return importlib.import_module(f"{__package__}.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="denoisekit",
        description="Remove noise from images.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=Version)
    add_global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_command(name: str, help: str, **kwargs) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, **kwargs)

    p = add_command("models", "list registered models")

    def add_set(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a config value, e.g. train.lr=3e-4 (repeatable)",
        )
        add_skip_bad(p)

    p = add_command(
        "train",
        "train one model from a run config",
        description="Train one model from a run config. It runs where Lightning finds "
        "hardware (a GPU when torch sees one, else the CPU); choose with --device and "
        "--devices (or --set train.accelerator=cpu|cuda, --set train.devices=N), several "
        "machines with --set train.num_nodes=N (docs: Scaling out), and the number format "
        "with --set train.precision=auto|32-true|bf16-mixed.",
    )
    p.add_argument("config", nargs="?", help="YAML run config (default: built-in defaults)")
    add_out(p, "run folder for config, metrics, checkpoints", metavar="FOLDER", required=True)
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.*")
    p.add_argument(
        "--init",
        help="start from these weights: a pretrained name (e.g. color-blind) or a checkpoint; "
        "the optimizer and schedule start fresh (same as --set train.init=...); a config "
        "without a model trains theirs",
    )
    p.add_argument(
        "--device",
        type=device_choice,
        metavar="{auto,cpu,cuda,cuda:N}",
        help="where to train: cpu, cuda (the GPUs --devices names, by default the first) or "
        "cuda:N (GPU N alone); sets train.accelerator (and train.devices for cuda:N); default: "
        "the config's, auto: a GPU when torch sees one",
    )
    p.add_argument(
        "--devices",
        type=devices_choice,
        metavar="N",
        help="processes on this machine, one per device, trained as one run (DDP): a count "
        "(2), GPU ids (0,1) or -1 for every GPU; train.batch_size is per process, so the global "
        "batch is batch_size x devices x nodes; sets train.devices",
    )
    add_set(p)

    p = add_command("evaluate", "score a checkpoint on a data set with fixed noise")
    p.add_argument(
        "--checkpoint",
        required=True,
        help="a .safetensors checkpoint, a run folder, a pretrained name (e.g. color-blind) or "
        "a classical filter (nlm, bm3d, ...); add +x8 for a network's 8-view self-ensemble",
    )
    p.add_argument("--data", required=True, help="named set (set12, bsd68, ...) or a folder")
    p.add_argument("--noise", required=True, help=NOISE_HELP)
    p.add_argument(
        "--split",
        default="test",
        choices=["train", "val", "test", "all"],
        help="which split to score (default test: all of a test set such as bsd68, the fixed "
        "10%% test split of a folder or training set; all: every image)",
    )
    p.add_argument("--limit", type=int, help="first N images only")
    p.add_argument("--seed", type=int, default=0, help="noise seed (image i uses seed + i)")
    p.add_argument("--clip", action="store_true", help="clip the noisy input to [0,1]")
    p.add_argument(
        "--noise-level",
        choices=["image", "pixel", "auto"],
        help="noise level a noise-aware model gets: the noise's level per image, its per-pixel "
        "map, or auto: estimated from each noisy image, blind as `denoise --sigma auto` "
        "(default: what the checkpoint trained with)",
    )
    p.add_argument(
        "--fusion-window",
        type=int,
        help="noise2void checkpoints: window of the noisy-pixel fusion, 0 for the bare network "
        "(default: what the checkpoint's config says, 25 unless set)",
    )
    p.add_argument("--resize", action="store_true", help="resize to the size the model trained on")
    p.add_argument("--size", type=int, help="resize to SIZE x SIZE (e.g. 100 for pistachio)")
    p.add_argument("--batch-size", type=int, default=8)
    add_device_precision(p)
    add_runtime(p)
    add_skip_bad(p)
    add_shard(p, "images of the split", "; `denoisekit merge` joins the shards' summaries")
    add_out(p, "folder for per_image.csv and summary.json", metavar="FOLDER", required=True)

    p = add_command("experiment", "train and compare several models, write a report")
    p.add_argument("config", help="experiment YAML (e.g. configs/seeds/pistachio.yaml)")
    add_out(p, "experiment folder", metavar="FOLDER", required=True)
    p.add_argument("--runs", nargs="+", help="only these runs")
    add_set(p)

    p = add_command("report", "redraw figures and report.html from saved results")
    p.add_argument(
        "dir", nargs="?", metavar="FOLDER", help="experiment folder holding results.json"
    )
    add_out(p, "the same folder, as an option (report.html is written there)", metavar="FOLDER")

    p = add_command("denoise", "denoise image files or folders")
    add_image_inputs(
        p,
        "denoise",
        "output file (one input file) or folder mirroring the inputs (existing outputs are "
        "replaced); without -o the last INPUT is the output",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--model",
        help="pretrained name (see `denoisekit models`) or classical filter; default (or "
        "auto): gray-blind for gray images, color-blind for colour, gray-camera / color-camera for "
        "photos whose noise reads as camera grain or JPEG (with --sigma auto); a +x8 suffix "
        "(gray-blind+x8) averages the network over 8 flips/rotations (8x the time)",
    )
    which.add_argument(
        "--checkpoint", help="a .safetensors checkpoint from `train` (+x8: self-ensemble)"
    )
    p.add_argument(
        "--sigma",
        default="auto",
        help="noise level for noise-aware models: auto (estimate per image), 25 (0-255 scale), "
        "25/255 or 0.1 ([0,1] units), or the noise the photos carry as a spec or "
        "camera.json from `calibrate` (a per-pixel level map); default auto",
    )
    p.add_argument(
        "--strength",
        type=float,
        default=1.0,
        help="factor on the noise level the model is given (estimated or not): 0.7 keeps more "
        "detail and grain, 1.5 smooths more; default 1",
    )
    add_device_precision(p)
    add_runtime(p)
    p.add_argument("--tile", type=int, default=512, help="tile size in pixels (0: whole image)")
    p.add_argument("--overlap", type=int, default=32, help="tile overlap in pixels")
    add_output_options(p)
    add_allow_large(p)
    add_shard(p, "input images")

    p = add_command("noise", "make noisy copies of image files or folders")
    add_image_inputs(
        p,
        "noise",
        "output file (one input file) or folder (existing outputs are replaced); without -o "
        "the last INPUT is the output",
    )
    p.add_argument("--noise", required=True, help=NOISE_HELP)
    p.add_argument("--seed", type=int, default=0, help="noise seed (per file: seed + its path)")
    add_output_options(p)
    add_allow_large(p)
    add_shard(p, "input images")

    p = add_command("benchmark", "quality, speed and memory of methods side by side")
    p.add_argument(
        "--models",
        required=True,
        help="comma-separated names or checkpoints, e.g. bm3d,nlm,gray-blind,gray-blind+x8 "
        "(+x8: a network's 8-view self-ensemble)",
    )
    p.add_argument("--data", default="set12,bsd68", help="comma-separated sets or folders")
    p.add_argument("--sigmas", default="15,25,50", help="noise levels on the 0-255 scale")
    p.add_argument("--limit", type=int, help="first N images of each set")
    p.add_argument("--seed", type=int, default=0, help="noise seed (image i uses seed + i)")
    p.add_argument("--clip", action="store_true", help="clip the noisy input to [0,1]")
    p.add_argument(
        "--quantize", action="store_true", help="round the noisy input to 8-bit (implies --clip)"
    )
    p.add_argument("--y-channel", action="store_true", help="PSNR/SSIM on the Y of colour images")
    p.add_argument("--border", type=int, default=0, help="crop N pixels per side before metrics")
    add_device_precision(p)
    add_runtime(p)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument(
        "--sigma-auto", action="store_true", help="give methods no sigma: each estimates it"
    )
    p.add_argument(
        "--roofline", action="store_true", help="also measure the matmul peak and FLOP/s"
    )
    add_skip_bad(p)
    add_out(
        p,
        "folder for per_image.csv, summary.json, table.md (which record the device and the "
        "precision used)",
        metavar="FOLDER",
        required=True,
    )

    p = add_command("demo", "denoise bundled photos with shipped weights, write a report")
    add_out(p, "folder for the report (default runs/demo)", metavar="FOLDER", default="runs/demo")
    p.add_argument("--model", help="pretrained model to show (default: color-blind)")
    p.add_argument("--classical", default="nlm", help="classical filter to compare with")
    p.add_argument("--limit", type=int, default=None, help="first N photos only")
    p.add_argument(
        "--train", action="store_true", help="instead train two small models briefly (minutes)"
    )
    p.add_argument("--epochs", type=int, default=None, help="with --train: epoch count")
    add_device_precision(p)
    add_runtime(p)

    p = add_command("calibrate", "fit a camera's noise (a, b) from its own photos")
    p.add_argument(
        "images", nargs="+", metavar="IMAGE", help="noisy image files or folders (recursive)"
    )
    add_out(p, "JSON file to write, usable as --noise FILE", metavar="FILE", required=True)
    p.add_argument(
        "--burst",
        action="store_true",
        help="the images are shots of one static scene (same size): far more accurate",
    )
    add_allow_large(p)
    for name in MODULE_VERBS:
        verb_module(name).add_parser(sub)
    for command in sub.choices.values():  # last, so each command's own options lead
        add_global_options(command, top=False)
    return parser
