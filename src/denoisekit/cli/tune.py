"""`denoisekit tune`: search a run config's settings with Optuna (see `tune/study.py`)."""

from __future__ import annotations

import argparse

from .options import add_out


def add_parser(sub) -> None:
    p = sub.add_parser(
        "tune",
        help="search training settings with Optuna (the tune: section of a run config)",
        description="Run trials of a run config with the settings its tune: section lists "
        "sampled by Optuna, judged on the validation split and pruned after poor epochs. The "
        "study is stored in SQLite in the output folder: running the command again resumes it. "
        "Writes best.yaml (a run config for `denoisekit train`), trials.csv, trials.md, "
        "history.png and summary.json. Needs the [tune] extra.",
    )
    p.add_argument("config", help="run config YAML with a tune: section")
    add_out(p, "study folder (study.db, trials/, best.yaml, ...)", metavar="FOLDER", required=True)
    p.add_argument(
        "--trials",
        type=int,
        required=True,
        help="finished trials the study should hold (a rerun adds only the missing ones)",
    )
    p.add_argument("--timeout", type=float, help="stop starting trials after S seconds")
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="worker processes sharing the study (each trains with its own threads; default 1)",
    )
    p.add_argument(
        "--storage",
        help="Optuna storage URL to share one study between machines "
        "(default: sqlite:///FOLDER/study.db)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override the base config or the tune section, e.g. data.limit=40, "
        "train.epochs=1, tune.pruner=none (repeatable)",
    )


def run(args: argparse.Namespace) -> None:
    from ..tune.study import run_tune
    from .verbs import _quiet_lightning

    _quiet_lightning()
    summary = run_tune(
        args.config,
        args.out,
        trials=args.trials,
        overrides=args.set,
        timeout=args.timeout,
        jobs=args.jobs,
        storage=args.storage,
        data_root=args.data_root,
    )
    states = ", ".join(f"{n} {s}" for s, n in sorted(summary["states"].items()))
    line = f"study {summary['study']}: {summary['trials']} trials ({states})"
    best = summary.get("best")
    if best:
        line += (
            f"; best trial {best['trial']}: {summary['metric']} {best['value']:.4g} "
            f"with {best['params']}; wrote {best['config']}"
        )
    print(line)
