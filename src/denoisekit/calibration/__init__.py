"""Camera noise calibration: fit the signal-dependent noise `sigma^2 = a * x + b` of a camera
from one photo or a burst of aligned shots.

- `calibrate.py`: `calibrate_images` (single photos) and `calibrate_burst` (bursts) ->
  `Calibration`.
- `flatblocks.py`, `burststats.py`: the (brightness, variance) samples each kind of input gives.
- `linefit.py`: the robust line fit and its clipping/rounding corrections.
- `bootstrap.py`: standard errors by resampling image regions.
"""

from .calibrate import Calibration, calibrate_burst, calibrate_images

__all__ = ["Calibration", "calibrate_burst", "calibrate_images"]
