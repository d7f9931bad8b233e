"""One `denoisekit serve` for the app's server and browser tests: started as a person would
start it, on 127.0.0.1 and a free port, with tight limits so the refusals are quick to reach,
and stopped (SIGTERM) at the end, when it must leave no temporary folder behind."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

MAX_UPLOAD_MB = 0.2
MAX_MEGAPIXELS = 0.5
START_SECONDS = 300  # torch, Gradio, the examples: ~30 s on 2 free cores; room for a busy machine


@dataclass(frozen=True)
class Server:
    url: str
    tmp: Path  # the server's TMPDIR
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    pytest.importorskip("gradio", reason="the app extra is not installed: pip install .[app]")
    tmp = tmp_path_factory.mktemp("serve")
    port = free_port()
    log = tmp / "serve.log"
    env = os.environ | {"TMPDIR": str(tmp), "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, "-m", "denoisekit", "serve", "--port", str(port)]
    argv += ["--max-upload-mb", str(MAX_UPLOAD_MB), "--max-megapixels", str(MAX_MEGAPIXELS)]
    with open(log, "w") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process, log)
        yield Server(url, tmp, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 130, log.read_text()  # stopped as by Ctrl-C, not killed
    assert not list(tmp.glob("denoisekit-serve-*")), "the server left its temporary folder"


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"denoisekit serve exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"denoisekit serve did not answer within {START_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def noisy_photo():
    """`noisy_photo(path, seed=0, size=256, gray=False)`: see `write_noisy_photo`."""
    return write_noisy_photo


@pytest.fixture(scope="session")
def psnr():
    """`psnr(a, b)` in dB of two 8-bit images."""
    return psnr_8bit


def write_noisy_photo(
    path: Path, *, seed: int = 0, size: int = 256, gray: bool = False
) -> np.ndarray:
    """Write a size x size crop of scikit-image's astronaut (or camera man, gray) with sigma-25
    noise to `path` as an 8-bit PNG; returns the clean crop. The seed moves the crop too, so
    two seeds give different photos."""
    from denoisekit.app.examples import add_noise, clean_photo

    top = (seed * 37) % (512 - size + 1)
    clean = clean_photo("camera" if gray else "astronaut")[top : top + size, 100 : 100 + size]
    Image.fromarray(add_noise(clean, 25, seed=seed)).save(path)
    return clean


def psnr_8bit(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a.astype(float) - b.astype(float)) ** 2)))
