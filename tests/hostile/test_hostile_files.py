"""Hostile cases for atomic writes: long names, a full disk, a file where a folder must be, and
the temp files of a killed run."""

import errno
import os
import subprocess
import sys

import pytest

from denoisekit.files import atomic_path, atomic_write_bytes, remove_stale_temps


def test_a_244_character_name_is_written_whatever_the_temp_name(tmp_path):
    target = tmp_path / ("n" * 240 + ".png")  # 244 bytes: a long temp suffix would pass 255
    atomic_write_bytes(target, b"data")
    assert target.read_bytes() == b"data"
    assert os.listdir(tmp_path) == [target.name]


def test_a_full_disk_names_the_file_and_leaves_the_old_one(tmp_path):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    with pytest.raises(OSError) as caught, atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")  # what a full disk raises
    assert caught.value.filename == str(target)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.png"]


def test_a_file_where_the_folder_must_be_is_named_as_not_a_folder(tmp_path):
    (tmp_path / "FILE").write_text("x")
    with pytest.raises(NotADirectoryError, match=r"FILE is not a folder, cannot write"):
        atomic_write_bytes(tmp_path / "FILE" / "cam.json", b"{}")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(NotADirectoryError, match=r"dangling is not a folder"):
        atomic_write_bytes(tmp_path / "dangling" / "cam.json", b"{}")


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temp_files_of_a_killed_run_are_removed_and_live_ones_kept(tmp_path):
    dead = tmp_path / f".dk{_dead_pid()}-abcd1234.tmp.png"
    live = tmp_path / f".dk{os.getpid()}-abcd1234.tmp.png"
    other = tmp_path / ".dk-notours.png"
    for path in (dead, live, other):
        path.write_bytes(b"x")
    assert remove_stale_temps(tmp_path) == 1
    assert not dead.exists() and live.exists() and other.exists()
