"""Image classifiers, for measuring what denoising does to a task downstream of it.

`registry.py` registers classifier networks as `registry.py` at the top of the package registers
denoisers, but apart from them: a classifier maps an image to class scores, not to a clean image,
so the denoiser harnesses (every registered model's shape checks, `denoisekit models`) do not
apply to it. `train.py` trains one on labelled images; `metrics.py` scores predictions.
"""
