"""`denoisekit serve`: start the browser app on this machine and keep it running until Ctrl-C.

Offline and private by default: it binds 127.0.0.1, opens no share tunnel, sends no analytics,
and keeps uploads, results and examples in a temporary folder of its own (mode 700), where old
files are deleted while it runs and the whole folder when it stops. One photo is denoised at a
time unless `concurrency` says otherwise (each already uses every core); the others wait in a
bounded queue.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import DenoiseKitError
from .service import Limits

LOOPBACK = ("127.0.0.1", "localhost", "::1")
QUEUE_SIZE = 64  # requests waiting beyond this are turned away with "queue full"
CLEANUP_EVERY = 60  # seconds between sweeps of Gradio's copies of uploads and results


class ServeError(DenoiseKitError):
    """The server cannot start as asked (a port in use, an address not on this machine)."""


def serve(
    host: str = "127.0.0.1",
    port: int = 7860,
    limits: Limits | None = None,
    *,
    concurrency: int = 1,
    precision: str = "auto",
    device: str = "auto",
    announce: Callable[[str], None] = print,
) -> None:
    """Run the app at http://HOST:PORT until interrupted (see the module docstring).
    `announce` gets the lines a person starting it should read (the address, a warning when
    it listens beyond this machine)."""
    if concurrency < 1:
        raise ServeError(f"--concurrency must be 1 or more, got {concurrency}")
    _check_port(host, port)
    limits = limits or Limits()
    workdir = Path(tempfile.mkdtemp(prefix="denoisekit-serve-"))
    try:
        app = _start(workdir, host, port, limits, concurrency, precision, device)
        shown = f"[{host}]" if ":" in host else host
        announce(f"denoisekit app running at http://{shown}:{port} (Ctrl-C stops it)")
        note = exposure_note(host, port)
        if note:
            announce(note)
        try:
            while app.is_running:
                time.sleep(0.2)
        finally:
            app.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _start(workdir, host, port, limits, concurrency, precision, device):
    # Gradio reads these when imported: no usage reports, its files in our folder.
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["GRADIO_TEMP_DIR"] = str(workdir / "gradio")
    from .examples import write_examples
    from .service import DenoiseService
    from .ui import build_app, theme

    service = DenoiseService(workdir, limits, precision=precision, device=device)
    examples = write_examples(workdir / "examples")
    app = build_app(service, examples, delete_cache=(CLEANUP_EVERY, service.keep_seconds))
    app.queue(default_concurrency_limit=concurrency, max_size=QUEUE_SIZE)
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        prevent_thread_lock=True,
        quiet=True,
        show_error=False,  # messages of ours (gr.Error) still show; no internals leak
        max_file_size=int(limits.max_upload_mb * 1e6),
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        footer_links=["api"],
        theme=theme(),
    )
    return app


def exposure_note(host: str, port: int) -> str | None:
    """What to tell a person who serves beyond this machine; None on a loopback address."""
    if host in LOOPBACK:
        return None
    return (
        f"note: listening on {host}, not only on this machine: anyone who can reach port "
        f"{port} can use the app (it has no login)"
    )


def _check_port(host: str, port: int) -> None:
    """A one-line error now, rather than Gradio's own after the models load."""
    if not 0 < port < 65536:
        raise ServeError(f"--port must be 1-65535, got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror:
            raise ServeError(f"--host {host}: no such address") from None
        except OSError as e:
            raise ServeError(
                f"cannot listen on {host}:{port} ({e.strerror}); choose another --port"
            ) from None


def stop_on_sigterm() -> None:
    """Make SIGTERM (a service manager, `kill`) stop the server as Ctrl-C does, so its
    temporary folder is removed."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if sys.platform != "win32":
        signal.signal(signal.SIGTERM, interrupt)
