"""Retrain a shipped model with one command: its training stages in order.

    python benchmarks/train_pretrained.py gray-blind [--runs runs] [--dry-run]
    make weights MODEL=gray-blind

The stages are `denoisekit.train.recipes.RECIPES` (docs/results/pretrained.md, "Stage by
stage"): one `denoisekit train CONFIG --out RUN` per stage, each starting from the previous
stage's best checkpoint. A stage whose run folder has trained through its last epoch is skipped,
and one that stopped partway goes on with --resume, so an interrupted chain picks up where it
was. Stages run where `train.accelerator: auto` puts them: the last two stages of the blind
models took minutes on an H100 and would take hours on a CPU. At the end it prints the
`export_pretrained.py` command that copies the result into the package. Runs to completion or
stops at the first failing stage with its exit status.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from denoisekit.config import load_run_config
from denoisekit.errors import DenoiseKitError
from denoisekit.train.recipes import RECIPES, recipe, stage_commands, stage_state

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help=f"shipped model: {', '.join(RECIPES)}")
    parser.add_argument("--runs", default="runs", help="folder for the stages' run folders")
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    args = parser.parse_args()
    try:
        stages = recipe(args.name)
    except DenoiseKitError as e:
        print(f"train_pretrained: error: {e}", file=sys.stderr)
        return 2
    runs = Path(args.runs).resolve()  # the stages run from the repository root
    for stage, command in zip(stages, stage_commands(args.name, runs), strict=True):
        config = load_run_config(ROOT / stage.config)
        state = stage_state(runs / stage.run, config.train.last_epoch)
        if state == "done":
            print(f"done already: {stage.run}")
            continue
        command = command + (["--resume"] if state == "partial" else [])
        print("denoisekit " + " ".join(command), flush=True)
        if args.dry_run:
            continue
        status = subprocess.call([sys.executable, "-m", "denoisekit", *command], cwd=ROOT)
        if status != 0:
            return status
    gray = load_run_config(ROOT / stages[-1].config).data.channels == 1
    sets = "set12,bsd68" if gray else "cbsd68"
    print(
        f"export: python benchmarks/export_pretrained.py {runs / stages[-1].run} --name "
        f'{args.name} --hardware "where it trained" --measure {sets}'
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
