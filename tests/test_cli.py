"""Bad input: one line naming the problem, exit 1 (2 for usage), no traceback, no partial
outputs."""

import subprocess
import sys

import pytest

from denoisekit.cli import main


def _error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("denoisekit: error:")
    return err[0]


def test_models_lists_registered_models(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ["autoencoder-seed", "autoencoder-bottleneck", "autoencoder", "unet"]:
        assert f"\n{name} " in out
    # each shipped model says which estimator reads its level when none is given
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert "auto sigma" in out
    assert rows["color-blind"][4] == "pca" and rows["gray-camera"][4] == "haar"


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["train", "--out", "{tmp}/o", "--set", "model.name=unett"], "unet"),
        (["train", "--out", "{tmp}/o", "--set", "train.lrr=1"], "train.lr"),
        (["train", "--out", "{tmp}/o", "--set", "noise.train=gaussian:-0.1"], ">= 0"),
        (["train", "--out", "{tmp}/o", "--set", "noise.train=speckel:0.1"], "noise"),
        (["train", "--out", "{tmp}/o", "--set", "data.train=pistacho"], "pistachio"),
        (["train", "{tmp}/missing.yaml", "--out", "{tmp}/o"], "missing.yaml"),
        (
            [
                "evaluate",
                "--checkpoint",
                "{tmp}/none.safetensors",
                "--data",
                "set12",
                "--noise",
                "gaussian:0.1",
                "--out",
                "{tmp}/o",
            ],
            "none.safetensors",
        ),
        (
            [
                "--data-root",
                "{tmp}/nowhere",
                "train",
                "--out",
                "{tmp}/o",
                "--set",
                "data.train=train400",
            ],
            "DENOISEKIT_DATA",
        ),
    ],
)
def test_bad_input_is_one_line(tmp_path, capsys, argv, needle):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 1
    assert needle in _error_line(capsys)
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_empty_folder(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "--out", str(tmp_path / "o"), "--set", f"data.train={empty}"]) == 1
    assert "no images" in _error_line(capsys)


def test_denoise_refuses_to_overwrite_input(tmp_path, capsys):
    from PIL import Image

    from denoisekit import create_model
    from denoisekit.checkpoints.checkpoint import save_checkpoint

    img = tmp_path / "x.png"
    Image.new("RGB", (16, 16)).save(img)
    before = img.read_bytes()
    save_checkpoint(
        tmp_path / "m",
        create_model("autoencoder-seed", base_channels=4),
        {"model": "autoencoder-seed", "kwargs": {"base_channels": 4}},
    )
    argv = ["denoise", str(img), str(img), "--checkpoint", str(tmp_path / "m")]
    assert main(argv) == 2  # the last positional is an existing file: refused, use -o
    assert "-o" in _error_line(capsys)
    assert main([*argv, "--overwrite"]) == 1  # allowed to replace a file, but not an input
    assert "is an input" in _error_line(capsys)
    assert main(["denoise", str(img), "-o", str(img), "--checkpoint", str(tmp_path / "m")]) == 1
    assert "is an input" in _error_line(capsys)
    assert img.read_bytes() == before


def test_subprocess_exit_code_and_no_traceback(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "denoisekit.cli",
            "train",
            "--out",
            str(tmp_path / "o"),
            "--set",
            "train.epochs=abc",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "train.epochs" in proc.stderr


def test_corrupt_image_named_or_skipped(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(10):
        Image.new("RGB", (16, 16), (i * 20, 0, 0)).save(folder / f"ok{i}.png")
    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    argv = [
        "train",
        "--out",
        str(tmp_path / "o"),
        "--set",
        f"data.train={folder}",
        "--set",
        "train.epochs=1",
        "--set",
        "model.kwargs.base_channels=4",
    ]
    assert main(argv) == 1
    assert "broken.png" in _error_line(capsys)
    assert not (tmp_path / "o").exists()
    assert main(argv + ["--skip-bad"]) == 0
    assert (tmp_path / "o" / "best.safetensors").is_file()


# ----------------------------------------------------------------------------- denoise


@pytest.fixture
def denoise_inputs(tmp_path, monkeypatch):
    """ok.png, broken.png, an empty folder, and an empty pretrained-weights folder."""
    from PIL import Image

    Image.new("RGB", (16, 12), (40, 90, 200)).save(tmp_path / "ok.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "empty").mkdir()
    (tmp_path / "weights").mkdir()
    monkeypatch.setenv("DENOISEKIT_WEIGHTS", str(tmp_path / "weights"))
    return tmp_path


_OK = ["denoise", "{tmp}/ok.png", "-o", "{tmp}/o/x.png"]


@pytest.mark.parametrize(
    "argv,needle",
    [
        (
            ["denoise", "{tmp}/missing.png", "-o", "{tmp}/o/x.png", "--model", "median"],
            "missing.png",
        ),
        (["denoise", "{tmp}/broken.png", "-o", "{tmp}/o/x.png", "--model", "median"], "broken.png"),
        (["denoise", "{tmp}/empty", "-o", "{tmp}/o", "--model", "median"], "no images"),
        (_OK + ["--model", "medain"], "did you mean median"),
        (_OK + ["--model", "unet"], "untrained"),
        (_OK + ["--model", "median", "--sigma", "abc"], "--sigma 'abc'"),
        (_OK + ["--model", "median", "--sigma", "-5"], "--sigma '-5'"),
        (_OK + ["--model", "median", "--sigma", "300"], "above 255"),
        (_OK, "--checkpoint"),  # no pretrained weights installed: say what to pass
        (_OK + ["--checkpoint", "{tmp}/none.safetensors"], "none.safetensors"),
        (_OK + ["--model", "median", "--tile", "16", "--overlap", "16"], "overlap"),
        (_OK + ["--model", "median", "--format", "gif"], "'gif'"),
        (["denoise", "{tmp}/ok.png", "-o", "{tmp}/o/x.gif", "--model", "median"], "x.gif"),
        (
            ["denoise", "{tmp}/ok.png", "{tmp}/./ok.png", "-o", "{tmp}/o", "--model", "median"],
            "both",
        ),
    ],
)
def test_denoise_bad_input_is_one_line(denoise_inputs, capsys, argv, needle):
    tmp = denoise_inputs
    argv = [a.replace("{tmp}", str(tmp)) for a in argv]
    assert main(argv) == 1
    assert needle in _error_line(capsys)
    assert not (tmp / "o").exists() or not any((tmp / "o").iterdir())


def test_denoise_unknown_pretrained_name_lists_close_names(denoise_inputs, capsys):
    from denoisekit import create_model
    from denoisekit.checkpoints.checkpoint import save_checkpoint

    kwargs = {"in_channels": 1, "base_channels": 2, "depth": 1}
    model = create_model("unet", **kwargs)
    save_checkpoint(
        denoise_inputs / "weights" / "gray-blind", model, {"model": "unet", "kwargs": kwargs}
    )
    argv = [a.replace("{tmp}", str(denoise_inputs)) for a in _OK + ["--model", "gray-blnd"]]
    assert main(argv) == 1
    assert "did you mean gray-blind" in _error_line(capsys)


def test_denoise_refuses_output_folder_equal_to_input_folder(denoise_inputs, capsys):
    folder = denoise_inputs / "photos"
    folder.mkdir()
    (folder / "a.png").write_bytes((denoise_inputs / "ok.png").read_bytes())
    before = (folder / "a.png").read_bytes()
    assert main(["denoise", str(folder), "-o", str(folder), "--model", "median"]) == 1
    assert "is an input" in _error_line(capsys)
    assert (folder / "a.png").read_bytes() == before and len(list(folder.iterdir())) == 1


@pytest.fixture
def odd_files(tmp_path):
    """A PNG (to pass where a folder or config is expected), run folders with a broken report."""
    import json

    from PIL import Image

    Image.new("L", (40, 40), 128).save(tmp_path / "photo.png")
    (tmp_path / "empty-results").mkdir()
    (tmp_path / "empty-results" / "results.json").write_text("{}")
    (tmp_path / "bad-samples").mkdir()
    runs = {"runs": {"m": {"psnr": {"mean": 30.0}}}}
    (tmp_path / "bad-samples" / "results.json").write_text(json.dumps(runs))
    (tmp_path / "bad-samples" / "samples.npz").write_bytes(b"PK\x03\x04 not a zip")
    return tmp_path


_EVAL = ["evaluate", "--checkpoint", "gray-blind", "--data", "set12", "--noise", "gaussian:0.1"]


@pytest.mark.parametrize(
    "argv,needle",
    [
        ([*_EVAL, "--out", "{tmp}/photo.png"], "photo.png cannot be a folder"),
        ([*_EVAL, "--out", "{tmp}/photo.png/x"], "its parent"),
        ([*_EVAL, "--limit", "0", "--out", "{tmp}/o"], "--limit must be at least 1"),
        ([*_EVAL, "--batch-size", "0", "--out", "{tmp}/o"], "--batch-size"),
        (["train", "--out", "{tmp}/photo.png"], "cannot be a folder"),
        (["train", "{tmp}/photo.png", "--out", "{tmp}/o"], "not a text file"),
        (["train", "--out", "{tmp}/o", "--set", "train.precision=fp8"], "bf16-mixed"),
        (["train", "--out", "{tmp}/o", "--resume"], "--resume: no"),
        (["demo", "--out", "{tmp}/o", "--limit", "0"], "--limit"),
        (["demo", "--out", "{tmp}/o", "--train", "--epochs", "0"], "--epochs"),
        (["demo", "--out", "{tmp}/o", "--epochs", "3"], "--train"),
        (["report", "{tmp}/empty-results"], 'no "runs"'),
        (["report", "{tmp}/bad-samples"], "samples.npz"),
        (["calibrate", "{tmp}/photo.png", "--out", "{tmp}/photo.png"], "is one of the images"),
        (
            ["benchmark", "--models", "median", "--data", "set12", "--out", "{tmp}/photo.png"],
            "cannot be a folder",
        ),
    ],
)
def test_more_bad_input_is_one_line(odd_files, capsys, argv, needle):
    before = (odd_files / "photo.png").read_bytes()
    argv = [a.replace("{tmp}", str(odd_files)) for a in argv]
    assert main(argv) == 1
    assert needle in _error_line(capsys)
    assert not (odd_files / "o").exists()
    assert (odd_files / "photo.png").read_bytes() == before


def test_checkpoint_json_that_cannot_build_its_model(tmp_path, capsys):
    import json

    from denoisekit import create_model
    from denoisekit.checkpoints.checkpoint import save_checkpoint

    kwargs = {"in_channels": 1, "base_channels": 4, "depth": 1}
    save_checkpoint(
        tmp_path / "m", create_model("unet", **kwargs), {"model": "unet", "kwargs": kwargs}
    )
    meta = json.loads((tmp_path / "m.json").read_text())
    argv = ["evaluate", "--checkpoint", str(tmp_path / "m"), "--data", "set12"]
    argv += ["--noise", "gaussian:0.1", "--out", str(tmp_path / "o")]
    for kwargs, needle in (("x", "'kwargs' must map"), ({"depth": 2, "wings": 1}, "wings")):
        (tmp_path / "m.json").write_text(json.dumps({**meta, "kwargs": kwargs}))
        assert main(argv) == 1
        assert needle in _error_line(capsys)
    assert not (tmp_path / "o").exists()


def test_train_runs_on_its_built_in_defaults(tmp_path, capsys, one_thread):
    # no config file: the embedded photos (gray and colour, several sizes) as RGB 64x64 patches
    settings = ["train.epochs=1", "train.steps_per_epoch=2", "data.limit=3", "data.eval_limit=1"]
    settings += ["model.kwargs={base_channels: 4, depth: 1}", "train.precision=32-true"]
    argv = ["train", "--out", str(tmp_path / "run")] + [a for s in settings for a in ("--set", s)]
    assert main(argv) == 0
    assert (tmp_path / "run" / "best.safetensors").is_file()
    assert "Seed set" not in capsys.readouterr().err  # Lightning's INFO lines are kept quiet
    assert main(argv) == 0  # again, without --resume: it says it replaces the earlier run
    assert "holds an earlier run" in capsys.readouterr().err


def test_every_parsed_verb_has_a_function():
    import argparse

    from denoisekit.cli import VERBS
    from denoisekit.cli.parser import MODULE_VERBS, build_parser, verb_module

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(VERBS) | set(MODULE_VERBS)
    assert not set(VERBS) & set(MODULE_VERBS)
    assert all(callable(verb_module(name).run) for name in MODULE_VERBS)


def test_evaluate_says_which_split_it_scored(tmp_path, capsys):
    import numpy as np
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):  # a folder of 3 splits 1 / 1 / 1
        Image.fromarray(rng.integers(0, 255, (24, 24), dtype=np.uint8)).save(folder / f"{i}.png")
    argv = ["evaluate", "--checkpoint", "median", "--data", str(folder), "--noise", "gaussian:0.1"]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 0
    assert capsys.readouterr().out.startswith("1 image (test split), gaussian:0.1: PSNR")
    assert main([*argv, "--split", "all", "--out", str(tmp_path / "o2")]) == 0
    assert capsys.readouterr().out.startswith("3 images (all split), gaussian:0.1: PSNR")
