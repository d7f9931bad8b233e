"""Run an Optuna study whose trials are training runs.

Each trial sets the `tune.params` it samples on the base run config and trains into
OUT/trials/<number>/ as `denoisekit train` would; after every epoch it reports the metric,
and the pruner may stop it there. The trial's value is its best epoch's metric (the epoch a
checkpoint keeps). The study lives in an RDB storage, SQLite in OUT/study.db unless a URL is
given: running the command again resumes it (`--trials N` means N finished trials in all), and
processes on several machines given the same storage URL share it. Trials whose process died
are detected by a heartbeat and retried once.
"""

from __future__ import annotations

import math
import multiprocessing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DenoiseKitError
from ..files import output_folder
from .config import TuneConfig, load_tune_config, trial_config

INSTALL_HINT = "pip install 'denoisekit[tune]'"
FINISHED = ("COMPLETE", "PRUNED")


def require_optuna():
    try:
        import optuna
    except ImportError:
        raise DenoiseKitError(
            f"tune needs Optuna, which is not installed; {INSTALL_HINT}"
        ) from None
    return optuna


@dataclass
class TuneJob:
    """Everything one worker process needs (picklable, for --jobs)."""

    config_path: str
    overrides: list[str]
    out_dir: str
    storage: str
    study_name: str
    trials: int
    timeout: float | None
    data_root: str | None
    worker: int = 0


def _storage(optuna, url: str):
    """The RDB storage with a heartbeat, so a trial whose process died is failed and retried."""
    import warnings

    from optuna import storages

    with warnings.catch_warnings():  # the heartbeat is marked experimental
        warnings.simplefilter("ignore")
        if hasattr(storages, "RetryHeartbeatStaleTrialCallback"):  # Optuna >= 4.9
            retry = {"heartbeat_stale_trial_callback": storages.RetryHeartbeatStaleTrialCallback(1)}
        else:
            retry = {"failed_trial_callback": storages.RetryFailedTrialCallback(max_retry=1)}
        return storages.RDBStorage(url, heartbeat_interval=60, grace_period=180, **retry)


def _sampler(optuna, tune: TuneConfig, seed: int):
    if tune.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(tune.startup_trials, 1))


def _pruner(optuna, tune: TuneConfig, epochs: int):
    if tune.pruner == "none":
        return optuna.pruners.NopPruner()
    if tune.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(epochs, 1))
    return optuna.pruners.MedianPruner(n_startup_trials=tune.startup_trials, n_warmup_steps=0)


def open_study(job: TuneJob, tune: TuneConfig, epochs: int, seed: int):
    optuna = require_optuna()
    return optuna.create_study(
        study_name=job.study_name,
        storage=_storage(optuna, job.storage),
        direction=tune.direction,
        sampler=_sampler(optuna, tune, seed),
        pruner=_pruner(optuna, tune, epochs),
        load_if_exists=True,
    )


def finished_count(study) -> int:
    return sum(t.state.name in FINISHED for t in study.get_trials(deepcopy=False))


def _suggest(trial, key: str, spec: dict[str, Any]) -> Any:
    if "choices" in spec:
        return trial.suggest_categorical(key, spec["choices"])
    low, high, log = spec["low"], spec["high"], bool(spec.get("log", False))
    if all(isinstance(v, int) for v in (low, high)) and not isinstance(spec.get("step"), float):
        return trial.suggest_int(key, low, high, step=int(spec.get("step") or 1), log=log)
    return trial.suggest_float(key, float(low), float(high), step=spec.get("step"), log=log)


def optimize(job: TuneJob) -> None:
    """One worker: run trials until the study holds `job.trials` finished ones (or timeout)."""
    optuna = require_optuna()
    from ..train.data import load_splits
    from ..train.loop import train

    base, tune = load_tune_config(job.config_path, job.overrides)
    first = trial_config(base, {})
    study = open_study(job, tune, first.train.epochs, first.seed + job.worker)
    datasets: dict[tuple, Any] = {}
    out_dir = Path(job.out_dir)
    better = max if tune.direction == "maximize" else min

    def objective(trial) -> float:
        values = {key: _suggest(trial, key, spec) for key, spec in tune.params.items()}
        config = trial_config(base, values, name=f"trial-{trial.number}")
        d = config.data
        key = (d.train, d.val, d.root, d.size, d.channels, d.limit, d.eval_limit, d.downscale)
        if key not in datasets:
            datasets.clear()  # one set in memory at a time
            datasets[key] = load_splits(config, job.data_root)
        scores: list[float] = []

        def report(row: dict[str, Any]) -> None:
            value = row.get(tune.metric)
            if value is None or not math.isfinite(float(value)):
                raise ConfigError(f"tune.metric {tune.metric!r} is not measured by this run")
            scores.append(float(value))
            trial.report(float(value), step=int(row["epoch"]))
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {row['epoch']}")

        trial.set_user_attr("folder", str(out_dir / "trials" / str(trial.number)))
        result = train(
            config,
            out_dir / "trials" / str(trial.number),
            data_root=job.data_root,
            progress=False,
            datasets=datasets[key],
            on_epoch=report,
        )
        trial.set_user_attr("train_seconds", result.train_seconds)
        trial.set_user_attr("best_epoch", result.best_epoch)
        return better(scores)

    def enough(study, trial) -> None:
        if finished_count(study) >= job.trials:
            study.stop()

    remaining = job.trials - finished_count(study)
    if remaining > 0:
        study.optimize(
            objective,
            n_trials=remaining,
            timeout=job.timeout,
            callbacks=[enough],
            catch=(),
            gc_after_trial=True,
        )


def _worker(job: TuneJob) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optimize(job)


def run_tune(
    config_path: str | Path,
    out_dir: str | Path,
    *,
    trials: int,
    overrides: list[str] | None = None,
    timeout: float | None = None,
    jobs: int = 1,
    storage: str | None = None,
    data_root: str | None = None,
) -> dict[str, Any]:
    """Run (or resume) the study and write its outputs; returns the summary (`outputs.py`)."""
    from .outputs import write_outputs

    require_optuna()
    if trials < 1 or jobs < 1:
        raise ConfigError("--trials and --jobs must be >= 1")
    base, _ = load_tune_config(config_path, overrides)  # errors before any process starts
    out_dir = output_folder(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = str(base.get("name") or Path(config_path).stem)
    url = storage or f"sqlite:///{(out_dir / 'study.db').resolve()}"
    job = TuneJob(
        str(config_path),
        list(overrides or []),
        str(out_dir),
        url,
        name,
        trials,
        timeout,
        data_root,
    )
    if jobs == 1:
        optimize(job)
    else:
        open_study(job, load_tune_config(config_path, overrides)[1], 1, 0)  # create it once
        context = multiprocessing.get_context("spawn")
        workers = [
            context.Process(target=_worker, args=(TuneJob(**{**job.__dict__, "worker": i}),))
            for i in range(jobs)
        ]
        for process in workers:
            process.start()
        for process in workers:
            process.join()
        failed = [p.exitcode for p in workers if p.exitcode]
        if failed:
            raise DenoiseKitError(f"{len(failed)} of {jobs} tune workers failed (exit {failed[0]})")
    return write_outputs(job, base)
