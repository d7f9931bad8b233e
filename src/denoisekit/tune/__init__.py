"""`denoisekit tune`: search a run config's settings with Optuna (the [tune] extra).

`config.py` reads the `tune:` section (the search space, the metric and its direction, the
pruner); `study.py` runs the trials, each a training run reporting validation per epoch so
poor ones are pruned, into a study stored in SQLite (resumable, shareable between processes
and machines); `outputs.py` writes best.yaml, the trials table and the optimisation history.
"""
