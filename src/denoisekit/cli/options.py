"""Options shared by several `denoisekit` verbs, and the help texts they print.

Only argparse here, so `denoisekit --help` starts without importing torch.
"""

from __future__ import annotations

import argparse
import os
import re

# Kept here, not imported from denoisekit.noise, so `--help` does not import torch;
# tests/batch/test_noise_files.py checks it names every kind.
NOISE_HELP = (
    "noise spec: kinds gaussian, gaussian-ramp, gaussian-correlated, poisson, poisson-gaussian, "
    "camera-pipeline, speckle, salt-pepper, motion-blur, jpeg, quantize, joined with + and "
    "applied in order, "
    "e.g. gaussian:25/255, poisson:30, "
    "motion-blur:9,30+poisson-gaussian:a=0.01,b=0.0004+jpeg:60; or a .json file with a "
    '"noise" entry (from `denoisekit calibrate`)'
)


EPILOG = """\
Options --debug and --data-root go before or after the command; `denoisekit COMMAND --help`
lists a command's own options. Every command that writes takes -o/--out.

exit codes:
  0    done
  1    error: one line on stderr says what was wrong (--debug shows the traceback)
  2    usage error: unknown option, bad or missing argument, an output that would overwrite
       an existing file given without -o
  3    partial: some inputs were skipped (unreadable files, --skip-bad), listed on stderr;
       the others were written
  130  interrupted (Ctrl-C)
"""

PRECISION_HELP = (
    "networks' number format: auto (bf16 where the CPU/GPU computes it natively, about 2.3x "
    "faster for 0.001 dB; else fp32), fp32 or bf16; default auto"
)
# The spellings `inference/device.py` takes, checked here without importing torch.
_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")


def device_choice(text: str) -> str:
    value = text.strip().lower()
    if not _DEVICE.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{text!r}: use auto, cpu, cuda or cuda:N")
    return value


_DEVICES = re.compile(r"[1-9]\d*|\d+(,\d+)+,?|-1")


def devices_choice(text: str) -> str:
    """`train --devices`: a count (2), GPU ids (0,1) or -1 (all), as Lightning reads them."""
    value = text.strip().replace(" ", "")
    if not _DEVICES.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{text!r}: give a count (2), GPU ids (0,1) or -1 (all)")
    return value


class Version(argparse.Action):
    """`--version`: the package version (and torch's, read without importing torch)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, **kwargs) -> None:
        kwargs.setdefault("help", "print the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        import platform
        from importlib.metadata import PackageNotFoundError, version

        from .. import __version__

        try:
            torch = version("torch")
        except PackageNotFoundError:
            torch = "not installed"
        python = platform.python_version()
        print(f"denoisekit {__version__} (torch {torch}, Python {python})")
        parser.exit()


def add_global_options(p: argparse.ArgumentParser, *, top: bool) -> None:
    """--debug and --data-root: on the top parser with their defaults, and on every command
    with no default (argparse.SUPPRESS), so giving them after the command sets them and leaving
    them out there keeps what was given before it."""
    where = p if top else p.add_argument_group("global options (also before the command)")
    data_root = os.environ.get("DENOISEKIT_DATA") or None  # set but empty: as if unset
    debug, root = (False, data_root) if top else (argparse.SUPPRESS, argparse.SUPPRESS)
    where.add_argument(
        "--debug", action="store_true", default=debug, help="show tracebacks on errors"
    )
    where.add_argument(
        "--data-root",
        default=root,
        metavar="FOLDER",
        help="folder holding the named data sets (default: $DENOISEKIT_DATA or ../shared/data)",
    )


def add_out(
    p: argparse.ArgumentParser,
    help: str,
    *,
    metavar: str,
    required: bool = False,
    default: str | None = None,
) -> None:
    """-o/--out, the output of every command that writes; --output still works (hidden)."""
    group = p.add_mutually_exclusive_group(required=required)
    group.add_argument("-o", "--out", metavar=metavar, default=default, help=help)
    group.add_argument("--output", dest="out", default=default, help=argparse.SUPPRESS)


def add_device_precision(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--device",
        type=device_choice,
        default="auto",
        metavar="{auto,cpu,cuda,cuda:N}",
        help="where networks run: auto (a CUDA GPU when torch sees one, else the CPU), cpu, "
        "cuda or cuda:N; default auto",
    )
    p.add_argument(
        "--precision", default="auto", choices=["auto", "fp32", "bf16"], help=PRECISION_HELP
    )


def add_runtime(p: argparse.ArgumentParser) -> None:
    """--runtime of the verbs that run networks (`denoisekit/runtimes/`)."""
    p.add_argument(
        "--runtime",
        default="auto",
        choices=["auto", "torch", "onnxruntime", "openvino"],
        help="what runs networks: auto (the fastest installed runtime measured for this kind "
        "of CPU, torch on a GPU), torch, onnxruntime or openvino (pip install "
        "'denoisekit[fast]' / '[export]'); converted networks are cached on disk; default auto",
    )


def add_image_inputs(p: argparse.ArgumentParser, verb: str, out_help: str) -> None:
    """INPUT..., -o/--out and --overwrite of `denoise` and `noise`."""
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="image files or folders (searched recursively); without -o the last INPUT is "
        "the output, which must not be an existing file (unless --overwrite)",
    )
    add_out(p, out_help, metavar="OUTPUT")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help=f"let the last INPUT, given as the output without -o, be an existing file that "
        f"is replaced (`denoisekit {verb} a.png b.png` then replaces b.png); outputs named "
        "with -o are always replaced, and no input is ever written",
    )


def add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format", help="output format: png, jpg, tif, bmp, webp (default: the input's)"
    )
    p.add_argument(
        "--strip-metadata",
        action="store_true",
        help="write no ICC profile, EXIF (camera, date, GPS) or DPI; by default they are "
        "copied from each input",
    )


def add_skip_bad(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip unreadable images (counted) instead of stopping",
    )


def add_allow_large(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow-large",
        action="store_true",
        help="read images above the decompression-bomb limit (89.5 MP); only for trusted files",
    )


_SHARD = re.compile(r"(\d+)/(\d+)")


def shard_choice(text: str) -> str:
    """'i/N' with 0 <= i < N, checked here without importing the package (`shards.py`)."""
    match = _SHARD.fullmatch(text.strip())
    if not match or not int(match.group(1)) < int(match.group(2)):
        raise argparse.ArgumentTypeError(f"{text!r}: write i/N with 0 <= i < N, e.g. 0/4")
    return text.strip()


def add_shard(p: argparse.ArgumentParser, what: str, then: str = "") -> None:
    """--shard i/N of the verbs that go through many files (`shards.py`)."""
    p.add_argument(
        "--shard",
        type=shard_choice,
        metavar="I/N",
        help=f"only the {what} of shard I of N (0-based), split by a hash of each file's path "
        "relative to its input root, so N runs with 0/N ... N-1/N cover every file once "
        f"and write what one run writes{then}",
    )
