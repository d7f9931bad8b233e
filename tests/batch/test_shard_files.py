"""`denoise --shard` and `noise --shard`: N shards write, together, exactly the files one run
writes (byte for byte), each file once, and non-image files are listed by one shard only."""

import filecmp

import numpy as np
import pytest
import torch

import denoisekit
from denoisekit.batch.jobs import plan_with_skipped
from denoisekit.checkpoints.checkpoint import save_checkpoint
from denoisekit.cli import main
from denoisekit.io import save_image
from denoisekit.shards import Shard

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def tree(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "in"
    for i in range(10):
        folder = root / ("x" if i % 2 else "y") / ("deep" if i % 3 == 0 else "")
        folder.mkdir(parents=True, exist_ok=True)
        image = rng.integers(0, 255, (14 + i, 18, 3), dtype=np.uint8)
        save_image(image, folder / f"{i}.png")
    (root / "x" / "readme.txt").write_text("not an image")
    return root


def _same_tree(a, b):
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b and files_a
    _, mismatch, errors = filecmp.cmpfiles(a, b, [str(p) for p in files_a], shallow=False)
    assert mismatch == errors == []


@pytest.mark.parametrize("verb", ["denoise", "noise"])
def test_shards_write_what_one_run_writes(tree, tmp_path, verb, capsys):
    if verb == "denoise":
        torch.manual_seed(0)
        kwargs = {"in_channels": 3, "base_channels": 2, "depth": 1}
        model = denoisekit.create_model("unet", **kwargs)
        save_checkpoint(tmp_path / "m", model, {"model": "unet", "kwargs": kwargs})
        options = ["--checkpoint", str(tmp_path / "m"), "--tile", "16", "--overlap", "4"]
    else:
        options = ["--noise", "gaussian:0.02-0.12+jpeg:80", "--seed", "7", "--format", "jpg"]
    assert main([verb, str(tree), "-o", str(tmp_path / "one"), *options]) == 3  # readme.txt
    capsys.readouterr()
    skipped_by = []
    for i in range(3):
        code = main(
            [verb, str(tree), "-o", str(tmp_path / "shards"), *options, "--shard", f"{i}/3"]
        )
        skipped_by += [i] * ("readme.txt" in capsys.readouterr().err)
        assert code in (0, 3)
    assert len(skipped_by) == 1  # the non-image file is reported by its own shard only
    _same_tree(tmp_path / "one", tmp_path / "shards")


def test_plan_shards_partition_the_jobs(tree, tmp_path):
    whole, skipped = plan_with_skipped([tree], tmp_path / "out")
    parts = [plan_with_skipped([tree], tmp_path / "out", shard=Shard(i, 4))[0] for i in range(4)]
    assert sorted(j.source for part in parts for j in part) == sorted(j.source for j in whole)
    # the split follows the path relative to the input root, not where the folder lies
    moved = tmp_path / "elsewhere" / "copy"
    moved.parent.mkdir()
    tree.rename(moved)
    again = plan_with_skipped([moved], tmp_path / "other", shard=Shard(1, 4))[0]
    assert [j.source.relative_to(moved) for j in again] == [
        j.source.relative_to(tree) for j in parts[1]
    ]
    assert len(skipped) == 1
