from pathlib import Path

import pytest

from denoisekit.config import (
    DEFAULT_LR,
    INIT_LR,
    RunConfig,
    apply_overrides,
    from_dict,
    load_experiment_config,
    load_run_config,
    resolve_lr,
    save_yaml,
    to_dict,
)
from denoisekit.errors import ConfigError


def test_defaults_yaml_and_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("train:\n  lr: 1e-3\n  epochs: 3\nmodel:\n  name: unet\n")
    config = load_run_config(path, ["train.lr=3e-4", "model.kwargs.base_channels=16", "seed=7"])
    assert config.train.lr == pytest.approx(3e-4)
    assert config.train.epochs == 3
    assert config.model.kwargs == {"base_channels": 16}
    assert config.seed == 7
    assert config.train.batch_size == RunConfig().train.batch_size


def test_an_unset_learning_rate_resolves_by_whether_the_run_starts_from_weights():
    unset = load_run_config(None, ["train.epochs=1"])
    assert unset.train.lr is None  # unset until the run starts: then it is known
    assert resolve_lr(unset).train.lr == DEFAULT_LR
    assert unset.train.lr is None  # a copy: the caller's config is left as it was
    tuned = load_run_config(None, ["train.epochs=1"], init="gray-blind")
    assert resolve_lr(tuned).train.lr == INIT_LR < DEFAULT_LR
    given = load_run_config(None, ["train.lr=0.002"], init="gray-blind")
    assert resolve_lr(given).train.lr == 0.002
    assert resolve_lr(load_run_config(None, ["train.lr=null"])).train.lr == DEFAULT_LR


def test_init_without_a_model_trains_the_architecture_of_those_weights(tmp_path):
    from denoisekit.checkpoints.pretrained import pretrained_info

    shipped = pretrained_info("gray-blind")
    config = load_run_config(None, ["train.epochs=1"], init="gray-blind")
    assert config.train.init == "gray-blind"
    assert (config.model.name, config.model.kwargs) == (shipped["model"], shipped["kwargs"])
    assert config.data.channels == 1 and config.data.patch_size == 64  # no-file defaults kept
    # a model the user gives is kept (and checked against the weights when training starts)
    given = load_run_config(None, ["model.name=unet"], init="gray-blind")
    assert given.model.name == "unet" and given.data.channels == 3
    path = tmp_path / "run.yaml"
    path.write_text("data:\n  channels: 3\ntrain:\n  init: color-blind\n")
    from_file = load_run_config(path)
    assert from_file.model.name == "drunet" and from_file.model.kwargs["in_channels"] == 3
    # growing needs the larger model spelled out, so nothing is adopted
    grow = load_run_config(None, ["train.grow=true"], init="gray-blind")
    assert grow.model == RunConfig().model


def test_a_folder_given_as_config_names_its_yaml_files(tmp_path):
    (tmp_path / "a.yaml").write_text("seed: 1\n")
    with pytest.raises(ConfigError, match="is a folder; give one YAML .* holds a.yaml"):
        load_run_config(tmp_path)
    with pytest.raises(ConfigError, match="config file not found"):
        load_run_config(tmp_path / "b.yaml")


def test_round_trip(tmp_path):
    config = load_run_config(None, ["train.devices=2", "data.size=100", "noise.clip=true"])
    save_yaml(to_dict(config), tmp_path / "config.yaml")
    again = load_run_config(tmp_path / "config.yaml")
    assert again == config


@pytest.mark.parametrize(
    "override,message",
    [
        ("train.lrr=1", "train.lrr"),
        ("train.epochs=abc", "train.epochs"),
        ("noise.clip=1", "noise.clip"),
        ("data.size=1.5", "data.size"),
        ("bogus=1", "bogus"),
        ("train.lr", "key=value"),
    ],
)
def test_bad_keys_and_types_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_run_config(None, [override])


def test_unknown_key_suggests_close_name():
    with pytest.raises(ConfigError, match="did you mean epochs"):
        from_dict(RunConfig, {"train": {"epoch": 3}})


def test_experiment_runs_merge_over_base(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(
        "name: demo\ntrain:\n  epochs: 2\n  loss: l1\n"
        "runs:\n  a:\n    model: {name: unet, kwargs: {depth: 2}}\n  b:\n    train: {loss: bce}\n"
    )
    exp = load_experiment_config(path)
    a, b = exp.run_config("a"), exp.run_config("b")
    assert a.model.kwargs == {"depth": 2} and a.train.loss == "l1" and a.train.epochs == 2
    assert b.train.loss == "bce" and b.model.name == "unet" and b.name == "b"


def test_experiment_bad_run_fails_at_load(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("runs:\n  a:\n    train: {lrate: 1}\n")
    with pytest.raises(ConfigError, match="train.lrate"):
        load_experiment_config(path)


def test_apply_overrides_does_not_mutate():
    base = {"train": {"lr": 1.0}}
    out = apply_overrides(base, ["train.lr=2"])
    assert base["train"]["lr"] == 1.0 and out["train"]["lr"] == 2


SHIPPED_CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").rglob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED_CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_configs_build(path):
    """Every config in configs/ parses, builds its models, and names known losses and noises
    (a typo there would otherwise surface only when someone starts a long training)."""
    from denoisekit.noise import parse_noise
    from denoisekit.registry import create_model
    from denoisekit.train.losses import get_loss
    from denoisekit.train.objectives import get_objective

    text = path.read_text()
    if path.parent.name == "downstream":  # a classifier study: its own loader checks it
        from denoisekit.downstream.config import load_downstream_config

        load_downstream_config(path)
        return
    if path.parent.name == "tune":  # a run config plus a search space: the first trial's
        from denoisekit.tune.config import first_values, load_tune_config, trial_config

        base, tune = load_tune_config(path)
        runs = [trial_config(base, first_values(tune))]
    elif "\nruns:" in text:
        exp = load_experiment_config(path)
        runs = [exp.run_config(name) for name in exp.runs]
    else:
        runs = [load_run_config(path)]
    for run in runs:
        create_model(run.model.name, **run.model.kwargs)
        get_objective(run.train.objective, get_loss(run.train.loss))
        for spec in (run.noise.train, run.noise.eval):
            if spec and spec != "none" and not spec.endswith(".json"):
                parse_noise(spec, level=run.noise.level)
