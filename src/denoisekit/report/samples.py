"""The report's sample images at full resolution: for each sample, the original, the noisy input
and every model's output side by side, one image pixel per screen pixel, so noise, blur and
artefacts can be judged (a grid of thumbnails cannot show them).

Samples larger than `CROP` pixels are shown as their centre crop, the same one in every row;
samples smaller than `MIN_SIDE` pixels (MNIST, CIFAR) are enlarged by a whole factor with
nearest-neighbour pixels, and the note above them says so. Each image is embedded as a PNG data
URI, so the report stays one self-contained file.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping
from html import escape
from typing import Any

import numpy as np

from .figures import NOISY_LABEL

CROP = 256  # largest side shown; bigger samples are shown as their centre crop
MIN_SIDE = 128  # smaller samples are enlarged by a whole factor to at least this side

# added to the report's style sheet (`html.CSS`)
CSS = """
.sample h3 { font-size: 1em; margin: 1.2em 0 0.3em; }
.tiles { display: flex; flex-wrap: wrap; gap: 0.5em 0.8em; }
.tiles figure { margin: 0; }
.tiles img { display: block; max-width: none; border: 0; image-rendering: pixelated; }
.tiles figcaption { margin-top: 0.15em; }
"""


def sample_rows(
    results: Mapping[str, Any], samples: Mapping[str, np.ndarray]
) -> list[tuple[str, np.ndarray]]:
    """(label, (K, H, W, C) float images) rows: the original, the noisy input (when saved),
    then every run with saved outputs, in the results' order."""
    rows: list[tuple[str, np.ndarray]] = [("original", _hwc(samples["clean"]))]
    if "noisy" in samples:
        rows.append((NOISY_LABEL, _hwc(samples["noisy"])))
    for run in results.get("runs") or {}:
        key = f"denoised__{run}"
        if key in samples:  # a run may have been evaluated without saving samples
            rows.append((run, _hwc(samples[key])))
    return rows


def row_psnr(clean: np.ndarray, images: np.ndarray) -> list[float]:
    """PSNR (dB, data range 1) of each (H, W, C) image against its original, over the whole
    sample (`denoisekit.metrics.psnr`)."""
    import torch

    from ..metrics import psnr

    def nchw(a: np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2)

    return [float(v) for v in psnr(nchw(images), nchw(clean))]


def _hwc(images: np.ndarray) -> np.ndarray:
    """(K, H, W) or (K, H, W, C) -> (K, H, W, C) float32 in [0, 1]."""
    arr = np.asarray(images, dtype=np.float32)
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3, 4):
        raise ValueError(f"expected samples shaped (K, H, W, C) with C in 1/3/4, got {arr.shape}")
    return np.clip(arr, 0.0, 1.0)


def _centre(image: np.ndarray, side: int) -> np.ndarray:
    h, w = image.shape[:2]
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return image[top : top + side, left : left + side]


def _png_uri(image: np.ndarray) -> str:
    """A PNG data URI of an (H, W, C) float image in [0, 1] (8 bits per channel)."""
    from PIL import Image

    pixels = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    if pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def samples_html(results: Mapping[str, Any], samples: Mapping[str, np.ndarray]) -> str:
    """The "Samples" section: one block per sample image, one tile per row of `sample_rows`,
    captioned with its PSNR against the original (bold: the best model, when there are
    several)."""
    rows = sample_rows(results, samples)
    k, h, w, _ = rows[0][1].shape
    if k == 0:
        return ""
    names = [str(n) for n in samples.get("names", [])]
    names += [f"#{j}" for j in range(len(names), k)]
    scores = [row_psnr(rows[0][1], images) for _, images in rows]
    first_model = 2 if len(rows) > 1 and rows[1][0] == NOISY_LABEL else 1
    contenders = len(rows) - first_model
    side = min(CROP, max(h, w))
    shown_h, shown_w = min(h, side), min(w, side)
    zoom = max(1, math.ceil(MIN_SIDE / max(shown_h, shown_w)))

    what = "the whole image" if (shown_h, shown_w) == (h, w) else f"centre {shown_w}×{shown_h} crop"
    scale = "at 1:1 (one image pixel per screen pixel)"
    if zoom > 1:
        scale = f"enlarged {zoom}× with square pixels ({w}×{h} images)"
    bold = "; bold: the best model on that image" if contenders > 1 else ""
    parts = [
        "<h2>Samples</h2>",
        f"<p><small>Each sample: {what}, {scale}. Captions: PSNR against the original over "
        f"the whole image{bold}.</small></p>",
    ]
    for j in range(k):
        best = max(scores[r][j] for r in range(first_model, len(rows))) if contenders else None
        tiles = []
        for r, (label, images) in enumerate(rows):
            crop = _centre(images[j], side)
            text = escape(label)
            if r > 0:
                text += f" · {scores[r][j]:.2f} dB"
                if r >= first_model and contenders > 1 and scores[r][j] == best:
                    text = f"<b>{text}</b>"
            width, height = crop.shape[1] * zoom, crop.shape[0] * zoom
            tiles.append(  # the figure as wide as its image: long captions wrap below it
                f'<figure style="width: {width}px"><img alt="{escape(label)}: '
                f'{escape(names[j])}" width="{width}" height="{height}" '
                f'src="{_png_uri(crop)}"><figcaption>{text}</figcaption></figure>'
            )
        parts.append(
            f'<div class="sample"><h3>{escape(names[j])}</h3>'
            f'<div class="tiles">{"".join(tiles)}</div></div>'
        )
    return "\n".join(parts)
