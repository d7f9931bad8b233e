"""One self-contained HTML report per run folder: protocol, metric table, figures as data URIs.

The file embeds every PNG as base64 and needs no JavaScript, so it can be mailed or attached to an
issue on its own and still show everything. Sample images are shown at full resolution
(`samples.py`); noise levels are written on the 0-255 scale as `25/255` (`format_sigma`); the
training columns and the loss curves appear only for runs that were trained here.
"""

from __future__ import annotations

import base64
import json
import os
import zipfile
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from ..files import atomic_write_bytes
from .figures import (
    HIGHER_IS_BETTER,
    NOISY_LABEL,
    draw_figures,
    entries,
    metric_stats,
)
from .samples import CSS as SAMPLES_CSS
from .samples import samples_html

RESULTS_FILE = "results.json"
SAMPLES_FILE = "samples.npz"
FIGURES_DIR = "figures"
REPORT_FILE = "report.html"

CAPTIONS = {
    "loss_curves": "Training (solid) and validation (dashed) loss per epoch, one panel per loss "
    "function, and validation PSNR.",
    "distributions": "Per-image PSNR and SSIM over the test images, for the noisy input and "
    "each model.",
    # "comparison": see `_caption` (the red lines are drawn only with seed-reported numbers)
}

CSS = (
    """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       max-width: 1200px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.protocol { background: #f6f8fa; border: 1px solid #e1e4e8; border-radius: 4px;
            padding: 0.6em 0.9em; }
.protocol span { white-space: nowrap; margin-right: 1.1em; }
table { border-collapse: collapse; font-size: 0.92em; margin: 0.6em 0; }
th, td { border-bottom: 1px solid #e1e4e8; padding: 0.35em 0.7em; text-align: left; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.noisy td { color: #666; font-style: italic; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; margin-top: 0.3em; }
.note { color: #8a6d3b; }
"""
    + SAMPLES_CSS
)

METRICS = ("psnr", "ssim", "mse", "mae")


# ----------------------------------------------------------------------------- loading


def load_run(run_dir: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray] | None]:
    """Read `results.json` (required) and `samples.npz` (optional) from a run folder.

    Raises DataError naming the file when results.json is missing or not valid JSON, or when
    samples.npz exists but cannot be read.
    """
    run = Path(run_dir)
    results_path = run / RESULTS_FILE
    if not results_path.is_file():
        raise DataError(
            f"no {RESULTS_FILE} in {run}: expected {results_path}; run an experiment first"
        )
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"cannot read {results_path}: {e}") from None
    if not isinstance(results, dict):
        raise DataError(f"{results_path} must hold a JSON object, got {type(results).__name__}")
    if not isinstance(results.get("runs"), dict) or not results["runs"]:
        raise DataError(
            f'{results_path} has no "runs" with results; it is not from `denoisekit experiment` '
            "or `demo` (re-run one of them)"
        )

    samples_path = run / SAMPLES_FILE
    if not samples_path.is_file():
        return results, None
    try:
        # allow_pickle=False: a report must never execute code stored in a data file.
        with np.load(samples_path, allow_pickle=False) as npz:
            samples = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
        raise DataError(f"cannot read {samples_path}: {e or type(e).__name__}") from None
    return results, samples


# ----------------------------------------------------------------------------- formatting


def _fmt_metric(metric: str, value: float) -> str:
    if metric == "psnr":
        return f"{value:.2f}"
    if metric == "ssim":
        return f"{value:.4f}"
    return f"{value:.4g}"


def _fmt_params(n: Any) -> str:
    if n is None:
        return "–"
    n = int(n)
    if n >= 1_000_000:
        return f"{n / 1e6:.2f} M"
    return f"{n:,}"


def _fmt_seconds(s: Any) -> str:
    if s is None:
        return "–"
    s = float(s)
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


def format_sigma(sigma: Any) -> str:
    """A noise level ([0, 1] units) as the report prints it: `25/255` when it is a whole or
    half step on the 0-255 scale (0.0980392... -> "25/255", 0.1 -> "25.5/255"), else `0.1234`;
    anything that is not a number is returned as text."""
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)):
        return _fmt_value(sigma)
    s255 = float(sigma) * 255
    if abs(s255 * 2 - round(s255 * 2)) < 1e-6:
        return f"{round(s255 * 2) / 2:g}/255"
    return f"{float(sigma):.4g}"


def _fmt_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return str(v)


# ----------------------------------------------------------------------------- sections


def was_trained(run: Mapping[str, Any]) -> bool:
    """Whether a run's results record a training (a history, epochs or a training time)."""
    return bool(run.get("history")) or any(
        run.get(key) is not None for key in ("epochs", "best_epoch", "train_seconds")
    )


def _metric_table(results: Mapping[str, Any]) -> str:
    items = entries(results)
    stats = {label: {m: metric_stats(e, m) for m in METRICS} for label, e in items.items()}
    # Best per column is decided on the displayed (rounded) mean, so ties that look equal are
    # both bold rather than one winning by an invisible digit.
    best: dict[str, str] = {}
    for m in METRICS:
        shown = [(float(_fmt_metric(m, s[m][0])), s[m][0]) for s in stats.values() if s[m]]
        if shown:
            pick = max if HIGHER_IS_BETTER[m] else min
            best[m] = _fmt_metric(m, pick(v for v, _ in shown))

    # The training columns only when some run was trained (not for pretrained weights or
    # classical filters alone, where every cell would be a dash).
    trained = any(was_trained(run) for run in (results.get("runs") or {}).values())
    head = ["run", "model", *(["loss"] if trained else []), "params"]
    head += ["epochs", "train time"] if trained else []
    head += ["PSNR (dB)", "SSIM", "MSE", "MAE"]
    lines = ["<table>", "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"]
    for label, entry in items.items():
        is_noisy = label == NOISY_LABEL and entry is results.get("noisy")
        epochs = entry.get("epochs")
        if entry.get("best_epoch") is not None and epochs is not None:
            epochs = f"{epochs} (best {entry['best_epoch']})"
        cells = [
            f"<td>{escape(label)}</td>",
            f"<td>{escape(str(entry.get('model', '–' if is_noisy else '?')))}</td>",
        ]
        if trained:
            cells.append(f"<td>{escape(str(entry.get('loss') or '–'))}</td>")
        cells.append(f'<td class="num">{escape(_fmt_params(entry.get("params")))}</td>')
        if trained:
            cells += [
                f'<td class="num">{escape("–" if epochs is None else str(epochs))}</td>',
                f'<td class="num">{escape(_fmt_seconds(entry.get("train_seconds")))}</td>',
            ]
        for m in METRICS:
            s = stats[label][m]
            if s is None:
                cells.append('<td class="num">–</td>')
                continue
            mean = _fmt_metric(m, s[0])
            text = f"{mean} ± {_fmt_metric(m, s[1])}"
            if best.get(m) == mean and len(items) > 1:
                text = f"<b>{text}</b>"
            cells.append(f'<td class="num">{text}</td>')
        cls = ' class="noisy"' if is_noisy else ""
        lines.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    lines.append("</table>")
    lines.append(
        "<p><small>Mean ± std over the test images. Bold: best per metric column "
        "(highest PSNR/SSIM, lowest MSE/MAE).</small></p>"
    )
    return "\n".join(lines)


def _seed_table(results: Mapping[str, Any]) -> str:
    """Numbers the seed projects reported, next to our best run on the same metric."""
    reported = results.get("seed_reported") or {}
    if not reported:
        return ""
    runs = results.get("runs") or {}
    lines = [
        "<h2>Compared with the original student projects</h2>",
        "<table>",
        "<tr><th>metric</th><th>seed project model</th><th>reported</th>"
        "<th>our best run</th><th>ours</th></tr>",
    ]
    for metric, values in reported.items():
        m = str(metric).lower()
        ours = [(name, metric_stats(r, m)) for name, r in runs.items()]
        ours = [(name, s[0]) for name, s in ours if s is not None]
        best_name, best_val = "–", None
        if ours and m in HIGHER_IS_BETTER:
            pick = max if HIGHER_IS_BETTER[m] else min
            best_name, best_val = pick(ours, key=lambda t: t[1])
        for label, value in (values or {}).items():
            shown = _fmt_metric(m, float(value)) if m in HIGHER_IS_BETTER else _fmt_value(value)
            ours_txt = "–" if best_val is None else _fmt_metric(m, best_val)
            lines.append(
                f"<tr><td>{escape(str(metric))}</td><td>{escape(str(label))}</td>"
                f'<td class="num">{escape(shown)}</td><td>{escape(best_name)}</td>'
                f'<td class="num">{escape(ours_txt)}</td></tr>'
            )
    lines.append("</table>")
    lines.append(
        "<p><small>Reported numbers are copied from the seed projects and were measured under "
        "their own (often unstated) protocols; ours follow the protocol above.</small></p>"
    )
    return "\n".join(lines)


def _levels_table(results: Mapping[str, Any]) -> str:
    """PSNR / SSIM at every noise level (results["levels"]: sigma -> method -> metric means)."""
    levels = results.get("levels") or {}
    if not levels:
        return ""
    labels = list(dict.fromkeys(label for by_method in levels.values() for label in by_method))
    head = ["σ", *labels]
    lines = [
        "<h2>Every noise level</h2>",
        "<table>",
        "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>",
    ]
    for sigma, by_method in levels.items():
        cells = [f"<td>{escape(_level_label(sigma))}</td>"]
        for label in labels:
            m = by_method.get(label)
            text = f"{m['psnr']:.2f} dB / {m['ssim']:.4f}" if m else "—"
            cells.append(f'<td class="num">{escape(text)}</td>')
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines.append("</table>")
    return "\n".join(lines)


def _level_label(key: str) -> str:
    """A `levels` key as a level: "25" (the 0-255 scale, as the demo writes them) -> "25/255";
    a value in [0, 1] -> `format_sigma`."""
    try:
        value = float(key)
    except ValueError:
        return str(key)
    return format_sigma(value / 255 if value > 1 else value)


def _caption(name: str, results: Mapping[str, Any]) -> str:
    """The caption of figure `name`, saying only what the figure draws."""
    if name != "comparison":
        return CAPTIONS.get(name, name)
    reported = {str(k).lower(): v for k, v in (results.get("seed_reported") or {}).items() if v}
    metrics = ["PSNR", "SSIM"] + [m.upper() for m in ("mse", "mae") if m in reported]
    text = f"Mean {', '.join(metrics[:-1])} and {metrics[-1]} with ±1 std error bars"
    if any(m in reported for m in ("psnr", "ssim", "mse", "mae")):
        text += (
            "; red lines mark the numbers the original student projects reported (under their "
            "own protocols)"
        )
    return text + "."


def _figure_html(name: str, path: Path, results: Mapping[str, Any]) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    caption = _caption(name, results)
    return (
        f'<figure><img alt="{escape(name)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def render_html(
    results: Mapping[str, Any],
    figures: Mapping[str, Path],
    notes: list[str] | None = None,
    samples: Mapping[str, np.ndarray] | None = None,
) -> str:
    """The report as one HTML string; `figures` maps figure name -> PNG path to embed;
    `samples` (the arrays of samples.npz) are shown at full resolution."""
    name = str(results.get("name") or "experiment")
    title = str(results.get("title") or name)
    protocol = results.get("protocol") or {}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)} — denoisekit report</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>Experiment <code>{escape(name)}</code> · denoisekit report</p>",
        "<h2>Protocol</h2>",
    ]
    if protocol:
        spans = "".join(
            f"<span><b>{escape(str(k))}</b>: "
            f"{escape(format_sigma(v) if k == 'sigma' else _fmt_value(v))}</span> "
            for k, v in protocol.items()
        )
        parts.append(f'<p class="protocol">{spans}</p>')
    else:
        parts.append('<p class="note">results.json records no protocol.</p>')
    parts += ["<h2>Results</h2>", _metric_table(results), _seed_table(results)]
    parts.append(_levels_table(results))
    if samples is not None and "clean" in samples and len(samples["clean"]):
        parts.append(samples_html(results, samples))
    if figures:
        parts.append("<h2>Figures</h2>")
        parts += [_figure_html(n, p, results) for n, p in figures.items()]
    for note in notes or []:
        parts.append(f'<p class="note">{escape(note)}</p>')
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def write_report(run_dir: str | os.PathLike) -> Path:
    """Draw `run_dir/figures/*.png` and write `run_dir/report.html`; returns the HTML path.

    Reads only results.json and samples.npz (no models, no checkpoints). Both outputs are written
    atomically. Raises DataError when results.json is missing or unreadable.
    """
    run = Path(run_dir)
    results, samples = load_run(run)
    notes = []
    if samples is None:
        notes.append(f"No {SAMPLES_FILE} in this folder, so there are no sample images.")
    figures = draw_figures(results, run / FIGURES_DIR)
    out = run / REPORT_FILE
    atomic_write_bytes(out, render_html(results, figures, notes, samples).encode("utf-8"))
    return out
