"""Figures and a self-contained HTML report for an experiment run folder.

    from denoisekit.report import write_report
    write_report("runs/pistachio")      # -> runs/pistachio/report.html (+ figures/*.png)

Only `results.json` and `samples.npz` are read; matplotlib is imported when a figure is drawn.
"""

from __future__ import annotations

from .figures import draw_figures
from .html import load_run, render_html, write_report

__all__ = ["draw_figures", "load_run", "render_html", "write_report"]
