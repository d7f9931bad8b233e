"""Experiments: reuse of finished runs (the full train-test-report path is in test_end_to_end)."""

import yaml

from denoisekit.config import load_run_config, to_dict
from denoisekit.experiment import _saved_epoch


def test_finished_run_still_matches_after_new_config_keys(tmp_path):
    """A run folder saved before a key was added to RunConfig (so its config.yaml lacks it) is
    the same config when the new key keeps its default: experiments reuse it, not retrain it."""
    run = load_run_config(None, ["model.name=unet", "train.epochs=3"])
    saved = to_dict(run)
    del saved["train"]["init"]  # as written by a version without train.init
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(saved))
    (tmp_path / "last.json").write_text('{"epoch": 3}')
    (tmp_path / "best.safetensors").write_bytes(b"")
    assert _saved_epoch(run, tmp_path) == 3
    changed = load_run_config(None, ["model.name=unet", "train.epochs=3", "train.lr=0.5"])
    assert _saved_epoch(changed, tmp_path) == 0
    # the thread count is how fast it trained, not what: still the same run
    faster = load_run_config(None, ["model.name=unet", "train.epochs=3", "train.num_threads=2"])
    assert _saved_epoch(faster, tmp_path) == 3
    # training saves the rate it resolved: an unset one is still the same run
    saved["train"]["lr"] = 1e-3
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(saved))
    assert run.train.lr is None and _saved_epoch(run, tmp_path) == 3
    saved["train"]["lr"] = None
    saved["train"]["removed_key"] = 1
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(saved))
    assert _saved_epoch(run, tmp_path) == 0
