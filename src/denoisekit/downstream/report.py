"""Figures (accuracy per test noise and method; confusion matrices) and the HTML report of a
downstream run, drawn from downstream.json alone."""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path
from typing import Any

from ..files import atomic_write_bytes

FIGURES_DIR = "figures"
REPORT_FILE = "report.html"
CLEAN = "clean"


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.1)
    atomic_write_bytes(path, buf.getvalue())
    return path


def draw_accuracy(results: dict[str, Any], path: Path) -> Path:
    """Test accuracy per method (one line each) across the test noises, clean first."""
    columns = list(results["noises"])
    fig = _figure(8.0, 4.6)
    ax = fig.add_subplot()
    markers = "osD^v<>phX*"
    for index, (method, row) in enumerate(results["table"].items()):
        ys = [100 * row[c]["accuracy"] if c in row else float("nan") for c in columns]
        style = "--" if method.startswith("noisy") else "-"
        ax.plot(range(len(columns)), ys, style, marker=markers[index % len(markers)], label=method)
    ax.set_xticks(range(len(columns)), columns)
    ax.set_ylabel("test accuracy (%)")
    ax.set_xlabel("test images (noisy ones stored as 8-bit files)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(results.get("title") or "", fontsize=10)
    return _save(fig, path)


def draw_confusion(results: dict[str, Any], path: Path) -> Path:
    """Confusion matrices of the clean classifier: on clean images, on the noisiest Gaussian
    images undenoised, and on those images after the best denoiser there."""
    classes = results["protocol"]["classes"]
    table = results["table"]
    noisy_key = next(k for k in table if k.startswith("noisy"))
    last = list(results["noises"])[-2 if len(results["noises"]) > 2 else -1]
    denoisers = [m for m in results.get("denoisers", {}) if last in table.get(m, {})]
    panels = [(CLEAN, table[noisy_key][CLEAN]), (f"{last}, no denoising", table[noisy_key][last])]
    if denoisers:
        best = max(denoisers, key=lambda m: table[m][last]["accuracy"])
        panels.append((f"{last}, {best}", table[best][last]))
    fig = _figure(3.2 * len(panels), 3.2)
    for index, (title, cell) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), index + 1)
        matrix = cell["confusion"]
        ax.imshow(matrix, cmap="Blues")
        for i, row in enumerate(matrix):
            for j, count in enumerate(row):
                ax.text(j, i, str(count), ha="center", va="center", fontsize=11)
        short = [c.split("_")[0] for c in classes]
        ax.set_xticks(range(len(classes)), short)
        ax.set_yticks(range(len(classes)), short)
        ax.set_xlabel("predicted")
        if index == 0:
            ax.set_ylabel("true")
        ax.set_title(f"{title}\naccuracy {100 * cell['accuracy']:.1f}%", fontsize=9)
    return _save(fig, path)


def draw_downstream_figures(results: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    folder = out_dir / FIGURES_DIR
    return {
        "accuracy": draw_accuracy(results, folder / "accuracy.png"),
        "confusion": draw_confusion(results, folder / "confusion.png"),
    }


CAPTIONS = {
    "accuracy": "Test accuracy of the classifier trained on clean images, on clean, noisy and "
    "denoised test images (each line a denoiser; dashed: no denoising), and of the classifier "
    "trained on noisy images tested on the noisy images.",
    "confusion": "Confusion matrices of the clean-trained classifier (rows: true variety).",
}


def downstream_section(results: dict[str, Any], figures: dict[str, Path]) -> str:
    """The report section: protocol, accuracy and F1 table, classifiers, figures."""
    columns = list(results["noises"])
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    rows = []
    for method, row in results["table"].items():
        note = (results.get("denoisers", {}).get(method) or {}).get("note")
        label = escape(method) + (f"<br><small>{escape(note)}</small>" if note else "")
        cells = "".join(
            f'<td class="num">{100 * row[c]["accuracy"]:.1f} '
            f"<small>(F1 {100 * row[c]['f1']:.1f})</small></td>"
            if c in row
            else "<td>—</td>"
            for c in columns
        )
        rows.append(f"<tr><td>{label}</td>{cells}</tr>")
    protocol = "".join(
        f"<span><b>{escape(str(k))}</b>: {escape(str(v))}</span> "
        for k, v in results["protocol"].items()
    )
    noises = ", ".join(
        f"{escape(k)}: <code>{escape(v)}</code>" for k, v in results["noises"].items() if v
    )
    classifier_rows = "".join(
        f"<tr><td>{escape(name)}</td>"
        f"<td>{escape(c['model'])} {escape(json.dumps(c['kwargs']))}</td>"
        f'<td class="num">{c["params"]:,}</td><td class="num">{c["best_epoch"]}</td>'
        f'<td class="num">{100 * c["best_val_accuracy"]:.1f}</td>'
        f'<td class="num">{c["train_seconds"] / 60:.1f} min</td></tr>'
        for name, c in results["classifiers"].items()
    )
    parts = [
        "<h2>Downstream: classification of clean, noisy and denoised images</h2>",
        f'<p class="protocol">{protocol}</p>',
        f"<p>Test noises: {noises}.</p>",
        f"<table><tr><th>test accuracy % (macro F1)</th>{head}</tr>{''.join(rows)}</table>",
        "<table><tr><th>classifier</th><th>model</th><th>params</th><th>best epoch</th>"
        f"<th>val accuracy %</th><th>train time</th></tr>{classifier_rows}</table>",
    ]
    for name, path in figures.items():
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        parts.append(
            f'<figure><img alt="{escape(name)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(CAPTIONS.get(name, name))}</figcaption></figure>"
        )
    return "\n".join(parts)


def write_downstream_report(out_dir: str | Path) -> Path:
    """Draw the figures and write report.html into `out_dir` from its downstream.json."""
    from ..report.html import CSS

    out_dir = Path(out_dir)
    results = json.loads((out_dir / "downstream.json").read_text())
    figures = draw_downstream_figures(results, out_dir)
    title = escape(str(results.get("title") or results.get("name")))
    html = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title} — denoisekit report</title><style>{CSS}</style></head><body>"
        f"<h1>{title}</h1>\n{downstream_section(results, figures)}\n</body></html>\n"
    )
    path = out_dir / REPORT_FILE
    atomic_write_bytes(path, html.encode("utf-8"))
    return path
