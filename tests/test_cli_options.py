"""One consistent command line: -o/--out, --device, --precision, --version, global options after
the command, exit codes 0/1/2/3, and no positional output overwriting an existing file."""

import argparse
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import denoisekit
from denoisekit.checkpoints.checkpoint import save_checkpoint
from denoisekit.cli import main
from denoisekit.cli.parser import build_parser
from denoisekit.errors import ConfigError
from denoisekit.inference import precision as precision_module
from denoisekit.inference.device import resolve_device

WRITERS = ["train", "evaluate", "experiment", "report", "denoise", "noise"]
WRITERS += ["benchmark", "demo", "calibrate"]
RUNS_MODELS = ["denoise", "evaluate", "benchmark", "demo"]


def _commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _option(command: str, flag: str) -> argparse.Action:
    return next(a for a in _commands()[command]._actions if flag in a.option_strings)


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("denoisekit: error:"), err
    return err[0]


@pytest.fixture
def photos(tmp_path):
    """a.png and b.png (different RGB images) and a tiny gray U-Net checkpoint `m`."""
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png"):
        Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).save(tmp_path / name)
    kwargs = {"in_channels": 1, "base_channels": 2, "depth": 1}
    model = denoisekit.create_model("unet", **kwargs)
    save_checkpoint(tmp_path / "m", model, {"model": "unet", "kwargs": kwargs})
    return tmp_path


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


# ------------------------------------------------------------------------ -o / --out


@pytest.mark.parametrize("command", WRITERS)
def test_every_writing_command_takes_o_and_out(command):
    action = _option(command, "-o")
    assert action.option_strings == ["-o", "--out"] and action.dest == "out"


@pytest.mark.parametrize("flag", ["-o", "--out", "--output"])
def test_the_output_spellings_parse_alike(flag):
    parser = build_parser()
    for argv in (
        ["denoise", "a.png", flag, "x"],
        ["noise", "a.png", flag, "x", "--noise", "gaussian:0.1"],
        ["evaluate", "--checkpoint", "m", "--data", "d", "--noise", "gaussian:0.1", flag, "x"],
        ["train", flag, "x"],
    ):
        assert parser.parse_args(argv).out == "x"


def test_output_spelling_is_hidden_and_required_outputs_stay_required(capsys):
    assert "--output" not in _commands()["denoise"].format_help()
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["train"])
    assert exc.value.code == 2 and "-o/--out is required" in capsys.readouterr().err


def test_report_takes_its_folder_either_way(tmp_path, capsys):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "results.json").write_text("{}")
    for argv in (["report", str(tmp_path / "r")], ["report", "-o", str(tmp_path / "r")]):
        assert main(argv) == 1  # write_report got the folder, and found no runs in it
        assert 'no "runs"' in _one_error_line(capsys)
    assert main(["report"]) == 2
    assert "no folder given" in _one_error_line(capsys)
    assert main(["report", str(tmp_path / "r"), "-o", str(tmp_path / "other")]) == 2


# ------------------------------------------------------------------ --device / --precision


@pytest.mark.parametrize("command", RUNS_MODELS)
def test_device_and_precision_are_the_same_on_every_model_command(command):
    device, precision = _option(command, "--device"), _option(command, "--precision")
    assert device.default == "auto" and precision.default == "auto"
    assert precision.choices == ["auto", "fp32", "bf16"]


@pytest.mark.parametrize("text", ["auto", "cpu", "cuda", "cuda:1", "CUDA:0"])
def test_device_spellings_parse(text):
    args = build_parser().parse_args(["denoise", "a.png", "-o", "b", "--device", text])
    assert args.device == text.lower()


def test_a_misspelt_device_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["evaluate", "--device", "gpu"])
    assert exc.value.code == 2 and "'gpu': use auto, cpu, cuda or cuda:N" in capsys.readouterr().err


def test_resolve_device(monkeypatch, no_gpu):
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto") == resolve_device(None) == torch.device("cpu")
    with pytest.raises(ConfigError, match="finds no CUDA GPU; use --device cpu or auto"):
        resolve_device("cuda")
    with pytest.raises(ConfigError, match="use auto, cpu, cuda or cuda:N"):
        resolve_device("gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(ConfigError, match="sees 1 CUDA GPU"):
        resolve_device("cuda:3")


@pytest.mark.parametrize(
    "argv",
    [
        ["denoise", "{tmp}/a.png", "-o", "{tmp}/o/x.png", "--model", "median"],
        ["evaluate", "--checkpoint", "{tmp}/m", "--data", "{tmp}", "--noise", "gaussian:0.1"]
        + ["-o", "{tmp}/o"],
        ["benchmark", "--models", "median", "--data", "{tmp}", "--out", "{tmp}/o"],
        ["demo", "--out", "{tmp}/o"],
    ],
)
def test_cuda_without_a_gpu_is_one_clear_line(photos, capsys, no_gpu, argv):
    argv = [a.replace("{tmp}", str(photos)) for a in argv]
    assert main([*argv, "--device", "cuda"]) == 1
    assert "finds no CUDA GPU" in _one_error_line(capsys)
    assert not (photos / "o").exists()


def test_denoise_hands_the_device_and_precision_to_the_model(photos, monkeypatch):
    import denoisekit.batch.denoise as batch_denoise

    seen = []
    real_load = batch_denoise.load

    def recording_load(source, **kwargs):
        seen.append(kwargs)
        return real_load(source, **kwargs)

    monkeypatch.setattr(batch_denoise, "load", recording_load)
    argv = ["denoise", str(photos / "a.png"), "-o", str(photos / "x.png")]
    assert main([*argv, "--checkpoint", str(photos / "m"), "--device", "cpu"]) == 0
    assert seen == [{"precision": "auto", "device": torch.device("cpu"), "runtime": "auto"}]
    assert main([*argv, "--checkpoint", str(photos / "m"), "--precision", "bf16"]) == 0
    assert seen[1]["precision"] == "bf16" and seen[1]["device"] == resolve_device("auto")


def test_python_api_device(no_gpu):
    loaded = denoisekit.load("median", device="cpu")
    image = np.full((9, 9), 100, np.uint8)
    assert np.array_equal(denoisekit.denoise(image, loaded, device="cpu"), loaded(image))
    net = denoisekit.create_model("unet", in_channels=1, base_channels=2, depth=1)
    assert denoisekit.load(net).device == torch.device("cpu")
    meta = torch.nn.Conv2d(1, 1, 3, device="meta")
    assert denoisekit.load(meta).device.type == "meta"  # a module stays where it is...
    moves = []
    net.to = lambda *args, **kwargs: moves.append(args)  # ...unless told where to go
    denoisekit.load(net, device="cpu")
    assert moves == [(torch.device("cpu"),)]
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        denoisekit.load("median", device="cuda")


def _rgb_checkpoint(folder):
    kwargs = {"in_channels": 3, "base_channels": 2, "depth": 1}
    model = denoisekit.create_model("unet", **kwargs)
    return save_checkpoint(folder / "rgb", model, {"model": "unet", "kwargs": kwargs})


@pytest.mark.parametrize("native,expected", [(True, "bf16"), (False, "fp32")])
def test_evaluate_records_the_precision_and_device_it_used(
    photos, monkeypatch, capsys, native, expected
):
    monkeypatch.setattr(precision_module, "native_bf16", lambda device: native)
    out = photos / f"eval-{native}"
    argv = ["evaluate", "--checkpoint", str(_rgb_checkpoint(photos)), "--data", str(photos)]
    argv += ["--noise", "gaussian:0.1", "--split", "all", "--device", "cpu", "-o", str(out)]
    assert main(argv) == 0
    protocol = json.loads((out / "summary.json").read_text())["protocol"]
    assert protocol["precision"] == expected and protocol["device"] == "cpu"
    assert main([*argv[:-1], str(out / "fp32"), "--precision", "fp32"]) == 0
    assert json.loads((out / "fp32" / "summary.json").read_text())["protocol"]["precision"] == (
        "fp32"
    )


def test_benchmark_defaults_to_auto_and_records_what_ran(photos, monkeypatch, capsys):
    monkeypatch.setattr(precision_module, "native_bf16", lambda device: True)
    out = photos / "bench"
    argv = ["benchmark", "--models", str(_rgb_checkpoint(photos)), "--data", str(photos)]
    assert main([*argv, "--sigmas", "25", "--limit", "1", "--device", "cpu", "-o", str(out)]) == 0
    assert "networks in bf16 on cpu" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["protocol"]["precision"] == "bf16" and summary["protocol"]["device"] == "cpu"
    assert summary["protocol"]["precision_asked"] == "auto"
    assert summary["machine"]["precision_networks"] == "bf16"
    assert "Networks run in bf16 on cpu" in (out / "table.md").read_text()


def test_demo_train_maps_device_and_precision_to_the_training_config():
    from denoisekit.demo import demo_config

    base = demo_config(1, precision="bf16", device="cuda:1").base.train
    assert (base.accelerator, base.devices, base.precision) == ("cuda", "1,", "bf16-mixed")
    base = demo_config(1).base.train
    assert (base.accelerator, base.devices, base.precision) == ("auto", 1, "auto")


def test_train_help_says_how_to_pick_devices():
    text = " ".join(_commands()["train"].format_help().split())
    assert "--set train.accelerator=cpu|cuda" in text and "train.devices" in text


# ----------------------------------------------------------- --version, global options


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith(f"denoisekit {denoisekit.__version__} (torch ")


def test_help_and_version_do_not_import_torch():
    code = (
        "import sys, contextlib, io\n"
        "from denoisekit.cli import main\n"
        "for argv in (['--help'], ['--version'], ['evaluate', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        main(argv)\n"
        "print('torch' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "False", proc.stderr


@pytest.mark.parametrize(
    "argv,debug,root",
    [
        (["models"], False, "env"),
        (["--debug", "models"], True, "env"),
        (["models", "--debug"], True, "env"),
        (["--data-root", "r1", "models"], False, "r1"),
        (["models", "--data-root", "r2"], False, "r2"),
        (["--debug", "--data-root", "r1", "models", "--data-root", "r2"], True, "r2"),
    ],
)
def test_global_options_before_or_after_the_command(monkeypatch, argv, debug, root):
    monkeypatch.setenv("DENOISEKIT_DATA", "env")
    args = build_parser().parse_args(argv)
    assert (args.debug, args.data_root) == (debug, root)


def test_global_options_after_the_command_take_effect(tmp_path, capsys):
    argv = ["train", "-o", str(tmp_path / "o"), "--set", "data.train=train400"]
    assert main([*argv, "--data-root", str(tmp_path / "nowhere")]) == 1
    assert "nowhere" in _one_error_line(capsys)
    with pytest.raises(ConfigError):  # --debug after the command: the exception, not a line
        main(["train", "-o", str(tmp_path / "o"), "--set", "train.lrr=1", "--debug"])


# -------------------------------------------------------------------------- exit codes


def test_help_documents_the_exit_codes():
    text = build_parser().format_help()
    for line in ("0    done", "1    error", "2    usage error", "3    partial"):
        assert line in text


def test_usage_errors_exit_2_and_errors_exit_1(photos, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["denoise"])
    assert exc.value.code == 2
    capsys.readouterr()
    assert main(["denoise", str(photos / "a.png"), "--model", "median"]) == 2
    assert "-o OUTPUT" in _one_error_line(capsys)
    assert main(["denoise", str(photos / "none.png"), "-o", str(photos / "x.png")]) == 1
    assert "none.png" in _one_error_line(capsys)


def test_evaluate_that_skipped_images_exits_3(photos, capsys):
    (photos / "broken.png").write_bytes(b"\x89PNG not really")
    argv = ["evaluate", "--checkpoint", "median", "--data", str(photos), "--split", "all"]
    argv += ["--noise", "gaussian:0.1", "-o", str(photos / "o")]
    assert main(argv) == 1 and "broken.png" in _one_error_line(capsys)
    assert main([*argv, "--skip-bad"]) == 3
    assert "1 unreadable skipped" in capsys.readouterr().out


def test_benchmark_that_skipped_images_exits_3(photos, capsys):
    (photos / "broken.png").write_bytes(b"\x89PNG not really")
    argv = ["benchmark", "--models", "median", "--data", str(photos), "--sigmas", "25"]
    assert main([*argv, "--skip-bad", "-o", str(photos / "o")]) == 3
    assert "1 unreadable images skipped" in capsys.readouterr().err
    assert json.loads((photos / "o" / "summary.json").read_text())["datasets"]


def test_a_run_that_wrote_nothing_is_an_error_not_partial(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    for name in ("x.png", "y.png"):
        (tmp_path / "in" / name).write_bytes(b"\x89PNG not really")
    argv = ["denoise", str(tmp_path / "in"), "-o", str(tmp_path / "o"), "--model", "median"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "denoisekit: error: no file written: 2 input files skipped (listed above)"


# ----------------------------------------------------------------------- no overwrite trap


def _args(verb: str) -> list[str]:
    return ["--model", "median"] if verb == "denoise" else ["--noise", "gaussian:0.1"]


@pytest.mark.parametrize("verb", ["denoise", "noise"])
def test_an_existing_positional_output_is_refused(photos, capsys, verb):
    a, b = photos / "a.png", photos / "b.png"
    before = b.read_bytes()
    assert main([verb, str(a), str(b), *_args(verb)]) == 2
    line = _one_error_line(capsys)
    assert "b.png exists" in line and "-o" in line and "--overwrite" in line
    assert b.read_bytes() == before
    assert main([verb, str(a), str(b), "--overwrite", *_args(verb)]) == 0
    assert b.read_bytes() != before and np.asarray(Image.open(b)).shape == (12, 16, 3)


@pytest.mark.parametrize("verb", ["denoise", "noise"])
def test_outputs_that_do_not_exist_yet_or_named_with_o_are_written(photos, capsys, verb):
    new = photos / "new.png"
    assert main([verb, str(photos / "a.png"), str(new), *_args(verb)]) == 0
    assert new.is_file()
    folder = photos / "out"
    for _ in range(2):  # -o: a re-run replaces its own outputs (file or folder)
        assert main([verb, str(photos / "a.png"), "-o", str(new), *_args(verb)]) == 0
        argv = [verb, str(photos / "a.png"), str(photos / "b.png"), "-o", str(folder)]
        assert main([*argv, *_args(verb)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["a.png", "b.png"]
    folder_positional = [verb, str(photos / "a.png"), str(folder), *_args(verb)]
    assert main(folder_positional) == 0  # an existing folder is an output folder, as before
