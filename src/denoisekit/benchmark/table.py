"""`table.md`: one table per data set, the way a paper prints it, with the protocol under it."""

from __future__ import annotations

import statistics
from typing import Any

from .protocol import BenchmarkProtocol


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _speed_ratio(entries: list[dict]) -> float | None:
    ratios = [e["vs_bm3d"]["speed_ratio"] for e in entries if e.get("vs_bm3d")]
    ratios = [r for r in ratios if r]
    return statistics.median(ratios) if ratios else None


def render_table(summary: dict[str, Any], protocol: BenchmarkProtocol) -> str:
    """Markdown: PSNR / SSIM per sigma, speed, memory, and the comparison with BM3D."""
    lines = ["# Benchmark", ""]
    machine = summary["machine"]
    roofline = "matmul_peak_gflops" in machine
    for set_name, by_sigma in summary["results"].items():
        info = summary["datasets"][set_name]
        sigmas = list(by_sigma)
        colour = {1: "gray", 3: "colour"}.get(info["channels"], f"{info['channels']}-channel")
        lines += [f"## {set_name} ({info['images']} images, {colour})", ""]
        head = ["method", *(f"σ={s} PSNR / SSIM" for s in sigmas), "ms/MP", "peak RSS MB"]
        has_ref = any("bm3d" in by_sigma[s] for s in sigmas)
        if has_ref:
            head += ["× faster than BM3D", "ΔPSNR vs BM3D"]
        if roofline:
            head += ["GFLOP/MP", "GFLOP/s", "% of peak"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        noisy = summary["noisy"][set_name]
        row = ["noisy input", *(f"{noisy[s]['psnr']:.2f} / {noisy[s]['ssim']:.4f}" for s in sigmas)]
        lines.append("| " + " | ".join(row + [""] * (len(head) - len(row))) + " |")
        labels = list(dict.fromkeys(m for s in sigmas for m in by_sigma[s]))
        for label in labels:
            entries = [by_sigma[s][label] for s in sigmas if label in by_sigma[s]]
            cells = [label]
            cells += [
                f"{by_sigma[s][label]['psnr']:.2f} / {by_sigma[s][label]['ssim']:.4f}"
                if label in by_sigma[s]
                else "—"
                for s in sigmas
            ]
            cells.append(f"{statistics.median(e['ms_per_mp'] for e in entries):.0f}")
            cells.append(f"{max(e['peak_rss_mb'] for e in entries):.0f}")
            if has_ref:
                cells.append(_fmt(_speed_ratio(entries), ".1f"))
                gains = [
                    f"{by_sigma[s][label]['vs_bm3d']['psnr_gain']:+.2f}"
                    if "vs_bm3d" in by_sigma[s].get(label, {})
                    else "—"
                    for s in sigmas
                ]
                cells.append(" / ".join(gains) if label != "bm3d" else "—")
            if roofline:
                network = "gflop_per_mp" in entries[0]
                cells.append(_fmt(entries[0].get("gflop_per_mp") if network else None, ".1f"))
                cells.append(
                    _fmt(statistics.median(e["achieved_gflops"] for e in entries), ".1f")
                    if network
                    else "—"
                )
                cells.append(
                    _fmt(100 * statistics.median(e["fraction_of_peak"] for e in entries), ".1f")
                    if network and "fraction_of_peak" in entries[0]
                    else "—"
                )
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Protocol", "", protocol.text()]
    if any(info["channels"] > 1 for info in summary["datasets"].values()):
        handling = "; ".join(f"{label}: {m['colour']}" for label, m in summary["methods"].items())
        lines.append(f"- Colour images: {handling}.")
    threads = machine["torch_threads"]
    machine_line = (
        f"- Machine: {machine['cpu']}, {machine['logical_cpus']} logical CPUs, torch "
        f"{machine['torch']} with {threads} threads. Peak RSS: the most resident memory of the "
        "whole process while that method ran (it includes the data sets and models loaded)."
    )
    lines.append(machine_line)
    if roofline:
        peaks = machine["matmul_peak_gflops"]
        bf16 = peaks.get("bf16")
        bf16 = f"{bf16:.0f} GFLOP/s" if bf16 else "not measured (no native bf16 here)"
        lines.append(
            f"- Roofline: {threads}-thread matrix-multiply peak measured in this run, fp32 "
            f"{peaks['fp32']:.0f} GFLOP/s, bf16 {bf16}; network FLOPs count "
            "convolutions and linear layers of one forward pass (2 per multiply-add)."
        )
    total = summary.get("seconds_total")
    if total is not None:
        lines.append(f"- Whole run: {total / 60:.1f} min.")
    return "\n".join(lines) + "\n"
