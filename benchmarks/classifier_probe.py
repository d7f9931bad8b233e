"""Train one variant of the downstream config's clean classifier and report its validation and
test accuracy, without the rest of the downstream run (the augmentation and size comparisons
in docs/results/downstream.md).

    python benchmarks/classifier_probe.py OUT [--config configs/downstream/pistachio.yaml]
        [--set KEY=VALUE ...]

e.g. `--set classifier.augment.jitter=0` or `--set size=224`. Decoded images are cached in
OUT/../cache-<size>/data/ (reused by every probe of that size); a finished training in OUT is
reused. The test split is read once, at the end, for the report line.
"""

import argparse
import json
from pathlib import Path

import torch

from denoisekit.classify.train import load_classifier, predict, train_classifier
from denoisekit.downstream.config import load_downstream_config
from denoisekit.downstream.run import cached_labelled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--config", default="configs/downstream/pistachio.yaml")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    config = load_downstream_config(args.config, args.set)
    cache = args.out.parent / f"cache-{config.size}"
    train_x, train_y, classes, _ = cached_labelled(config, "train", None, cache)
    val_x, val_y, _, _ = cached_labelled(config, "val", None, cache, classes)
    result = train_classifier(
        config.classifier,
        (train_x, train_y),
        (val_x, val_y),
        args.out,
        classes=classes,
        seed=config.seed,
    )
    test_x, test_y, _, _ = cached_labelled(config, "test", None, cache, classes)
    model, _ = load_classifier(args.out / "best.safetensors")
    summary = {
        "set": args.set,
        "size": config.size,
        "best_epoch": result["best_epoch"],
        "val_accuracy": result["best_val_accuracy"],
        "test_accuracy": float((predict(model, test_x) == test_y).float().mean()),
        "train_seconds": result["train_seconds"],
        "threads": torch.get_num_threads(),
    }
    (args.out / "probe.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
