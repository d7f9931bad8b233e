"""Figures for one experiment run folder, drawn from `results.json` only.

Every function here takes plain dicts / numpy arrays (never a model), so a report can be redrawn
long after training, on a machine without the checkpoints.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..files import atomic_write_bytes

NOISY_LABEL = "noisy input"
NOISY_COLOR = "#888888"
FIGURE_DPI = 110
# Metrics where a larger number is better; everything else (mse, mae) is lower-is-better.
HIGHER_IS_BETTER = {"psnr": True, "ssim": True, "mse": False, "mae": False}
METRIC_LABELS = {"psnr": "PSNR (dB)", "ssim": "SSIM", "mse": "MSE", "mae": "MAE"}


# ----------------------------------------------------------------------------- small helpers


def run_colors(run_names: list[str]) -> dict[str, Any]:
    """One colour per run, stable across all figures (the noisy input is always grey)."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if len(run_names) <= 10 else "tab20"]
    colors: dict[str, Any] = {name: cmap(i % cmap.N) for i, name in enumerate(run_names)}
    colors[NOISY_LABEL] = NOISY_COLOR
    return colors


def metric_stats(entry: Mapping[str, Any], metric: str) -> tuple[float, float] | None:
    """(mean, std) of `metric` for a run / the noisy entry: its summary, else its per-image list."""
    summary = (entry.get("summary") or {}).get(metric)
    if isinstance(summary, Mapping) and summary.get("mean") is not None:
        return float(summary["mean"]), float(summary.get("std") or 0.0)
    values = per_image(entry, metric)
    if values.size == 0:
        return None
    return float(values.mean()), float(values.std())


def per_image(entry: Mapping[str, Any], metric: str) -> np.ndarray:
    """Per-image values of `metric` as a float array (empty when the run did not record them)."""
    values = (entry.get("per_image") or {}).get(metric) or []
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    return arr[np.isfinite(arr)]


def entries(results: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Display-ordered {label: entry}: the noisy input first (when present), then every run."""
    out: dict[str, Mapping[str, Any]] = {}
    if isinstance(results.get("noisy"), Mapping):
        out[NOISY_LABEL] = results["noisy"]
    out.update(results.get("runs") or {})
    return out


def _new_figure(width: float, height: float):
    # A bare Figure + Agg canvas touches no global pyplot state and never switches the user's
    # interactive backend, which `matplotlib.use("Agg")` would.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=FIGURE_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    buf = io.BytesIO()
    # tight: long row labels and titles on narrow grids must not be cut off
    fig.savefig(buf, format="png", dpi=FIGURE_DPI, bbox_inches="tight", pad_inches=0.1)
    atomic_write_bytes(path, buf.getvalue())
    return path


# ----------------------------------------------------------------------------- figures


def draw_loss_curves(results: Mapping[str, Any], path: Path) -> Path | None:
    """Train (solid) / validation (dashed) loss, one panel per loss function, plus val PSNR.

    Runs trained with different losses (BCE vs L1) live on different scales, so they get separate
    panels rather than one shared axis. Returns None when no run has a training history.
    """
    runs = {n: r for n, r in (results.get("runs") or {}).items() if r.get("history")}
    if not runs:
        return None
    colors = run_colors(list(results.get("runs") or {}))
    by_loss: dict[str, list[str]] = {}
    for name, run in runs.items():
        by_loss.setdefault(str(run.get("loss") or "loss"), []).append(name)

    n_panels = len(by_loss) + 1
    fig = _new_figure(4.2 * n_panels, 3.6)
    axes = fig.subplots(1, n_panels, squeeze=False)[0]
    for ax, (loss, names) in zip(axes[:-1], by_loss.items(), strict=True):
        for name in names:
            hist = runs[name]["history"]
            for key, style in (("train_loss", "-"), ("val_loss", "--")):
                pts = [(h["epoch"], h[key]) for h in hist if h.get(key) is not None]
                if pts:
                    x, y = zip(*pts, strict=True)
                    ax.plot(x, y, style, color=colors[name], marker=".", markersize=4)
        ax.set_title(f"{loss} loss")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
        _maybe_log(ax)

    ax = axes[-1]
    for name, run in runs.items():
        pts = [(h["epoch"], h["val_psnr"]) for h in run["history"] if h.get("val_psnr") is not None]
        if pts:
            x, y = zip(*pts, strict=True)
            ax.plot(x, y, "--", color=colors[name], marker=".", markersize=4)
    ax.set_title("validation PSNR")
    ax.set_xlabel("epoch")
    ax.set_ylabel("PSNR (dB)")
    ax.grid(alpha=0.3)

    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    for a in axes:
        a.xaxis.set_major_locator(MaxNLocator(integer=True))

    handles = [Line2D([], [], color=colors[n], label=n) for n in runs]
    handles += [
        Line2D([], [], color="black", linestyle="-", label="train"),
        Line2D([], [], color="black", linestyle="--", label="validation"),
    ]
    fig.legend(handles=handles, loc="outside right upper", fontsize=8)
    return _save(fig, path)


def _maybe_log(ax) -> None:
    # Losses that fall by more than ~30x are unreadable on a linear axis after epoch 1.
    ys = np.concatenate([line.get_ydata() for line in ax.get_lines()] or [np.array([])])
    ys = np.asarray(ys, dtype=np.float64)
    ys = ys[np.isfinite(ys)]
    if ys.size and ys.min() > 0 and ys.max() / ys.min() > 30:
        ax.set_yscale("log")


def draw_distributions(results: Mapping[str, Any], path: Path) -> Path | None:
    """Box plots of per-image PSNR and SSIM for the noisy input and every run."""
    items = entries(results)
    colors = run_colors(list(results.get("runs") or {}))
    panels = []
    for metric in ("psnr", "ssim"):
        data = [(label, per_image(e, metric)) for label, e in items.items()]
        data = [(label, v) for label, v in data if v.size]
        if data:
            panels.append((metric, data))
    if not panels:
        return None
    n = max(len(d) for _, d in panels)
    fig = _new_figure(max(3.5, 1.0 + 0.7 * n) * len(panels), 4.2)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (metric, data) in zip(axes, panels, strict=True):
        bp = ax.boxplot(
            [v for _, v in data],
            patch_artist=True,
            showmeans=True,
            meanprops={"marker": "D", "markerfacecolor": "white", "markeredgecolor": "black"},
            flierprops={"markersize": 3, "alpha": 0.5},
            medianprops={"color": "black"},
        )
        for patch, (label, _) in zip(bp["boxes"], data, strict=True):
            patch.set_facecolor(colors.get(label, NOISY_COLOR))
            patch.set_alpha(0.75)
        # Labels via set_xticks, not boxplot(tick_labels=...), which needs matplotlib >= 3.9.
        ax.set_xticks(range(1, len(data) + 1), [label for label, _ in data])
        ax.set_title(f"per-image {METRIC_LABELS[metric]}")
        ax.set_ylabel(METRIC_LABELS[metric])
        ax.grid(axis="y", alpha=0.3)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    fig.suptitle(
        "Distribution over test images (box: quartiles, line: median, ◇: mean)", fontsize=10
    )
    return _save(fig, path)


def draw_comparison(results: Mapping[str, Any], path: Path) -> Path | None:
    """Bars of mean ± std per model; numbers the seed projects reported drawn as reference lines."""
    items = entries(results)
    colors = run_colors(list(results.get("runs") or {}))
    reported = {str(k).lower(): v for k, v in (results.get("seed_reported") or {}).items()}
    metrics = ["psnr", "ssim"] + [m for m in ("mse", "mae") if m in reported]
    panels = []
    for metric in metrics:
        stats = [(label, metric_stats(e, metric)) for label, e in items.items()]
        stats = [(label, s) for label, s in stats if s is not None]
        if stats:
            panels.append((metric, stats))
    if not panels:
        return None
    n = max(len(s) for _, s in panels)
    fig = _new_figure(max(4.0, 1.2 + 0.8 * n) * len(panels), 4.4)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    ref_styles = ["--", ":", "-.", (0, (5, 1, 1, 1))]
    for ax, (metric, stats) in zip(axes, panels, strict=True):
        x = np.arange(len(stats))
        means = [s[0] for _, s in stats]
        stds = [s[1] for _, s in stats]
        ax.bar(
            x,
            means,
            yerr=stds,
            capsize=4,
            color=[colors.get(label, NOISY_COLOR) for label, _ in stats],
            alpha=0.85,
            edgecolor="black",
            linewidth=0.5,
        )
        ax.set_xticks(x, [label for label, _ in stats], rotation=30, ha="right", fontsize=8)
        ax.set_title(f"mean {METRIC_LABELS[metric]} ± std")
        ax.set_ylabel(METRIC_LABELS[metric])
        ax.grid(axis="y", alpha=0.3)
        fmt = ".2f" if metric == "psnr" else ".3f" if metric == "ssim" else ".3g"
        for xi, m, sd in zip(x, means, stds, strict=True):
            # Above the error bar's cap, so the number never sits on the bar's whisker.
            ax.annotate(
                f"{m:{fmt}}", (xi, m + sd), xytext=(0, 3), textcoords="offset points",
                ha="center", va="bottom", fontsize=7,
            )  # fmt: skip
        refs = reported.get(metric) or {}
        for i, (label, value) in enumerate(refs.items()):
            ax.axhline(
                float(value),
                color="crimson",
                linestyle=ref_styles[i % len(ref_styles)],
                linewidth=1.2,
                label=f"reported: {label} ({float(value):{fmt}})",
            )
        if refs:
            ax.legend(
                fontsize=7,
                loc="lower right",
                title="seed projects",
                title_fontsize=7,
                framealpha=0.95,
            )
        if metric == "ssim":
            ax.set_ylim(0.0, 1.05)
    return _save(fig, path)


FIGURES = {
    "loss_curves": "loss_curves.png",
    "distributions": "distributions.png",
    "comparison": "comparison.png",
}


def draw_figures(results: Mapping[str, Any], out_dir: str | os.PathLike) -> dict[str, Path]:
    """Draw every figure the data supports into `out_dir`; returns {figure name: PNG path}.

    A figure whose inputs are absent (no training history, no per-image metrics) is skipped
    rather than drawn empty, so a folder holding only some models still gets a report. The
    sample images are not a figure: the report shows them at full resolution (`samples.py`).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    drawn: dict[str, Path | None] = {}
    drawn["loss_curves"] = draw_loss_curves(results, out / FIGURES["loss_curves"])
    drawn["distributions"] = draw_distributions(results, out / FIGURES["distributions"])
    drawn["comparison"] = draw_comparison(results, out / FIGURES["comparison"])
    return {name: p for name, p in drawn.items() if p is not None}
