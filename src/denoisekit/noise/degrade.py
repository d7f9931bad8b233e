"""Degradations that are not additive noise: motion blur and JPEG compression.

Both take a (B, C, H, W) batch in [0, 1] and return one of the same shape; neither draws random
numbers (a spec string draws their parameters per image when given a range). Used before noise
(blur: the camera moved during the exposure) or after it (JPEG: the camera saved the picture).
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

_SAMPLES_PER_PIXEL = 8  # points per pixel of path when drawing a blur line


def motion_blur_kernel(length: float, angle: float) -> Tensor:
    """A normalised linear point-spread function: (k, k) float64, k odd, summing to 1.

    The straight path of a point moving `length` pixels (>= 1) at `angle` degrees
    counter-clockwise from the horizontal, centred in the kernel and drawn anti-aliased (dense
    points along the path, each shared bilinearly among its four nearest pixels). A horizontal
    path of integer length L covers L pixels, its two end pixels partly. `length` 1 is the
    identity (a single 1).
    """
    if not (math.isfinite(length) and length >= 1):
        raise ValueError(f"motion blur length must be >= 1 pixel, got {length}")
    if length == 1:
        return torch.ones(1, 1, dtype=torch.float64)
    radius = math.floor(length / 2) + 1
    k = 2 * radius + 1
    n = math.ceil(length * _SAMPLES_PER_PIXEL)
    t = (torch.arange(n, dtype=torch.float64) + 0.5) / n * length - length / 2
    theta = math.radians(angle)
    x = radius + t * math.cos(theta)
    y = radius - t * math.sin(theta)  # rows grow downwards; angles turn counter-clockwise
    x0, y0 = x.floor(), y.floor()
    fx, fy = x - x0, y - y0
    kernel = torch.zeros(k * k, dtype=torch.float64)
    for dy, dx, weight in (
        (0, 0, (1 - fy) * (1 - fx)),
        (0, 1, (1 - fy) * fx),
        (1, 0, fy * (1 - fx)),
        (1, 1, fy * fx),
    ):
        index = ((y0 + dy) * k + (x0 + dx)).long()
        kernel.index_add_(0, index, weight)
    kernel = kernel.view(k, k)
    rows = kernel.sum(1).nonzero()
    cols = kernel.sum(0).nonzero()
    # trim empty borders symmetrically so the kernel stays odd-sized and centred
    trim = int(min(rows.min(), k - 1 - rows.max(), cols.min(), k - 1 - cols.max()))
    kernel = kernel[trim : k - trim, trim : k - trim]
    return kernel / kernel.sum()


def motion_blur(clean: Tensor, length: float | Tensor, angle: float | Tensor = 0.0) -> Tensor:
    """Convolve each image with `motion_blur_kernel(length, angle)` (per image for (B,) tensors).

    Edges are reflect-padded (replicate when the image is smaller than the kernel's radius), so
    a flat image stays exactly flat and nothing darkens at the border. Deterministic.
    """
    b, c, h, w = clean.shape
    lengths = torch.as_tensor(length, dtype=torch.float64).expand(b).tolist()
    angles = torch.as_tensor(angle, dtype=torch.float64).expand(b).tolist()
    kernels = [motion_blur_kernel(ln, an) for ln, an in zip(lengths, angles, strict=True)]
    k = max(kernel.shape[-1] for kernel in kernels)
    if k == 1:
        return clean.clone()
    weight = torch.zeros(b, k, k, dtype=torch.float64)
    for i, kernel in enumerate(kernels):
        pad = (k - kernel.shape[-1]) // 2
        weight[i, pad : k - pad, pad : k - pad] = kernel
    # conv2d correlates; flip so this is a true convolution (the path's direction is kept)
    weight = weight.flip(-1, -2).to(clean.device, clean.dtype)
    weight = weight.repeat_interleave(c, dim=0).unsqueeze(1)  # (B * C, 1, k, k)
    r = k // 2
    mode = "reflect" if r < min(h, w) else "replicate"
    padded = F.pad(clean.reshape(1, b * c, h, w), (r, r, r, r), mode=mode)
    return F.conv2d(padded, weight, groups=b * c).view(b, c, h, w)


def jpeg(clean: Tensor, quality: int | Tensor) -> Tensor:
    """A JPEG round trip through Pillow at `quality` (1-100, an int or one per image).

    Each image is clipped to [0, 1], rounded to 8 bits, encoded with Pillow's defaults for that
    quality (4:2:0 chroma subsampling for colour) and decoded, so the output is a multiple of
    1/255. Gray (C=1) and RGB (C=3) images are encoded as such; any other channel count is
    encoded one channel at a time as gray.
    """
    from PIL import Image

    b, c, h, w = clean.shape
    qualities = torch.as_tensor(quality).expand(b).tolist()
    arrays = (clean.detach().clamp(0, 1) * 255).round().to("cpu", torch.uint8).numpy()
    out = np.empty_like(arrays)
    for i, q in enumerate(qualities):
        q = int(round(q))
        if not 1 <= q <= 100:
            raise ValueError(f"JPEG quality must be in 1..100, got {q}")
        planes = [arrays[i].transpose(1, 2, 0)] if c == 3 else [arrays[i, j] for j in range(c)]
        decoded = []
        for plane in planes:
            buffer = io.BytesIO()
            Image.fromarray(plane).save(buffer, format="JPEG", quality=q)
            buffer.seek(0)
            with Image.open(buffer) as img:
                decoded.append(np.asarray(img))
        out[i] = decoded[0].transpose(2, 0, 1) if c == 3 else np.stack(decoded)
    return torch.from_numpy(out).to(clean.device, clean.dtype) / 255
