"""Write the model name and kwargs of each shipped weight file into its safetensors header.

    python benchmarks/stamp_weights.py [gray-blind color-blind ...]   (default: all shipped)

`save_checkpoint` writes the header (`model`, `kwargs` as JSON, `denoisekit_version`) for every
new checkpoint; weights exported before it did have an empty header. This rewrites such a file
from its `.json` (the version is the one the `.json` records) and proves the tensors unchanged:
same names, dtypes and shapes, `torch.equal` for every tensor, and the SHA-256 of all tensor
bytes (sorted by name) printed before and after. A file whose header already matches is left
alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from denoisekit.checkpoints.checkpoint import header_metadata, weights_header
from denoisekit.files import atomic_path

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "denoisekit" / "weights"


def tensor_digest(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and raw bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stamp(name: str) -> None:
    weights, meta_path = WEIGHTS / f"{name}.safetensors", WEIGHTS / f"{name}.json"
    meta = json.loads(meta_path.read_text())
    wanted = header_metadata(meta, version=meta.get("denoisekit_version"))
    before_header = weights_header(weights)
    before = load_file(str(weights))
    print(f"{name}: {len(before)} tensors, header before {before_header or '{}'}")
    print(f"  tensor sha256 before {tensor_digest(before)}  file {file_digest(weights)}")
    if before_header == wanted:
        print("  header already matches the .json: left alone")
        return
    with atomic_path(weights) as tmp:
        save_file(before, str(tmp), metadata=wanted)
    after = load_file(str(weights))
    same_layout = before.keys() == after.keys() and all(
        before[k].dtype == after[k].dtype and before[k].shape == after[k].shape for k in before
    )
    identical = same_layout and all(torch.equal(before[k], after[k]) for k in before)
    print(f"  tensor sha256 after  {tensor_digest(after)}  file {file_digest(weights)}")
    print(f"  header after {weights_header(weights)}")
    print(f"  all {len(after)} tensors torch.equal: {identical}")
    if not identical or tensor_digest(before) != tensor_digest(after):
        raise SystemExit(f"{weights}: tensors changed; restore it from git")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shipped = sorted(p.stem for p in WEIGHTS.glob("*.safetensors"))
    parser.add_argument("names", nargs="*", default=shipped, help=f"default: {shipped}")
    for name in parser.parse_args().names:
        stamp(name)


if __name__ == "__main__":
    main()
