"""Many files in, files out: the file verbs `denoise`, `noise` and `calibrate` run.

- `jobs.py`: plan input -> output paths (inputs never overwritten), run them one by one so one
  bad file never stops the others, write images atomically in the input's format and depth.
- `denoise.py`: `denoise_paths`, the `denoise` verb.
- `noise.py`: `noise_paths`, the `noise` verb (reproducible noise per file).
- `calibrate.py`: `calibrate_files`, the `calibrate` verb.
"""
