"""The `denoisekit` command: parse arguments, call library functions, print results.

Errors a user can fix print one line and exit 2; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# Kept here, not imported from denoisekit.noise, so `--help` does not import torch;
# tests/noise/test_files.py checks it names every kind.
NOISE_HELP = (
    "noise spec: kinds gaussian, gaussian-ramp, gaussian-correlated, poisson, poisson-gaussian, "
    "speckle, salt-pepper, motion-blur, jpeg, quantize, joined with + and applied in order, "
    "e.g. gaussian:25/255, poisson:30, "
    "motion-blur:9,30+poisson-gaussian:a=0.01,b=0.0004+jpeg:60; or a .json file with a "
    '"noise" entry (from `denoisekit calibrate`)'
)


def _overrides(args: argparse.Namespace) -> list[str]:
    return args.set + (["data.skip_bad=true"] if args.skip_bad else [])


def _cmd_models(args: argparse.Namespace) -> None:
    from .pretrained import (
        WEIGHTS_ENV,
        measured_summary,
        pretrained_info,
        pretrained_names,
        weights_dir,
    )
    from .registry import count_parameters, create_model, list_models

    print(f"{'name':<24}{'kind':<11}{'params':>10}  description")
    for entry in list_models():
        params = count_parameters(create_model(entry.name)) if entry.kind == "network" else 0
        print(f"{entry.name:<24}{entry.kind:<11}{params:>10,}  {entry.description}")
    print()
    names = pretrained_names()
    if not names:
        print(f"pretrained weights: none installed in {weights_dir()} (${WEIGHTS_ENV} overrides)")
        return
    print(f"{'pretrained':<24}{'model':<11}{'channels':>10}  {'sigma 0-255':<12}description")
    for name in names:
        info = pretrained_info(name)
        low, high = info.get("sigma_range") or (None, None)
        sigma = f"{low * 255:g}-{high * 255:g}" if low is not None else "?"
        measured = measured_summary(info.get("measured"))
        text = info.get("description", "") + (f" ({measured})" if measured else "")
        channels = info.get("channels", "?")
        print(f"{name:<24}{info['model']:<11}{channels:>10}  {sigma:<12}{text}")


def _quiet_lightning() -> None:
    """Lightning announces the precision and the seed at INFO level on stderr, before any
    error of ours; the run's own lines and files say both, so keep only its warnings."""
    import logging

    import lightning_fabric  # noqa: F401  (sets its logger to INFO on import)

    logging.getLogger("lightning_fabric").setLevel(logging.WARNING)


def _cmd_train(args: argparse.Namespace) -> None:
    from .config import load_run_config
    from .train import train

    _quiet_lightning()
    config = load_run_config(args.config, _overrides(args))
    if args.init:
        config.train.init = args.init
    result = train(config, args.out, resume=args.resume, data_root=args.data_root)
    if result.global_rank != 0:
        return
    score = f"val PSNR {result.best_val_psnr:.2f} dB"
    if result.selected_by == "val_loss":  # no clean validation images: chosen by the objective
        score = f"val {config.train.objective} loss {result.best_val_loss:.4g}"
    print(
        f"best epoch {result.best_epoch}: {score} "
        f"({result.train_seconds:.0f}s); checkpoint {result.best_path}"
    )


def _cmd_evaluate(args: argparse.Namespace) -> None:
    from .evaluate import evaluate_checkpoint

    result = evaluate_checkpoint(
        args.checkpoint,
        args.data,
        args.noise,
        args.out,
        split=args.split,
        data_root=args.data_root,
        limit=args.limit,
        seed=args.seed,
        clip=args.clip,
        noise_level=args.noise_level,
        fusion_window=args.fusion_window,
        size=args.size,
        resize=args.resize,
        batch_size=args.batch_size,
        skip_bad=args.skip_bad,
    )
    s, n = result["summary"], result["noisy_summary"]
    skipped = f" ({result['skipped']} unreadable skipped)" if result["skipped"] else ""
    print(
        f"{result['n']} images{skipped}, {result['noise'].spec}: PSNR {s['psnr']['mean']:.2f} dB "
        f"(noisy {n['psnr']['mean']:.2f}), SSIM {s['ssim']['mean']:.4f} "
        f"(noisy {n['ssim']['mean']:.4f}); wrote {Path(args.out) / 'summary.json'}"
    )


def _cmd_experiment(args: argparse.Namespace) -> None:
    from .config import load_experiment_config
    from .experiment import run_experiment

    _quiet_lightning()
    exp = load_experiment_config(args.config, _overrides(args))
    html = run_experiment(exp, args.out, data_root=args.data_root, only=args.runs)
    print(f"report: {html}")


def _cmd_report(args: argparse.Namespace) -> None:
    from .report import write_report

    print(f"report: {write_report(args.dir)}")


def _cmd_denoise(args: argparse.Namespace) -> None:
    from .errors import ConfigError
    from .inference import denoise_paths

    inputs, output = args.inputs, args.output
    if output is None:  # `denoise IN OUT`, as before -o existed
        if len(inputs) < 2:
            raise ConfigError("no output given; write denoisekit denoise INPUT... -o OUTPUT")
        inputs, output = inputs[:-1], inputs[-1]
    summary = denoise_paths(
        inputs,
        output,
        model=args.model,
        checkpoint=args.checkpoint,
        sigma=args.sigma,
        tile=args.tile,
        overlap=args.overlap,
        fmt=args.format,
        allow_large=args.allow_large,
        progress=True,
    )
    if summary.sigma_ignored:
        print("note: --sigma ignored: the model does not take a noise level", file=sys.stderr)
    _print_files_summary(summary, ", ".join(summary.models))


def _cmd_noise(args: argparse.Namespace) -> None:
    from .noise.files import noise_paths

    summary = noise_paths(
        args.inputs,
        args.output,
        args.noise,
        seed=args.seed,
        fmt=args.format,
        allow_large=args.allow_large,
        progress=True,
    )
    _print_files_summary(summary, f"{summary.spec}, seed {args.seed}")


def _print_files_summary(summary, what: str) -> None:
    """The line `denoise` and `noise` end with (files, megapixels, seconds, output), then the
    files that could not be processed, one per line, and an error if there were any."""
    from .errors import DataError

    if summary.files == 0 and len(summary.failed) == 1:  # one input, and it failed
        raise DataError(summary.failed[0].reason)
    files = f"{summary.files} file{'s' if summary.files != 1 else ''}"
    print(
        f"{files}, {summary.megapixels:.1f} MP, {summary.seconds:.1f} s ({what}); "
        f"wrote {summary.output}"
    )
    for failure in summary.failed:
        print(f"skipped {failure.path}: {failure.reason}", file=sys.stderr)
    if summary.failed:
        n = len(summary.failed)
        raise DataError(f"{n} input file{'s' if n != 1 else ''} skipped (listed above)")


def _cmd_benchmark(args: argparse.Namespace) -> None:
    from .benchmark import BenchmarkProtocol, run_benchmark

    protocol = BenchmarkProtocol(
        seed=args.seed,
        clip=args.clip,
        quantize=args.quantize,
        y_channel=args.y_channel,
        border=args.border,
        precision=args.precision,
        threads=args.threads,
        blind=args.sigma_auto,
    )
    summary = run_benchmark(
        args.models,
        args.data,
        args.sigmas,
        args.out,
        protocol=protocol,
        limit=args.limit,
        data_root=args.data_root,
        roofline=args.roofline,
        skip_bad=args.skip_bad,
    )
    minutes = summary.get("seconds_total", 0.0) / 60
    print(f"wrote {Path(args.out) / 'table.md'} ({minutes:.1f} min)")


def _cmd_demo(args: argparse.Namespace) -> None:
    from .demo import run_demo

    report = run_demo(
        args.out,
        train=args.train,
        epochs=args.epochs,
        model=args.model,
        classical=args.classical,
        limit=args.limit,
    )
    print(f"report: {report}")


def _cmd_calibrate(args: argparse.Namespace) -> None:
    from .noise.calibrate import calibrate_files, write_calibration

    result = calibrate_files(
        args.images, burst=args.burst, allow_large=args.allow_large, out=args.out
    )
    path = write_calibration(result, args.out)
    for note in result.notes():
        print(f"note: {note}", file=sys.stderr)
    print(f"{result.summary()}; wrote {path}")


def _add_allow_large(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow-large",
        action="store_true",
        help="read images above the decompression-bomb limit (89.5 MP); only for trusted files",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="denoisekit", description="Remove noise from images.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument(
        "--data-root",
        default=os.environ.get("DENOISEKIT_DATA") or None,  # set but empty: as if unset
        help="folder holding the named data sets (default: $DENOISEKIT_DATA or ../shared/data)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("models", help="list registered models")
    p.set_defaults(func=_cmd_models)

    def add_set(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a config value, e.g. train.lr=3e-4 (repeatable)",
        )
        p.add_argument(
            "--skip-bad",
            action="store_true",
            help="skip unreadable images (counted) instead of stopping",
        )

    p = sub.add_parser("train", help="train one model from a run config")
    p.add_argument("config", nargs="?", help="YAML run config (default: built-in defaults)")
    p.add_argument("--out", required=True, help="run folder for config, metrics, checkpoints")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.*")
    p.add_argument(
        "--init",
        help="start from these weights: a pretrained name (e.g. color-blind) or a checkpoint; "
        "the optimizer and schedule start fresh (same as --set train.init=...)",
    )
    add_set(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="score a checkpoint on a data set with fixed noise")
    p.add_argument(
        "--checkpoint",
        required=True,
        help="a .safetensors checkpoint, a run folder, or a pretrained name (e.g. color-blind); "
        "add +x8 for the 8-view self-ensemble",
    )
    p.add_argument("--data", required=True, help="named set (set12, bsd68, ...) or a folder")
    p.add_argument("--noise", required=True, help=NOISE_HELP)
    p.add_argument("--split", default="test", choices=["train", "val", "test", "all"])
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
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable images (counted)")
    p.add_argument("--out", required=True, help="folder for per_image.csv and summary.json")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("experiment", help="train and compare several models, write a report")
    p.add_argument("config", help="experiment YAML (e.g. configs/seeds/pistachio.yaml)")
    p.add_argument("--out", required=True, help="experiment folder")
    p.add_argument("--runs", nargs="+", help="only these runs")
    add_set(p)
    p.set_defaults(func=_cmd_experiment)

    p = sub.add_parser("report", help="redraw figures and report.html from saved results")
    p.add_argument("dir", help="experiment folder holding results.json")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("denoise", help="denoise image files or folders")
    p.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="image files or folders (searched recursively)"
    )
    p.add_argument(
        "-o",
        "--output",
        help="output file (one input file) or folder mirroring the inputs; "
        "without -o the last INPUT is the output",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--model",
        help="pretrained name (see `denoisekit models`) or classical filter; default: "
        "gray-blind for gray images, color-blind for colour; a +x8 suffix (gray-blind+x8) "
        "averages the network over 8 flips/rotations (8x the time)",
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
    p.add_argument("--tile", type=int, default=512, help="tile size in pixels (0: whole image)")
    p.add_argument("--overlap", type=int, default=32, help="tile overlap in pixels")
    p.add_argument(
        "--format", help="output format: png, jpg, tif, bmp, webp (default: the input's)"
    )
    _add_allow_large(p)
    p.set_defaults(func=_cmd_denoise)

    p = sub.add_parser("noise", help="make noisy copies of image files or folders")
    p.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="image files or folders (searched recursively)"
    )
    p.add_argument("-o", "--output", required=True, help="output file (one input file) or folder")
    p.add_argument("--noise", required=True, help=NOISE_HELP)
    p.add_argument("--seed", type=int, default=0, help="noise seed (per file: seed + its path)")
    p.add_argument(
        "--format", help="output format: png, jpg, tif, bmp, webp (default: the input's)"
    )
    _add_allow_large(p)
    p.set_defaults(func=_cmd_noise)

    p = sub.add_parser("benchmark", help="quality, speed and memory of methods side by side")
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
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"], help="for networks")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument(
        "--sigma-auto", action="store_true", help="give methods no sigma: each estimates it"
    )
    p.add_argument(
        "--roofline", action="store_true", help="also measure the matmul peak and FLOP/s"
    )
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable images (counted)")
    p.add_argument("--out", required=True, help="folder for per_image.csv, summary.json, table.md")
    p.set_defaults(func=_cmd_benchmark)

    p = sub.add_parser("demo", help="denoise bundled photos with shipped weights, write a report")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--model", help="pretrained model to show (default: color-blind)")
    p.add_argument("--classical", default="nlm", help="classical filter to compare with")
    p.add_argument("--limit", type=int, default=None, help="first N photos only")
    p.add_argument(
        "--train", action="store_true", help="instead train two small models briefly (minutes)"
    )
    p.add_argument("--epochs", type=int, default=None, help="with --train: epoch count")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("calibrate", help="fit a camera's noise (a, b) from its own photos")
    p.add_argument(
        "images", nargs="+", metavar="IMAGE", help="noisy image files or folders (recursive)"
    )
    p.add_argument("--out", required=True, help="JSON file to write, usable as --noise FILE")
    p.add_argument(
        "--burst",
        action="store_true",
        help="the images are shots of one static scene (same size): far more accurate",
    )
    _add_allow_large(p)
    p.set_defaults(func=_cmd_calibrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .errors import DenoiseKitError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except DenoiseKitError as e:
        if args.debug:
            raise
        print(f"denoisekit: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a path the run cannot write (a file where a folder must be, ...)
        if args.debug:
            raise
        where = f": {e.filename}" if e.filename else ""
        print(f"denoisekit: error: {e.strerror or e}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("denoisekit: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
