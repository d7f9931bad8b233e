"""`--shard i/N` (shards.py) and joining `evaluate --shard` runs (merge.py): the split is stable
and exact, and N shards of evaluate joined give what one run gives."""

import csv
import hashlib
import json

import numpy as np
import pytest
import torch
from PIL import Image

import denoisekit
from denoisekit.checkpoints.checkpoint import save_checkpoint
from denoisekit.cli import main
from denoisekit.errors import ConfigError, DataError
from denoisekit.merge import merge_evaluations
from denoisekit.shards import Shard, parse_shard, shard_of

pytestmark = pytest.mark.usefixtures("one_thread")


def test_shards_partition_keys_stably():
    keys = [f"folder/{i:03d}.png" for i in range(300)]
    parts = [Shard(i, 3).select(keys, str) for i in range(3)]
    assert sorted(sum(parts, [])) == keys  # every key in exactly one shard
    assert all(60 < len(part) < 140 for part in parts)  # about a third each
    # pinned: the first 8 bytes of the key's SHA-1, so a split never changes between
    # versions, machines or Python versions
    assert [shard_of(k, 7) for k in ("a.png", "sub/b.jpg", "Ünïcode/c.tif")] == [1, 2, 3]
    digest = hashlib.sha1(b"a.png").digest()
    assert shard_of("a.png", 1000) == int.from_bytes(digest[:8], "big") % 1000 == 142
    assert Shard(0, 1).holds("anything")


def test_parse_shard():
    assert parse_shard(" 1 / 4 ") == Shard(1, 4) and str(Shard(1, 4)) == "1/4"
    assert parse_shard(None) is None
    for bad in ("4/4", "1/0", "-1/2", "half", "1/2/3"):
        with pytest.raises(ConfigError):
            parse_shard(bad)


def test_bad_shard_is_a_usage_error(tmp_path, capsys):
    assert (
        main_exit(
            [
                "noise",
                str(tmp_path),
                "-o",
                str(tmp_path / "o"),
                "--noise",
                "gaussian:0.1",
                "--shard",
                "2/2",
            ]
        )
        == 2
    )
    assert "0 <= i < N" in capsys.readouterr().err


def main_exit(argv):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    return stop.value.code


def _folder(tmp_path):
    """Gray images of two sizes (so evaluation batches differ between shards), in subfolders."""
    folder = tmp_path / "images"
    rng = np.random.default_rng(0)
    for i in range(9):
        sub = folder / ("wide" if i % 3 else "tall")
        sub.mkdir(parents=True, exist_ok=True)
        shape = (12, 20) if i % 3 else (20, 12)
        base = np.linspace(40, 200, shape[1])[None, :] * np.ones(shape)
        image = np.clip(base + rng.normal(0, 10, shape), 0, 255).astype(np.uint8)
        Image.fromarray(image).save(sub / f"{i}.png")
    return folder


def _checkpoint(path):
    torch.manual_seed(0)
    kwargs = {"in_channels": 1, "base_channels": 2, "depth": 1}
    model = denoisekit.create_model("unet", **kwargs)
    save_checkpoint(path, model, {"model": "unet", "kwargs": kwargs, "channels": 1})
    return path


def _rows(path):
    with open(path, newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def test_evaluate_shards_joined_equal_one_run(tmp_path, capsys):
    folder, ckpt = _folder(tmp_path), _checkpoint(tmp_path / "m")
    base = [
        "evaluate",
        "--checkpoint",
        str(ckpt),
        "--data",
        str(folder),
        "--split",
        "all",
        "--noise",
        "gaussian:0.05-0.12",
        "--seed",
        "5",
        "--batch-size",
        "4",
        "--precision",
        "fp32",
    ]
    assert main([*base, "-o", str(tmp_path / "one")]) == 0
    shards = [tmp_path / f"shard{i}" for i in range(3)]
    for i, out in enumerate(shards):
        assert main([*base, "--shard", f"{i}/3", "-o", str(out)]) == 0
        assert f"shard {i}/3" in capsys.readouterr().out
    sizes = [json.loads((s / "summary.json").read_text())["n"] for s in shards]
    assert sum(sizes) == 9 and max(sizes) < 9
    assert main(["merge", *map(str, shards[::-1]), "-o", str(tmp_path / "joined")]) == 0
    assert "9 images from 3 shards" in capsys.readouterr().out
    one = json.loads((tmp_path / "one" / "summary.json").read_text())
    joined = json.loads((tmp_path / "joined" / "summary.json").read_text())
    assert joined == one  # every figure equal, in full precision
    assert _rows(tmp_path / "joined" / "per_image.csv") == _rows(tmp_path / "one" / "per_image.csv")


def test_merge_refuses_what_is_not_one_run(tmp_path):
    folder, ckpt = _folder(tmp_path), _checkpoint(tmp_path / "m")
    base = [
        "evaluate",
        "--checkpoint",
        str(ckpt),
        "--data",
        str(folder),
        "--split",
        "all",
        "--noise",
        "gaussian:0.1",
        "--precision",
        "fp32",
    ]
    for i in range(2):
        assert main([*base, "--shard", f"{i}/2", "-o", str(tmp_path / f"s{i}")]) == 0
    assert main([*base, "--shard", "1/2", "--seed", "1", "-o", str(tmp_path / "other")]) == 0
    assert main([*base, "-o", str(tmp_path / "whole")]) == 0
    out = tmp_path / "joined"
    with pytest.raises(DataError, match="missing"):
        merge_evaluations([tmp_path / "s0"], out)
    with pytest.raises(DataError, match="given twice"):
        merge_evaluations([tmp_path / "s0", tmp_path / "s0"], out)
    with pytest.raises(DataError, match="seed differ"):
        merge_evaluations([tmp_path / "s0", tmp_path / "other"], out)
    with pytest.raises(DataError, match="not from `evaluate --shard`"):
        merge_evaluations([tmp_path / "whole"], out)
    assert not out.exists()
    assert merge_evaluations([tmp_path / "s1", tmp_path / "s0" / "summary.json"], out)["n"] == 9
