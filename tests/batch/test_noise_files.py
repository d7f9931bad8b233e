"""`denoisekit noise`: noisy copies of a folder, tree mirrored, formats and bit depths kept,
deterministic per seed, inputs never overwritten."""

import json

import numpy as np
import pytest

from denoisekit.batch.noise import add_noise, file_seed
from denoisekit.cli import main
from denoisekit.cli import options as cli_options
from denoisekit.io import read_image, save_image
from denoisekit.noise import noise_kinds

pytestmark = pytest.mark.usefixtures("one_thread")


def _image(shape, dtype=np.uint8):
    top = np.iinfo(dtype).max
    ramp = np.linspace(0.2, 0.8, shape[1])[None, :] * np.ones(shape[:2])
    if len(shape) == 3:
        ramp = ramp[..., None] * np.ones(shape[-1])
    return (ramp * top).astype(dtype)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    save_image(_image((20, 30, 3)), root / "a.png")
    save_image(_image((12, 18)), root / "sub" / "b.jpg")
    save_image(_image((16, 10), np.uint16), root / "sub" / "c16.png", bit_depth=16)
    rgba = np.concatenate([_image((8, 8, 3)), np.full((8, 8, 1), 77, np.uint8)], -1)
    save_image(rgba, root / "sub" / "alpha.png")
    return root


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_folder_mirrored_with_dtype_kept_and_repeatable(tree, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["noise", str(tree), "-o", str(out), "--noise", "gaussian:0.1", "--seed", "3"]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("4 files, 0.0 MP")
    assert _files(out) == _files(tree) == ["a.png", "sub/alpha.png", "sub/b.jpg", "sub/c16.png"]
    for name in _files(tree):
        before, after = read_image(tree / name), read_image(out / name)
        assert after.dtype == before.dtype and after.shape == before.shape, name
        assert not np.array_equal(after, before), name
    alpha = read_image(out / "sub" / "alpha.png")
    assert (alpha[..., 3] == 77).all()  # alpha untouched
    noise = read_image(out / "a.png").astype(float) / 255 - read_image(tree / "a.png") / 255
    assert noise.std() == pytest.approx(0.1, rel=0.15)
    # same seed: same bytes; another seed: other noise
    again = tmp_path / "again"
    assert main(argv[:3] + [str(again)] + argv[4:]) == 0
    for name in ("a.png", "sub/c16.png"):
        assert (again / name).read_bytes() == (out / name).read_bytes()
    other = tmp_path / "other"
    assert main(argv[:3] + [str(other)] + argv[4:-1] + ["4"]) == 0
    assert (other / "a.png").read_bytes() != (out / "a.png").read_bytes()
    assert not [p for p in tmp_path.rglob(".*")]  # no temp files left


def test_single_file_json_spec_and_format(tree, tmp_path, capsys):
    spec = tmp_path / "camera.json"
    spec.write_text(json.dumps({"noise": "poisson-gaussian:a=0.01,b=0.0004"}))
    target = tmp_path / "one.tif"
    assert main(["noise", str(tree / "a.png"), "-o", str(target), "--noise", str(spec)]) == 0
    assert "poisson-gaussian:a=0.01,b=0.0004" in capsys.readouterr().out
    assert read_image(target).shape == (20, 30, 3)
    out = tmp_path / "webp"
    assert main(["noise", str(tree), "-o", str(out), "--noise", "jpeg:30", "--format", "webp"]) == 0
    assert {p.suffix for p in out.rglob("*") if p.is_file()} == {".webp"}


def test_refuses_to_write_over_inputs(tree, capsys):
    before = {name: (tree / name).read_bytes() for name in _files(tree)}
    for argv in (
        ["noise", str(tree), "-o", str(tree), "--noise", "gaussian:0.1"],
        ["noise", str(tree), "-o", str(tree), "--noise", "gaussian:0.1", "--format", "webp"],
        ["noise", str(tree / "a.png"), "-o", str(tree / "a.png"), "--noise", "gaussian:0.1"],
    ):
        assert main(argv) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "is an input" in err[0]
    assert {name: (tree / name).read_bytes() for name in _files(tree)} == before


def test_bad_spec_is_one_line_before_anything_is_written(tree, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["noise", str(tree), "-o", str(out), "--noise", "poisson-gaussian:a=0.01"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "e.g. poisson-gaussian:a=0.01,b=0.0004" in err[0]
    assert not out.exists()


def test_add_noise_keeps_dtype_and_clips():
    import torch

    from denoisekit.noise import parse_noise

    image = np.full((8, 8), 0.95, np.float32)
    noisy = add_noise(image, parse_noise("gaussian:0.5"), torch.Generator().manual_seed(0))
    assert noisy.dtype == np.float32 and noisy.shape == (8, 8)
    assert noisy.max() <= 1.0 and noisy.min() >= 0.0 and (noisy == 1.0).any()


def test_file_seed_is_stable():
    assert file_seed(0, "a.png") == file_seed(0, "a.png")
    assert len({file_seed(0, "a.png"), file_seed(1, "a.png"), file_seed(0, "b.png")}) == 3
    assert 0 <= file_seed(123, "x/y.png") < 2**63


def test_help_names_every_noise_kind():
    for kind in noise_kinds():
        assert kind in cli_options.NOISE_HELP
