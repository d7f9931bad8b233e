"""`denoisekit tune` on tiny data: a resumable SQLite study, pruning, best.yaml (seconds)."""

import json
import sqlite3

import pytest
import yaml

from denoisekit.cli import main
from denoisekit.config import load_run_config
from denoisekit.errors import ConfigError
from denoisekit.tune.config import load_tune_config

pytest.importorskip("optuna")


def _config(tmp_path, gray_folder, **tune):
    path = tmp_path / "tune.yaml"
    config = {
        "name": "tiny-tune",
        "data": {"train": str(gray_folder), "channels": 1, "patch_size": 8, "patches_per_image": 2},
        "noise": {"train": "gaussian:0.1"},
        "model": {"name": "unet", "kwargs": {"in_channels": 1, "base_channels": 4, "depth": 1}},
        "train": {"epochs": 2, "batch_size": 4, "eval_batch_size": 4},
        "tune": {
            "params": {
                "train.lr": {"low": 1.0e-4, "high": 1.0e-2, "log": True},
                "model.kwargs.output": {"choices": ["sigmoid", "linear"]},
            },
            **tune,
        },
    }
    path.write_text(yaml.safe_dump(config))
    return path


def _trial_states(db):
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute("select state from trials")]


def test_tune_runs_a_resumable_study_and_writes_best_yaml(tmp_path, gray_folder, one_thread):
    config = _config(tmp_path, gray_folder)
    out = tmp_path / "study"
    args = ["tune", str(config), "--trials", "2", "--set", "train.epochs=1", "--out", str(out)]
    assert main(args) == 0
    assert _trial_states(out / "study.db") == ["COMPLETE", "COMPLETE"]
    best = load_run_config(out / "best.yaml")  # a run config `denoisekit train` takes
    summary = json.loads((out / "summary.json").read_text())
    assert best.train.lr == pytest.approx(summary["best"]["params"]["train.lr"])
    assert best.model.kwargs["output"] == summary["best"]["params"]["model.kwargs.output"]
    assert (out / "history.png").stat().st_size > 1000
    assert (out / "trials.md").read_text().count("| complete |") == 2
    # a rerun with a larger --trials adds only the missing trial
    assert main([*args[:3], "3", *args[4:]]) == 0
    assert len(_trial_states(out / "study.db")) == 3


def test_a_pruned_trial_stops_after_the_epoch_it_is_pruned_at(
    tmp_path, gray_folder, one_thread, monkeypatch
):
    import optuna

    from denoisekit.tune import study

    class AlwaysPrune(optuna.pruners.BasePruner):
        def prune(self, study, trial):
            return True

    monkeypatch.setattr(study, "_pruner", lambda optuna, tune, epochs: AlwaysPrune())
    out = tmp_path / "study"
    assert (
        main(["tune", str(_config(tmp_path, gray_folder)), "--trials", "2", "--out", str(out)]) == 0
    )
    assert _trial_states(out / "study.db") == ["PRUNED", "PRUNED"]
    rows = (out / "trials" / "0" / "metrics.csv").read_text().splitlines()
    assert len(rows) == 2  # header + epoch 1 of 2: stopped where it was pruned
    assert not (out / "best.yaml").exists()  # no complete trial, no best


def test_every_epoch_is_reported(tmp_path, gray_folder, one_thread):
    out = tmp_path / "study"
    assert (
        main(["tune", str(_config(tmp_path, gray_folder)), "--trials", "1", "--out", str(out)]) == 0
    )
    with sqlite3.connect(out / "study.db") as connection:
        steps = [r[0] for r in connection.execute("select step from trial_intermediate_values")]
    assert sorted(steps) == [1, 2]


def test_bad_tune_sections_are_config_errors(tmp_path, gray_folder):
    config = _config(tmp_path, gray_folder)
    with pytest.raises(ConfigError, match="tune.pruner"):
        load_tune_config(config, ["tune.pruner=asha"])
    with pytest.raises(ConfigError, match="low < high"):
        load_tune_config(config, ["tune.params.train.lr={low: 1.0, high: 0.1}"])
    with pytest.raises(ConfigError, match="unknown config key"):
        load_tune_config(config, ["tune.params.train.lrr={low: 0.1, high: 1.0}"])
