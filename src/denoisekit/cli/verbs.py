"""What each built-in `denoisekit` verb does: call library functions, print results.

Heavy imports stay inside each function, so one verb does not load what another needs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import EXIT_OK, EXIT_PARTIAL, UsageError


def _overrides(args: argparse.Namespace) -> list[str]:
    return args.set + (["data.skip_bad=true"] if args.skip_bad else [])


def _cmd_models(args: argparse.Namespace) -> None:
    from ..checkpoints.pretrained import (
        WEIGHTS_ENV,
        measured_summary,
        pretrained_info,
        pretrained_names,
        weights_dir,
    )
    from ..registry import count_parameters, create_model, list_models

    print(f"{'name':<24}{'kind':<11}{'params':>10}  description")
    for entry in list_models():
        params = count_parameters(create_model(entry.name)) if entry.kind == "network" else 0
        print(f"{entry.name:<24}{entry.kind:<11}{params:>10,}  {entry.description}")
    print()
    names = pretrained_names()
    if not names:
        print(f"pretrained weights: none installed in {weights_dir()} (${WEIGHTS_ENV} overrides)")
        return
    from ..checkpoints.checkpoint import trained_estimator

    # "auto sigma": the estimator the model reads the level with when none is given
    header = f"{'pretrained':<24}{'model':<11}{'channels':>10}  {'sigma 0-255':<13}"
    print(f"{header}{'auto sigma':<12}description")
    for name in names:
        info = pretrained_info(name)
        low, high = info.get("sigma_range") or (None, None)
        sigma = f"{round(low * 255, 1):g}-{round(high * 255, 1):g}" if low is not None else "?"
        measured = measured_summary(info.get("measured"))
        text = info.get("description", "") + (f" ({measured})" if measured else "")
        channels = info.get("channels", "?")
        estimator = trained_estimator(info)
        print(f"{name:<24}{info['model']:<11}{channels:>10}  {sigma:<13}{estimator:<12}{text}")


def _quiet_lightning() -> None:
    """Lightning announces the precision and the seed at INFO level on stderr, before any
    error of ours; the run's own lines and files say both, so keep only its warnings."""
    import logging

    import lightning_fabric  # noqa: F401  (sets its logger to INFO on import)

    logging.getLogger("lightning_fabric").setLevel(logging.WARNING)


def _cmd_train(args: argparse.Namespace) -> None:
    from ..config import load_run_config
    from ..train import train

    _quiet_lightning()
    overrides = _overrides(args) + _device_overrides(args.device, args.devices)
    config = load_run_config(args.config, overrides, init=args.init)
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


def _device_overrides(device: str | None, devices: str | None) -> list[str]:
    """`train --device/--devices` as config overrides (after --set's, so they win): cpu and
    cuda set train.accelerator, cuda:N that one GPU, --devices the count or the GPU ids."""
    settings = []
    if device is not None and device != "auto":
        kind, _, index = device.partition(":")
        if index:
            from ..inference.device import resolve_device

            resolve_device(device)  # one line when torch sees no such GPU
            if devices is not None:
                raise UsageError(f"--device {device} names one GPU; leave out --devices {devices}")
            devices = f"{index},"  # Lightning reads "N," as the GPU id N, "N" as a count
        settings.append(f"train.accelerator={kind}")
    elif device == "auto":
        settings.append("train.accelerator=auto")
    if devices is not None:
        value = f"'{devices}'" if "," in devices else devices  # GPU ids stay a string
        settings.append(f"train.devices={value}")
    return settings


def _progress(args: argparse.Namespace) -> bool:
    """Progress bars on stderr (`progress.py`: on a terminal, and a large image's tiles in a
    log too), unless the verb has a --quiet that is set."""
    return not getattr(args, "quiet", False)


def _cmd_evaluate(args: argparse.Namespace) -> None:
    from ..evaluate import evaluate_checkpoint

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
        precision=args.precision,
        device=args.device,
        progress=_progress(args),
        shard=args.shard,
        runtime=args.runtime,
    )
    s, n = result["summary"], result["noisy_summary"]
    skipped = f", {result['skipped']} unreadable skipped" if result["skipped"] else ""
    split = f"{args.split} split" + (f", shard {args.shard}" if args.shard else "")
    count = f"{result['n']} image{'s' if result['n'] != 1 else ''} ({split}{skipped})"
    print(
        f"{count}, {result['noise'].spec}: PSNR {s['psnr']['mean']:.2f} dB "
        f"(noisy {n['psnr']['mean']:.2f}), SSIM {s['ssim']['mean']:.4f} "
        f"(noisy {n['ssim']['mean']:.4f}); wrote {Path(args.out) / 'summary.json'}"
    )
    return EXIT_PARTIAL if result["skipped"] else EXIT_OK


def _cmd_experiment(args: argparse.Namespace) -> None:
    from ..config import load_experiment_config
    from ..experiment import run_experiment

    _quiet_lightning()
    exp = load_experiment_config(args.config, _overrides(args))
    html = run_experiment(exp, args.out, data_root=args.data_root, only=args.runs)
    print(f"report: {html}")


def _cmd_report(args: argparse.Namespace) -> None:
    from ..report import write_report

    if args.dir and args.out and Path(args.dir) != Path(args.out):
        raise UsageError(f"two folders given ({args.dir} and -o {args.out}); give one")
    if not (args.dir or args.out):
        raise UsageError("no folder given; write denoisekit report FOLDER")
    print(f"report: {write_report(args.dir or args.out)}")


def _inputs_and_output(args: argparse.Namespace) -> tuple[list[str], str]:
    """INPUT... and the output of `denoise` / `noise`: -o, else the last INPUT (`denoise IN
    OUT`, as before -o existed), which may not be an existing file unless --overwrite."""
    if args.out is not None:
        return args.inputs, args.out
    *inputs, output = args.inputs
    if not inputs:
        raise UsageError(f"no output given; write denoisekit {args.command} INPUT... -o OUTPUT")
    if Path(output).is_file() and not args.overwrite:
        raise UsageError(
            f"{output} exists: without -o the last INPUT is the output and would be "
            f"overwritten; name the output with -o (or add --overwrite to replace {output})"
        )
    return inputs, output


def _cmd_denoise(args: argparse.Namespace) -> int:
    from ..batch.denoise import denoise_paths

    inputs, output = _inputs_and_output(args)
    summary = denoise_paths(
        inputs,
        output,
        model=args.model,
        checkpoint=args.checkpoint,
        sigma=args.sigma,
        tile=args.tile,
        overlap=args.overlap,
        strength=args.strength,
        precision=args.precision,
        device=args.device,
        fmt=args.format,
        keep_metadata=not args.strip_metadata,
        allow_large=args.allow_large,
        progress=_progress(args),
        shard=args.shard,
        runtime=args.runtime,
    )
    if summary.sigma_ignored:
        options = [("--sigma", args.sigma != "auto"), ("--strength", args.strength != 1)]
        given = "/".join(option for option, changed in options if changed)
        print(f"note: {given} ignored: the model does not take a noise level", file=sys.stderr)
    for note in (*summary.channel_notes, summary.choice_note):
        if note:
            print(f"note: {note}", file=sys.stderr)
    return _print_files_summary(summary, ", ".join(summary.models) + _shard(args))


def _cmd_noise(args: argparse.Namespace) -> int:
    from ..batch.noise import noise_paths

    inputs, output = _inputs_and_output(args)
    summary = noise_paths(
        inputs,
        output,
        args.noise,
        seed=args.seed,
        fmt=args.format,
        keep_metadata=not args.strip_metadata,
        allow_large=args.allow_large,
        progress=_progress(args),
        shard=args.shard,
    )
    return _print_files_summary(summary, f"{summary.spec}, seed {args.seed}{_shard(args)}")


def _shard(args: argparse.Namespace) -> str:
    return f", shard {args.shard}" if args.shard else ""


def _print_files_summary(summary, what: str) -> int:
    """The line `denoise` and `noise` end with (files, megapixels, seconds, output), then the
    files that could not be processed, one per line, and a warning (exit 3) if there were any;
    an error when nothing could be written."""
    from ..errors import DataError

    for note in getattr(summary, "file_notes", ()):
        print(f"note: {note}", file=sys.stderr)
    if summary.files == 0 and len(summary.failed) == 1:  # one input, and it failed
        raise DataError(summary.failed[0].reason)
    files = f"{summary.files} file{'s' if summary.files != 1 else ''}"
    replaced = getattr(summary, "overwritten", 0)
    replaced = f"; {replaced} existing file{'s' if replaced != 1 else ''} overwritten" * bool(
        replaced
    )
    print(
        f"{files}, {summary.megapixels:.1f} MP, {summary.seconds:.1f} s ({what}); "
        f"wrote {summary.output}{replaced}"
    )
    for failure in summary.failed:
        print(f"skipped {failure.path}: {failure.reason}", file=sys.stderr)
    n = len(summary.failed)
    skipped = f"{n} input file{'s' if n != 1 else ''} skipped (listed above)"
    if n and summary.files == 0:
        raise DataError(f"no file written: {skipped}")
    if n:
        print(f"denoisekit: warning: {skipped}", file=sys.stderr)
        return EXIT_PARTIAL
    return EXIT_OK


def _cmd_benchmark(args: argparse.Namespace) -> None:
    from ..benchmark import BenchmarkProtocol, run_benchmark

    protocol = BenchmarkProtocol(
        seed=args.seed,
        clip=args.clip,
        quantize=args.quantize,
        y_channel=args.y_channel,
        border=args.border,
        precision=args.precision,
        threads=args.threads,
        blind=args.sigma_auto,
        device=args.device,
        runtime=args.runtime,
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
    machine = summary["machine"]
    ran = f"networks in {machine['precision_networks']} on {machine['device_networks']}"
    ran += f" by {machine['runtime_networks']}"
    print(f"wrote {Path(args.out) / 'table.md'} ({minutes:.1f} min; {ran})")
    skipped = sum(entry["skipped"] for entry in summary["datasets"].values())
    if skipped:
        print(f"denoisekit: warning: {skipped} unreadable images skipped", file=sys.stderr)
        return EXIT_PARTIAL
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> None:
    from ..demo import run_demo

    report = run_demo(
        args.out,
        train=args.train,
        epochs=args.epochs,
        model=args.model,
        classical=args.classical,
        limit=args.limit,
        precision=args.precision,
        device=args.device,
        progress=_progress(args),
        runtime=args.runtime,
    )
    print(f"report: {report}")


def _cmd_calibrate(args: argparse.Namespace) -> None:
    from ..batch.calibrate import calibrate_files, compression_note, write_calibration

    result = calibrate_files(
        args.images, burst=args.burst, allow_large=args.allow_large, out=args.out
    )
    path = write_calibration(result, args.out)
    for note in [*result.notes(), compression_note(result.images)]:
        if note:
            print(f"note: {note}", file=sys.stderr)
    print(f"{result.summary()}; wrote {path}")


VERBS = {
    "models": _cmd_models,
    "train": _cmd_train,
    "evaluate": _cmd_evaluate,
    "experiment": _cmd_experiment,
    "report": _cmd_report,
    "denoise": _cmd_denoise,
    "noise": _cmd_noise,
    "benchmark": _cmd_benchmark,
    "demo": _cmd_demo,
    "calibrate": _cmd_calibrate,
}
