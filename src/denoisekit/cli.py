"""The `denoisekit` command: parse arguments, call library functions, print results.

Errors a user can fix print one line and exit 2; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _overrides(args: argparse.Namespace) -> list[str]:
    return args.set + (["data.skip_bad=true"] if args.skip_bad else [])


def _cmd_models(args: argparse.Namespace) -> None:
    from .registry import count_parameters, create_model, list_models

    print(f"{'name':<24}{'kind':<11}{'params':>10}  description")
    for entry in list_models():
        params = count_parameters(create_model(entry.name)) if entry.kind == "network" else 0
        print(f"{entry.name:<24}{entry.kind:<11}{params:>10,}  {entry.description}")


def _cmd_train(args: argparse.Namespace) -> None:
    from .config import load_run_config
    from .train import train

    config = load_run_config(args.config, _overrides(args))
    result = train(config, args.out, resume=args.resume, data_root=args.data_root)
    if result.global_rank != 0:
        return
    print(
        f"best epoch {result.best_epoch}: val PSNR {result.best_val_psnr:.2f} dB "
        f"({result.train_seconds:.0f}s); checkpoint {result.best_path}"
    )


def _cmd_evaluate(args: argparse.Namespace) -> None:
    from .data import load_dataset
    from .evaluate import evaluate_pairs, make_noisy_pairs, protocol, write_evaluation
    from .noise import parse_noise
    from .train.checkpoint import load_checkpoint

    model, meta = load_checkpoint(args.checkpoint)
    noise = parse_noise(args.noise, clip=args.clip)
    channels = meta.get("config", {}).get("data", {}).get("channels")
    size = meta.get("config", {}).get("data", {}).get("size") if args.resize else None
    images = load_dataset(
        args.data,
        split=args.split,
        root=args.data_root,
        limit=args.limit,
        channels=channels,
        size=size,
        skip_bad=args.skip_bad,
    )
    pairs = make_noisy_pairs(images.images, noise, args.seed, images.names)
    result = evaluate_pairs(model, pairs, batch_size=args.batch_size)
    proto = protocol(
        noise,
        args.seed,
        data=args.data,
        split=args.split,
        n_images=len(images),
        checkpoint=str(args.checkpoint),
        skipped=len(getattr(images, "skipped", [])),
    )
    out = Path(args.out)
    write_evaluation(result, pairs, proto, out)
    s = result["summary"]
    n = result["noisy_summary"]
    print(
        f"{len(images)} images, {noise.spec}: PSNR {s['psnr']['mean']:.2f} dB "
        f"(noisy {n['psnr']['mean']:.2f}), SSIM {s['ssim']['mean']:.4f} "
        f"(noisy {n['ssim']['mean']:.4f}); wrote {out / 'summary.json'}"
    )


def _cmd_experiment(args: argparse.Namespace) -> None:
    from .config import load_experiment_config
    from .experiment import run_experiment

    exp = load_experiment_config(args.config, _overrides(args))
    html = run_experiment(exp, args.out, data_root=args.data_root, only=args.runs)
    print(f"report: {html}")


def _cmd_report(args: argparse.Namespace) -> None:
    from .report import write_report

    print(f"report: {write_report(args.dir)}")


def _cmd_denoise(args: argparse.Namespace) -> None:
    from .infer import denoise_file

    out = denoise_file(args.input, args.output, checkpoint=args.checkpoint, sigma=args.sigma)
    print(f"wrote {out}")


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
    )
    minutes = summary.get("seconds_total", 0.0) / 60
    print(f"wrote {Path(args.out) / 'table.md'} ({minutes:.1f} min)")


def _cmd_demo(args: argparse.Namespace) -> None:
    from .demo import run_demo

    print(f"report: {run_demo(args.out, epochs=args.epochs)}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="denoisekit", description="Remove noise from images.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument(
        "--data-root",
        default=os.environ.get("DENOISEKIT_DATA"),
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
    add_set(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="score a checkpoint on a data set with fixed noise")
    p.add_argument("--checkpoint", required=True, help="path to a .safetensors checkpoint")
    p.add_argument("--data", required=True, help="named set (set12, bsd68, ...) or a folder")
    p.add_argument("--noise", required=True, help="noise spec, e.g. gaussian:25/255")
    p.add_argument("--split", default="test", choices=["train", "val", "test", "all"])
    p.add_argument("--limit", type=int, help="first N images only")
    p.add_argument("--seed", type=int, default=0, help="noise seed (image i uses seed + i)")
    p.add_argument("--clip", action="store_true", help="clip the noisy input to [0,1]")
    p.add_argument("--resize", action="store_true", help="resize to the size the model trained on")
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

    p = sub.add_parser("denoise", help="denoise one image file with a checkpoint")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--sigma", help="noise level for noise-aware models, e.g. 25/255")
    p.set_defaults(func=_cmd_denoise)

    p = sub.add_parser("benchmark", help="quality, speed and memory of methods side by side")
    p.add_argument(
        "--models", required=True, help="comma-separated names or checkpoints, e.g. bm3d,nlm"
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
        "--roofline", action="store_true", help="also measure the matmul peak and FLOP/s"
    )
    p.add_argument("--out", required=True, help="folder for per_image.csv, summary.json, table.md")
    p.set_defaults(func=_cmd_benchmark)

    p = sub.add_parser("demo", help="train two small models on bundled photos and write a report")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--epochs", type=int, default=None, help="override the demo's epoch count")
    p.set_defaults(func=_cmd_demo)
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
    except KeyboardInterrupt:
        print("denoisekit: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
