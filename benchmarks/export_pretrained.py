"""Copy a finished training run into the package as shipped weights, with its measured figures.

    python benchmarks/export_pretrained.py runs/pretrained/gray-blind --name gray-blind \
        --hardware "2-core AMD EPYC Zen 4, CPU, bf16" [--measure set12,bsd68] \
        [--measure-8bit bsd68] [--evaluate "camera-pipeline:a=0.01,b=0.0002+jpeg:90" ...]

Writes `src/denoisekit/weights/<name>.safetensors` (the run's best weights) and `<name>.json`:
the checkpoint metadata without the per-epoch history, plus description, training data, sigma
range, optimizer steps, hardware, training minutes and PSNR / SSIM measured here on the test
sets at sigma 15, 25, 50 (the benchmark protocol, so the numbers match `denoisekit benchmark`),
with `--measure-8bit` the same on noisy inputs clipped and rounded to 8 bits as a saved file
holds them (`benchmark --quantize`; entries named "<set> 8-bit"), and, with `--evaluate`, PSNR
on CBSD68 (BSD68 for a gray model) under other noises with the model run blind.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import tempfile
from pathlib import Path

from denoisekit.benchmark import BenchmarkProtocol, run_benchmark
from denoisekit.checkpoints.checkpoint import read_meta
from denoisekit.checkpoints.pretrained import pretrained_names, weights_dir
from denoisekit.data import load_dataset
from denoisekit.files import atomic_path, atomic_write_json
from denoisekit.noise import parse_noise
from denoisekit.train.data import part_factor

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "denoisekit" / "weights"


def training_sets(stages: list[dict], default: str) -> list[str]:
    """Every set the stages trained on, in order, once each: joined specs split at '+', a
    part's '@N' downscale dropped (stages recorded before `data` existed count as `default`)."""
    parts = (p for stage in stages for p in str(stage.get("data", default)).split("+"))
    return list(dict.fromkeys(part_factor(p.strip(), 1)[0] for p in parts))


def steps_per_epoch(config: dict) -> int:
    """Optimizer steps in one epoch, as the training loop counts them (drop_last when > 1 batch)."""
    data, train = config["data"], config["train"]
    # sets joined with '+' are split one by one; a part's '@N' downscale keeps its image count
    parts = [part_factor(p, 1)[0] for p in str(data["train"]).split("+")]
    images = sum(len(load_dataset(p, split="train", channels=data["channels"])) for p in parts)
    samples = images * (data["patches_per_image"] if data.get("patch_size") else 1)
    batch = train["batch_size"]
    per_epoch = samples // batch if samples > batch else math.ceil(samples / batch)
    return min(per_epoch, train.get("steps_per_epoch") or per_epoch)


def measure(best: Path, sets: str, *, quantize: bool = False) -> dict:
    """Mean PSNR / SSIM per set and sigma under the default benchmark protocol, in fp32 on the
    CPU (as the shipped figures were measured); with `quantize` on 8-bit noisy inputs, the set
    named "<set> 8-bit"."""
    protocol = BenchmarkProtocol(precision="fp32", device="cpu", quantize=quantize)
    with tempfile.TemporaryDirectory() as tmp:
        summary = run_benchmark(str(best), sets, "15,25,50", tmp, protocol=protocol, log=print)
    label = next(iter(summary["methods"]))
    return {
        set_name + (" 8-bit" if quantize else ""): {
            sigma: {k: round(v[label][k], 4) for k in ("psnr", "ssim", "ms_per_mp")}
            for sigma, v in by_sigma.items()
        }
        for set_name, by_sigma in summary["results"].items()
    }


def measure_blind(best: Path, specs: list[str], data: str) -> dict:
    """Mean PSNR on all of `data` under each noise spec, the model run blind (noise level
    estimated from each image, as `denoisekit denoise` runs it): flat {"label": psnr} entries."""
    from denoisekit.evaluate import evaluate_checkpoint

    out = {}
    for spec in specs:
        with tempfile.TemporaryDirectory() as tmp:
            result = evaluate_checkpoint(
                str(best),
                data,
                spec,
                tmp,
                split="all",
                noise_level="auto",
                precision="fp32",
                device="cpu",
            )
        psnr = result["summary"]["psnr"]["mean"]
        out[f"{data} {spec}, blind"] = round(psnr, 2)
        print(f"{data} {spec}, blind: {psnr:.2f} dB")
    return out


def measured_in(summary_path: Path, best: Path) -> dict:
    """The figures of `best` in a finished `denoisekit benchmark` summary.json, so a run that
    was already benchmarked is not measured a second time."""
    summary = json.loads(summary_path.read_text())
    labels = [
        label
        for label, method in summary["methods"].items()
        if Path(method.get("source", "")).resolve() == best.resolve()
    ]
    if len(labels) != 1:
        raise SystemExit(f"{summary_path} does not hold exactly one result for {best}")
    return {
        set_name: {
            sigma: {k: round(v[labels[0]][k], 4) for k in ("psnr", "ssim", "ms_per_mp")}
            for sigma, v in by_sigma.items()
        }
        for set_name, by_sigma in summary["results"].items()
    }


def stages(best: Path) -> list[dict]:
    """One entry per training stage, oldest first: a run started with `train.init` from
    another run's checkpoint continues that run's training, so its steps and minutes count."""
    meta = read_meta(best)
    config = meta["config"]
    seconds = {int(row["epoch"]): row["seconds"] for row in meta.get("history", [])}
    stage = {
        "config_name": config.get("name"),
        "data": config["data"]["train"],
        "epochs": meta["best_epoch"],
        "steps": meta["best_epoch"] * steps_per_epoch(config),
        "train_minutes": round(seconds.get(meta["best_epoch"], 0.0) / 60, 1),
        "lr": config["train"]["lr"],
    }
    init = config["train"].get("init")
    if init and Path(init).with_suffix(".safetensors").is_file():
        return [*stages(Path(init).with_suffix(".safetensors")), {**stage, "init": init}]
    if init in pretrained_names():  # started from shipped weights: their JSON lists their stages
        shipped = json.loads((weights_dir() / f"{init}.json").read_text())
        return [*shipped.get("stages", []), {**stage, "init": init}]
    return [stage]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="training run folder holding best.safetensors")
    parser.add_argument("--name", required=True, help="shipped name, e.g. gray-blind")
    parser.add_argument("--description", default="", help="one line for `denoisekit models`")
    parser.add_argument("--hardware", required=True, help="where it was trained")
    parser.add_argument("--measure", help="comma-separated test sets to measure, e.g. bsd68")
    parser.add_argument(
        "--measure-8bit",
        metavar="SETS",
        help="also measure these test sets on 8-bit noisy inputs (benchmark --quantize)",
    )
    parser.add_argument(
        "--evaluate",
        action="append",
        default=[],
        metavar="SPEC",
        help="also measure on all of CBSD68 (BSD68 for a gray model) under this noise spec, "
        "run blind (repeatable)",
    )
    parser.add_argument(
        "--summary", type=Path, help="take the figures from this benchmark summary.json instead"
    )
    args = parser.parse_args()

    best = args.run / "best.safetensors"
    meta = read_meta(best)
    config = meta["config"]
    noise = parse_noise(config["noise"]["train"])
    info = {key: meta[key] for key in ("model", "kwargs", "format", "denoisekit_version")}
    trained = stages(best)
    info.update(
        {
            "description": args.description,
            "channels": config["data"]["channels"],
            "training_data": " + ".join(training_sets(trained, config["data"]["train"])),
            "sigma_range": [noise.low, noise.high],
            "epochs": sum(stage["epochs"] for stage in trained),
            "steps": sum(stage["steps"] for stage in trained),
            "patch_size": config["data"]["patch_size"],
            "batch_size": config["train"]["batch_size"],
            "hardware": args.hardware,
            "train_minutes": round(sum(stage["train_minutes"] for stage in trained), 1),
            "stages": trained,
            "val_psnr": round(meta["best_val_psnr"], 3),
            "params": meta.get("params"),
            "config": config,
        }
    )
    if args.summary:
        info["measured"] = measured_in(args.summary, best)
    elif args.measure:
        info["measured"] = measure(best, args.measure)
    if args.measure_8bit:
        info["measured"] = {
            **info.get("measured", {}),
            **measure(best, args.measure_8bit, quantize=True),
        }
    if args.evaluate:
        data = "bsd68" if info["channels"] == 1 else "cbsd68"
        info["measured"] = {**info.get("measured", {}), **measure_blind(best, args.evaluate, data)}
    WEIGHTS.mkdir(parents=True, exist_ok=True)
    with atomic_path(WEIGHTS / f"{args.name}.safetensors") as tmp:
        shutil.copyfile(best, tmp)
    atomic_write_json(WEIGHTS / f"{args.name}.json", info)
    print(json.dumps({k: v for k, v in info.items() if k != "config"}, indent=1))


if __name__ == "__main__":
    main()
