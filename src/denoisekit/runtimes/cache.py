"""The disk cache of converted models, so the second run of a runtime starts in a second.

Converting a network for a runtime takes seconds (OpenVINO ~4 s, an ONNX export ~14 s on a
2-core CPU); the result is kept in `cache_root()` (`$DENOISEKIT_CACHE`, else
`$XDG_CACHE_HOME/denoisekit`, else `~/.cache/denoisekit`), one folder per key. The key holds
everything the converted file depends on: a hash of the weights (so retrained or edited weights
never reuse an old conversion), the architecture, the runtime and its version, the precision,
the input shape policy, and the torch and denoisekit versions (a conversion is never trusted
across versions). A folder is built under a temporary name and renamed into place only when
complete, with its `key.json` written last, so a crash leaves nothing that looks valid, and
two processes converting at once both end with a complete folder. Deleting the cache (or any
folder in it) is always safe: it is rebuilt when next needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

KEY_FILE = "key.json"


def cache_root() -> Path:
    """Where converted models live (see the module docstring); not created here."""
    if os.environ.get("DENOISEKIT_CACHE"):
        return Path(os.environ["DENOISEKIT_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "denoisekit"


def weights_hash(model: nn.Module) -> str:
    """sha256 of the model's parameters and buffers (names, dtypes, shapes and values)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        value = tensor.detach().cpu()
        digest.update(f"{name}:{value.dtype}:{tuple(value.shape)};".encode())
        # flatten + clone: one dense row whatever the layout (channels_last included)
        flat = value.flatten().clone()
        digest.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
    return digest.hexdigest()


def model_key(model: nn.Module, **parts: Any) -> dict[str, Any]:
    """The cache key of `model` converted with `parts` (runtime, precision, versions, ...)."""
    from .. import __version__

    return {
        "architecture": type(model).__name__,
        "registry_name": getattr(model, "registry_name", None),
        "in_channels": getattr(model, "in_channels", None),
        "noise_aware": bool(getattr(model, "noise_aware", False)),
        "weights_sha256": weights_hash(model),
        "denoisekit": __version__,
        "torch": torch.__version__,
        **parts,
    }


def cached_folder(key: dict[str, Any], build: Callable[[Path], None]) -> Path:
    """The cache folder for `key`, built by `build(folder)` (which writes its files into the
    empty folder it is given) when missing or when its key.json differs from `key`."""
    text = json.dumps(key, sort_keys=True)
    name = hashlib.sha256(text.encode()).hexdigest()[:24]
    parent = cache_root() / str(key.get("runtime", "model"))
    folder = parent / name
    if _valid(folder, text):
        return folder
    parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=parent))
    try:
        build(building)
        (building / KEY_FILE).write_text(text)
        if folder.exists():  # stale (another key.json) or broken: replaced
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.rename(building, folder)
        except OSError:  # another process renamed its complete copy first
            if not _valid(folder, text):
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return folder


def _valid(folder: Path, text: str) -> bool:
    try:
        return (folder / KEY_FILE).read_text() == text
    except OSError:
        return False
