"""Regenerate docs/assets/before-after.png with the repository's own command line.

    .venv/bin/python docs/assets/before_after.py

A 256x256 crop of scikit-image's astronaut gets sigma=25/255 noise from `denoisekit noise`
(seed 0) and is denoised by `denoisekit denoise` (default model choice, sigma estimated);
a 208x208 part of the three is placed side by side.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from skimage import data

OUT = Path(__file__).with_name("before-after.png")
CLI = [sys.executable, "-m", "denoisekit"]
SIZE, TOP, LEFT = 208, 10, 30


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        Image.fromarray(data.astronaut()[30:286, 140:396]).save(tmp / "clean.png")
        subprocess.run(
            [*CLI, "noise", str(tmp / "clean.png"), "-o", str(tmp / "noisy.png"),
             "--noise", "gaussian:25/255", "--seed", "0"],
            check=True,
        )
        subprocess.run(
            [*CLI, "denoise", str(tmp / "noisy.png"), "-o", str(tmp / "denoised.png")],
            check=True,
        )
        crops = {
            name: np.asarray(Image.open(tmp / f"{name}.png"))[TOP : TOP + SIZE, LEFT : LEFT + SIZE]
            for name in ("noisy", "denoised", "clean")
        }
    clean = crops["clean"] / 255.0
    for name in ("noisy", "denoised"):
        mse = np.mean((crops[name] / 255.0 - clean) ** 2)
        print(f"{name}: {10 * np.log10(1 / mse):.2f} dB")
    gap, label_h = 4, 18
    sheet = Image.new("RGB", (3 * SIZE + 2 * gap, SIZE + label_h), "white")
    labels = ("noisy, sigma 25/255", "denoisekit denoise", "clean")
    for i, (name, label) in enumerate(zip(("noisy", "denoised", "clean"), labels)):
        x = i * (SIZE + gap)
        sheet.paste(Image.fromarray(crops[name]), (x, label_h))
        ImageDraw.Draw(sheet).text((x + 4, 3), label, fill="black")
    sheet.save(OUT, optimize=True)
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
