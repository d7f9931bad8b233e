"""`denoisekit benchmark`: every method on every set and sigma, under one protocol, in one run.

Writes `per_image.csv`, `summary.json` and `table.md` into the output folder, rewritten
atomically after each (set, sigma) so an interrupted run keeps what it finished.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from ..errors import ConfigError
from ..files import atomic_write_json, atomic_write_text, output_folder
from ..inference.device import resolve_device
from ..inference.precision import autocast, resolve_precision, use_channels_last
from ..metrics import check_ssim_size, psnr, ssim
from .methods import Method, check_channels, resolve_methods
from .protocol import BenchmarkProtocol, parse_sigmas, sigma_label
from .speed import RssSampler, conv_flops, cpu_name, matmul_peak_flops, peak_rss_bytes
from .table import render_table

# cpu_seconds: CPU time of the process (every thread), which a busy machine inflates less than
# the wall time; on one thread it is the time the method would take on an idle core
CSV_COLUMNS = (
    "dataset",
    "image",
    "sigma",
    "method",
    "psnr",
    "ssim",
    "seconds",
    "cpu_seconds",
    "megapixels",
)
CPU = torch.device("cpu")  # where classical filters run, whatever --device says
REFERENCE = "bm3d"  # every other method is compared with it when it is in the run


def _load_sets(
    specs: Sequence[str], *, root, limit: int | None, skip_bad: bool = False
) -> dict[str, Any]:
    from ..data import load_dataset
    from ..data.registry import DATASETS

    sets = {}
    for spec in specs:
        named = spec.lower() in DATASETS
        split = "test" if named else "all"
        images = load_dataset(spec, root=root, split=split, limit=limit, skip_bad=skip_bad)
        check_ssim_size(images.images, f"data {spec!r}")
        sets[spec.lower() if named else spec] = images
    return sets


def _channels(images) -> int:
    counts = {int(img.shape[0]) for img in images.images}
    return counts.pop() if len(counts) == 1 else max(counts)


def _run_one(
    method: Method, noisy: torch.Tensor, sigma: float | None, protocol: BenchmarkProtocol
) -> torch.Tensor:
    """Denoise one (1, C, H, W) CPU image (sigma None: blind) into a CPU tensor; networks run
    as `denoise` runs them: on the protocol's (resolved) device, in `use_channels_last`'s
    layout, in fp32 or under bf16 autocast. Copying the result back waits for a GPU."""
    level = None if sigma is None else torch.tensor([sigma])
    if method.kind == "network":
        device, precision = torch.device(protocol.device), protocol.precision
        x, level = noisy.to(device), None if level is None else level.to(device)
        if use_channels_last(precision, device):  # as `_prepare` laid out the weights
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(precision, device):
            return method.model(x, level).float().clamp(0, 1).cpu()
    return method.model(noisy, level).float().clamp(0, 1)


def _prepare(methods: Sequence[Method], protocol: BenchmarkProtocol) -> None:
    device = torch.device(protocol.device)
    for method in methods:
        method.model.eval()
        if method.kind == "network":
            method.model.to(device)
            if use_channels_last(protocol.precision, device):
                method.model.to(memory_format=torch.channels_last)
            if protocol.runtime != "torch":  # resolved by `_resolve`: a runtime that is there
                _convert(method, protocol, device)


def _convert(method: Method, protocol: BenchmarkProtocol, device: torch.device) -> None:
    """Run `method`'s network by the protocol's runtime (a self-ensemble: the network inside
    it); its torch module stays for counting FLOPs."""
    from ..inference.ensemble import SelfEnsemble
    from ..runtimes import accelerate

    ensemble = isinstance(method.model, SelfEnsemble)
    inner = method.model.model if ensemble else method.model
    converted = accelerate(inner, protocol.runtime, protocol.precision, device)
    if converted is not inner:
        method.torch_model = method.model
        method.model = SelfEnsemble(converted) if ensemble else converted


def _resolve(protocol: BenchmarkProtocol) -> BenchmarkProtocol:
    """The protocol with `auto` device, precision and runtime replaced by what runs (so
    summary.json and table.md say fp32 or bf16, cpu or cuda:N, torch or openvino)."""
    from ..runtimes import resolve_runtime

    device = resolve_device(protocol.device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    precision = resolve_precision(protocol.precision, device)
    runtime, precision = resolve_runtime(protocol.runtime, device, precision)
    return dataclasses.replace(protocol, precision=precision, device=str(device), runtime=runtime)


def _machine(protocol: BenchmarkProtocol, roofline: dict | None) -> dict[str, Any]:
    return {
        "cpu": cpu_name(),
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "precision_networks": protocol.precision,
        "device_networks": protocol.device,
        "runtime_networks": protocol.runtime,
        **(
            {"gpu": torch.cuda.get_device_name(protocol.device)}
            if "cuda" in protocol.device
            else {}
        ),
        **({"matmul_peak_gflops": roofline} if roofline else {}),
    }


def _csv_text(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [row[c] if isinstance(row[c], str) else f"{row[c]:.6g}" for c in CSV_COLUMNS]
        )
    return buf.getvalue()


def _method_summary(
    rows: list[dict],
    peak: int,
    method: Method,
    flops_per_mp: float | None,
    peak_gflops: float | None,
) -> dict[str, Any]:
    """Means of the quality metrics, median speed, peak memory; FLOP rates for networks."""
    ms_per_mp = statistics.median(r["seconds"] * 1000 / r["megapixels"] for r in rows)
    entry: dict[str, Any] = {
        "psnr": statistics.fmean(r["psnr"] for r in rows if math.isfinite(r["psnr"])),
        "ssim": statistics.fmean(r["ssim"] for r in rows),
        "ms_per_mp": ms_per_mp,
        "cpu_ms_per_mp": statistics.median(r["cpu_seconds"] * 1000 / r["megapixels"] for r in rows),
        "peak_rss_mb": peak / 2**20,
        "n": len(rows),
        "kind": method.kind,
        "params": method.params,
    }
    if flops_per_mp is not None:
        achieved = flops_per_mp / (ms_per_mp / 1000)
        entry["gflop_per_mp"] = flops_per_mp / 1e9
        entry["achieved_gflops"] = achieved / 1e9
        if peak_gflops:
            entry["fraction_of_peak"] = achieved / (peak_gflops * 1e9)
    return entry


def _compare(results: dict[str, dict]) -> None:
    """Add `vs_bm3d` (speed ratio, PSNR and SSIM difference) to every other method at a sigma."""
    ref = results.get(REFERENCE)
    if ref is None:
        return
    for label, entry in results.items():
        if label == REFERENCE or label.startswith("_"):
            continue
        entry["vs_bm3d"] = {
            "speed_ratio": ref["ms_per_mp"] / entry["ms_per_mp"] if entry["ms_per_mp"] else None,
            "cpu_speed_ratio": (
                ref["cpu_ms_per_mp"] / entry["cpu_ms_per_mp"] if entry["cpu_ms_per_mp"] else None
            ),
            "psnr_gain": entry["psnr"] - ref["psnr"],
            "ssim_gain": entry["ssim"] - ref["ssim"],
        }


def run_benchmark(
    models: str,
    data: str,
    sigmas: str,
    out: str | Path,
    *,
    protocol: BenchmarkProtocol | None = None,
    limit: int | None = None,
    data_root: str | None = None,
    roofline: bool = False,
    skip_bad: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the benchmark and write its three files into `out`; returns the summary.
    `skip_bad`: leave out unreadable images (counted in `datasets` -> set -> `skipped`)."""
    output_folder(out)
    asked = protocol or BenchmarkProtocol()
    protocol = _resolve(asked)
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit must be at least 1, got {limit}")
    set_specs = [s.strip() for s in str(data).split(",") if s.strip()]
    if not set_specs:
        raise ConfigError("--data is empty; name a set or folder, e.g. --data set12,bsd68")
    sigma_values = parse_sigmas(sigmas)
    methods = resolve_methods(models)
    sets = _load_sets(set_specs, root=data_root, limit=limit, skip_bad=skip_bad)
    for name, images in sets.items():
        for method in methods:
            check_channels(method, name, _channels(images))
    if protocol.threads:
        torch.set_num_threads(protocol.threads)
    _prepare(methods, protocol)

    peaks = None
    if roofline:
        from ..runtimes import native_bf16_cpu

        # emulated bf16 (an AVX2 CPU) is slow and no peak that anything here runs at: measured
        # only where bf16 is native (a GPU, AVX512-BF16, AMX)
        kinds = {"fp32": torch.float32}
        if protocol.device != "cpu" or native_bf16_cpu():
            kinds["bf16"] = torch.bfloat16
        log(f"measuring the matrix-multiply peak ({', '.join(kinds)}) ...")
        peaks = {p: matmul_peak_flops(d) / 1e9 for p, d in kinds.items()}
    out = Path(out)  # created by the first write: an early error leaves no empty folder
    summary: dict[str, Any] = {
        "results": {},
        "noisy": {},
        "protocol": {**protocol.describe(), "precision_asked": asked.precision},
        "machine": _machine(protocol, peaks),
        "datasets": {
            n: {"images": len(s), "channels": _channels(s), "skipped": len(s.skipped)}
            for n, s in sets.items()
        },
        "methods": {
            m.label: {"kind": m.kind, "params": m.params, "source": m.source, "colour": m.colour}
            for m in methods
        },
    }
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for set_name, images in sets.items():
        prepared = _PreparedSet(set_name, images, protocol)
        flops = {m.label: _warm_up(m, prepared, sigma_values[0], protocol) for m in methods}
        for sigma in sigma_values:
            key = sigma_label(sigma)
            noisy = prepared.noisy(sigma)
            summary["noisy"].setdefault(set_name, {})[key] = prepared.score_noisy(noisy)
            at_sigma = summary["results"].setdefault(set_name, {}).setdefault(key, {})
            for method in methods:
                with RssSampler() as sampler:
                    method_rows = _time_method(method, prepared, noisy, sigma, protocol)
                peak_gflops = peaks.get(protocol.precision) if peaks else None
                entry = _method_summary(
                    method_rows, sampler.peak, method, flops[method.label], peak_gflops
                )
                at_sigma[method.label] = entry
                rows.extend(method_rows)
                log(
                    f"{set_name} sigma={key} {method.label}: PSNR {entry['psnr']:.2f} dB, "
                    f"SSIM {entry['ssim']:.4f}, {entry['ms_per_mp']:.0f} ms/MP "
                    f"({len(method_rows)} images)"
                )
            _compare(at_sigma)
            summary["seconds_total"] = time.perf_counter() - started
            summary["process_peak_rss_mb"] = peak_rss_bytes() / 2**20
            _write(out, rows, summary, protocol)
    return summary


class _PreparedSet:
    """One data set's clean images as batches, their metric views and sizes."""

    def __init__(self, name: str, images, protocol: BenchmarkProtocol) -> None:
        self.name = name
        self.names = images.names
        self.protocol = protocol
        self.clean = [img.unsqueeze(0).float() for img in images.images]
        self.views = [protocol.metric_view(c) for c in self.clean]
        self.megapixels = [img.shape[-1] * img.shape[-2] / 1e6 for img in images.images]

    def noisy(self, sigma: float) -> list[torch.Tensor]:
        """The noisy inputs every method gets at `sigma` (made once, shared)."""
        return [
            self.protocol.make_noisy(c[0], sigma, i).unsqueeze(0) for i, c in enumerate(self.clean)
        ]

    def scores(self, image: torch.Tensor, index: int) -> tuple[float, float]:
        view = self.protocol.metric_view(image)
        return float(psnr(view, self.views[index])[0]), float(ssim(view, self.views[index])[0])

    def score_noisy(self, noisy: list[torch.Tensor]) -> dict[str, float]:
        scores = [self.scores(n, i) for i, n in enumerate(noisy)]
        return {
            "psnr": statistics.fmean(p for p, _ in scores),
            "ssim": statistics.fmean(s for _, s in scores),
        }


@torch.no_grad()
def _warm_up(
    method: Method, prepared: _PreparedSet, sigma: float, protocol: BenchmarkProtocol
) -> float | None:
    """Run the first image once untimed; for networks return convolution FLOPs per megapixel."""
    warm = protocol.make_noisy(prepared.clean[0][0], sigma, 0).unsqueeze(0)
    _run_one(method, warm, None if protocol.blind else sigma, protocol)
    if method.kind != "network":
        return None
    device = torch.device(protocol.device)
    counted = method.torch_model or method.model
    flops = conv_flops(counted, warm.to(device), torch.tensor([sigma], device=device))
    return flops / prepared.megapixels[0]


@torch.no_grad()
def _time_method(
    method: Method,
    prepared: _PreparedSet,
    noisy: list[torch.Tensor],
    sigma: float,
    protocol: BenchmarkProtocol,
) -> list[dict[str, Any]]:
    """Denoise every image of the set once, timed; one per_image.csv row each."""
    rows = []
    for i, x in enumerate(noisy):
        t0, c0 = time.perf_counter(), time.process_time()
        denoised = _run_one(method, x, None if protocol.blind else sigma, protocol)
        seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        quality = prepared.scores(denoised, i)
        rows.append(
            {
                "dataset": prepared.name,
                "image": prepared.names[i],
                "sigma": round(sigma * 255, 4),
                "method": method.label,
                "psnr": quality[0],
                "ssim": quality[1],
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "megapixels": prepared.megapixels[i],
            }
        )
    return rows


def _write(out: Path, rows: list[dict], summary: dict, protocol: BenchmarkProtocol) -> None:
    atomic_write_text(out / "per_image.csv", _csv_text(rows))
    atomic_write_json(out / "summary.json", summary)
    atomic_write_text(out / "table.md", render_table(summary, protocol))
