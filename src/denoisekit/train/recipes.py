"""How each shipped model was trained: its run configs in order, so one command retrains it.

Every shipped weight file came out of several training stages (docs/results/pretrained.md,
"Stage by stage"), one run config per stage, each stage starting from the best weights of the
one before. `RECIPES` lists them. `stage_commands` turns a recipe into `denoisekit train`
argument lists that pass each stage the previous stage's checkpoint as `train.init`, so the
chain retrains from scratch instead of from whatever weights are shipped at the time (the
configs of the camera models name the shipped `gray-blind` / `color-blind`). `stage_state` says
whether a stage's run folder is finished, half done or not started, so an interrupted chain
resumes. `benchmarks/train_pretrained.py` runs a recipe (`make weights MODEL=gray-blind`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import unknown


@dataclass(frozen=True)
class Stage:
    config: str  # run config, relative to the repository root
    run: str  # run folder, relative to the runs folder


# The float-noise chains: what the camera models were fine-tuned from (before the 8-bit stage).
_GRAY_BLIND_FLOAT = (
    Stage("configs/pretrained/gray-blind.yaml", "pretrained/gray-blind"),
    Stage("configs/pretrained/gray-blind-stage2.yaml", "pretrained/gray-blind-2"),
    Stage("configs/pretrained/gray-blind-stage3-mse.yaml", "pretrained/gray-blind-3mse"),
    Stage("configs/pretrained/gray-blind-stage4-mse.yaml", "pretrained/gray-blind-4"),
    Stage("configs/pretrained/gray-blind-stage5-cbsd432.yaml", "pretrained/gray-blind-5"),
    Stage("configs/pretrained/gray-blind-gpu.yaml", "pretrained/gray-blind-gpu3"),
    Stage("configs/pretrained/gray-blind-gpu-finish.yaml", "pretrained/gray-blind-gpu4"),
)
_COLOR_BLIND_FLOAT = (
    Stage("configs/pretrained/color-blind.yaml", "pretrained/color-blind"),
    Stage("configs/pretrained/color-blind-stage2.yaml", "pretrained/color-blind-2"),
    Stage("configs/pretrained/color-blind-stage3-mse.yaml", "pretrained/color-blind-3mse"),
    Stage("configs/pretrained/color-blind-stage4-mse.yaml", "pretrained/color-blind-4mse"),
    Stage("configs/pretrained/color-blind-gpu.yaml", "pretrained/color-blind-gpu3"),
    Stage("configs/pretrained/color-blind-gpu-finish.yaml", "pretrained/color-blind-gpu4"),
)
# The last stages fine-tune on noise as files hold it: clipped and rounded (issue 34), first on
# halved images, then at native resolution, which won back the float protocol.
_GRAY_BLIND = (
    *_GRAY_BLIND_FLOAT,
    Stage("configs/pretrained/gray-blind-8bit-cpu.yaml", "pretrained/gray-blind-8bit-cpu"),
    Stage(
        "configs/pretrained/gray-blind-8bit-native-cpu.yaml",
        "pretrained/gray-blind-8bit-native-cpu",
    ),
)
_COLOR_BLIND = (
    *_COLOR_BLIND_FLOAT,
    Stage("configs/pretrained/color-blind-8bit-cpu.yaml", "pretrained/color-blind-8bit-cpu"),
    Stage(
        "configs/pretrained/color-blind-8bit-native-cpu.yaml",
        "pretrained/color-blind-8bit-native-cpu",
    ),
)
RECIPES: dict[str, tuple[Stage, ...]] = {
    "gray-blind": _GRAY_BLIND,
    "color-blind": _COLOR_BLIND,
    "gray-camera": (
        *_GRAY_BLIND_FLOAT,
        Stage("configs/realnoise/gray-camera.yaml", "realnoise/gray-camera"),
    ),
    "color-camera": (
        *_COLOR_BLIND_FLOAT,
        Stage("configs/realnoise/color-camera.yaml", "realnoise/color-camera"),
    ),
}


def recipe(name: str) -> tuple[Stage, ...]:
    """The stages of shipped model `name`; UnknownNameError with close names otherwise."""
    if name not in RECIPES:
        raise unknown("training recipe", name, RECIPES)
    return RECIPES[name]


def stage_commands(name: str, runs: str | Path = "runs") -> list[list[str]]:
    """`denoisekit` argument lists, one `train` per stage of `name`, run folders under `runs`;
    every stage after the first starts from the previous stage's best checkpoint."""
    commands, previous = [], None
    for stage in recipe(name):
        out = Path(runs) / stage.run
        command = ["train", stage.config, "--out", str(out)]
        if previous is not None:
            command += ["--set", f"train.init={previous / 'best.safetensors'}"]
        commands.append(command)
        previous = out
    return commands


def stage_state(out: str | Path, last_epoch: int) -> str:
    """ "done" when run folder `out` has trained through `last_epoch` (its `last.json` says
    so), "partial" when it holds an earlier epoch (continue with --resume), else "new"."""
    meta_path = Path(out) / "last.json"
    if not meta_path.is_file():
        return "new"
    epoch = int(json.loads(meta_path.read_text()).get("epoch", 0))
    return "done" if epoch >= last_epoch else "partial"
