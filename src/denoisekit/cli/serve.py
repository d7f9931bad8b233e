"""`denoisekit serve`: the browser app (`denoisekit.app`), also usable as an API."""

from __future__ import annotations

import argparse
import importlib.util
import sys

from .options import add_device_precision


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "serve",
        help="open a browser app to denoise photos (Gradio; also an API)",
        description="Serve a page where photos are dropped, denoised with the shipped models "
        "and downloaded in their own format and bit depth, with a before/after comparison. "
        "Its /denoise endpoint takes an image file and returns the denoised one (gradio_client). "
        "It listens only on this machine unless --host says otherwise, and needs the app "
        "extra: pip install 'denoisekit[app]'.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every "
        "network the machine is on, with no login)",
    )
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument(
        "--max-megapixels",
        type=float,
        default=50.0,
        metavar="N",
        help="largest photo accepted, in megapixels (default 50)",
    )
    p.add_argument(
        "--max-upload-mb",
        type=float,
        default=50.0,
        metavar="N",
        help="largest file accepted, in MB (default 50)",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=1,
        metavar="N",
        help="photos denoised at once (default 1: each uses every core); others wait in a queue",
    )
    add_device_precision(p)
    return p


def run(args: argparse.Namespace) -> int | None:
    from ..errors import DenoiseKitError

    # find_spec, not import: Gradio must first be told where its files go (`app.server`)
    if importlib.util.find_spec("gradio") is None:
        raise DenoiseKitError("the app needs Gradio: pip install 'denoisekit[app]'")
    from ..app.server import serve, stop_on_sigterm
    from ..app.service import Limits

    stop_on_sigterm()
    limits = Limits(max_megapixels=args.max_megapixels, max_upload_mb=args.max_upload_mb)

    def announce(line: str) -> None:
        print(line, file=sys.stderr if line.startswith("note:") else sys.stdout, flush=True)

    serve(
        args.host,
        args.port,
        limits,
        concurrency=args.concurrency,
        precision=args.precision,
        device=args.device,
        announce=announce,
    )
    return None
