"""Read and write speed of 16-bit colour PNG (`denoisekit.png16`, libpng through imagecodecs).

Writes OUT/png16_speed.json and prints one line per operation: the best of REPEATS timings, in
ms per megapixel, of `io.read_image` on a WIDTHxHEIGHT 16-bit RGB PNG whose rows are all
Paeth-filtered (as many cameras and editors write them; the filter a row-by-row decoder finds
slowest), and of `io.save_image(..., bit_depth=16)`. The image is a smooth pattern plus noise,
so it compresses like a photo. Both round-trip bit for bit, or the script fails.

Timings are wall-clock on a shared machine: the load average before the run is recorded next
to them. The pure-Python codec this replaced read 2,212 ms/MP and wrote 270 ms/MP here (AMD
EPYC, AVX2 only, 2026-12-05; see png16.py).
"""

from __future__ import annotations

import argparse
import os
import struct
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from denoisekit.benchmark.speed import cpu_name
from denoisekit.files import atomic_write_json
from denoisekit.io import read_image, save_image


def smooth_rgb16(height: int, width: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([np.sin(x / 97 + c) * np.cos(y / 71 - c) for c in range(3)], -1)
    noise = np.random.default_rng(0).normal(0, 300, (height, width, 3))
    return ((base * 0.4 + 0.5) * 65535 + noise).clip(0, 65535).astype(np.uint16)


def paeth_png(image: np.ndarray) -> bytes:
    """A 16-bit RGB PNG of `image` with every row Paeth-filtered (a small encoder)."""
    h, w, c = image.shape
    x = image.astype(">u2").reshape(h, -1).view(np.uint8).astype(np.int32)
    bpp = 2 * c
    up = np.vstack([np.zeros_like(x[:1]), x[:-1]])
    left = np.hstack([np.zeros((h, bpp), np.int32), x[:, :-bpp]])
    upleft = np.hstack([np.zeros((h, bpp), np.int32), up[:, :-bpp]])
    p = left + up - upleft
    pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
    pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
    rows = np.hstack([np.full((h, 1), 4, np.uint8), ((x - pred) % 256).astype(np.uint8)])

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    idat = zlib.compress(rows.tobytes(), 6)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def best_ms_per_mp(fn, repeats: int, megapixels: float) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000 / megapixels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=2000)
    parser.add_argument("--height", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="runs/bench/png16")
    args = parser.parse_args()

    image = smooth_rgb16(args.height, args.width)
    megapixels = args.height * args.width / 1e6
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "paeth.png", Path(tmp) / "out.png"
        source.write_bytes(paeth_png(image))
        if not np.array_equal(read_image(source), image):
            raise SystemExit("reading the Paeth-filtered file did not round-trip")
        read = best_ms_per_mp(lambda: read_image(source), args.repeats, megapixels)
        write = best_ms_per_mp(
            lambda: save_image(image, target, bit_depth=16), args.repeats, megapixels
        )
        if not np.array_equal(read_image(target), image):
            raise SystemExit("the written file did not round-trip")
        size = target.stat().st_size
    result = {
        "image": f"{args.width}x{args.height} RGB uint16, every row Paeth-filtered",
        "read_ms_per_mp": round(read, 1),
        "write_ms_per_mp": round(write, 1),
        "written_bytes": size,
        "repeats": args.repeats,
        "cpu": cpu_name(),
        "load_average_before": round(load, 2),
        "date": time.strftime("%Y-%m-%d"),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "png16_speed.json", result)
    print(f"read {read:.0f} ms/MP, write {write:.0f} ms/MP ({size / 1e6:.1f} MB); {result['cpu']}")


if __name__ == "__main__":
    main()
