"""The wheel, built from a copy of the source tree, installed into a fresh venv, denoises a photo
from outside the repository: what `pip install denoisekit` gives a user, weights included.

The fresh venv gets no denoisekit but the wheel's: torch and the other dependencies come from
the test's own environment through a `.pth` file that lists its site-packages. A path line in a
`.pth` puts that folder on sys.path without reading the `.pth` files inside it, so the editable
install of the checkout (a `.pth` there naming src/) stays off. Nothing is downloaded: the wheel
is built with this environment's setuptools (`--no-build-isolation`) and installed `--no-index`.
"""

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
WEIGHTS = REPO / "src" / "denoisekit" / "weights"
# a copy of the tree as a fresh clone has it: no venv, caches, runs or build leftovers
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "runs", "site", "build", "dist", "logs", ".gpu", "__pycache__",
    "*.egg-info", ".pytest_cache", ".ruff_cache",
)  # fmt: skip
# the wheel's long description (the readme) is the whole of METADATA but a few lines
MAX_METADATA = 40_000


def _run(args: list, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{args[:4]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def test_wheel_installs_into_a_fresh_venv_and_denoises_from_outside_the_repo(tmp_path):
    pytest.importorskip("setuptools", reason="building the wheel offline needs setuptools")
    skimage_data = pytest.importorskip("skimage.data")

    # build the wheel from a copy, so the checkout gets no build/ or egg-info of a second build
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=NOT_COPIED)
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip"]
    _run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", dist, source]
    )
    (wheel,) = dist.glob("denoisekit-*.whl")

    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = sorted(p.stem for p in WEIGHTS.glob("*.safetensors"))
    assert shipped, "no shipped weights to check"
    for name in shipped:
        for suffix in (".safetensors", ".json", ".md"):  # weights, metadata, model card
            assert f"denoisekit/weights/{name}{suffix}" in names
    assert "denoisekit/py.typed" in names
    dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    assert f"{dist_info}/licenses/LICENSE" in names
    assert {n.split("/")[0] for n in names} == {"denoisekit", dist_info}, "only the package ships"
    assert not any(n.startswith("tests/") or "/tests/" in n for n in names)
    metadata = zipfile.ZipFile(wheel).read(f"{dist_info}/METADATA").decode()
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata
    assert len(metadata) < MAX_METADATA, f"the long description is {len(metadata):,} bytes"

    # a fresh venv from the base interpreter, the wheel in it, dependencies seen through a .pth
    venv = tmp_path / "venv"
    base_python = getattr(sys, "_base_executable", None) or sys.executable
    _run([base_python, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    purelib = Path(sysconfig.get_path("purelib", vars={"base": venv, "platbase": venv}))
    assert purelib.is_dir()
    ours = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (purelib / "dependencies-of-the-test-env.pth").write_text("\n".join(ours) + "\n")
    _run(
        [
            *pip,
            "--python",
            python,
            "install",
            "--no-deps",
            "--no-index",
            "--no-compile",
            "-q",
            wheel,
        ]
    )

    # a small noisy photo in a folder outside the repository, denoised by the venv's command
    work = tmp_path / "work"
    work.mkdir()
    clean = skimage_data.astronaut()[100:196, 180:308]  # 96 x 128 RGB
    rng = np.random.default_rng(0)
    noisy = np.clip(np.round(clean + rng.normal(0.0, 25.0, clean.shape)), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(work / "noisy.png")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DENOISEKIT_"))}
    command = venv / "bin" / "denoisekit"
    assert command.read_text().splitlines()[0] == f"#!{python}"  # the venv's console script
    _run([command, "denoise", "noisy.png", "-o", "clean.png"], cwd=work, env=env)

    out = np.asarray(Image.open(work / "clean.png"))
    assert out.shape == noisy.shape
    gain = _psnr(out, clean) - _psnr(noisy, clean)
    assert gain > 3.0, f"only {gain:.2f} dB better than the noisy input"
    where = _run([python, "-c", "import denoisekit; print(denoisekit.__file__)"], cwd=work, env=env)
    installed = Path(where.stdout.strip())
    assert installed.is_relative_to(purelib), f"denoisekit imported from {installed}, not the wheel"
    assert (installed.parent / "weights" / f"{shipped[0]}.safetensors").is_file()
