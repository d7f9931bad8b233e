"""Markdown tables of the seed experiments from their results.json files (for
docs/results/seeds.md).

Usage: python benchmarks/seed_table.py runs/pistachio runs/kirmizi runs/mnist runs/cifar10
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def table(run_dir: Path) -> str:
    results = json.loads((run_dir / "results.json").read_text())
    p = results["protocol"]
    lines = [
        f"**{results.get('title', results['name'])}** — test split, n = {p['n_images']}, "
        f"noise `{p['noise']}`, clip_noisy={p['clip_noisy']}, seed {p['seed']}",
        "",
        "| model | loss | params | epochs (best) | train time | PSNR (dB) | SSIM | MSE | MAE |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def row(name: str, entry: dict, extra: list[str]) -> str:
        s = entry["summary"]
        return (
            "| "
            + " | ".join(
                [
                    name,
                    *extra,
                    f"{s['psnr']['mean']:.2f} ± {s['psnr']['std']:.2f}",
                    f"{s['ssim']['mean']:.4f} ± {s['ssim']['std']:.4f}",
                    f"{s['mse']['mean']:.5f}",
                    f"{s['mae']['mean']:.4f}",
                ]
            )
            + " |"
        )

    lines.append(row("noisy input", results["noisy"], ["—", "—", "—", "—"]))
    for name, run in results["runs"].items():
        minutes = (run.get("train_seconds") or 0) / 60
        lines.append(
            row(
                f"{name} (`{run['model']}`)",
                run,
                [
                    run["loss"],
                    f"{run['params']:,}",
                    f"{run['epochs']} ({run['best_epoch']})",
                    f"{minutes:.1f} min",
                ],
            )
        )
    if results.get("seed_reported"):
        reported = "; ".join(
            f"{metric.upper()} {who} {value}"
            for metric, by in results["seed_reported"].items()
            for who, value in by.items()
        )
        lines += ["", f"Seed projects reported: {reported}."]
    return "\n".join(lines)


if __name__ == "__main__":
    print("\n\n".join(table(Path(d)) for d in sys.argv[1:]))
