"""The browser app, `denoisekit serve`: a Gradio page (and API) around the library.

- `service.py`: one upload checked, denoised as `denoisekit denoise` would, written in its own
  format; no Gradio there.
- `ui.py`: the Gradio Blocks page and its `/denoise` API endpoint.
- `server.py`: launching it, private and offline by default.
- `examples.py`: the noisy example photos the page offers.

Gradio is the `[app]` extra (`pip install denoisekit[app]`); nothing here imports it until the
page is built.
"""
