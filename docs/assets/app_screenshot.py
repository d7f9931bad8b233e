"""Regenerate docs/assets/app.webp, the screenshot of `denoisekit serve`, in a real browser.

    .venv/bin/python docs/assets/app_screenshot.py

Starts `denoisekit serve` on a free port, opens it in headless Chromium (Debian's `chromium`,
or $DENOISEKIT_CHROMIUM) with Playwright, denoises the "astronaut, σ 25" example with the
default settings, and saves the page as WebP (small enough for the docs).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect, sync_playwright

OUT = Path(__file__).with_name("app.webp")
VIEWPORT = {"width": 1180, "height": 800}


def main() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "denoisekit", "serve", "--port", str(port)]
    server = subprocess.Popen(argv)
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait(url, server)
        _screenshot(url, OUT.with_suffix(".png"))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    Image.open(OUT.with_suffix(".png")).convert("RGB").save(OUT, quality=82, method=6)
    OUT.with_suffix(".png").unlink()
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB)")


def _wait(url: str, server: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("denoisekit serve did not start")


def _screenshot(url: str, path: Path) -> None:
    chromium = os.environ.get("DENOISEKIT_CHROMIUM") or shutil.which("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(120_000)
        expect.set_options(timeout=120_000)
        page.goto(url)
        page.get_by_text("astronaut, σ 25").click()
        expect(page.locator("#photo img")).to_have_count(1)
        page.click("#denoise")
        expect(page.locator("#comparison img")).to_have_count(2)
        page.evaluate("window.scrollTo(0, 0)")
        time.sleep(1)  # the slider's images finish drawing
        page.screenshot(path=path, full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
