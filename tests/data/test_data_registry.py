"""Named data sets on fake data roots built in tmp_path, and data-root resolution."""

from __future__ import annotations

import gzip
import pickle
import struct

import numpy as np
import pytest
from PIL import Image

from denoisekit.data import load_dataset, registry, resolve_data_root
from denoisekit.data.mnist import read_idx
from denoisekit.errors import DataError, UnknownNameError

HINT = "pass --data-root or set DENOISEKIT_DATA"


def _idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}i", *array.shape
    )
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _images(folder, names, mode="RGB", size=8):
    folder.mkdir(parents=True, exist_ok=True)
    shape = (size, size, 3) if mode == "RGB" else (size, size)
    for name in names:
        Image.fromarray(np.full(shape, 100, np.uint8), mode).save(folder / name)


def test_root_resolution_order(tmp_path, monkeypatch):
    explicit, env = tmp_path / "a", tmp_path / "b"
    explicit.mkdir()
    env.mkdir()
    monkeypatch.setenv("DENOISEKIT_DATA", str(env))
    assert resolve_data_root(explicit) == explicit.resolve()
    assert resolve_data_root() == env.resolve()
    monkeypatch.delenv("DENOISEKIT_DATA")
    repo = tmp_path / "work" / "main" / "src"
    repo.mkdir(parents=True)
    (tmp_path / "work" / "shared" / "data").mkdir(parents=True)
    monkeypatch.chdir(repo)
    assert resolve_data_root() == (tmp_path / "work" / "shared" / "data").resolve()


def test_missing_root_and_missing_set_messages(tmp_path, monkeypatch):
    with pytest.raises(DataError, match=HINT) as err:
        resolve_data_root(tmp_path / "nope")
    assert "nope" in str(err.value) and "\n" not in str(err.value)
    monkeypatch.delenv("DENOISEKIT_DATA", raising=False)
    monkeypatch.setattr(registry, "_search_starts", lambda: [tmp_path])
    with pytest.raises(DataError, match=HINT):
        resolve_data_root()
    with pytest.raises(DataError, match=f"Set12 not found; {HINT}"):
        load_dataset("set12", root=tmp_path)


def test_unknown_name_lists_close_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnknownNameError, match="did you mean.*pistachio"):
        load_dataset("pistacio")


def test_test_sets_refuse_train_and_give_all_otherwise(tmp_path):
    _images(tmp_path / "set12", [f"{i:02d}.png" for i in range(1, 13)], mode="L")
    assert len(load_dataset("set12", root=tmp_path, split="test")) == 12
    assert len(load_dataset("Set12", root=tmp_path, split="val")) == 12
    with pytest.raises(DataError, match="set12 is a test set"):
        load_dataset("set12", root=tmp_path, split="train")


def test_mnist_t10k_only_and_official_layouts(tmp_path):
    digits = np.arange(30 * 4 * 4).reshape(30, 4, 4) % 256
    (tmp_path / "MNIST").mkdir()
    _idx(tmp_path / "MNIST" / "t10k-images-idx3-ubyte.gz", digits)
    sizes = [len(load_dataset("mnist", root=tmp_path, split=s)) for s in ("train", "val", "test")]
    assert sizes == [24, 3, 3]
    data = load_dataset("mnist", root=tmp_path, split="test", channels=3, size=6)
    assert data[0].shape == (3, 6, 6)
    _idx(tmp_path / "MNIST" / "train-images-idx3-ubyte.gz", np.zeros((5004, 4, 4)))
    sizes = [len(load_dataset("mnist", root=tmp_path, split=s)) for s in ("train", "val", "test")]
    assert sizes == [4, 5000, 30]


def test_truncated_idx_is_a_data_error(tmp_path):
    path = tmp_path / "t.gz"
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">BBBBiii", 0, 0, 8, 3, 10, 28, 28) + b"\0" * 100)
    with pytest.raises(DataError, match="t.gz"):
        read_idx(path)


def test_cifar_folder_and_batches(tmp_path):
    for cls in ("cat", "dog"):
        _images(tmp_path / "CIFAR10" / "test" / cls, [f"{i}.jpg" for i in range(10)])
    test = load_dataset("cifar10", root=tmp_path, split="test")
    assert len(test) == 2 and {n.split("/")[1] for n in test.names} == {"cat", "dog"}
    assert len(load_dataset("cifar10", root=tmp_path, split="train")) == 16

    batches = tmp_path / "official" / "CIFAR10" / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    for name, n in [(f"data_batch_{i}", 1001) for i in range(1, 6)] + [("test_batch", 7)]:
        data = {b"data": np.zeros((n, 3072), np.uint8), b"filenames": [b"f.png"] * n}
        (batches / name).write_bytes(pickle.dumps(data))
    sizes = [
        len(load_dataset("cifar10", root=tmp_path / "official", split=s))
        for s in ("train", "val", "test")
    ]
    assert sizes == [5, 5000, 7]


def test_pistachio_split_is_per_variety(tmp_path):
    root = tmp_path / "Pistachio"
    _images(root / "Kirmizi_Pistachio", [f"kirmizi {i}.jpg" for i in range(20)])
    _images(root / "Siirt_Pistachio", [f"siirt {i}.jpg" for i in range(10)])
    both = load_dataset("pistachio", root=tmp_path, split="test", size=4)
    parts = [load_dataset(v, root=tmp_path, split="test").names for v in ("kirmizi", "siirt")]
    assert sorted(both.names) == sorted(parts[0] + parts[1])
    assert both[0].shape == (3, 4, 4)


def test_embedded_needs_no_root(tmp_path, monkeypatch):
    monkeypatch.setenv("DENOISEKIT_DATA", str(tmp_path / "missing"))
    data = load_dataset("embedded", limit=2, size=16, channels=3)
    assert data.stack().shape == (2, 3, 16, 16)


@pytest.mark.parametrize(
    "options,needle",
    [({"limit": 2.5}, "limit"), ({"limit": "2"}, "limit"), ({"size": "x"}, "size")],
)
def test_bad_options_are_named_before_any_file_is_read(options, needle):
    with pytest.raises(DataError, match=needle):
        load_dataset("embedded", **options)
