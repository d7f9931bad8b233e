"""What a study leaves in OUT: best.yaml (a run config: `denoisekit train best.yaml`), the
trials as trials.csv and trials.md, history.png (value per trial and the best so far) and
summary.json."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from ..config import save_yaml, to_dict
from ..files import atomic_write_bytes, atomic_write_json, atomic_write_text
from .config import load_tune_config, trial_config


def _rows(study, params: list[str]) -> list[dict[str, Any]]:
    rows = []
    for t in study.get_trials(deepcopy=False):
        seconds = t.user_attrs.get("train_seconds")
        if seconds is None and t.datetime_start and t.datetime_complete:
            seconds = (t.datetime_complete - t.datetime_start).total_seconds()
        last_step = max(t.intermediate_values) if t.intermediate_values else None
        rows.append(
            {
                "trial": t.number,
                "state": t.state.name.lower(),
                "value": t.value,
                "epochs": last_step,
                "seconds": round(seconds, 1) if seconds is not None else None,
                **{p: t.params.get(p) for p in params},
            }
        )
    return rows


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def trials_markdown(rows: list[dict[str, Any]], metric: str) -> str:
    if not rows:
        return "No trials yet.\n"
    columns = list(rows[0])
    header = [metric if c == "value" else c for c in columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def draw_history(rows: list[dict[str, Any]], metric: str, direction: str, path: Path) -> None:
    """Each finished trial's value (pruned ones hollow, at their last reported epoch) and the
    best value so far."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.8), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    done = [r for r in rows if r["state"] == "complete" and r["value"] is not None]
    ax.plot([r["trial"] for r in done], [r["value"] for r in done], "o", label="trial")
    pruned = [r for r in rows if r["state"] == "pruned" and r.get("last") is not None]
    if pruned:
        ax.plot(
            [r["trial"] for r in pruned],
            [r["last"] for r in pruned],
            "o",
            mfc="none",
            label="pruned (last value)",
        )
    best, xs, ys = None, [], []
    pick = max if direction == "maximize" else min
    for r in sorted(done, key=lambda r: r["trial"]):
        best = r["value"] if best is None else pick(best, r["value"])
        xs.append(r["trial"])
        ys.append(best)
    if xs:
        ax.step(xs, ys, where="post", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.1)
    atomic_write_bytes(path, buf.getvalue())


def write_outputs(job, base: dict[str, Any]) -> dict[str, Any]:
    """Write best.yaml, trials.csv / .md, history.png and summary.json into the study folder."""
    from .study import finished_count, open_study

    out_dir = Path(job.out_dir)
    _, tune = load_tune_config(job.config_path, job.overrides)
    study = open_study(job, tune, 1, 0)
    params = list(tune.params)
    rows = _rows(study, params)
    for row, t in zip(rows, study.get_trials(deepcopy=False), strict=True):
        values = t.intermediate_values
        row["last"] = values[max(values)] if values else None
    table = [{k: v for k, v in r.items() if k != "last"} for r in rows]
    buf = io.StringIO()
    if table:
        writer = csv.DictWriter(buf, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    atomic_write_text(out_dir / "trials.csv", buf.getvalue())
    atomic_write_text(out_dir / "trials.md", trials_markdown(table, tune.metric))
    draw_history(rows, tune.metric, tune.direction, out_dir / "history.png")
    summary: dict[str, Any] = {
        "study": job.study_name,
        "storage": job.storage,
        "metric": tune.metric,
        "direction": tune.direction,
        "pruner": tune.pruner,
        "sampler": tune.sampler,
        "trials": len(rows),
        "finished": finished_count(study),
        "states": {s: sum(r["state"] == s for r in rows) for s in {r["state"] for r in rows}},
    }
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if complete and not all(math.isnan(t.value) for t in complete):
        best = study.best_trial
        config = trial_config(base, best.params, name=f"{job.study_name}-best")
        save_yaml(to_dict(config), out_dir / "best.yaml")
        summary["best"] = {
            "trial": best.number,
            "value": best.value,
            "params": best.params,
            "checkpoint": str(Path(best.user_attrs.get("folder", "")) / "best.safetensors"),
            "config": str(out_dir / "best.yaml"),
        }
    atomic_write_json(out_dir / "summary.json", summary)
    return summary
