"""`import denoisekit` stays light, and its submodules are reachable as attributes anyway."""

import subprocess
import sys

HEAVY = ("torch", "lightning_fabric", "matplotlib", "scipy", "skimage", "bm3d", "PIL")


def test_import_loads_no_heavy_package():
    code = f"import sys, denoisekit; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_submodules_are_attributes_after_a_bare_import():
    import denoisekit

    assert callable(denoisekit.calibration.calibrate_images)
    assert callable(denoisekit.inference.load)
    assert callable(denoisekit.metrics.psnr)
    assert denoisekit.classical.__name__ == "denoisekit.classical"
