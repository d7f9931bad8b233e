"""Does denoising help a task downstream of it? A classifier measured on clean, noisy and
denoised test images (`run.py`), with the noise-augmented classifier beside it; figures and an
HTML report in `report.py`."""
