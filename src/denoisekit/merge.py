"""Join the outputs of `evaluate --shard i/N` runs into what one run over the whole split writes.

A shard's summary.json holds, under "shard", its index, the shard count, each image's index in
the whole split and every per-image figure at full precision; joining puts the images back in
split order and summarises them as `evaluate` does, so the joined summary.json equals a single
run's (per_image.csv too, but for its `seconds` column, which is timed per run). The shards must
share the protocol (checkpoint, data, split, noise, seed, precision, device...) and cover every
shard 0 ... N-1 once: joining refuses otherwise, naming what differs or is missing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import DataError
from .evaluate import write_rows
from .files import output_folder
from .metrics import METRICS

_LISTS = ("image", "sigma", "seconds")


def read_shard(folder: str | Path) -> dict[str, Any]:
    """The summary.json of an `evaluate --shard` run (a folder or the file itself)."""
    path = Path(folder)
    path = path / "summary.json" if path.is_dir() else path
    if not path.is_file():
        raise DataError(f"no {path}: give the -o folders of `evaluate --shard` runs")
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read {path}: {e}") from None
    if "shard" not in summary:
        raise DataError(f"{path} is not from `evaluate --shard` (it has no shard entry)")
    return {**summary, "path": str(path)}


def merge_evaluations(shards: Sequence[str | Path], out_dir: str | Path) -> dict[str, Any]:
    """Write per_image.csv and summary.json into `out_dir` from the shard runs' folders;
    returns the joined summary. Raises DataError when the shards do not make one run."""
    parts = [read_shard(folder) for folder in shards]
    if not parts:
        raise DataError("no shard folders given")
    first = parts[0]
    count = first["shard"]["count"]
    seen: dict[int, str] = {}
    for part in parts:
        index, path = part["shard"]["index"], part["path"]
        if part["shard"]["count"] != count:
            raise DataError(f"{path} is shard {index}/{part['shard']['count']}, not of {count}")
        if index in seen:
            raise DataError(f"shard {index}/{count} given twice: {seen[index]} and {path}")
        seen[index] = path
        differs = _differences(first["protocol"], part["protocol"])
        if differs:
            raise DataError(
                f"{path} and {first['path']} are not shards of one run: {', '.join(differs)} differ"
            )
    missing = sorted(set(range(count)) - set(seen))
    if missing:
        raise DataError(f"shard {', '.join(f'{i}/{count}' for i in missing)} missing")
    order = sorted(
        (index, part_no, row)
        for part_no, part in enumerate(parts)
        for row, index in enumerate(part["shard"]["images"])
    )
    expected = first["protocol"].get("n_images")
    if expected is not None and len(order) != expected:
        raise DataError(f"the shards hold {len(order)} images, the split {expected}")

    def column(pick) -> list[Any]:
        return [pick(parts[part_no]["shard"])[row] for _, part_no, row in order]

    rows: dict[str, Any] = {key: column(lambda s, key=key: s[key]) for key in _LISTS}
    for group in ("per_image", "noisy_per_image"):
        rows[group] = {m: column(lambda s, g=group, m=m: s[g][m]) for m in METRICS}
    out = output_folder(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_rows(rows, first["protocol"], out)
    return json.loads((out / "summary.json").read_text())


def _differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return sorted(key for key in set(a) | set(b) if a.get(key) != b.get(key))
