"""A resumed run equals an uninterrupted one bit for bit on CPU, wherever it was stopped or
killed, and a checkpoint set torn by a crash is refused instead of trained on."""

import os
import random

import pytest
import safetensors.torch

from denoisekit.config import load_run_config
from denoisekit.errors import DataError
from denoisekit.train import loop, train

EPOCHS = 3


def _config(folder, *extra):
    return load_run_config(
        None,
        [
            f"data.train={folder}",
            "data.channels=1",
            "data.patch_size=8",
            "data.patches_per_image=3",
            "data.augment=true",
            "model.name=unet",
            "model.kwargs={base_channels: 4, depth: 2, in_channels: 1, out_channels: 1}",
            f"train.epochs={EPOCHS}",
            "train.batch_size=4",
            "train.precision=32-true",
            *extra,
        ],
    )


def _weights(run):
    return safetensors.torch.load_file(str(run / "last.safetensors"))


def _assert_same_run(run, reference):
    ours, theirs = _weights(run), _weights(reference)
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        assert ours[key].equal(value), key  # bit for bit, not approximately
    rows = [r.split(",")[:5] for r in (run / "metrics.csv").read_text().splitlines()]
    assert rows == [r.split(",")[:5] for r in (reference / "metrics.csv").read_text().splitlines()]


@pytest.fixture
def uninterrupted(tmp_path, gray_folder, one_thread):
    run = tmp_path / "full"
    train(_config(gray_folder), run, progress=False)
    return run


def test_stop_after_then_resume_equals_the_uninterrupted_run(tmp_path, gray_folder, uninterrupted):
    run = tmp_path / "cut"
    train(_config(gray_folder, "train.stop_after=1"), run, progress=False)
    train(_config(gray_folder), run, resume=True, progress=False)
    _assert_same_run(run, uninterrupted)


class _Killed(BaseException):
    """What a `kill -9` amounts to in-process: nothing after it runs (no except catches it)."""


def _dying(get_objective, kill_at: int):
    """`loop.get_objective` whose objective dies at its `kill_at`-th training step."""
    calls = []

    def dying_objective(*args, **kwargs):
        inner = get_objective(*args, **kwargs)

        def step(*a, **k):
            calls.append(1)
            if len(calls) > kill_at:
                raise _Killed
            return inner(*a, **k)

        step.supervised, step.shots = inner.supervised, getattr(inner, "shots", 1)
        return step

    return dying_objective


def test_a_kill_at_random_points_then_resume_equals_the_uninterrupted_run(
    tmp_path, gray_folder, uninterrupted, monkeypatch
):
    picks = random.Random(36)
    steps_per_epoch = 3  # 4 training images x 3 patches, batches of 4
    for attempt in range(2):
        run = tmp_path / f"killed{attempt}"
        train(_config(gray_folder, "train.stop_after=1"), run, progress=False)
        kill_at = picks.randrange(steps_per_epoch * (EPOCHS - 1))  # a step of epoch 2 or 3
        objective = loop.get_objective
        monkeypatch.setattr(loop, "get_objective", _dying(objective, kill_at))
        with pytest.raises(_Killed):
            train(_config(gray_folder), run, resume=True, progress=False)
        monkeypatch.setattr(loop, "get_objective", objective)
        train(_config(gray_folder), run, resume=True, progress=False)
        _assert_same_run(run, uninterrupted)


def test_a_save_torn_between_files_is_refused_not_trained_on(tmp_path, gray_folder, monkeypatch):
    run = tmp_path / "torn"
    train(_config(gray_folder, "train.stop_after=1"), run, progress=False)
    real_replace, renamed = os.replace, []

    def crash_after_the_weights(src, dst):
        if str(dst).endswith("last.optim.safetensors"):
            raise _Killed  # the power went while the new set replaced the old one
        renamed.append(dst)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_after_the_weights)
    with pytest.raises(_Killed):
        train(_config(gray_folder, "train.stop_after=2"), run, resume=True, progress=False)
    monkeypatch.setattr(os, "replace", real_replace)
    assert str(renamed[-1]).endswith("last.safetensors")  # new weights, the json of epoch 1
    with pytest.raises(DataError, match="torn"):
        train(_config(gray_folder), run, resume=True, progress=False)


@pytest.mark.slow
def test_kill_9_at_a_random_moment_then_resume_equals_the_uninterrupted_run(
    tmp_path, gray_folder, one_thread
):
    """A real `kill -9` of `denoisekit train` at a random moment of epochs 2 to 6, then
    `--resume`: the final weights are the uninterrupted run's, bit for bit."""
    import signal
    import subprocess
    import sys
    import time

    overrides = [
        f"data.train={gray_folder}",
        "data.channels=1",
        "data.patch_size=8",
        "data.patches_per_image=12",
        "data.augment=true",
        "model.name=unet",
        "model.kwargs={base_channels: 4, depth: 2, in_channels: 1, out_channels: 1}",
        "train.epochs=6",
        "train.batch_size=4",
        "train.precision=32-true",
        "train.num_threads=1",
    ]
    full = tmp_path / "full"
    train(load_run_config(None, overrides), full, progress=False)
    run = tmp_path / "killed"
    command = [sys.executable, "-u", "-m", "denoisekit", "train", "-o", str(run)]
    command += [arg for item in overrides for arg in ("--set", item)]
    child = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    said = []
    for line in child.stdout:  # wait for epoch 1 to be saved, then kill at a random moment
        said.append(line)
        if " epoch 1/6" in line:
            break
    assert said and " epoch 1/6" in said[-1], "".join(said)
    time.sleep(random.Random().uniform(0.0, 2.0))
    child.send_signal(signal.SIGKILL)
    child.wait()
    train(load_run_config(None, overrides), run, resume=True, progress=False)
    ours, theirs = _weights(run), _weights(full)
    for key, value in theirs.items():
        assert ours[key].equal(value), key
