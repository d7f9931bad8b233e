"""Hostile inputs through the command line: each gets one clear line and the right exit code,
no traceback, inputs untouched, nothing half-written, and one bad file never stops the others."""

import os
import struct
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from denoisekit.cli import main

from .craft import exif_block

FILTER = ["--model", "gaussian-blur"]  # a classical filter: nothing to load, fast


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Warning:" not in err, err
    return code, out, err


def _gray(path, size=16, value=100):
    Image.fromarray(np.full((size, size), value, np.uint8)).save(path)
    return path


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        _gray(folder / name)
    return folder


def test_a_244_character_name_in_a_folder_is_written_with_the_others(tmp_path, folder, capsys):
    _gray(folder / ("n" * 240 + ".png"))
    code, out, _ = _run(capsys, "denoise", folder, "-o", tmp_path / "out", *FILTER)
    assert code == 0 and out.startswith("3 files")
    assert sorted(os.listdir(tmp_path / "out")) == sorted(os.listdir(folder))


def test_unreadable_entries_in_a_folder_are_skipped_one_line_each(tmp_path, folder, capsys):
    (folder / "dangling.png").symlink_to(folder / "gone.png")
    os.mkfifo(folder / "pipe.png")  # reading it would block forever
    (folder / "empty.jpg").write_bytes(b"")
    code, out, err = _run(capsys, "denoise", folder, "-o", tmp_path / "out", *FILTER)
    assert code == 3 and out.startswith("2 files")
    skipped = [line for line in err.splitlines() if line.startswith("skipped")]
    assert len(skipped) == 3 and "3 input files skipped" in err
    assert "pipe.png: not a regular file" in err


def test_temp_files_of_a_killed_denoise_are_removed_by_the_next_run(tmp_path, folder, capsys):
    out = tmp_path / "out"
    out.mkdir()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a process id that no longer runs: the killed run's
    stale = out / f".dk{child.pid}-k1ll3d00.tmp.png"
    stale.write_bytes(b"half an image")
    code, _, err = _run(capsys, "denoise", folder, "-o", out, *FILTER)
    assert code == 0 and not stale.exists()
    assert f"note: removed 1 temp file an interrupted run left in {out}" in err
    assert sorted(os.listdir(out)) == ["a.png", "b.png"]


def test_existing_outputs_overwritten_are_counted_in_the_summary(tmp_path, folder, capsys):
    out = tmp_path / "out"
    _run(capsys, "denoise", folder, "-o", out, *FILTER)
    code, line, _ = _run(capsys, "denoise", folder, "-o", out, *FILTER)
    assert code == 0 and "; 2 existing files overwritten" in line


def test_a_symlinked_output_folder_is_written_through(tmp_path, folder, capsys):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    code, _, _ = _run(capsys, "denoise", folder, "-o", tmp_path / "link", *FILTER)
    assert code == 0 and sorted(os.listdir(real)) == ["a.png", "b.png"]
    (tmp_path / "into-input").symlink_to(folder)  # outputs would replace the inputs
    before = {p: p.read_bytes() for p in folder.iterdir()}
    code, _, err = _run(capsys, "denoise", folder, "-o", tmp_path / "into-input", *FILTER)
    assert code == 1 and "is an input" in err
    assert {p: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.parametrize("kind", ["gif", "tif"])
def test_a_3_frame_file_is_denoised_at_frame_1_with_a_note(tmp_path, capsys, kind):
    path = tmp_path / f"three.{kind}"
    first, *rest = (Image.fromarray(np.full((16, 16), 60 * i, np.uint8)) for i in range(3))
    first.save(path, save_all=True, append_images=rest)
    code, _, err = _run(capsys, "denoise", path, "-o", tmp_path / "out.png", *FILTER)
    assert code == 0 and f"note: {path} holds 3 frames; frame 1 of 3 was read" in err


def test_damaged_exif_is_one_note_per_file(tmp_path, capsys):
    path = tmp_path / "broken.jpg"
    Image.new("RGB", (16, 16), "gray").save(
        path, exif=exif_block([(271, 2, 100, struct.pack("<I", 60_000))])
    )
    code, _, err = _run(capsys, "denoise", path, "-o", tmp_path / "out.jpg", *FILTER)
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert code == 0 and len(notes) == 1 and str(path) in notes[0]


def test_calibrate_out_inside_a_file_says_it_is_not_a_folder(tmp_path, capsys):
    _gray(tmp_path / "flat.png", size=64)
    (tmp_path / "FILE").write_text("x")
    code, _, err = _run(
        capsys, "calibrate", tmp_path / "flat.png", "--out", tmp_path / "FILE" / "cam.json"
    )
    assert code == 1 and f"{tmp_path / 'FILE'} is not a folder" in err
    assert "File exists" not in err


def test_evaluate_refuses_an_empty_data_name(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _gray(tmp_path / "here.png")  # what '' used to score: the current folder
    code, _, err = _run(
        capsys,
        "evaluate",
        "--checkpoint",
        "gaussian-blur",
        "--data",
        "",
        "--noise",
        "gaussian:25/255",
        "-o",
        tmp_path / "ev",
    )
    assert code == 1 and "data name is empty" in err and not (tmp_path / "ev").exists()


@pytest.fixture
def tiny_images(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    for i in range(4):
        _gray(folder / f"{i}.png", size=1, value=40 * i)
    return folder


def test_1x1_images_are_refused_up_front_naming_the_smallest_size(tmp_path, tiny_images, capsys):
    code, _, err = _run(
        capsys,
        "evaluate",
        "--checkpoint",
        "gaussian-blur",
        "--data",
        tiny_images,
        "--noise",
        "gaussian:25/255",
        "-o",
        tmp_path / "ev",
    )
    assert code == 1 and "is 1x1" in err and "at least 11x11" in err
    code, _, err = _run(
        capsys,
        "benchmark",
        "--models",
        "gaussian-blur",
        "--data",
        tiny_images,
        "--sigmas",
        "25",
        "-o",
        tmp_path / "bench",
    )
    assert code == 1 and "is 1x1" in err and "at least 11x11" in err


def test_training_on_1x1_validation_images_is_refused_before_an_epoch(tmp_path, tiny_images):
    from denoisekit.config import load_run_config
    from denoisekit.errors import DataError
    from denoisekit.train import train

    config = load_run_config(
        None,
        [
            f"data.train={tiny_images}",
            "data.channels=1",
            "data.patch_size=8",
            "model.name=unet",
            "model.kwargs={base_channels: 4, depth: 2, in_channels: 1, out_channels: 1}",
            "train.epochs=1",
            "train.precision=32-true",
        ],
    )
    with pytest.raises(DataError, match="at least 11x11"):
        train(config, tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "last.safetensors").exists()
