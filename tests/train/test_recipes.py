"""Training recipes of the shipped models: the chains of run configs hold together, and the
commands and resume states that `benchmarks/train_pretrained.py` acts on."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from denoisekit.checkpoints.pretrained import pretrained_info, pretrained_names
from denoisekit.config import load_run_config
from denoisekit.errors import UnknownNameError
from denoisekit.train.recipes import RECIPES, recipe, stage_commands, stage_state

ROOT = Path(__file__).resolve().parents[2]


def test_every_shipped_model_has_a_recipe():
    assert sorted(RECIPES) == sorted(pretrained_names())
    with pytest.raises(UnknownNameError, match="did you mean gray-blind"):
        recipe("gray-blnd")


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_each_stage_starts_from_the_weights_the_one_before_makes(name):
    stages = recipe(name)
    configs = [load_run_config(ROOT / stage.config) for stage in stages]
    assert configs[0].train.init is None
    for before, after, config, previous in zip(
        stages, stages[1:], configs[1:], configs, strict=False
    ):
        # what the config names itself: the previous stage's run, or (the camera models) the
        # shipped blind model that run became
        assert config.train.init in (
            f"runs/{before.run}/best.safetensors",
            stages[0].run.split("/")[-1],
        ), after
        assert config.model.name == previous.model.name, after
        if not config.train.grow:
            assert config.model.kwargs == previous.model.kwargs, after
        assert config.data.channels == previous.data.channels, after
    shipped = pretrained_info(name)
    assert (configs[-1].model.name, configs[-1].model.kwargs) == (
        shipped["model"],
        shipped["kwargs"],
    )


def test_stage_commands_chain_the_runs(tmp_path):
    commands = stage_commands("color-camera", tmp_path)
    stages = recipe("color-camera")
    assert commands[0] == ["train", stages[0].config, "--out", str(tmp_path / stages[0].run)]
    for command, before in zip(commands[1:], stages, strict=False):
        assert command[-2:] == ["--set", f"train.init={tmp_path / before.run / 'best.safetensors'}"]


def test_stage_state_reads_the_last_epoch(tmp_path):
    assert stage_state(tmp_path / "run", 5) == "new"
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "last.json").write_text(json.dumps({"epoch": 3}))
    assert stage_state(tmp_path / "run", 5) == "partial"
    assert stage_state(tmp_path / "run", 3) == "done"


def test_the_driver_skips_finished_stages_and_resumes_a_partial_one(tmp_path):
    stages = recipe("gray-blind")
    first = load_run_config(ROOT / stages[0].config).train
    for stage, epoch in ((stages[0], first.epochs), (stages[1], 1)):
        (tmp_path / stage.run).mkdir(parents=True)
        (tmp_path / stage.run / "last.json").write_text(json.dumps({"epoch": epoch}))
    script = ROOT / "benchmarks" / "train_pretrained.py"
    argv = [sys.executable, str(script), "gray-blind", "--runs", str(tmp_path), "--dry-run"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == f"done already: {stages[0].run}"
    assert out[1].startswith("denoisekit train configs/pretrained/gray-blind-stage2.yaml")
    assert out[1].endswith("--resume") and not out[2].endswith("--resume")
    assert len(out) == len(stages) + 1 and out[-1].startswith("export: ")
