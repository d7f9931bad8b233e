"""Pretrained weights: discovery, metadata, loading, unknown names, and the shipped files."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import denoisekit
from denoisekit.checkpoints import pretrained
from denoisekit.checkpoints.checkpoint import save_checkpoint
from denoisekit.cli import main
from denoisekit.errors import ConfigError, DataError, UnknownNameError
from denoisekit.inference import LoadedDenoiser

PACKAGE_WEIGHTS = Path(pretrained.__file__).resolve().parents[1] / "weights"


def install_tiny(folder: Path, name: str, channels: int = 1, **fields):
    """A tiny U-Net saved as pretrained weights `name` in `folder`; returns the model."""
    torch.manual_seed(len(name))
    kwargs = {"in_channels": channels, "base_channels": 2, "depth": 1}
    model = denoisekit.create_model("unet", **kwargs)
    meta = {
        "model": "unet",
        "kwargs": kwargs,
        "description": f"tiny {name} for tests",
        "training_data": "none",
        "sigma_range": [0.0, 50 / 255],
        "steps": 0,
        "hardware": "test",
        "train_minutes": 0.0,
        "measured": {"set12 sigma=25": 12.34},
        "channels": channels,
        **fields,
    }
    save_checkpoint(folder / name, model, meta)
    return model


@pytest.fixture
def weights(tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setenv(pretrained.WEIGHTS_ENV, str(folder))
    return folder


def test_weights_dir_default_and_override(tmp_path, monkeypatch):
    monkeypatch.delenv(pretrained.WEIGHTS_ENV, raising=False)
    assert pretrained.weights_dir() == PACKAGE_WEIGHTS
    monkeypatch.setenv(pretrained.WEIGHTS_ENV, str(tmp_path))
    assert pretrained.weights_dir() == tmp_path


def test_names_need_both_files(weights):
    assert pretrained.pretrained_names() == []
    install_tiny(weights, "gray-blind")
    install_tiny(weights, "color-blind", channels=3)
    (weights / "orphan.safetensors").write_bytes(b"")  # no JSON beside it: not a model
    assert pretrained.pretrained_names() == ["color-blind", "gray-blind"]


def test_info_and_load_round_trip(weights):
    model = install_tiny(weights, "gray-blind")
    info = pretrained.pretrained_info("gray-blind")
    assert info["name"] == "gray-blind" and info["model"] == "unet"
    assert info["path"] == str(weights / "gray-blind.safetensors")
    assert info["sigma_range"] == [0.0, 50 / 255] and info["measured"]["set12 sigma=25"] == 12.34
    loaded = pretrained.load_pretrained("gray-blind")
    assert not loaded.training
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key


def test_bad_sigma_range_is_named(weights):
    install_tiny(weights, "gray-blind", sigma_range=[0, 50])  # 0-255 units by mistake
    with pytest.raises(DataError, match="sigma_range"):
        pretrained.pretrained_info("gray-blind")


def test_unknown_name_lists_close_names(weights):
    with pytest.raises(UnknownNameError, match="no pretrained weights are installed"):
        pretrained.load_pretrained("gray-blind")
    install_tiny(weights, "gray-blind")
    with pytest.raises(UnknownNameError, match="did you mean gray-blind"):
        pretrained.load_pretrained("gray-blnd")
    with pytest.raises(UnknownNameError, match="did you mean gray-blind"):
        denoisekit.load("gray-blnd")


def test_load_by_name_path_classical_and_module(weights):
    install_tiny(weights, "gray-blind")
    by_name = denoisekit.load("gray-blind")
    assert isinstance(by_name, LoadedDenoiser) and isinstance(by_name.model, torch.nn.Module)
    assert by_name.info["description"] == "tiny gray-blind for tests" and by_name.channels == 1
    by_path = denoisekit.load(weights / "gray-blind.safetensors")
    assert by_path.info["model"] == "unet"
    image = np.random.default_rng(0).random((9, 11)).astype(np.float32)
    np.testing.assert_array_equal(by_name.denoise(image), by_path.denoise(image))
    assert denoisekit.load("gaussian-blur").info["kind"] == "classical"
    assert denoisekit.load(by_name.model).model is by_name.model
    with pytest.raises(UnknownNameError, match="untrained"):
        denoisekit.load("unet")
    with pytest.raises(DataError, match="not found"):
        denoisekit.load(str(weights / "nothing.safetensors"))


def test_default_prefers_matching_channels_then_falls_back(weights):
    with pytest.raises(DataError, match="--checkpoint"):
        pretrained.default_pretrained(3)
    install_tiny(weights, "gray-blind")
    assert pretrained.default_pretrained(3) == "gray-blind"  # the only one: per channel
    install_tiny(weights, "color-blind", channels=3)
    assert pretrained.default_pretrained(3) == "color-blind"
    assert pretrained.default_pretrained(1) == "gray-blind"


def test_models_command_lists_pretrained(weights, capsys):
    assert main(["models"]) == 0
    assert "pretrained weights: none installed" in capsys.readouterr().out
    install_tiny(weights, "gray-blind")
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("gray-blind "))
    assert "unet" in line and "0-50" in line and "tiny gray-blind" in line and "12.34" in line
    assert "\nunet " in out  # the registry table is still there


def test_package_data_ships_weights():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    data = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-data"]
    assert {"weights/*.safetensors", "weights/*.json", "weights/*.md"} <= set(data["denoisekit"])
    assert "py.typed" in data["denoisekit"]


def _shipped() -> list[str]:
    return sorted(p.stem for p in PACKAGE_WEIGHTS.glob("*.safetensors"))


_NONE_YET = pytest.param(None, marks=pytest.mark.skip(reason="no weights shipped yet"))


@pytest.mark.parametrize("name", _shipped() or [_NONE_YET])
def test_shipped_weights_are_complete(name, monkeypatch):
    """Every file in the package's weights/ has its JSON with the documented fields and loads."""
    monkeypatch.delenv(pretrained.WEIGHTS_ENV, raising=False)
    meta = json.loads((PACKAGE_WEIGHTS / f"{name}.json").read_text())
    missing = [field for field in pretrained.INFO_FIELDS if field not in meta]
    assert not missing, f"{name}.json lacks {missing}"
    assert meta["channels"] in (1, 3)
    low, high = meta["sigma_range"]
    assert 0 <= low <= high <= 1, "sigma_range is in [0, 1] units"
    model = denoisekit.load(name)
    assert model.channels == meta["channels"]
    image = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    out = model.denoise(image)
    assert out.shape == image.shape and np.isfinite(out).all()


@pytest.mark.parametrize("name", _shipped() or [_NONE_YET])
def test_shipped_weights_describe_themselves(name):
    """The safetensors header names the model and kwargs its .json names."""
    from denoisekit.checkpoints import weights_header

    meta = json.loads((PACKAGE_WEIGHTS / f"{name}.json").read_text())
    header = weights_header(PACKAGE_WEIGHTS / f"{name}.safetensors")
    assert header.get("model") == meta["model"], f"{name}: python benchmarks/stamp_weights.py"
    assert json.loads(header["kwargs"]) == meta["kwargs"]
    assert header["denoisekit_version"] == meta["denoisekit_version"]


def test_bare_name_of_a_local_checkpoint(weights, tmp_path, monkeypatch):
    install_tiny(tmp_path, "mine")  # mine.safetensors + mine.json in the working folder
    install_tiny(tmp_path, "gray-blind", channels=3)  # shadows nothing: names win
    install_tiny(weights, "gray-blind")
    monkeypatch.chdir(tmp_path)
    assert denoisekit.load("mine").info["description"] == "tiny mine for tests"
    assert denoisekit.load("gray-blind").channels == 1
    assert denoisekit.load("./gray-blind.safetensors").channels == 3


def test_resolve_weights_names_files_and_run_folders(weights, tmp_path, monkeypatch):
    install_tiny(weights, "gray-blind")
    run = tmp_path / "run"
    install_tiny(run, "best")
    monkeypatch.chdir(tmp_path)
    assert pretrained.resolve_weights("gray-blind") == weights / "gray-blind.safetensors"
    for spec in (run, "run", "run/best", "run/best.json", str(run / "best.safetensors")):
        assert pretrained.resolve_weights(spec).resolve() == run / "best.safetensors"
    with pytest.raises(DataError, match="--checkpoint: no checkpoint at run/last"):
        pretrained.resolve_weights("run/last", "--checkpoint")
    with pytest.raises(UnknownNameError, match="train.init: unknown pretrained .*gray-blind"):
        pretrained.resolve_weights("gray-blnd", "train.init")


def test_evaluate_takes_a_pretrained_name(weights, tmp_path, capsys):
    install_tiny(weights, "gray-blind")
    clean = tmp_path / "clean"
    clean.mkdir()
    from PIL import Image

    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (24, 24), dtype=np.uint8)).save(clean / "a.png")
    out = tmp_path / "eval"
    code = main(
        ["evaluate", "--checkpoint", "gray-blind", "--data", str(clean), "--split", "all",
         "--noise", "gaussian:0.1", "--out", str(out)]
    )  # fmt: skip
    assert code in (0, None)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n"] == 1 and summary["protocol"]["checkpoint"] == "gray-blind"


def test_measured_summary_reads_both_forms():
    nested = {"bsd68": {"50": {"psnr": 26.2}, "15": {"psnr": 31.571}, "25": {"psnr": 29.13}}}
    assert pretrained.measured_summary(nested) == "bsd68 sigma 15/25/50: 31.57/29.13/26.20 dB"
    assert pretrained.measured_summary({"set12 sigma=25": 30.1}) == "set12 sigma=25 30.10 dB"
    assert pretrained.measured_summary(None) == ""


def _configs_starting_from_shipped_weights() -> list:
    """(file, run config) for every config in configs/ whose `train.init` names shipped weights."""
    from denoisekit.config import load_experiment_config, load_run_config, read_yaml

    found = []
    for path in sorted((Path(__file__).resolve().parents[2] / "configs").rglob("*.yaml")):
        if path.parent.name in ("downstream", "tune"):  # a classifier's config; a search space
            continue
        data = read_yaml(path)
        if "runs" in data:
            experiment = load_experiment_config(path)
            configs = [experiment.run_config(run) for run in experiment.runs]
        else:
            configs = [load_run_config(path)]
        found += [(path.name, c) for c in configs if c.train.init in _shipped()]
    return found


def test_configs_that_start_from_shipped_weights_still_load_them(monkeypatch):
    """Shipped weights that change architecture (more blocks) must not strand a recipe."""
    from denoisekit.train.init import initial_weights

    monkeypatch.delenv(pretrained.WEIGHTS_ENV, raising=False)
    found = _configs_starting_from_shipped_weights()
    assert found, "no config starts from shipped weights: this test checks nothing"
    for name, config in found:
        grow_into = None
        if config.train.grow:
            grow_into = denoisekit.create_model(config.model.name, **config.model.kwargs)
        try:
            initial_weights(config.train.init, config.model.name, config.model.kwargs, grow_into)
        except ConfigError as e:
            pytest.fail(f"{name}, run {config.name}: {e}")
